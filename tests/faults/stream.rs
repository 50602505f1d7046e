//! The stream designs when something dies: the order writer killed
//! mid-batch (SIGKILL), Redis restarted with and without persistence while
//! orders are queued, Postgres down while the gate keeps selling.
//!
//! An accepted order (202) that never reaches Postgres is a *lost order*:
//! `redis-stream` loses none to a writer's death or to Postgres, only to a
//! Redis that forgets; `broken-ack-first` loses the batch its writer died in.

use std::collections::HashSet;
use std::time::Duration;

use flashsale::testing::{PostgresServer, RedisServer};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::service::{Service, order_id};
use crate::helpers::{SHARED_REDIS, Shop};

/// `n` purchases one after the other, every one accepted (202): their ids.
async fn accepted(service: &Service, lock: &str, n: usize) -> HashSet<Uuid> {
    let mut ids = HashSet::new();
    for buyer in 0..n {
        let (status, body) = service
            .purchase(&format!("lock={lock}&user=b{buyer}"))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.insert(order_id(&body).expect("an order id"));
    }
    ids
}

const SLOW_WRITER: [(&str, &str); 1] = [("ORDER_WRITER_GAP_MS", "60000")];
const NO_WRITER: [(&str, &str); 1] = [("ORDER_WRITER", "false")];
const QUICK_CLAIM: [(&str, &str); 1] = [("ORDER_WRITER_CLAIM_IDLE_MS", "300")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_mid_batch_loses_no_order_and_writes_none_twice() {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let front = shop.start(&NO_WRITER).await;
    front.restock(50).await;
    let ids = accepted(&front, "redis-stream", 30).await;

    // A writer takes the 30 as one batch, commits, and is killed before it
    // acknowledges: Postgres has them, Redis still has them pending.
    let mut writer = shop.start(&SLOW_WRITER).await;
    shop.wait_orders(30, Duration::from_secs(20)).await;
    writer.kill();
    assert_eq!(shop.queued_in_redis().await, 30);

    // Another writer claims the batch, writes it again — by id, so nothing
    // twice, the stock decremented once — and acknowledges it.
    let _next = shop.start(&QUICK_CLAIM).await;
    shop.wait_queued(0, Duration::from_secs(20)).await;
    let numbers = shop.numbers().await;
    assert_eq!(numbers.orders, ids, "every accepted order, once");
    assert_eq!(numbers.stock, 20);
    numbers.assert_no_oversell_and_no_lost_update();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_ack_first_loses_the_batch_its_writer_was_killed_in() {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let front = shop.start(&NO_WRITER).await;
    front.restock(50).await;
    let ids = accepted(&front, "broken-ack-first", 30).await;

    // The writer acknowledges the batch first, then is killed before it
    // writes: Redis has forgotten the orders, Postgres never had them.
    let mut writer = shop.start(&SLOW_WRITER).await;
    shop.wait_queued(0, Duration::from_secs(20)).await;
    writer.kill();

    let _next = shop.start(&QUICK_CLAIM).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let numbers = shop.numbers().await;
    assert_eq!(ids.len(), 30, "accepted");
    assert_eq!(
        numbers.orders.len(),
        0,
        "written: all 30 accepted orders lost"
    );
    assert_eq!(numbers.stock, 50, "Postgres never saw the sale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_without_persistence_loses_the_queued_orders_and_sells_only_once_seeded() {
    let mut redis = RedisServer::start();
    let shop = Shop::on_shared_postgres(&redis.url());
    let front = shop.start(&NO_WRITER).await;
    front.restock(50).await;
    let lost = accepted(&front, "redis-stream", 10).await;

    tokio::task::block_in_place(|| redis.restart());
    let _writer = shop.start(&[]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        shop.numbers().await.orders.len(),
        0,
        "the 10 queued are lost"
    );
    assert_eq!(lost.len(), 10);

    // Nothing sells from a guess: the first sale seeds Redis from Postgres
    // (50: the lost orders never took stock there), and the gate sells that.
    let mut sold = HashSet::new();
    let mut sold_out = 0;
    for buyer in 0..60 {
        let (status, body) = front
            .purchase(&format!("lock=redis-stream&user=a{buyer}"))
            .await;
        match status {
            StatusCode::ACCEPTED => {
                sold.insert(order_id(&body).unwrap());
            }
            StatusCode::CONFLICT if body["error"] == "sold_out" => sold_out += 1,
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((sold.len(), sold_out), (50, 10));
    shop.wait_queued(0, Duration::from_secs(20)).await;
    let numbers = shop.numbers().await;
    assert_eq!(numbers.orders, sold);
    numbers.assert_no_oversell_and_no_lost_update();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_appendfsync_always_a_redis_restart_loses_no_queued_order() {
    let mut redis = RedisServer::start_persistent();
    let shop = Shop::on_shared_postgres(&redis.url());
    let front = shop.start(&NO_WRITER).await;
    front.restock(50).await;
    let ids = accepted(&front, "redis-stream", 10).await;

    tokio::task::block_in_place(|| redis.restart());
    let _writer = shop.start(&[]).await;
    shop.wait_queued(0, Duration::from_secs(20)).await;
    let numbers = shop.numbers().await;
    assert_eq!(numbers.orders, ids, "none lost");
    assert_eq!(numbers.stock, 40);
    numbers.assert_no_oversell_and_no_lost_update();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_down_the_gate_keeps_selling_and_every_order_is_written_when_it_returns() {
    // Declared first, dropped last: the database goes while its server runs.
    let mut postgres = tokio::task::block_in_place(PostgresServer::start);
    let shop = Shop::on(&postgres.url(""), SHARED_REDIS);
    let service = shop.start(&[("DB_TIMEOUT_MS", "1000")]).await;
    service.restock(50).await;

    postgres.kill();
    let ids = accepted(&service, "redis-stream", 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shop.queued_in_redis().await, 20, "the queue grows");

    tokio::task::block_in_place(|| postgres.restart());
    shop.wait_queued(0, Duration::from_secs(30)).await;
    let numbers = shop.numbers().await;
    assert_eq!(numbers.orders, ids, "every accepted order written");
    assert_eq!(numbers.stock, 30);
    numbers.assert_no_oversell_and_no_lost_update();
}
