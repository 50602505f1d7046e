//! What goes wrong before a crowd is sent: one clear line and exit 2.

use flashsale::testing::spawn_app;

use crate::helpers::{closed_port, loadtest, spawn_app_without_redlock};

#[tokio::test]
async fn an_unreachable_url_is_one_clear_line_and_exit_2() {
    let url = format!("http://127.0.0.1:{}", closed_port());

    let run = loadtest(&["--url", &url]).await;

    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(
        run.stderr,
        format!("error: cannot reach {url}: connection refused\n")
    );
    assert_eq!(run.stdout, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unreachable_url_among_several_is_named() {
    let app = spawn_app().await;
    let url = format!("http://127.0.0.1:{}", closed_port());

    let run = loadtest(&["--url", &app.address, "--url", &url]).await;

    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(
        run.stderr,
        format!("error: cannot reach {url}: connection refused\n")
    );
    assert_eq!(app.order_count(1).await, 0, "nothing was bought");
}

#[tokio::test]
async fn bad_arguments_get_claps_errors_and_exit_2() {
    for args in [
        &["--concurrency", "0"][..],
        &["--requests", "10", "--duration", "5s"],
        &["--url", "https://127.0.0.1:8080"],
        &["--format", "xml"],
        &["--modes", "a&b"],
        &["--no-such-flag"],
    ] {
        let run = loadtest(args).await;

        assert_eq!(run.code(), Some(2), "{args:?}: {run:?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {run:?}");
        assert!(run.stderr.contains("--help"), "{args:?}: {run:?}");
        assert!(!run.stderr.contains("panicked"), "{args:?}: {run:?}");
    }
}

#[tokio::test]
async fn an_out_file_that_cannot_be_written_is_one_line_and_exit_2_before_any_crowd() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = std::env::temp_dir()
        .join("no-such-dir-for-loadtest")
        .join("report.html");

    let run = loadtest(&[
        "--url",
        &url,
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ])
    .await;

    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot write {}: ", out.display())),
        "{run:?}"
    );
    assert_eq!(run.stdout, "");
}

#[tokio::test]
async fn a_saved_report_that_cannot_be_read_is_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("loadtest-from-json-{}", closed_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"not\": \"a report\"}").unwrap();
    let missing = dir.join("missing.json");

    let bad = loadtest(&["--from-json", garbage.to_str().unwrap(), "--format", "html"]).await;
    let absent = loadtest(&["--from-json", missing.to_str().unwrap()]).await;
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(bad.code(), Some(2), "{bad:?}");
    assert!(
        bad.stderr.starts_with(&format!(
            "error: {} is not a report written by --format json: ",
            garbage.display()
        )),
        "{bad:?}"
    );
    assert_eq!(bad.stderr.lines().count(), 1, "{bad:?}");
    assert_eq!(absent.code(), Some(2), "{absent:?}");
    assert!(
        absent
            .stderr
            .starts_with(&format!("error: cannot read {}: ", missing.display())),
        "{absent:?}"
    );
}

#[tokio::test]
async fn help_explains_every_option_with_its_default() {
    let run = loadtest(&["--help"]).await;

    assert_eq!(run.code(), Some(0));
    for option in [
        "--url",
        "--product",
        "--stock",
        "--requests",
        "--duration",
        "--concurrency",
        "--modes",
        "--work-ms",
        "--ttl-ms",
        "--deadline-ms",
        "--pause-ms",
        "--rate",
        "--format",
        "--out",
        "--from-json",
        "--expect-safe",
    ] {
        assert!(run.stdout.contains(option), "{option} missing from --help");
    }
    for default in [
        "[default: http://127.0.0.1:8080]",
        "[default: 1000]",
        "[default: 200]",
        "[default: none,redis]",
        "[default: redis]",
        "[default: text]",
    ] {
        assert!(
            run.stdout.contains(default),
            "{default} missing from --help"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_mode_the_service_does_not_know_is_refused_before_the_run() {
    let app = spawn_app().await;

    let run = loadtest(&["--url", &app.address, "--modes", "none,zookeeper"]).await;

    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: the service does not accept lock=zookeeper with work_ms=0: 400 "),
        "{run:?}"
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert_eq!(app.order_count(1).await, 0, "no crowd was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_mode_the_catalogue_lists_as_unavailable_is_refused_before_the_run() {
    let app = spawn_app_without_redlock().await;

    let run = loadtest(&["--url", &app.address, "--modes", "none,redlock"]).await;

    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "error: lock=redlock is not available at {}: ",
            app.address
        )),
        "{run:?}"
    );
    assert!(
        run.stderr
            .ends_with(": no Redlock nodes are configured (REDLOCK_URLS)\n"),
        "{run:?}"
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(app.order_count(1).await, 0, "no crowd was sent");
}

#[tokio::test]
async fn knobs_out_of_the_services_range_are_refused_with_its_sentence() {
    for (args, sentence) in [
        (
            &["--ttl-ms", "99"][..],
            "ttl_ms must be a whole number from 100 to 60000, got `99`",
        ),
        (
            &["--ttl-ms", "60001"],
            "ttl_ms must be a whole number from 100 to 60000, got `60001`",
        ),
        (
            &["--deadline-ms", "30001"],
            "deadline_ms must be a whole number from 0 to 30000, got `30001`",
        ),
        (
            &["--pause-ms", "x"],
            "pause_ms must be a whole number from 0 to 30000, got `x`",
        ),
    ] {
        let run = loadtest(args).await;

        assert_eq!(run.code(), Some(2), "{args:?}: {run:?}");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: invalid value ") && first.ends_with(sentence),
            "{args:?}: {run:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_that_does_not_exist_is_a_clear_error() {
    let app = spawn_app().await;

    let run = loadtest(&["--url", &app.address, "--product", "999"]).await;

    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "error: product 999 does not exist at {} (404 ",
            app.address
        )),
        "{run:?}"
    );
}
