//! `redis-fair`: exact over two instances, first come first served, and no
//! waiter or crashed holder blocks the line for long.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{
    assert_error, assert_no_damage, client, flash_crowd, purchase, redis_get, spawn_app,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fair_lock_sells_exactly_the_stock_over_two_instances() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(&[&app.address, &peer], 1, 200, "lock=redis-fair&work_ms=5").await;

    assert_eq!(crowd.sold, 20, "{crowd:?}");
    assert_eq!(crowd.sold_out, 180, "{crowd:?}");
    assert_eq!(assert_no_damage(&app, 1, 20).await, 20);
    assert_eq!(redis_get(&app, &app.lock_key(1)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyers_are_served_in_the_order_they_arrived_across_two_instances() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let bases = [app.address.clone(), peer.clone()];

    // Buyer 0 holds the lock for a while; 1..=8 arrive 25 ms apart, on
    // alternate instances, and wait in line.
    let mut buyers = Vec::new();
    for n in 0..=8 {
        let base = bases[n % 2].clone();
        let work = if n == 0 { 600 } else { 10 };
        buyers.push(tokio::spawn(async move {
            let query = format!("lock=redis-fair&work_ms={work}&user=buyer-{n}");
            purchase(&client(), &base, 1, &query).await.status()
        }));
        tokio::time::sleep(Duration::from_millis(if n == 0 { 100 } else { 25 })).await;
    }
    for buyer in buyers {
        assert_eq!(buyer.await.unwrap(), StatusCode::CREATED);
    }

    let served: Vec<String> =
        sqlx::query_scalar("SELECT user_name FROM orders ORDER BY created_at, id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let arrived: Vec<String> = (0..=8).map(|n| format!("buyer-{n}")).collect();
    assert_eq!(served, arrived, "first come, first served");
    assert_no_damage(&app, 1, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_that_gives_up_does_not_block_the_ones_behind_it() {
    let app = spawn_app().await;
    let started = Instant::now();

    let holder = tokio::spawn({
        let base = app.address.clone();
        async move { purchase(&client(), &base, 1, "lock=redis-fair&work_ms=800").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let quitter = tokio::spawn({
        let base = app.address.clone();
        async move { purchase(&client(), &base, 1, "lock=redis-fair&deadline_ms=200").await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let patient = purchase(&client(), &app.address, 1, "lock=redis-fair&user=patient").await;

    assert_eq!(patient.status(), StatusCode::CREATED);
    assert_error(
        quitter.await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        "lock_timeout",
    )
    .await;
    assert_eq!(holder.await.unwrap().status(), StatusCode::CREATED);
    // Blocked behind a stale place in line, it would have waited a whole
    // lease (the 5 s TTL).
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(assert_no_damage(&app, 1, 100).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_holder_or_waiter_blocks_the_line_no_longer_than_its_lease() {
    let app = spawn_app().await;
    let prefix = &app.settings.lock_key_prefix;
    let mut redis = app.redis.clone();

    // A holder that died holding the lock (1 s left), and a waiter that died
    // first in line (its place lapses in 1.5 s).
    let _: () = redis::cmd("SET")
        .arg(app.lock_key(1))
        .arg("crashed-holder")
        .arg("PX")
        .arg(1000)
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::pipe()
        .cmd("ZADD")
        .arg(format!("{prefix}:fair:queue:{{product:1}}"))
        .arg(0)
        .arg("dead-waiter")
        .cmd("ZADD")
        .arg(format!("{prefix}:fair:alive:{{product:1}}"))
        .arg(now_ms(&mut redis).await + 1500)
        .arg("dead-waiter")
        .query_async(&mut redis)
        .await
        .unwrap();

    let started = Instant::now();
    let response = purchase(&client(), &app.address, 1, "lock=redis-fair").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000),
        "waited for the dead holder's TTL: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(4),
        "not for a whole default TTL: {waited:?}"
    );
    assert_eq!(assert_no_damage(&app, 1, 100).await, 1);
}

async fn now_ms(redis: &mut redis::aio::ConnectionManager) -> i64 {
    let (seconds, micros): (i64, i64) = redis::cmd("TIME").query_async(redis).await.unwrap();
    seconds * 1000 + micros / 1000
}
