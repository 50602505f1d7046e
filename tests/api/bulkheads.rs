//! Bulkheads: one product's sale, or one crowd, takes a bounded share of the
//! instance's Postgres connections. The Postgres guards hold a connection per
//! waiter; beyond their product's share, their waiters queue in the process
//! (within their deadline), so reads, `/readyz` and other products still get
//! a connection at once.
//!
//! Time bounds here are generous (1.5 s for an answer that takes a few ms when
//! the pool is free): without the bulkhead each of these waits out the pool's
//! acquire timeout (`DB_TIMEOUT_MS`, 2 s) and answers 503.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, client, purchase, spawn_app};

/// An answer within this is "prompt": a free pool answers in milliseconds.
const PROMPT: Duration = Duration::from_millis(1500);

/// `GET path` answers `status` promptly.
async fn assert_prompt_get(client: &Client, app: &TestApp, path: &str, status: StatusCode) {
    let started = Instant::now();
    let response = client.get(app.url(path)).send().await.expect("GET");
    let took = started.elapsed();
    assert_eq!(response.status(), status, "GET {path} after {took:?}");
    assert!(took < PROMPT, "GET {path} took {took:?}");
}

/// A purchase of `product` answers 201 promptly.
async fn assert_prompt_sale(client: &Client, app: &TestApp, product: i64, query: &str) {
    let started = Instant::now();
    let response = purchase(client, &app.address, product, query).await;
    let took = started.elapsed();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "product {product} ({query}) after {took:?}: {:?}",
        response.text().await
    );
    assert!(took < PROMPT, "product {product} ({query}) took {took:?}");
}

/// The reads, `/readyz` and a sale of each other product answer promptly.
async fn assert_the_rest_answers(client: &Client, app: &TestApp, others: &[i64]) {
    assert_prompt_get(client, app, "/api/products", StatusCode::OK).await;
    assert_prompt_get(client, app, "/", StatusCode::OK).await;
    assert_prompt_get(client, app, "/readyz", StatusCode::OK).await;
    for &product in others {
        assert_prompt_sale(client, app, product, "lock=pg-row-lock").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_row_lock_buyers_of_one_product_leave_reads_and_other_products_answering() {
    // No admin token: anyone may pause. Pool of 20 (the default).
    let app = spawn_app().await;
    let client = client();
    // Finding 1's shape, shortened: one holder pausing with the row locked,
    // and more waiters than the pool has connections.
    let deadline = Duration::from_millis(3000);
    let query = format!(
        "lock=pg-row-lock&pause_ms=6000&deadline_ms={}",
        deadline.as_millis()
    );

    let holder = tokio::spawn({
        let (client, base, query) = (client.clone(), app.address.clone(), query.clone());
        async move { purchase(&client, &base, 1, &query).await.status() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiters: Vec<_> = (0..23)
        .map(|_| {
            let (client, base, query) = (client.clone(), app.address.clone(), query.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let response = purchase(&client, &base, 1, &query).await;
                let status = response.status();
                let body: Value = response.json().await.unwrap_or_default();
                (status, body["error"].clone(), started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The waiters are queued now: everything else still answers at once.
    assert_the_rest_answers(&client, &app, &[2, 3]).await;

    for waiter in waiters {
        let (status, code, took) = waiter.await.unwrap();
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("lock_timeout")),
            "a waiter ends at its deadline with 429"
        );
        // Generous: it gives up at its deadline, not at the holder's commit.
        assert!(took < deadline + PROMPT, "a waiter took {took:?}");
    }
    assert_eq!(
        holder.await.unwrap(),
        StatusCode::CREATED,
        "the holder sells"
    );
    assert_eq!(app.order_count(1).await, 1);
    assert_eq!(app.stock(1).await, 99);
    assert_eq!(app.order_count(2).await, 1);
    assert_eq!(app.order_count(3).await, 1);
}

async fn crowd_leaves_the_rest_answering(strategy: &str) {
    let app = spawn_app().await;
    let client = client();
    let crowd = tokio::spawn({
        let (client, url) = (client.clone(), app.url("/api/products/1/flash-crowd"));
        let body = json!({"buyers": 2000, "lock": strategy, "work_ms": 50, "restock": 60});
        async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    });

    // Product 3 has stock 1: sell it once, then it is sold out (409, promptly).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_the_rest_answers(&client, &app, &[2, 3]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_the_rest_answers(&client, &app, &[2]).await;
    let started = Instant::now();
    let sold_out = purchase(&client, &app.address, 3, "lock=pg-advisory").await;
    assert_error(sold_out, StatusCode::CONFLICT, "sold_out").await;
    assert!(started.elapsed() < PROMPT);

    assert!(
        !crowd.is_finished(),
        "{strategy}: the crowd was still running while the rest answered"
    );

    let report = crowd.await.unwrap();
    assert_eq!(report["sold"], 60, "{strategy}: {report}");
    assert_eq!(report["oversold"], 0, "{strategy}: {report}");
    assert_eq!(report["unavailable"], 0, "{strategy}: {report}");
    assert_eq!(report["failed"], 0, "{strategy}: {report}");
    let turned_away = report["sold_out"].as_u64().unwrap() + report["busy"].as_u64().unwrap();
    assert_eq!(turned_away, 2000 - 60, "{strategy}: {report}");
    assert_eq!(app.order_count(1).await, 60);
    assert_eq!(app.stock(1).await, 0);
    assert_eq!(app.order_count(2).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_lock_crowd_of_2000_leaves_other_products_the_page_and_readyz_answering() {
    crowd_leaves_the_rest_answering("pg-row-lock").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisory_lock_crowd_of_2000_leaves_other_products_the_page_and_readyz_answering() {
    crowd_leaves_the_rest_answering("pg-advisory").await;
}
