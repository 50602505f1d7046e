//! Postgres goes away: a cluster of the test's own killed mid-crowd and
//! started again.

use std::time::{Duration, Instant};

use flashsale::testing::PostgresServer;
use reqwest::StatusCode;
use tokio::time::sleep;

use crate::helpers::{SHARED_REDIS, Shop, flash_crowd};

/// 100 buyers (stock 20, 20 ms of work) under the spin lock on an instance
/// whose Postgres (a cluster of the test's own) is killed 200 ms in and back
/// about a second later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_crowd_loses_nothing_and_the_service_recovers() {
    // Declared first, dropped last: the database goes while its server runs.
    let mut postgres = tokio::task::block_in_place(PostgresServer::start);
    let shop = Shop::on(&postgres.url(""), SHARED_REDIS);
    let mut service = shop.start(&[("DB_TIMEOUT_MS", "1000")]).await;
    service.restock(20).await;

    let started = Instant::now();
    let crowd = tokio::spawn(flash_crowd(
        vec![service.address.clone()],
        100,
        "lock=redis&work_ms=20".to_owned(),
    ));
    sleep(Duration::from_millis(200)).await;
    postgres.kill();
    sleep(Duration::from_millis(1000)).await;
    tokio::task::block_in_place(|| postgres.restart());
    let back = started.elapsed();
    let crowd = crowd.await.unwrap();

    eprintln!("{crowd:?}; Postgres back after {back:.2?}");
    // Buyers who arrive while Postgres is down get a 503 at once (they do
    // not queue for the lock behind a sale that cannot write), so the crowd
    // may well be over before Postgres is back: recovery is checked below.
    crowd.assert_answers_allowed(&[201, 409, 429, 503]);
    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    numbers.assert_no_oversell_and_no_lost_update();
    shop.assert_lock_gone_within(Duration::from_millis(500))
        .await;

    // The service recovers by itself: ready again, and it sells.
    if let Err(why) = service.wait_ready(Duration::from_secs(10)).await {
        panic!("the service did not recover: {why}");
    }
    service.restock(1).await;
    let (status, body) = service.purchase("lock=redis&user=after-restart").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
