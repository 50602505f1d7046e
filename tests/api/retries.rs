//! The retrying guards (`pg-optimistic`, `pg-serializable`): contended
//! retries still sell exactly the stock, and a buyer's retries end at its
//! deadline — a retry's lock wait gets the time left, not a whole deadline.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sqlx::{Connection, PgConnection};

use crate::helpers::{assert_error, assert_no_damage, client, flash_crowd, purchase, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contended_retries_sell_exactly_the_stock() {
    let app = spawn_app().await;

    for strategy in ["pg-optimistic", "pg-serializable"] {
        app.restock(1, 30).await;
        // No business step: the retries are back to back but for the backoff.
        let query = format!("lock={strategy}&work_ms=0&deadline_ms=20000");
        let crowd = flash_crowd(&[&app.address], 1, 120, &query).await;

        assert!(crowd.other.is_empty(), "{strategy}: {crowd:?}");
        assert_eq!(crowd.busy, 0, "{strategy}: {crowd:?}");
        assert_eq!((crowd.sold, crowd.sold_out), (30, 90), "{strategy}");
        assert_eq!(assert_no_damage(&app, 1, 30).await, 30, "{strategy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serializable_buyer_gives_up_within_its_deadline_when_a_late_retry_meets_a_held_row() {
    let app = spawn_app().await;
    let deadline = Duration::from_millis(3000);

    // A connection of the test's own updates the row every 20 ms: every
    // attempt of the buyer (100 ms each) fails to serialize and is retried.
    let mut writer = PgConnection::connect_with(&app.settings.database_url)
        .await
        .unwrap();
    let touch = "UPDATE products SET updated_at = now() WHERE id = 1";
    let started = Instant::now();
    let buyer = tokio::spawn({
        let base = app.address.clone();
        let query = format!(
            "lock=pg-serializable&work_ms=100&deadline_ms={}",
            deadline.as_millis()
        );
        async move { purchase(&client(), &base, 1, &query).await }
    });
    while started.elapsed() < deadline - Duration::from_millis(500) {
        sqlx::query(touch).execute(&mut writer).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Late in the deadline, the writer keeps the row (an update it does not
    // commit) for longer than the deadline: the retry then running waits.
    sqlx::query("BEGIN").execute(&mut writer).await.unwrap();
    sqlx::query(touch).execute(&mut writer).await.unwrap();

    let response = buyer.await.unwrap();
    let took = started.elapsed();
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "lock_timeout").await;
    // Generous: the deadline plus one attempt's work and some slack; without
    // the time left as its lock timeout, the last retry waits a whole
    // deadline more (about 5.6 s here).
    assert!(
        took < deadline + Duration::from_millis(1000),
        "took {took:?}"
    );

    sqlx::query("ROLLBACK").execute(&mut writer).await.unwrap();
    writer.close().await.unwrap();
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}
