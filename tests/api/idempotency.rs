//! Idempotent purchases: a retry with the same `Idempotency-Key` gets the
//! first answer and buys nothing, on any instance, after a restart.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_error, client, redis_get, spawn_app};

async fn buy(client: &Client, base: &str, product: i64, query: &str, key: &[u8]) -> Response {
    client
        .post(format!("{base}/api/products/{product}/purchase?{query}"))
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes(key).expect("header value"),
        )
        .send()
        .await
        .expect("purchase request")
}

async fn created(response: Response) -> Value {
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("order JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_answers_the_same_order_and_the_stock_moves_once() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let http = client();
    app.restock(1, 10).await;

    for lock in ["redis", "none", "pg-atomic", "pg-row-lock"] {
        let query = format!("lock={lock}&user=ann");
        let key = format!("retry-{lock}");
        let first = created(buy(&http, &app.address, 1, &query, key.as_bytes()).await).await;
        let again = created(buy(&http, &app.address, 1, &query, key.as_bytes()).await).await;
        let elsewhere = created(buy(&http, &peer, 1, &query, key.as_bytes()).await).await;
        assert_eq!(again, first, "{lock}: the first answer, again");
        assert_eq!(elsewhere, first, "{lock}: on the other instance too");
    }
    assert_eq!(app.order_count(1).await, 4);
    assert_eq!(app.stock(1).await, 6, "one unit per key");

    // After a restart (a new process on the same database), the key holds.
    let restarted = app.spawn_peer().await;
    let query = "lock=redis&user=ann";
    let first = created(buy(&http, &app.address, 1, query, b"before-restart").await).await;
    let after = created(buy(&http, &restarted, 1, query, b"before-restart").await).await;
    assert_eq!(after["order_id"], first["order_id"]);
    assert_eq!(app.order_count(1).await, 5);
    assert_eq!(app.stock(1).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_while_the_first_runs_is_in_use() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    app.restock(1, 10).await;

    let query = "lock=redis&user=ann&work_ms=1500";
    let first = tokio::spawn({
        let base = app.address.clone();
        async move { buy(&client(), &base, 1, query, b"twice-at-once").await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = buy(&client(), &peer, 1, query, b"twice-at-once").await;
    assert_error(second, StatusCode::CONFLICT, "idempotency_key_in_use").await;
    let first = created(first.await.unwrap()).await;

    assert_eq!(app.order_count(1).await, 1);
    assert_eq!(app.stock(1).await, 9);
    // Once done, the key answers the first order.
    let replay = created(buy(&client(), &peer, 1, query, b"twice-at-once").await).await;
    assert_eq!(replay, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_request_is_refused() {
    let app = spawn_app().await;
    let http = client();
    created(buy(&http, &app.address, 1, "lock=redis&user=ann", b"k-1").await).await;

    for (product, query) in [
        (2, "lock=redis&user=ann"),
        (1, "lock=none&user=ann"),
        (1, "lock=redis&user=bob"),
    ] {
        let response = buy(&http, &app.address, product, query, b"k-1").await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
    }
    assert_eq!(app.order_count(1).await, 1);
    assert_eq!(app.order_count(2).await, 0);

    let too_long = "k".repeat(256);
    for bad in [too_long.as_bytes(), b"tab\there", "caf\u{e9}".as_bytes()] {
        let response = buy(&http, &app.address, 1, "lock=redis&user=ann", bad).await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
    }
    assert_eq!(app.order_count(1).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_says_try_again_does_not_block_the_retry() {
    let app = spawn_app().await;
    let http = client();
    app.restock(1, 10).await;

    // Someone else holds the lock: 429, nothing sold, the key released.
    let mut redis = app.redis.clone();
    let lock = app.lock_key(1);
    let _: () = redis::cmd("SET")
        .arg(&lock)
        .arg("someone-else")
        .query_async(&mut redis)
        .await
        .unwrap();
    let query = "lock=redis&user=ann&deadline_ms=100";
    let busy = buy(&http, &app.address, 1, query, b"after-a-429").await;
    assert_eq!(busy.status(), StatusCode::TOO_MANY_REQUESTS);
    let _: () = redis::cmd("DEL")
        .arg(&lock)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(redis_get(&app, &lock).await, None);

    let sold = created(buy(&http, &app.address, 1, query, b"after-a-429").await).await;
    let replay = created(buy(&http, &app.address, 1, query, b"after-a-429").await).await;
    assert_eq!(replay, sold);
    assert_eq!(app.stock(1).await, 9);

    // A final refusal is kept: sold out stays the answer of its key.
    app.restock(3, 0).await;
    let sold_out = buy(&http, &app.address, 3, "lock=redis&user=ann", b"too-late").await;
    assert_error(sold_out, StatusCode::CONFLICT, "sold_out").await;
    app.restock(3, 5).await;
    let still = buy(&http, &app.address, 3, "lock=redis&user=ann", b"too-late").await;
    assert_error(still, StatusCode::CONFLICT, "sold_out").await;
    assert_eq!(app.stock(3).await, 5);
}
