//! Three instances behind HAProxy (the project's `deploy/haproxy/haproxy.cfg`),
//! one killed (SIGKILL) mid-crowd and restarted on its port. The database
//! decides: no oversell, no lost update, every 201 has its order. The buyers
//! the killed instance never answered get HAProxy's 502 (or 503 while it is
//! down and not yet marked so, or a closed connection): errors, never sales.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::sleep;

use crate::helpers::{Balancer, SHARED_REDIS, Shop, flash_crowd, send_purchase};

const STOCK: i64 = 50;
const BUYERS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_haproxy_an_instance_killed_mid_crowd_leaves_the_redis_lock_exact() {
    an_instance_killed_behind_haproxy("redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_haproxy_an_instance_killed_mid_crowd_leaves_the_row_lock_exact() {
    an_instance_killed_behind_haproxy("pg-row-lock").await;
}

async fn an_instance_killed_behind_haproxy(strategy: &str) {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    // A short TTL: the killed instance's lock frees the product soon.
    let settings = [("LOCK_TTL_MS", "1500")];
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(shop.start(&settings).await);
    }
    let ports: Vec<u16> = instances.iter().map(|instance| instance.port).collect();
    let balancer = Balancer::start(&ports).await;
    instances[0].restock(STOCK).await;

    let crowd = tokio::spawn(flash_crowd(
        vec![balancer.address.clone()],
        BUYERS,
        format!("lock={strategy}&work_ms=10"),
    ));
    sleep(Duration::from_millis(300)).await;
    instances[1].kill();
    sleep(Duration::from_millis(300)).await;
    instances[1].restart().await;
    let crowd = crowd.await.unwrap();

    eprintln!("{strategy} behind HAProxy, instance 2 killed: {crowd:?}");
    // 0: no HTTP answer at all (the connection to HAProxy closed).
    crowd.assert_answers_allowed(&[0, 201, 409, 429, 502, 503]);
    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    numbers.assert_no_oversell_and_no_lost_update();
    let unanswered = crowd.count(0) + crowd.count(502) + crowd.count(503);
    assert!(unanswered > 0, "the kill cut no buyer short: {crowd:?}");
    // An order the killed instance wrote before it could answer is a sale
    // its buyer never heard of: only an error can hide one.
    let sold_unheard = numbers.sold() as usize - crowd.sold();
    assert!(sold_unheard <= unanswered, "{numbers:?} {crowd:?}");

    // Back in the pool (two good checks, 500 ms apart), every instance
    // sells again: three units, six buyers one after the other, each
    // instance asked twice.
    instances[0].restock(3).await;
    sleep(Duration::from_millis(1500)).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..6 {
        let query = format!("lock={strategy}&user=after-{n}");
        let (status, _) = send_purchase(&client, &balancer.address, &query)
            .await
            .expect("an answer through HAProxy");
        statuses.push(status);
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let sold_out = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, sold_out), (3, 3), "{statuses:?}");
}
