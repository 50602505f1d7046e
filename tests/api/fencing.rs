//! Where the Redis lock breaks — work past the TTL, a paused holder, a Redis
//! that restarts — and how the fencing token makes Postgres refuse the stale
//! holder in each.

use std::time::Duration;

use reqwest::{Response, StatusCode};

use crate::helpers::{
    RedisServer, TestApp, assert_error, assert_no_damage, client, damage, flash_crowd, purchase,
    spawn_app, spawn_app_with,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_past_the_ttl_oversells_with_redis_and_is_refused_with_fencing() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let knobs = "ttl_ms=100&work_ms=300&deadline_ms=30000";

    app.restock(1, 5).await;
    let spin = flash_crowd(
        &[&app.address, &peer],
        1,
        30,
        &format!("lock=redis&{knobs}"),
    )
    .await;
    let (orders, oversold, _) = damage(&app, 1).await;
    assert_eq!(orders, spin.sold as i64);
    assert!(oversold > 0, "{spin:?}");

    app.restock(1, 5).await;
    let fenced = flash_crowd(
        &[&app.address, &peer],
        1,
        30,
        &format!("lock=redis-fenced&{knobs}"),
    )
    .await;
    assert!(fenced.other.is_empty(), "{fenced:?}");
    let orders = assert_no_damage(&app, 1, 5).await;
    assert_eq!(orders, fenced.sold as i64);
    assert!(
        fenced.lock_lost > 0,
        "stale holders were refused: {fenced:?}"
    );
    assert_eq!(
        fenced.sold + fenced.lock_lost + fenced.sold_out + fenced.busy,
        30
    );
}

/// Buyer A takes the lock, reads the last unit and freezes past its TTL;
/// buyer B, on the other instance, arrives meanwhile. Returns A's and B's
/// answers.
async fn paused_holder(strategy: &str) -> (TestApp, Response, Response) {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    app.restock(1, 1).await;
    let client = client();

    let a = tokio::spawn({
        let (client, base) = (client.clone(), app.address.clone());
        let query = format!("lock={strategy}&ttl_ms=300&pause_ms=1200&user=paused");
        async move { purchase(&client, &base, 1, &query).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let b = purchase(&client, &peer, 1, &format!("lock={strategy}&user=second")).await;
    let a = a.await.unwrap();
    (app, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_holder_oversells_with_redis() {
    let (app, a, b) = paused_holder("redis").await;

    assert_eq!(b.status(), StatusCode::CREATED);
    assert_eq!(
        a.status(),
        StatusCode::CREATED,
        "the stale holder wrote on resume"
    );
    let (orders, oversold, lost) = damage(&app, 1).await;
    assert_eq!((orders, oversold, lost), (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_holder_is_refused_with_fencing() {
    let (app, a, b) = paused_holder("redis-fenced").await;

    assert_eq!(b.status(), StatusCode::CREATED);
    assert_error(a, StatusCode::CONFLICT, "lock_lost").await;
    assert_eq!(assert_no_damage(&app, 1, 1).await, 1);
    let buyers: Vec<Option<String>> = sqlx::query_scalar("SELECT user_name FROM orders")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        buyers,
        [Some("second".to_owned())],
        "the paused write is absent"
    );
}

/// A sale holds the lock (2 s of work) in a Redis of the test's own, which
/// restarts empty; a second buyer arrives once it is back.
async fn redis_restarts_mid_sale(strategy: &str) -> (RedisServer, TestApp, Response, Response) {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;
    app.restock(1, 1).await;
    let client = client();

    let a = tokio::spawn({
        let (client, base) = (client.clone(), app.address.clone());
        let query = format!("lock={strategy}&work_ms=2000&user=first");
        async move { purchase(&client, &base, 1, &query).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.restart();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = purchase(
        &client,
        &app.address,
        1,
        &format!("lock={strategy}&user=second"),
    )
    .await;
    let a = a.await.unwrap();
    (redis, app, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_sale_lets_a_second_holder_in_with_redis() {
    let (_redis, app, a, b) = redis_restarts_mid_sale("redis").await;

    assert_eq!(
        b.status(),
        StatusCode::CREATED,
        "the restarted Redis forgot the lock"
    );
    assert_eq!(a.status(), StatusCode::CREATED);
    assert_eq!(damage(&app, 1).await, (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_sale_is_refused_with_fencing_and_the_counter_recovers() {
    let (_redis, app, a, b) = redis_restarts_mid_sale("redis-fenced").await;

    assert_eq!(
        b.status(),
        StatusCode::CREATED,
        "a reset counter does not block the product"
    );
    assert_error(a, StatusCode::CONFLICT, "lock_lost").await;
    assert_eq!(assert_no_damage(&app, 1, 1).await, 1);
    let buyers: Vec<Option<String>> = sqlx::query_scalar("SELECT user_name FROM orders")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(buyers, [Some("second".to_owned())]);

    // And the product keeps selling under fencing afterwards.
    app.restock(1, 3).await;

    let crowd = flash_crowd(&[&app.address], 1, 10, "lock=redis-fenced&work_ms=5").await;
    assert_eq!(crowd.sold, 3, "{crowd:?}");
    let fence: i64 = sqlx::query_scalar("SELECT fence FROM products WHERE id = 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(fence >= 5, "the fence only grows: {fence}");
}
