//! Issue 16 through the generator: the front door every other mode is
//! measured against, and the drain of `redis-stream`'s queue (accepted,
//! written, lost orders — also when Redis loses the queue).

use std::time::Duration;

use flashsale::testing::{spawn_app, spawn_app_with};

use crate::helpers::{loadtest, mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_door_answers_every_purchase_409_sells_nothing_and_is_the_reference() {
    let app = spawn_app().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "front-door,none",
        "--stock",
        "50",
        "--requests",
        "300",
        "--concurrency",
        "20",
        "--expect-safe",
        "front-door",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    assert_eq!(report.parameters.modes, ["front-door", "none"]);
    let door = mode(&report, "front-door");
    assert_eq!(door.requests.completed, 300, "{run:?}");
    assert_eq!(
        door.requests.sold_out_409, 300,
        "every answer a 409 sold_out"
    );
    assert_eq!(door.requests.sold_201 + door.requests.accepted_202, 0);
    assert_eq!(door.transport_errors.total, 0);
    let server = door.server.as_ref().unwrap();
    assert_eq!(
        (server.initial_stock, server.stock, server.orders),
        (0, 0, 0),
        "the front door is a shelf of stock 0"
    );
    assert_eq!(
        (door.accepted, door.written, door.lost_orders),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(door.drain_ms, Some(0));
    let verdict = door.verdict.as_ref().unwrap();
    assert!(verdict.reference && verdict.safe, "{verdict:?}");
    assert!(
        verdict.summary.starts_with("reference: 300 answers, "),
        "{verdict:?}"
    );
    assert_eq!(door.front_door_ratio, None);
    // The service counts its answers under the strategy it ran: `none`.
    let lock = door.lock.as_ref().expect("the service has GET /metrics");
    assert_eq!(lock.purchases.get("sold_out"), Some(&300), "{lock:?}");
    assert!(door.throughput.requests_per_s > 0.0);

    // `none` after it, on the stock asked for, is measured against it.
    let none = mode(&report, "none");
    assert_eq!(none.server.as_ref().unwrap().initial_stock, 50);
    assert!(none.requests.sold_201 >= 50, "{run:?}");
    let expected =
        (none.throughput.purchases_per_s / door.throughput.requests_per_s * 100.0).round() / 100.0;
    assert_eq!(none.front_door_ratio, Some(expected));
    assert_eq!(none.lost_orders, Some(0));
    assert_eq!(app.order_count(1).await, none.written.unwrap());

    // The text report names it as such.
    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "front-door",
        "--requests",
        "50",
        "--concurrency",
        "5",
    ])
    .await;
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert!(
        run.stdout.contains("\nfront-door  reference: 50 answers, "),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stream_is_exact_once_drained_and_loses_no_order() {
    // A pause in each batch of the writer, so that orders are likely still
    // queued when the crowd ends and the drain has something to wait for.
    let app = spawn_app_with(|settings| {
        settings.order_writer_gap = Duration::from_millis(100);
    })
    .await;
    let peer = app.spawn_peer().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--url",
        &peer,
        "--modes",
        "redis-stream",
        "--stock",
        "200",
        "--requests",
        "600",
        "--concurrency",
        "40",
        "--expect-safe",
        "redis-stream",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    let stream = mode(&report, "redis-stream");
    assert_eq!(stream.requests.accepted_202, 200, "{run:?}");
    assert_eq!(stream.requests.sold_201, 0);
    assert_eq!(stream.requests.sold_out_409, 400);
    assert_eq!(stream.accepted, Some(200));
    assert_eq!(stream.written, Some(200), "{run:?}");
    assert_eq!(stream.lost_orders, Some(0));
    let server = stream.server.as_ref().unwrap();
    assert_eq!((server.queued, server.drained), (Some(0), true));
    assert_eq!((server.oversold, server.stock), (0, 0));
    assert!(stream.drain_ms.unwrap() < 30_000, "{run:?}");
    assert!(stream.durable_orders_per_s.unwrap() > 0.0);
    let verdict = stream.verdict.as_ref().unwrap();
    assert_eq!(verdict.summary, "sold exactly 200 of 200: safe");
    assert!(verdict.safe && verdict.drained && !verdict.lost_orders);
    assert_eq!(app.order_count(1).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_nobody_writes_is_not_drained_by_the_timeout_and_fails_the_run() {
    // No order writer in this instance: the accepted orders stay queued.
    let app = spawn_app_with(|settings| settings.order_writer = false).await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis-stream",
        "--stock",
        "20",
        "--requests",
        "50",
        "--concurrency",
        "10",
        "--drain-timeout",
        "500ms",
        "--expect-safe",
        "redis-stream",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(1), "{run:?}");
    let report = run.json();
    let stream = mode(&report, "redis-stream");
    assert_eq!(stream.accepted, Some(20), "{run:?}");
    assert_eq!(stream.written, Some(0));
    let server = stream.server.as_ref().unwrap();
    assert_eq!((server.queued, server.drained), (Some(20), false));
    assert_eq!(stream.lost_orders, Some(0), "still queued is not lost yet");
    let drain_ms = stream.drain_ms.unwrap();
    assert!((500..3_000).contains(&drain_ms), "{drain_ms}");
    let verdict = stream.verdict.as_ref().unwrap();
    assert!(!verdict.safe && !verdict.drained);
    assert_eq!(
        verdict.summary,
        "accepted 20 of 20, wrote 0: NOT DRAINED (20 still queued)"
    );
    assert!(
        run.stderr
            .contains("error: lock=redis-stream was expected to be safe"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_redis_forgot_before_they_were_written_are_lost_and_fail_the_run() {
    // No order writer: the 20 accepted orders wait in Redis, and Redis then
    // loses them (as a restart without persistence would) before any is
    // written. The drain sees nothing queued any more: all 20 are lost.
    let app = spawn_app_with(|settings| settings.order_writer = false).await;
    let prefix = app.settings.lock_key_prefix.clone();
    let mut redis = app.redis.clone();
    let forget = tokio::spawn(async move {
        let stock_key = format!("{prefix}:{{orders}}:stock:product:1");
        for _ in 0..600 {
            let queued: Option<i64> = redis::cmd("HGET")
                .arg(&stock_key)
                .arg("queued")
                .query_async(&mut redis)
                .await
                .unwrap();
            if queued == Some(20) {
                let _: i64 = redis::cmd("DEL")
                    .arg(&stock_key)
                    .arg(format!("{prefix}:{{orders}}:stream"))
                    .arg(format!("{prefix}:{{orders}}:queued"))
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    });

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis-stream",
        "--stock",
        "20",
        "--requests",
        "20",
        "--concurrency",
        "10",
        "--expect-safe",
        "redis-stream",
        "--format",
        "json",
    ])
    .await;

    assert!(forget.await.unwrap(), "the 20 were queued, then forgotten");
    assert_eq!(run.code(), Some(1), "{run:?}");
    let report = run.json();
    let stream = mode(&report, "redis-stream");
    assert_eq!(stream.accepted, Some(20), "{run:?}");
    assert_eq!(stream.written, Some(0));
    assert_eq!(stream.lost_orders, Some(20), "{run:?}");
    let verdict = stream.verdict.as_ref().unwrap();
    assert!(
        !verdict.safe && verdict.lost_orders && verdict.drained,
        "{run:?}"
    );
    assert!(verdict.summary.contains("LOST"), "{}", verdict.summary);
    assert_eq!(app.order_count(1).await, 0);
}
