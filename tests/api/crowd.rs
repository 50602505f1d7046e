//! The flash crowd the page runs, through its JSON API: N buyers at once,
//! run by the server through the same purchase path as HTTP purchases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, client, spawn_app};

async fn flash_crowd(address: &str, product: i64, body: Value) -> reqwest::Response {
    client()
        .post(format!("{address}/api/products/{product}/flash-crowd"))
        .json(&body)
        .send()
        .await
        .expect("flash-crowd request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_crowd_without_a_lock_oversells_and_says_by_how_much() {
    let app = spawn_app().await;

    let response = flash_crowd(
        &app.address,
        1,
        json!({"buyers": 200, "lock": "none", "work_ms": 20, "restock": 20}),
    )
    .await;

    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    let sold = report["sold"].as_i64().unwrap();
    assert!(
        sold > 20,
        "lock=none sold {sold} of 20: expected an oversell"
    );
    assert_eq!(report["stock_before"], 20);
    assert_eq!(report["oversold"].as_i64().unwrap(), sold - 20);
    assert_eq!(report["lock"], "none");
    assert_eq!(report["buyers"], 200);
    let turned_away: i64 = ["sold_out", "busy", "unavailable", "failed"]
        .iter()
        .map(|k| report[k].as_i64().unwrap())
        .sum();
    assert_eq!(sold + turned_away, 200, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["product"]["orders"].as_i64().unwrap(), sold);
    assert_eq!(app.order_count(1).await, sold);
    let crowd_buyers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE user_name LIKE 'crowd-%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(crowd_buyers, sold, "every order names its crowd buyer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_crowd_with_the_redis_lock_sells_exactly_the_stock() {
    let app = spawn_app().await;
    app.restock(1, 20).await;

    let response = flash_crowd(
        &app.address,
        1,
        json!({"buyers": 200, "lock": "redis", "work_ms": 5}),
    )
    .await;

    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["sold"], 20, "{report}");
    assert_eq!(report["oversold"], 0);
    assert_eq!(
        report["sold_out"].as_i64().unwrap() + report["busy"].as_i64().unwrap(),
        180,
        "{report}"
    );
    assert_eq!(report["product"]["stock"], 0);
    assert_eq!(report["product"]["oversold"], 0);
    assert_eq!(report["product"]["lost_updates"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_that_sells_nothing_reports_what_it_left_unsold() {
    let app = spawn_app().await;

    // broken-lua-nil never takes its lock: every buyer waits out the deadline.
    let response = flash_crowd(
        &app.address,
        1,
        json!({"buyers": 12, "lock": "broken-lua-nil", "deadline_ms": 100, "restock": 100}),
    )
    .await;

    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["sold"], 0, "{report}");
    assert_eq!(report["busy"], 12, "{report}");
    // 100 units left, and 12 buyers refused who could have bought them.
    assert_eq!(report["undersold"], 12, "{report}");
    assert_eq!(report["oversold"], 0, "{report}");

    // The same crowd, read back by the page without JavaScript: amber, and
    // it says it sold nothing first.
    let id = report["crowd_id"].as_str().unwrap();
    let html = crate::helpers::page(&app.address, &format!("/?crowd={id}")).await;
    assert!(
        html.contains(r#"<p class="verdict warn" data-oversold="0">nothing sold of 100 · UNDERSOLD: 12 busy</p>"#),
        "{html}"
    );

    // A safe sale that sold its whole stock left nothing: not undersold.
    let sold_out = flash_crowd(
        &app.address,
        1,
        json!({"buyers": 30, "lock": "redis", "restock": 10}),
    )
    .await;
    let report: Value = sold_out.json().await.unwrap();
    assert_eq!(report["sold"], 10, "{report}");
    assert_eq!(report["undersold"], 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_crowd_is_bounded_and_its_settings_are_checked() {
    let app = spawn_app().await;

    for (body, code) in [
        (json!({"buyers": 10_001}), "invalid_buyers"),
        (json!({"buyers": 0}), "invalid_buyers"),
        (json!({"buyers": -5}), "invalid_buyers"),
        (json!({"buyers": 10, "lock": "mutex"}), "invalid_lock_mode"),
        (json!({"buyers": 10, "work_ms": 2001}), "invalid_work_ms"),
        (json!({"buyers": 10, "work_ms": -1}), "invalid_work_ms"),
        (json!({"buyers": 10, "restock": -1}), "invalid_stock"),
        (json!({"lock": "none"}), "invalid_body"),
        (json!({"buyers": 10, "extra": 1}), "invalid_body"),
    ] {
        let response = flash_crowd(&app.address, 1, body.clone()).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, code).await;
        if code == "invalid_buyers" {
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("1 to 10000"), "{message}");
        }
    }
    let missing = flash_crowd(&app.address, 999, json!({"buyers": 10})).await;
    assert_error(missing, StatusCode::NOT_FOUND, "product_not_found").await;
    assert_eq!(app.order_count(1).await, 0, "a refused crowd buys nothing");
}
