//! Liveness, readiness, and what happens when Redis goes away.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app_behind_postgres_proxy;
use crate::helpers::{
    TcpProxy, assert_error, client, purchase, redis_get, spawn_app, spawn_app_with,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_answer_200_when_all_is_up() {
    let app = spawn_app().await;

    let health = client().get(app.url("/healthz")).send().await.unwrap();
    let ready = client().get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["postgres"], "up");
    assert_eq!(body["redis"], "up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_goes_away_locked_purchases_get_503_and_write_nothing() {
    let proxy = TcpProxy::start(TcpProxy::REDIS).await;
    let url = format!("redis://127.0.0.1:{}", proxy.port);
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;

    proxy.cut();
    let response = purchase(&client(), &app.address, 1, "lock=redis").await;

    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
    let ready = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["redis"], "down");
    assert_eq!(body["postgres"], "up");
    // The lock is the only thing that needs Redis: lock=none still sells.
    let response = purchase(&client(), &app.address, 1, "lock=none").await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_gives_503_in_about_the_redis_timeout() {
    let proxy = TcpProxy::start(TcpProxy::REDIS).await;
    let url = format!("redis://127.0.0.1:{}", proxy.port);
    let app = spawn_app_with(|settings| {
        settings.redis_url = url.parse().unwrap();
        settings.redis_timeout = Duration::from_millis(500);
    })
    .await;

    proxy.stall();
    let started = Instant::now();
    let response = purchase(&client(), &app.address, 1, "lock=redis").await;
    let waited = started.elapsed();

    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;
    // Bounded by the Redis timeout, not the 5 s lock deadline.
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}");
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_postgres_goes_away_purchases_get_503_and_leave_no_lock_behind() {
    let (proxy, app) = spawn_app_behind_postgres_proxy().await;
    // A connection of the test's own, around the proxy.
    let direct = sqlx::PgPool::connect_with(app.settings.database_url.clone().port(5432))
        .await
        .unwrap();

    proxy.cut();
    for mode in ["redis", "none"] {
        let response = purchase(&client(), &app.address, 1, &format!("lock={mode}")).await;
        assert_error(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
        )
        .await;
    }

    assert_eq!(
        redis_get(&app, &app.lock_key(1)).await,
        None,
        "lock released"
    );
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&direct)
        .await
        .unwrap();
    assert_eq!(orders, 0);
    let ready = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["postgres"], "down");
    direct.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_postgres_is_down_lock_waiters_get_503_not_429() {
    let (proxy, app) = spawn_app_behind_postgres_proxy().await;

    proxy.cut();
    // Without failing fast, each holder in turn waits out the database
    // timeout while the others spin, and most of them end as 429 (busy).
    let crowd = crate::helpers::flash_crowd(&[&app.address], 1, 30, "lock=redis&work_ms=200").await;

    assert_eq!(crowd.sold + crowd.busy + crowd.sold_out, 0, "{crowd:?}");
    assert_eq!(crowd.other, vec![StatusCode::SERVICE_UNAVAILABLE; 30]);
    assert_eq!(
        redis_get(&app, &app.lock_key(1)).await,
        None,
        "lock released"
    );
}
