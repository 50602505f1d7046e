//! `GET /metrics`: the Prometheus text format, telling the story a crowd's
//! report tells.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{client, spawn_app};

/// `name{labels} value` lines, keyed by `name{labels}` as written. Panics on
/// a line that is not the text format.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            assert!(
                line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        assert!(
            series
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic()),
            "bad name: {line}"
        );
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn metrics(address: &str) -> HashMap<String, f64> {
    let response = client()
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_crowds_outcomes_exactly() {
    let app = spawn_app().await;

    let report: Value = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&json!({"buyers": 50, "lock": "redis", "work_ms": 2, "restock": 10}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let samples = metrics(&app.address).await;

    let sample = |series: &str| samples.get(series).copied().unwrap_or(0.0);
    let outcome = |name: &str| {
        sample(&format!(
            r#"flashsale_purchases_total{{outcome="{name}",strategy="redis"}}"#
        ))
    };
    assert_eq!(report["sold"], 10, "{report}");
    assert_eq!(outcome("sold"), 10.0);
    assert_eq!(outcome("sold_out") + outcome("busy"), 40.0);
    assert_eq!(outcome("sold_out"), report["sold_out"].as_f64().unwrap());
    assert_eq!(outcome("busy"), report["busy"].as_f64().unwrap());
    // Every buyer asked for the lock; every one that got it held it once.
    let waits = sample(r#"flashsale_lock_wait_seconds_count{strategy="redis"}"#);
    let holds = sample(r#"flashsale_lock_hold_seconds_count{strategy="redis"}"#);
    assert_eq!(waits, 50.0);
    assert_eq!(holds, 50.0 - outcome("busy"));
    assert_eq!(
        sample(r#"flashsale_lock_wait_seconds_bucket{strategy="redis",le="+Inf"}"#),
        50.0
    );
    assert_eq!(
        sample(r#"flashsale_purchases_in_flight{strategy="redis"}"#),
        0.0
    );
    assert_eq!(
        sample(r#"flashsale_locks_expired_total{strategy="redis"}"#),
        0.0
    );
    let crowd_requests = sample(
        r#"flashsale_http_request_duration_seconds_count{method="POST",route="/api/products/{id}/flash-crowd",status="200"}"#,
    );
    assert_eq!(crowd_requests, 1.0, "{samples:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_expires_under_its_holder_is_counted() {
    let app = spawn_app().await;

    let response = client()
        .post(app.url("/api/products/1/purchase?lock=redis&ttl_ms=100&work_ms=300"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    let samples = metrics(&app.address).await;
    assert_eq!(
        samples[r#"flashsale_locks_expired_total{strategy="redis"}"#],
        1.0
    );
    assert_eq!(
        samples[r#"flashsale_purchases_total{outcome="sold",strategy="redis"}"#],
        1.0
    );
}
