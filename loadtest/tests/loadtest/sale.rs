//! The lesson itself: without a lock the crowd oversells, with the Redis
//! lock it sells exactly the stock, on one instance or two.

use flashsale::testing::{spawn_app, spawn_app_with};

use crate::helpers::{loadtest, mode};

/// 200 buyers against 20 units with a 20 ms business step: without a lock
/// every buyer reads a stock > 0 before anyone writes (a dependable race).
const RACE: &[&str] = &[
    "--stock",
    "20",
    "--requests",
    "200",
    "--concurrency",
    "200",
    "--work-ms",
    "20",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lock_a_dependable_race_oversells_and_the_report_says_so() {
    let app = spawn_app().await;

    let mut args = vec!["--url", &app.address, "--modes", "none"];
    args.extend(RACE);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "none is not expected safe: {run:?}");
    assert!(run.stdout.contains("lock=none"), "{run:?}");
    assert!(run.stdout.contains(": OVERSOLD by "), "{run:?}");
    let oversold = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("oversold"))
        .expect("an oversold row");
    let value: i64 = oversold.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(value > 0, "{run:?}");
    assert_eq!(
        app.order_count(1).await,
        20 + value,
        "the report repeats the service's count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_redis_lock_the_crowd_never_oversells_and_the_run_exits_0() {
    let app = spawn_app().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis",
        "--stock",
        "20",
        "--requests",
        "200",
        "--concurrency",
        "50",
        "--work-ms",
        "5",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    let redis = mode(&report, "redis");
    let server = redis.server.as_ref().unwrap();
    assert_eq!(server.oversold, 0);
    assert_eq!(server.lost_updates, 0);
    assert_eq!(server.orders, 20, "{run:?}");
    assert_eq!(server.stock, 0, "{run:?}");
    assert_eq!(redis.requests.sold_201, 20);
    assert_eq!(redis.requests.completed, 200);
    assert!(redis.verdict.as_ref().unwrap().safe);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsafe_mode_named_in_expect_safe_fails_the_run() {
    let app = spawn_app().await;

    let mut args = vec![
        "--url",
        &app.address,
        "--modes",
        "none",
        "--expect-safe",
        "none",
    ];
    args.extend(RACE);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(run.stdout.contains(": OVERSOLD by "), "{run:?}");
    assert!(
        run.stderr
            .contains("error: lock=none was expected to be safe (--expect-safe) but sold "),
        "{run:?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_with_the_redis_lock_sell_exactly_the_stock() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--url",
        &peer,
        "--modes",
        "none,redis",
        "--stock",
        "20",
        "--requests",
        "200",
        "--concurrency",
        "40",
        "--work-ms",
        "10",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    assert_eq!(report.parameters.urls, [app.address.clone(), peer.clone()]);
    let redis = mode(&report, "redis");
    let server = redis.server.as_ref().unwrap();
    assert_eq!(server.orders, 20, "{run:?}");
    assert_eq!(
        (server.stock, server.oversold, server.lost_updates),
        (0, 0, 0)
    );
    assert_eq!(redis.requests.sold_201, 20);
    assert_eq!(redis.requests.completed, 200);
    assert_eq!(
        redis.verdict.as_ref().unwrap().summary,
        "sold exactly 20 of 20: safe"
    );
    // The same crowd over the same two instances without the lock oversells.
    let none = mode(&report, "none");
    assert!(none.server.as_ref().unwrap().oversold > 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_gives_up_fast_undersells_and_the_report_says_so() {
    let app = spawn_app_with(|settings| {
        settings.lock_deadline = std::time::Duration::from_millis(30);
    })
    .await;

    let run = loadtest(&[
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
        "20",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "undersold is safe, just bad: {run:?}");
    let report = run.json();
    let redis = mode(&report, "redis");
    let server = redis.server.as_ref().unwrap();
    assert!(redis.requests.busy_429 > 0, "{run:?}");
    assert!(server.stock > 0);
    assert_eq!(server.unsold, server.stock);
    let verdict = redis.verdict.as_ref().unwrap();
    assert!(verdict.unsold && verdict.safe);
    assert!(verdict.summary.contains("UNDERSOLD"), "{}", verdict.summary);
    assert!(redis.latency_ms.busy.is_some());
}
