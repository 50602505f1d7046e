//! The Postgres guards: deadlines, no transaction left open, and 503 when
//! Postgres is unreachable.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::spawn_app_behind_postgres_proxy;
use crate::helpers::{assert_error, assert_no_damage, client, flash_crowd, purchase, spawn_app};

const RETRYING_GUARDS: [&str; 2] = ["pg-optimistic", "pg-serializable"];
const POSTGRES_GUARDS: [&str; 5] = [
    "pg-atomic",
    "pg-row-lock",
    "pg-advisory",
    "pg-optimistic",
    "pg-serializable",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_guards_give_up_with_429_at_the_deadline_and_leave_no_transaction_open() {
    let app = spawn_app().await;

    for strategy in RETRYING_GUARDS {
        app.restock(1, 100).await;
        // Each sale takes 200 ms and only one of them can win at a time: a
        // 300 ms deadline lets one or two through and turns the rest away.
        let query = format!("lock={strategy}&work_ms=200&deadline_ms=300");
        let crowd = flash_crowd(&[&app.address], 1, 30, &query).await;

        assert!(crowd.other.is_empty(), "{strategy}: {crowd:?}");
        assert!(crowd.busy >= 20, "{strategy}: {crowd:?}");
        assert!(crowd.sold >= 1, "{strategy}: {crowd:?}");
        assert_eq!(crowd.sold + crowd.busy, 30, "{strategy}: {crowd:?}");
        assert_eq!(assert_no_damage(&app, 1, 100).await, crowd.sold as i64);

        // Every connection is back in the pool, none idle in a transaction.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            app.db.size() as usize,
            app.db.num_idle(),
            "{strategy}: connections back"
        );
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(open, 0, "{strategy}: no transaction left open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_and_advisory_locks_wait_no_longer_than_the_deadline() {
    let app = spawn_app().await;

    for strategy in ["pg-row-lock", "pg-advisory", "pg-atomic"] {
        app.restock(1, 100).await;
        let holder = tokio::spawn({
            let base = app.address.clone();
            let query = format!("lock={strategy}&work_ms=1500");
            async move { purchase(&client(), &base, 1, &query).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;

        let started = std::time::Instant::now();
        let waiter = purchase(
            &client(),
            &app.address,
            1,
            &format!("lock={strategy}&deadline_ms=200"),
        )
        .await;

        assert_error(waiter, StatusCode::TOO_MANY_REQUESTS, "lock_timeout").await;
        assert!(
            started.elapsed() < Duration::from_millis(1200),
            "{strategy}: gave up at the deadline"
        );
        assert_eq!(
            holder.await.unwrap().status(),
            StatusCode::CREATED,
            "{strategy}"
        );
        assert_eq!(assert_no_damage(&app, 1, 100).await, 1, "{strategy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_postgres_is_unreachable_every_postgres_guard_answers_503_and_writes_nothing() {
    let (proxy, app) = spawn_app_behind_postgres_proxy().await;

    // A connection of the test's own, around the proxy.
    let direct = sqlx::PgPool::connect_with(app.settings.database_url.clone().port(5432))
        .await
        .unwrap();

    proxy.cut();
    for strategy in POSTGRES_GUARDS {
        let response = purchase(&client(), &app.address, 1, &format!("lock={strategy}")).await;
        assert_error(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
        )
        .await;
    }

    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&direct)
        .await
        .unwrap();
    let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = 1")
        .fetch_one(&direct)
        .await
        .unwrap();
    assert_eq!((orders, stock), (0, 100));
    direct.close().await;
}
