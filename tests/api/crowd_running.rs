//! Crowds sent at the same moment on one product: one runs, every other one
//! is 409 `crowd_running` (on this instance and the others) — never 429
//! `too_many_crowds` because the others took this instance's slots first.
//! Slots run out only for crowds on different products.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, client, crowd_reports, spawn_app_with};

/// One buyer without a lock that stands still 3 s: long enough for every
/// crowd of the test to arrive while it runs.
fn slow_crowd() -> Value {
    json!({"buyers": 1, "lock": "none", "work_ms": 0, "pause_ms": 3000})
}

async fn send_crowd(base: String, product: i64) -> reqwest::Response {
    client()
        .post(format!("{base}/api/products/{product}/flash-crowd"))
        .json(&slow_crowd())
        .send()
        .await
        .expect("flash-crowd request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crowds_sent_at_once_on_one_product_run_once_and_the_rest_get_409_crowd_running() {
    // Two slots on each instance, three crowds sent to each.
    let app = spawn_app_with(|settings| settings.max_crowds = 2).await;
    let peer = app.spawn_peer().await;
    let bases = [app.address.clone(), peer];

    let answers = join_all((0..6).map(|n| send_crowd(bases[n % 2].clone(), 1))).await;

    let mut ran = 0;
    let mut running = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::OK => ran += 1,
            _ => {
                assert_error(answer, StatusCode::CONFLICT, "crowd_running").await;
                running += 1;
            }
        }
    }
    assert_eq!((ran, running), (1, 5));
    assert_eq!(crowd_reports(&app).await.len(), 1);
    assert_eq!(app.order_count(1).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_slot_taken_a_crowd_on_another_product_is_429_and_one_on_a_running_product_409()
{
    let app = spawn_app_with(|settings| settings.max_crowds = 2).await;
    let running: Vec<_> = [1, 2]
        .map(|product| tokio::spawn(send_crowd(app.address.clone(), product)))
        .into();
    // Both crowds have their slot and their product well before they end.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let third_product = send_crowd(app.address.clone(), 3).await;
    let running_product = send_crowd(app.address.clone(), 2).await;

    assert_error(
        third_product,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_crowds",
    )
    .await;
    assert_error(running_product, StatusCode::CONFLICT, "crowd_running").await;
    for crowd in running {
        assert_eq!(crowd.await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(crowd_reports(&app).await.len(), 2);
    assert_eq!(app.order_count(3).await, 0);
}
