//! The lock's side of the report, from `GET /metrics` read before and after
//! each crowd, and the fairness line.
//!
//! The first tests put a proxy in front of the service that answers
//! `/metrics` itself (none at all, a page that is not Prometheus text, or
//! pages of the test's making), so they hold whatever the service's own
//! `/metrics` says. The last ones read the service's real `/metrics` (issue
//! 9's contract) and are ignored until it has one.

use std::sync::Arc;

use flashsale::testing::{TestApp, spawn_app};
use serde_json::Value;

use crate::helpers::{MetricsPages, loadtest, metrics_proxy, mode};

/// A redis crowd that runs out of stock: every buyer takes the lock.
const CROWD: &[&str] = &[
    "--modes",
    "redis",
    "--stock",
    "20",
    "--requests",
    "100",
    "--concurrency",
    "20",
    "--work-ms",
    "2",
];

/// A page of the service's contract for lock=redis: `waits` holds the
/// cumulative counts of the wait histogram at 0.025, 0.05 and 0.1 s (every
/// wait under 0.1 s), and as many holds, all under 5 ms.
fn page(waits: [u64; 3], sold: u64, expired: u64) -> String {
    let mut page = String::from("# TYPE flashsale_lock_wait_seconds histogram\n");
    for (le, count) in [
        ("0.025", waits[0]),
        ("0.05", waits[1]),
        ("0.1", waits[2]),
        ("+Inf", waits[2]),
    ] {
        page.push_str(&format!(
            "flashsale_lock_wait_seconds_bucket{{strategy=\"redis\",le=\"{le}\"}} {count}\n"
        ));
    }
    page.push_str(&format!(
        "flashsale_lock_wait_seconds_sum{{strategy=\"redis\"}} 1.5\n\
         flashsale_lock_wait_seconds_count{{strategy=\"redis\"}} {}\n\
         # TYPE flashsale_lock_hold_seconds histogram\n\
         flashsale_lock_hold_seconds_bucket{{strategy=\"redis\",le=\"0.005\"}} {holds}\n\
         flashsale_lock_hold_seconds_bucket{{strategy=\"redis\",le=\"+Inf\"}} {holds}\n\
         # TYPE flashsale_purchases_total counter\n\
         flashsale_purchases_total{{strategy=\"redis\",outcome=\"sold\"}} {sold}\n\
         flashsale_purchases_total{{strategy=\"none\",outcome=\"sold\"}} 999\n\
         # TYPE flashsale_locks_expired_total counter\n\
         flashsale_locks_expired_total{{strategy=\"redis\"}} {expired}\n",
        waits[2],
        holds = waits[2],
    ));
    page
}

/// Reads 0 (before the run) and 1 (before the crowd) see `before`, the
/// rest `after`.
fn before_and_after(before: String, after: String) -> Arc<MetricsPages> {
    Arc::new(move |n| Some(if n < 2 { before.clone() } else { after.clone() }))
}

