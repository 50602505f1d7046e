//! A lock wait is not an outage: a statement held up by a row lock (a lock
//! timeout, or a statement timeout while it waited) is a busy product — 429
//! `lock_timeout` for a purchase, 409 `product_busy` for a restock — never a
//! 503, and Postgres is not marked down for it, so unrelated buyers (even
//! those waiting for a lock at that moment) are not turned away.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::helpers::{TestApp, assert_error, client, purchase, spawn_app_with};

/// The service with a 1 s database timeout, so that a row-lock wait of the
/// Redis strategies' write (bounded by the statement timeout) ends quickly.
async fn spawn_app() -> TestApp {
    spawn_app_with(|settings| settings.db_timeout = Duration::from_millis(1000)).await
}

/// A transaction of the test's own, on the test's database, holding the row
/// of `product` (`SELECT … FOR UPDATE`) until it is dropped or rolled back.
async fn hold_row(app: &TestApp, product: i64) -> PgConnection {
    let mut connection = PgConnection::connect_with(&app.settings.database_url)
        .await
        .expect("a connection of the test's own");
    sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
    sqlx::query("SELECT id FROM products WHERE id = $1 FOR UPDATE")
        .bind(product)
        .execute(&mut connection)
        .await
        .unwrap();
    connection
}

async fn release_row(mut connection: PgConnection) {
    sqlx::query("ROLLBACK")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_lock_wait_answers_429_keeps_readyz_up_and_turns_no_other_buyer_away() {
    let app = spawn_app().await;
    let client = client();

    // Elsewhere, a Redis holder of product 2 and a buyer waiting for it.
    let holder = tokio::spawn({
        let (client, base) = (client.clone(), app.address.clone());
        async move { purchase(&client, &base, 2, "lock=redis&work_ms=2000").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiter = tokio::spawn({
        let (client, base) = (client.clone(), app.address.clone());
        async move { purchase(&client, &base, 2, "lock=redis&deadline_ms=8000").await }
    });

    let row = hold_row(&app, 1).await;
    // Every family meets the held row: the Redis strategies' and `none`'s
    // write, the fence's claim, and the Postgres guards' own statements.
    for strategy in [
        "redis",
        "none",
        "redis-fenced",
        "pg-optimistic",
        "pg-row-lock",
        "pg-atomic",
        "pg-serializable",
    ] {
        let started = Instant::now();
        let response = purchase(
            &client,
            &app.address,
            1,
            &format!("lock={strategy}&deadline_ms=800"),
        )
        .await;
        let took = started.elapsed();
        assert_error(response, StatusCode::TOO_MANY_REQUESTS, "lock_timeout").await;
        // Generous: the deadline, or the 1 s statement timeout of a write.
        assert!(
            took < Duration::from_millis(2500),
            "{strategy} took {took:?}"
        );

        let ready = client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK, "after {strategy}");
        // Long enough for the waiter on product 2 to look at the "Postgres
        // is down" flag (it does between two tries) before any new buyer
        // could probe Postgres back up.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let other = purchase(&client, &app.address, 3, "lock=pg-row-lock").await;
    assert_eq!(other.status(), StatusCode::CREATED, "another product sells");
    release_row(row).await;

    assert_eq!(holder.await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(
        waiter.await.unwrap().status(),
        StatusCode::CREATED,
        "a buyer waiting for another product's lock is not told Postgres is down"
    );
    assert_eq!(app.order_count(1).await, 0, "the held product sold nothing");
    assert_eq!(app.stock(1).await, 100);
    assert_eq!(app.order_count(2).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restock_of_a_row_locked_product_answers_409_product_busy_and_changes_nothing() {
    let app = spawn_app().await;
    let client = client();
    let restock = |stock: i64| {
        client
            .post(app.url("/api/products/1/reset"))
            .json(&json!({ "stock": stock }))
            .send()
    };

    let row = hold_row(&app, 1).await;
    let started = Instant::now();
    let busy = restock(5).await.unwrap();
    let took = started.elapsed();
    let body = assert_error(busy, StatusCode::CONFLICT, "product_busy").await;
    assert!(took < Duration::from_millis(2500), "took {took:?}: {body}");
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    release_row(row).await;
    assert_eq!(app.stock(1).await, 100, "the busy restock changed nothing");

    let done = restock(5).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(app.stock(1).await, 5);
}
