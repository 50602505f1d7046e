use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    assert_error, assert_sold_exactly, client, flash_crowd, product, purchase, redis_get,
    spawn_app, spawn_app_with,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_sells_one_unit_and_records_the_buyer() {
    let app = spawn_app().await;

    let response = purchase(&client(), &app.address, 1, "lock=redis&user=ann").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["product_id"], 1);
    assert_eq!(order["remaining_stock"], 99);
    assert_eq!(order["lock"], "redis");
    let order_id: uuid::Uuid = order["order_id"].as_str().unwrap().parse().unwrap();
    let (buyer, mode): (Option<String>, String) =
        sqlx::query_as("SELECT user_name, lock_mode FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(buyer.as_deref(), Some("ann"));
    assert_eq!(mode, "redis");
    assert_eq!(app.stock(1).await, 99);
    assert_eq!(
        redis_get(&app, &app.lock_key(1)).await,
        None,
        "lock released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lock_a_flash_crowd_oversells() {
    let app = spawn_app().await;
    app.restock(1, 20).await;

    // work_ms widens the window between read and write: every buyer reads
    // before the first one writes, so the race is dependable.
    let crowd = flash_crowd(&[&app.address], 1, 200, "lock=none&work_ms=100").await;

    let stats = product(&app, 1).await;
    let orders = stats["orders"].as_i64().unwrap();
    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_eq!(orders, crowd.sold as i64, "every 201 is an order");
    assert_eq!(app.order_count(1).await, orders);
    assert!(
        orders > 20,
        "lock=none sold {orders} of 20: expected an oversell"
    );
    assert_eq!(stats["oversold"].as_i64().unwrap(), orders - 20);
    let stock = stats["stock"].as_i64().unwrap();
    assert_eq!(
        stats["lost_updates"].as_i64().unwrap(),
        orders - (20 - stock)
    );
    assert!(stats["lost_updates"].as_i64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_redis_lock_a_flash_crowd_sells_exactly_the_stock() {
    let app = spawn_app().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(&[&app.address], 1, 200, "lock=redis&work_ms=5").await;

    assert_eq!(crowd.sold, 20, "{crowd:?}");
    assert_eq!(crowd.sold_out + crowd.busy, 180, "{crowd:?}");
    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_sold_exactly(&app, 1, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_the_redis_lock_sell_exactly_the_stock() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(&[&app.address, &peer], 1, 200, "lock=redis&work_ms=5").await;

    assert_eq!(crowd.sold, 20, "{crowd:?}");
    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_sold_exactly(&app, 1, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_without_a_lock_oversell() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(&[&app.address, &peer], 1, 200, "lock=none&work_ms=100").await;

    let stats = product(&app, 1).await;
    assert_eq!(stats["orders"].as_i64().unwrap(), crowd.sold as i64);
    assert!(stats["oversold"].as_i64().unwrap() > 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_by_someone_else_gives_429_after_the_deadline() {
    let app = spawn_app_with(|settings| settings.lock_deadline = Duration::from_millis(800)).await;
    let key = app.lock_key(1);
    let mut redis = app.redis.clone();
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("someone-else")
        .arg("PX")
        .arg(30_000)
        .query_async(&mut redis)
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let response = purchase(&client(), &app.address, 1, "lock=redis").await;
    let waited = started.elapsed();

    assert_eq!(response.headers()["retry-after"], "1");
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "lock_timeout").await;
    // It spun until the deadline rather than giving up at once.
    assert!(
        waited >= Duration::from_millis(600),
        "gave up after {waited:?}"
    );
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
    assert_eq!(redis_get(&app, &key).await.as_deref(), Some("someone-else"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_out_product_answers_409_and_releases_the_lock() {
    let app = spawn_app().await;
    app.restock(1, 0).await;

    for mode in ["redis", "none"] {
        let response = purchase(&client(), &app.address, 1, &format!("lock={mode}")).await;
        assert_error(response, StatusCode::CONFLICT, "sold_out").await;
    }

    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(redis_get(&app, &app.lock_key(1)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_purchase_leaves_no_lock_and_no_half_sale() {
    let app = spawn_app().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let result = impatient
        .post(app.url("/api/products/1/purchase?lock=redis&work_ms=1000"))
        .send()
        .await;
    assert!(result.is_err(), "the client gave up before the answer");

    // The purchase finishes on its own: one whole sale, then the lock is freed.
    let key = app.lock_key(1);
    let mut waited = Duration::ZERO;
    while redis_get(&app, &key).await.is_some() {
        assert!(
            waited < Duration::from_secs(5),
            "the lock was never released"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert_eq!(app.order_count(1).await, 1);
    assert_eq!(app.stock(1).await, 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_lock_mode_applies_when_none_is_named() {
    let app = spawn_app_with(|settings| {
        settings.default_lock_mode = flashsale::lock::Strategy::None;
    })
    .await;

    let response = purchase(&client(), &app.address, 1, "").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["lock"], "none");
}
