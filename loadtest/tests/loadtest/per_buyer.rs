//! One per buyer from the generator's side: `--buyers` makes each buyer click
//! several times at once, `--per-buyer` sets the limit, and the verdict fails
//! on a duplicate as on an oversell; `--retry` resends a timed-out purchase
//! with its idempotency key, which never buys twice.

use flashsale::testing::{TestApp, spawn_app};

use crate::helpers::{loadtest, mode};

/// 100 purchases from 10 buyers (10 clicks each, all at once) on stock 100,
/// one per buyer.
fn burst<'a>(app: &'a TestApp, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--url",
        &app.address,
        "--modes",
        "redis",
        "--stock",
        "100",
        "--requests",
        "100",
        "--concurrency",
        "100",
        "--work-ms",
        "5",
        "--deadline-ms",
        "20000",
        "--buyers",
        "10",
        "--per-buyer",
        "1",
        "--format",
        "json",
    ];
    args.extend(extra);
    args
}

/// (orders, orders beyond one per buyer), from the orders table.
async fn orders_and_duplicates(app: &TestApp) -> (i64, i64) {
    let (orders, _, duplicates) = app.orders_per_buyer(1).await;
    (orders, duplicates)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_buyers_clicking_ten_times_buy_one_each_and_the_run_exits_0() {
    let app = spawn_app().await;

    let run = loadtest(&burst(&app, &[])).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    let redis = mode(&report, "redis");
    let server = redis.server.as_ref().unwrap();
    assert_eq!(server.duplicates, 0, "{run:?}");
    assert_eq!(server.orders, 10, "{run:?}");
    assert_eq!(redis.requests.sold_201, 10);
    assert_eq!(redis.requests.other_4xx, 90, "409 limit_reached");
    assert!(redis.verdict.as_ref().unwrap().safe);
    assert_eq!(orders_and_duplicates(&app).await, (10, 0));
    assert_eq!(report.parameters.per_buyer, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_naive_count_check_gets_duplicates_and_fails_the_run() {
    let app = spawn_app().await;

    let run = loadtest(&burst(&app, &["--duplicate-check", "count"])).await;

    assert_eq!(run.code(), Some(1), "redis is expected safe: {run:?}");
    let report = run.json();
    let redis = mode(&report, "redis");
    let server = redis.server.as_ref().unwrap();
    let (orders, duplicates) = orders_and_duplicates(&app).await;
    assert!(duplicates > 0, "{run:?}");
    assert_eq!(
        server.duplicates, duplicates,
        "the report is the table's count"
    );
    assert_eq!(server.orders, orders);
    assert_eq!(server.oversold, 0, "the lock still guards the stock");
    let verdict = redis.verdict.as_ref().unwrap();
    assert!(!verdict.safe && verdict.duplicates, "{verdict:?}");
    assert!(verdict.summary.contains("DUPLICATES"), "{verdict:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_purchase_is_retried_with_its_key_and_never_buys_twice() {
    let app = spawn_app().await;

    // Every purchase works 300 ms and times out at 100 ms: each is sent
    // again with its key, and answered 409 idempotency_key_in_use while the
    // first still runs (a fast answer: no further retry).
    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "none",
        "--expect-safe",
        "",
        "--stock",
        "100",
        "--requests",
        "5",
        "--concurrency",
        "5",
        "--work-ms",
        "300",
        "--timeout",
        "100ms",
        "--retry",
        "2",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    let none = mode(&report, "none");
    assert_eq!(none.requests.retries, 5, "{run:?}");
    assert_eq!(none.requests.sent, 5, "retries are not new requests");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        orders_and_duplicates(&app).await,
        (5, 0),
        "one order per request"
    );
}
