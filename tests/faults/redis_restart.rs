//! Redis goes away: killed and back mid-crowd, or restarted between two
//! purchases of each instance.

use std::time::{Duration, Instant};

use flashsale::testing::RedisServer;
use reqwest::StatusCode;
use tokio::time::sleep;

use crate::helpers::{Crowd, Shop, flash_crowd};

// --- Redis restarted mid-crowd ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_crowd_with_fencing_neither_oversells_nor_loses_an_update() {
    let (_redis, shop, crowd) = redis_restarted_mid_crowd("redis-fenced").await;

    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    numbers.assert_no_oversell_and_no_lost_update();
    shop.assert_lock_gone_within(Duration::from_millis(1500 + 500))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_crowd_with_the_spin_lock_loses_no_order() {
    let (_redis, shop, crowd) = redis_restarted_mid_crowd("redis").await;

    // A Redis that forgets the lock may let two holders in (the fenced
    // strategy's reason to be): only the orders must all be there.
    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    shop.assert_lock_gone_within(Duration::from_millis(1500 + 500))
        .await;
}

/// 100 buyers (stock 20, 20 ms of work) on an instance whose Redis is killed
/// 200 ms in and back 300 ms later, while buyers still come. Postgres stays
/// up, so every order has its 201 too.
async fn redis_restarted_mid_crowd(strategy: &str) -> (RedisServer, Shop, Crowd) {
    let mut redis = RedisServer::start();
    let shop = Shop::on_shared_postgres(&redis.url());
    let service = shop.start(&[("LOCK_TTL_MS", "1500")]).await;
    service.restock(20).await;

    let started = Instant::now();
    let crowd = tokio::spawn(flash_crowd(
        vec![service.address.clone()],
        100,
        format!("lock={strategy}&work_ms=20"),
    ));
    sleep(Duration::from_millis(200)).await;
    redis.kill();
    sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| redis.restart());
    let back = started.elapsed();
    let crowd = crowd.await.unwrap();

    eprintln!("{strategy}: {crowd:?}; Redis back after {back:.2?}");
    crowd.assert_answers_allowed(&[201, 409, 429, 503]);
    assert!(
        crowd.answered_after(back) > 0,
        "the crowd was over before Redis came back: {crowd:?}"
    );
    drop(service);
    assert_eq!(
        shop.numbers().await.sold(),
        crowd.sold() as i64,
        "an order without its 201"
    );
    (redis, shop, crowd)
}

// --- The first purchase after Redis comes back ------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_comes_back_the_first_purchase_of_each_instance_succeeds() {
    let mut redis = RedisServer::start();
    let shop = Shop::on_shared_postgres(&redis.url());
    let a = shop.start(&[]).await;
    let b = shop.start(&[]).await;
    a.restock(10).await;
    for service in [&a, &b] {
        let (status, body) = service.purchase("lock=redis").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    tokio::task::block_in_place(|| redis.restart());
    sleep(Duration::from_secs(2)).await;

    for (name, service) in [("A", &a), ("B", &b)] {
        let (status, body) = service.purchase("lock=redis").await;
        assert_eq!(status, StatusCode::CREATED, "instance {name}: {body}");
    }
    let numbers = shop.numbers().await;
    assert_eq!((numbers.orders.len(), numbers.stock), (4, 6), "{numbers:?}");
}
