//! "Is my lock still mine?" is asked once the write has its connection, and
//! the write runs under a statement timeout of the validity left: a Redlock
//! holder held up between its check and its write (a busy pool, a row lock)
//! writes nothing once its validity has run out — 409 `lock_lost`, no order,
//! the stock unchanged.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{assert_error, client, purchase, redlock_nodes, redlock_urls, spawn_app_with};

/// The pool is busy when the holder comes to write (its read got through):
/// by the time a connection frees up, its validity is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_validity_ran_out_waiting_for_the_pool_writes_nothing() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| {
        settings.redlock_urls = redlock_urls(&nodes);
        settings.db_max_connections = 2;
    })
    .await;
    // One of the two connections is taken now; the holder reads on the other.
    let first = app.db.acquire().await.expect("a pooled connection");
    let mut node = redis::Client::open(nodes[0].url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = app.lock_key(1);

    let buyer = tokio::spawn({
        let address = app.address.clone();
        async move {
            purchase(
                &client(),
                &address,
                1,
                "lock=redlock&ttl_ms=1000&work_ms=500",
            )
            .await
        }
    });
    // Once the lock is held, the read follows at once; the business step
    // (500 ms) leaves ample time to take the other connection before the write.
    let held_at = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let holder: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut node)
            .await
            .unwrap();
        if holder.is_some() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < held_at,
            "the lock was never taken"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = app.db.acquire().await.expect("the other pooled connection");
    // Past the validity (1 s from the lock), within the pool's 2 s wait.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    drop((first, second));

    let response = buyer.await.unwrap();
    assert_error(response, StatusCode::CONFLICT, "lock_lost").await;
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}

/// The row is locked when the holder writes: the write waits under a
/// statement timeout of the validity left, and is cancelled when it runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_validity_runs_out_in_a_row_lock_wait_writes_nothing() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;
    let mut row_lock = app.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM products WHERE id = 1 FOR UPDATE")
        .execute(&mut *row_lock)
        .await
        .unwrap();

    let buyer = tokio::spawn({
        let address = app.address.clone();
        async move { purchase(&client(), &address, 1, "lock=redlock&ttl_ms=500&work_ms=50").await }
    });
    // Well past the validity (500 ms), well within the request's own limits.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    row_lock.rollback().await.unwrap();

    let response = buyer.await.unwrap();
    assert_error(response, StatusCode::CONFLICT, "lock_lost").await;
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}
