//! `--repeat`: every mode run N times against a real service, each run
//! restocked, and one report with every run's verdict.

use flashsale::testing::spawn_app;

use crate::helpers::{loadtest, mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mode_runs_n_times_on_a_fresh_stock_and_reports_every_run() {
    let app = spawn_app().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "none,redis",
        "--stock",
        "10",
        "--requests",
        "40",
        "--concurrency",
        "8",
        "--work-ms",
        "5",
        "--repeat",
        "3",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    assert_eq!(report.parameters.repeat, 3);
    for name in ["none", "redis"] {
        let repeat = mode(&report, name).repeat.as_ref().unwrap();
        assert_eq!(repeat.runs.len(), 3, "{name}");
        let failed = repeat
            .runs
            .iter()
            .filter(|r| !r.verdict.as_ref().unwrap().safe)
            .count();
        assert_eq!(repeat.failed, failed, "{name}");
        assert!((1..=3).contains(&repeat.shown_run), "{name}");
    }
    let redis = mode(&report, "redis");
    assert_eq!(redis.repeat.as_ref().unwrap().failed, 0);
    // Restocked before each run: every run sold exactly the stock.
    for run in &redis.repeat.as_ref().unwrap().runs {
        assert_eq!(
            run.verdict.as_ref().unwrap().summary,
            "sold exactly 10 of 10: safe"
        );
    }
    assert_eq!(app.order_count(1).await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_out_of_bounds_is_one_error_line_and_exit_2() {
    for bad in ["0", "101", "twice"] {
        let run = loadtest(&["--url", "http://127.0.0.1:1", "--repeat", bad]).await;

        assert_eq!(run.code(), Some(2), "{run:?}");
        let first = run.stderr.lines().next().unwrap();
        assert!(
            first.starts_with("error: invalid value") && first.contains("--repeat <N>"),
            "{run:?}"
        );
    }
}
