//! `pg-batch` when Postgres goes away mid-batch: the batch is one
//! transaction, so none of it is written and every buyer in it hears so.

use std::time::Duration;

use flashsale::testing::PostgresServer;
use reqwest::StatusCode;
use tokio::time::sleep;

use crate::helpers::{SHARED_REDIS, Shop, flash_crowd};

/// 10 buyers in one batch that holds the row for a second (`work_ms`), on
/// an instance whose Postgres (a cluster of the test's own) is killed while
/// the batch is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_batch_answers_503_to_the_batch_and_writes_none_of_it() {
    // Declared first, dropped last: the database goes while its server runs.
    let mut postgres = tokio::task::block_in_place(PostgresServer::start);
    let shop = Shop::on(&postgres.url(""), SHARED_REDIS);
    let mut service = shop.start(&[("DB_TIMEOUT_MS", "1000")]).await;
    service.restock(20).await;

    // A first buyer opens a batch; the nine who follow within its second of
    // work form the next one. Either way nothing can commit: Postgres dies
    // 300 ms in.
    let crowd = tokio::spawn(flash_crowd(
        vec![service.address.clone()],
        10,
        "lock=pg-batch&work_ms=1000&deadline_ms=10000".to_owned(),
    ));
    sleep(Duration::from_millis(300)).await;
    postgres.kill();
    let crowd = crowd.await.unwrap();
    tokio::task::block_in_place(|| postgres.restart());

    eprintln!("{crowd:?}");
    crowd.assert_answers_allowed(&[503]);
    let numbers = shop.numbers().await;
    assert_eq!(
        numbers.sold(),
        0,
        "nothing of the batch was written: {numbers:?}"
    );
    assert_eq!(numbers.stock, 20, "{numbers:?}");

    // The service recovers by itself and sells in batches again.
    if let Err(why) = service.wait_ready(Duration::from_secs(10)).await {
        panic!("the service did not recover: {why}");
    }
    service.restock(5).await;
    let (status, body) = service.purchase("lock=pg-batch&user=after-restart").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let numbers = shop.numbers().await;
    assert_eq!((numbers.sold(), numbers.stock), (1, 4), "{numbers:?}");
}