/// Two instances of one shop, each behind a proxy whose `/metrics` says:
/// the first saw 10 waits in (25 ms, 50 ms] during the crowd, the second 30
/// in (50 ms, 100 ms]; 10 and 7 sales, 1 lock expired. Returns the app and
/// the two proxies' addresses.
async fn two_instances_with_metrics() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let first = metrics_proxy(
        &app.address,
        before_and_after(page([5, 5, 5], 3, 0), page([5, 15, 15], 13, 1)),
    )
    .await;
    let second = metrics_proxy(
        &peer,
        before_and_after(page([0, 0, 0], 0, 0), page([0, 0, 30], 7, 0)),
    )
    .await;
    (app, first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_side_is_the_difference_of_metrics_read_before_and_after_the_crowd_summed_over_instances()
 {
    let (_app, first, second) = two_instances_with_metrics().await;

    let mut args = vec!["--url", &first, "--url", &second, "--format", "json"];
    args.extend(CROWD);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "no note: {run:?}");
    let report = run.json();
    let lock = mode(&report, "redis")
        .lock
        .clone()
        .expect("the lock's side");
    assert_eq!(lock.instances, 2);
    assert_eq!((lock.waits, lock.holds, lock.expired), (40, 40, 1));
    // The 20th of 40 waits is the 10th of the 30 in (50 ms, 100 ms].
    assert_eq!(lock.wait_p50_ms, Some(66.667));
    // The 39.6th is the 29.6th of those 30.
    assert_eq!(lock.wait_p99_ms, Some(99.333));
    assert_eq!(lock.hold_p50_ms, Some(2.5));
    assert_eq!(lock.purchases["sold"], 17);
    assert_eq!(
        lock.purchases.len(),
        1,
        "lock=none's series are not redis's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_one_url_the_metrics_urls_name_every_instance_whose_lock_side_is_summed() {
    // As behind a load balancer: the crowd goes to one address, the lock's
    // side is read from each instance.
    let (app, first, second) = two_instances_with_metrics().await;

    let mut args = vec![
        "--url",
        &app.address,
        "--metrics-url",
        &first,
        "--metrics-url",
        &second,
        "--format",
        "json",
    ];
    args.extend(CROWD);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    let lock = mode(&report, "redis")
        .lock
        .clone()
        .expect("the lock's side");
    assert_eq!(lock.instances, 2);
    assert_eq!((lock.waits, lock.holds, lock.expired), (40, 40, 1));
    assert_eq!(lock.purchases["sold"], 17);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_metrics_gets_a_note_and_no_lock_side_but_its_report() {
    let app = spawn_app().await;
    for (pages, reason) in [
        (
            Arc::new(|_| None) as Arc<MetricsPages>,
            "has no GET /metrics (404)".to_string(),
        ),
        (
            Arc::new(|_| Some("<html>metrics</html>".to_string())) as Arc<MetricsPages>,
            "GET /metrics is not Prometheus text (line 1: no metric name at the start of `<html>metrics</html>`)"
                .to_string(),
        ),
    ] {
        let proxy = metrics_proxy(&app.address, pages).await;

        let mut args = vec!["--url", &proxy, "--format", "json"];
        args.extend(CROWD);
        let run = loadtest(&args).await;

        assert_eq!(run.code(), Some(0), "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(
            run.stderr
                .starts_with("note: no lock wait and hold times in the report: "),
            "{run:?}"
        );
        assert!(run.stderr.trim_end().ends_with(&reason), "{run:?}");
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["modes"][0]["lock"], Value::Null);
        assert_eq!(json["modes"][0]["server"]["orders"], 20, "the run went on");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_behind_a_lock_that_never_runs_out_of_stock_gets_a_fairness_line_and_the_lock_off_none()
 {
    let app = spawn_app().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis,none",
        "--stock",
        "100000",
        "--requests",
        "300",
        "--concurrency",
        "20",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let fairness: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("fairness: p99 "))
        .collect();
    assert_eq!(fairness.len(), 1, "{run:?}");
    assert!(
        fairness[0].starts_with("lock=redis  fairness: p99 "),
        "{run:?}"
    );
    assert!(fairness[0].contains("× the FIFO wait of "), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_metrics_count_the_crowds_outcomes_exactly() {
    let app = spawn_app().await;

    let mut args = vec!["--url", &app.address, "--format", "json"];
    args.extend(CROWD);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "no note: {run:?}");
    let report = run.json();
    let redis = mode(&report, "redis");
    let lock = redis.lock.as_ref().expect("the lock's side from /metrics");
    assert_eq!(lock.instances, 1);
    assert_eq!(
        lock.purchases.get("sold").copied(),
        Some(redis.requests.sold_201)
    );
    assert_eq!(
        lock.purchases.get("sold_out").copied().unwrap_or(0),
        redis.requests.sold_out_409
    );
    assert_eq!(redis.requests.sold_201, 20);
    // Every buyer asked for the lock; every sale held it.
    assert_eq!(lock.waits, redis.requests.completed, "{lock:?}");
    assert!(lock.holds >= redis.requests.sold_201, "{lock:?}");
    assert_eq!(lock.expired, 0);
    let (wait_p50, wait_p99) = (lock.wait_p50_ms.unwrap(), lock.wait_p99_ms.unwrap());
    assert!(0.0 <= wait_p50 && wait_p50 <= wait_p99, "{lock:?}");
    let (hold_p50, hold_p99) = (lock.hold_p50_ms.unwrap(), lock.hold_p99_ms.unwrap());
    // The 20 sellers work 2 ms inside the lock; a buyer who reads 0 leaves
    // at once, so only the tail shows the work.
    assert!(hold_p50 <= hold_p99 && hold_p99 >= 1.0, "{lock:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_metrics_are_summed_and_shown_in_every_format() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let common = |format: &'static str| {
        let mut args = vec![
            "--url".to_string(),
            app.address.clone(),
            "--url".to_string(),
            peer.clone(),
            "--format".to_string(),
            format.to_string(),
        ];
        args.extend(CROWD.iter().map(|s| s.to_string()));
        args
    };
    let run_with = |format| {
        let args = common(format);
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            loadtest(&args).await
        }
    };

    let json = run_with("json").await;
    let text = run_with("text").await;
    let csv = run_with("csv").await;

    assert_eq!(json.code(), Some(0), "{json:?}");
    let report = json.json();
    let lock = mode(&report, "redis")
        .lock
        .clone()
        .expect("the lock's side");
    assert_eq!(lock.instances, 2);
    assert_eq!(
        lock.purchases.get("sold").copied(),
        Some(20),
        "over both instances"
    );
    assert!(
        text.stdout.contains("\nthe lock says (GET /metrics)\n"),
        "{text:?}"
    );
    assert!(text.stdout.contains("  wait p99 ms "), "{text:?}");
    let header: Vec<&str> = csv.stdout.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.stdout.lines().nth(1).unwrap().split(',').collect();
    let column = |name| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(row[column("lock_instances")], "2", "{csv:?}");
    assert_eq!(row[column("metrics_purchases_sold")], "20", "{csv:?}");
}
