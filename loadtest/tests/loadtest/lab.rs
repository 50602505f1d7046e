//! The lock lab through the generator: `--modes all` from the service's
//! catalogue, `--expect-safe safe`, the knobs passed to every purchase, and
//! buyers whose lock was lost counted apart from sold out.

use flashsale::testing::{TestApp, spawn_app};
use loadtest::catalogue::{Catalogue, Strategy};
use loadtest::http::Target;

use crate::helpers::{loadtest, mode, spawn_app_without_redlock};

/// A small crowd that every strategy gets through quickly.
const SMALL: &[&str] = &[
    "--stock",
    "5",
    "--requests",
    "20",
    "--concurrency",
    "10",
    "--work-ms",
    "2",
];

async fn catalogue(app: &TestApp) -> Catalogue {
    let target = Target::parse(&app.address).unwrap();
    loadtest::service::catalogue(&target)
        .await
        .unwrap()
        .expect("the service has a catalogue")
}

fn names<'a>(strategies: impl Iterator<Item = &'a Strategy>) -> Vec<String> {
    strategies.map(|s| s.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modes_all_runs_exactly_the_available_strategies_and_says_which_it_skipped() {
    let app = spawn_app_without_redlock().await;
    let catalogue = catalogue(&app).await;
    let available = names(catalogue.strategies.iter().filter(|s| s.available));
    let safe = names(
        catalogue
            .strategies
            .iter()
            .filter(|s| s.available && s.safe),
    );
    let redlock = catalogue.get("redlock").expect("redlock is catalogued");
    assert!(!redlock.available, "no Redlock nodes are configured");
    let reason = redlock.unavailable_reason.clone().unwrap();

    let mut args = vec![
        "--url",
        &app.address,
        "--modes",
        "all",
        "--expect-safe",
        "safe",
        "--format",
        "json",
    ];
    args.extend(SMALL);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(
        run.stderr_besides_metrics(),
        format!("note: --modes all skipped 1 strategy unavailable: redlock ({reason})\n")
    );
    let report = run.json();
    assert_eq!(report.parameters.modes, available);
    let run_modes: Vec<_> = report.modes.iter().map(|m| m.mode.clone()).collect();
    assert_eq!(run_modes, available);
    assert_eq!(report.parameters.skipped.len(), 1);
    assert_eq!(report.parameters.skipped[0].mode, "redlock");
    assert_eq!(report.parameters.skipped[0].reason, reason);
    assert_eq!(report.parameters.expect_safe, safe);
    assert!(safe.len() >= 8, "{safe:?}");
    for mode in &report.modes {
        assert_eq!(mode.requests.completed, 20, "{}: {run:?}", mode.mode);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_report_of_all_modes_has_one_row_per_mode() {
    let app = spawn_app_without_redlock().await;
    let available = names(
        catalogue(&app)
            .await
            .strategies
            .iter()
            .filter(|s| s.available),
    );

    let mut args = vec!["--url", &app.address, "--modes", "all"];
    args.extend(SMALL);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("lock ") && l.trim_end().ends_with("verdict"))
        .unwrap_or_else(|| panic!("no table header in {run:?}"));
    let rows: Vec<&str> = lines[header + 1..header + 1 + available.len()].to_vec();
    for (row, name) in rows.iter().zip(&available) {
        assert_eq!(
            row.split_whitespace().next(),
            Some(name.as_str()),
            "{run:?}"
        );
    }
    let legend = header + 1 + available.len();
    assert!(lines[legend].starts_with("(sold = 201"), "{run:?}");
    for line in &lines[header..=legend] {
        assert!(line.chars().count() <= 140, "too wide: {line}");
    }
    assert!(
        lines[2].starts_with("skipped lock=redlock: no Redlock nodes are configured"),
        "{run:?}"
    );
    // The unguarded crowd oversells: its row says so, and so does its verdict line.
    let none = rows.iter().find(|r| r.starts_with("none ")).unwrap();
    assert!(
        none.ends_with("OVERSOLD") || none.ends_with("LOST UPDATES"),
        "{run:?}"
    );
    let pg_atomic = rows.iter().find(|r| r.starts_with("pg-atomic ")).unwrap();
    assert!(pg_atomic.ends_with("safe"), "{run:?}");
    assert!(
        run.stdout
            .contains("\nlock=pg-atomic            sold exactly 5 of 5: safe\n"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_safe_safe_checks_the_strategies_the_catalogue_calls_safe() {
    let app = spawn_app().await;

    let mut args = vec![
        "--url",
        &app.address,
        "--modes",
        "redis,pg-atomic,local",
        "--expect-safe",
        "safe",
        "--format",
        "json",
    ];
    args.extend(SMALL);
    let run = loadtest(&args).await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    // `local` holds on one instance but is not safe on several: not expected.
    assert_eq!(report.parameters.expect_safe, ["redis", "pg-atomic"]);
    for name in ["redis", "pg-atomic", "local"] {
        let server = mode(&report, name).server.clone().unwrap();
        assert_eq!(
            (
                server.orders,
                server.stock,
                server.oversold,
                server.lost_updates
            ),
            (5, 0, 0, 0),
            "{name}: {run:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safe_strategy_whose_lock_expires_mid_sale_fails_expect_safe_safe() {
    let app = spawn_app().await;

    // The lock lives 100 ms, the work takes 300: the next buyer takes the
    // expired lock and reads the stock the first has not written back yet.
    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis",
        "--expect-safe",
        "safe",
        "--stock",
        "5",
        "--requests",
        "30",
        "--concurrency",
        "30",
        "--work-ms",
        "300",
        "--ttl-ms",
        "100",
        "--deadline-ms",
        "2000",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(1), "{run:?}");
    let stderr = run.stderr_besides_metrics();
    assert_eq!(
        stderr.lines().count(),
        1,
        "one error line for the one unsafe mode: {run:?}"
    );
    assert!(
        stderr.starts_with("error: lock=redis was expected to be safe (--expect-safe) but sold "),
        "{run:?}"
    );
    let report = run.json();
    assert_eq!(report.parameters.expect_safe, ["redis"]);
    assert_eq!(
        (
            report.parameters.ttl_ms,
            report.parameters.deadline_ms,
            report.parameters.pause_ms
        ),
        (Some(100), Some(2000), None)
    );
    let redis = mode(&report, "redis");
    let server = redis.server.as_ref().unwrap();
    // How many decrements are lost depends on timing; that some are does not.
    assert!(server.lost_updates > 0, "{run:?}");
    assert!(!redis.verdict.as_ref().unwrap().safe);
    assert_eq!(redis.requests.lock_lost_409, 0, "the spin lock never knows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_lock_turns_its_stale_holders_away_as_lock_lost() {
    let app = spawn_app().await;

    // Three buyers at once; each holder pauses 600 ms right after reading, and
    // its lock expires after 150 ms. The second takes the lock while the
    // first is paused, the third while the second is: each new holder claims
    // the row with a higher fence, so the first two write nothing (409
    // lock_lost) and only the last one, never overtaken, sells.
    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis-fenced",
        "--expect-safe",
        "safe",
        "--stock",
        "10",
        "--requests",
        "3",
        "--concurrency",
        "3",
        "--ttl-ms",
        "150",
        "--pause-ms",
        "600",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "lock_lost is not unsafe: {run:?}");
    let report = run.json();
    let fenced = mode(&report, "redis-fenced");
    let r = &fenced.requests;
    assert_eq!(
        (r.sold_201, r.lock_lost_409, r.sold_out_409, r.busy_429),
        (1, 2, 0, 0),
        "{run:?}"
    );
    let server = fenced.server.as_ref().unwrap();
    assert_eq!(
        (
            server.orders,
            server.stock,
            server.oversold,
            server.lost_updates
        ),
        (1, 9, 0, 0)
    );
    assert_eq!(server.unsold, 9, "stock was left while buyers were refused");
    assert_eq!(fenced.latency_ms.lock_lost.as_ref().unwrap().count, 2);
    let verdict = fenced.verdict.as_ref().unwrap();
    assert!(verdict.safe && verdict.unsold);
    assert_eq!(
        verdict.summary,
        "sold 1 of 10: UNDERSOLD, 9 left in stock while 2 buyers lost their lock"
    );
    assert_eq!(app.order_count(1).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_locks_are_counted_in_every_format_and_the_header_names_the_knobs() {
    let app = spawn_app().await;
    let args = |format: &'static str| {
        vec![
            "--url".to_string(),
            app.address.clone(),
            "--modes".into(),
            "redis-fenced".into(),
            "--stock".into(),
            "10".into(),
            "--requests".into(),
            "3".into(),
            "--concurrency".into(),
            "3".into(),
            "--ttl-ms".into(),
            "150".into(),
            "--pause-ms".into(),
            "600".into(),
            "--format".into(),
            format.into(),
        ]
    };
    let run_with = |format| {
        let args = args(format);
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            loadtest(&args).await
        }
    };

    let text = run_with("text").await;
    let csv = run_with("csv").await;
    let markdown = run_with("markdown").await;

    assert_eq!(text.code(), Some(0), "{text:?}");
    assert!(
        text.stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("work 0 ms, ttl 150 ms, pause 600 ms, closed model"),
        "{text:?}"
    );
    let lock_lost = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("409 lock lost"))
        .unwrap_or_else(|| panic!("no lock lost row: {text:?}"));
    assert_eq!(lock_lost.split_whitespace().last(), Some("2"), "{text:?}");
    assert!(text.stdout.contains("lock lost p50"), "{text:?}");

    let lines: Vec<&str> = csv.stdout.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    let column = |name| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(row[column("lock_lost_409")], "2", "{csv:?}");
    assert_eq!(row[column("sold_out_409")], "0", "{csv:?}");
    assert_eq!(row[column("latency_lock_lost_count")], "2", "{csv:?}");

    assert!(
        markdown.stdout.contains("| 409 lock lost | 2 |"),
        "{markdown:?}"
    );
}
