//! `--shard` and `merge`: one crowd sent as two shards, each from a process
//! of its own against an instance of its own (as two machines would), added
//! into one report whose verdict is the service's.

use std::path::PathBuf;

use flashsale::testing::{TestApp, spawn_app};

use crate::helpers::{Run, loadtest, mode};

/// Two shards of `per_shard` purchases of `lock`, sent at once, one to each
/// instance; the merged report (`--format json`, verdict from `app`).
async fn two_shards(app: &TestApp, peer: &str, lock: &str, work_ms: &str) -> (Run, [PathBuf; 2]) {
    let paths = [shard_path("a"), shard_path("b")];
    let shard = |url: &str, path: &PathBuf| {
        let (url, path) = (url.to_string(), path.display().to_string());
        let lock = lock.to_string();
        let work_ms = work_ms.to_string();
        async move {
            loadtest(&[
                "--url",
                &url,
                "--modes",
                &lock,
                "--requests",
                "60",
                "--concurrency",
                "30",
                "--work-ms",
                &work_ms,
                "--shard",
                &path,
            ])
            .await
        }
    };
    let (a, b) = tokio::join!(shard(&app.address, &paths[0]), shard(peer, &paths[1]));
    for (run, path) in [(&a, &paths[0]), (&b, &paths[1])] {
        assert_eq!(run.code(), Some(0), "{run:?}");
        assert_eq!(run.stderr_besides_metrics(), "", "{run:?}");
        assert!(
            run.stdout
                .starts_with(&format!("shard lock={lock}: 60 sent, 60 answered (")),
            "{run:?}"
        );
        assert!(
            run.stdout.trim_end().ends_with(&format!(
                "saved to {} for `flashsale-loadtest merge`",
                path.display()
            )),
            "{run:?}"
        );
    }
    let (a, b) = (
        paths[0].display().to_string(),
        paths[1].display().to_string(),
    );
    let merged = loadtest(&[
        "merge",
        &a,
        &b,
        "--url",
        &app.address,
        "--format",
        "json",
        "--expect-safe",
        lock,
    ])
    .await;
    (merged, paths)
}

fn shard_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "flashsale-shard-{}-{}-{name}.json",
        std::process::id(),
        unique()
    ))
}

/// A name no other test of this process picks.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_with_the_redis_lock_merge_into_one_exact_sale() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    // The coordinator's restock, once, before the shards: they restock nothing.
    app.restock(1, 20).await;

    let (run, _) = two_shards(&app, &peer, "redis", "5").await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    assert_eq!(report.schema_version, 6);
    assert_eq!(report.parameters.shards, Some(2));
    assert_eq!(report.parameters.concurrency, 60);
    assert_eq!(report.parameters.requests, Some(120));
    assert_eq!(report.parameters.stock, 20, "read back from the service");
    assert_eq!(report.parameters.urls, [app.address.clone(), peer.clone()]);
    let redis = mode(&report, "redis");
    assert_eq!((redis.requests.sent, redis.requests.completed), (120, 120));
    assert_eq!(redis.requests.sold_201, 20, "{run:?}");
    assert_eq!(redis.requests.sold_out_409 + redis.requests.busy_429, 100);
    let server = redis.server.as_ref().unwrap();
    assert_eq!(
        (
            server.orders,
            server.stock,
            server.oversold,
            server.lost_updates
        ),
        (20, 0, 0, 0)
    );
    assert_eq!(redis.latency_ms.all.as_ref().unwrap().count, 120);
    assert_eq!(redis.latency_ms.sold.as_ref().unwrap().count, 20);
    assert!(redis.verdict.as_ref().unwrap().safe);
    assert_eq!(app.order_count(1).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_without_a_lock_oversell_and_the_merge_exits_1() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    app.restock(1, 10).await;

    let (run, [a, _]) = two_shards(&app, &peer, "none", "20").await;

    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: lock=none was expected to be safe (--expect-safe) but "),
        "{run:?}"
    );
    let report = run.json();
    let none = mode(&report, "none");
    let server = none.server.as_ref().unwrap();
    let orders = app.order_count(1).await;
    assert_eq!(server.orders, orders, "the verdict is the service's count");
    assert_eq!(none.requests.sold_201 as i64, orders, "{run:?}");
    assert_eq!(server.oversold, orders - 10);
    assert!(server.oversold > 0, "{run:?}");
    assert!(!none.verdict.as_ref().unwrap().safe);

    // The shards alone, merged without the service: the crowd's side and
    // no verdict.
    let offline = loadtest(&["merge", &a.display().to_string()]).await;
    assert_eq!(offline.code(), Some(0), "{offline:?}");
    assert!(offline.stdout.contains("stock ?"), "{offline:?}");
    assert!(
        offline.stdout.contains("1 shard merged (targets: "),
        "{offline:?}"
    );
    assert!(
        offline.stdout.contains("no verdict: merged without --url"),
        "{offline:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_asked_for_what_it_cannot_do_says_so_in_one_line_and_sends_nothing() {
    let app = spawn_app().await;
    app.restock(1, 5).await;
    let path = shard_path("refused").display().to_string();

    for (args, says) in [
        (
            vec!["--modes", "none,redis"],
            "error: --shard sends one mode (got --modes none,redis): the restock between two modes is the coordinator's",
        ),
        (
            vec!["--modes", "all"],
            "error: --shard sends one named mode, not `all`",
        ),
        (
            vec!["--modes", "no-such-lock"],
            "error: lock=no-such-lock is not in the catalogue of ",
        ),
    ] {
        let mut all = vec!["--url", &app.address, "--shard", &path];
        all.extend(args);
        let run = loadtest(&all).await;
        assert_eq!(run.code(), Some(2), "{run:?}");
        assert!(run.stderr.starts_with(says), "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    }
    assert!(
        !std::path::Path::new(&path).exists(),
        "a refused shard leaves no file for merge to trip over"
    );
    // The restock is the coordinator's: --stock with --shard is refused.
    let run = loadtest(&["--url", &app.address, "--shard", &path, "--stock", "9"]).await;
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("cannot be used with"), "{run:?}");

    assert_eq!(app.stock(1).await, 5, "nothing sold, nothing restocked");
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_what_is_not_one_crowd_in_one_line() {
    let missing = shard_path("missing").display().to_string();
    let run = loadtest(&["merge", &missing]).await;
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot read {missing}")),
        "{run:?}"
    );

    let run = loadtest(&["merge"]).await;
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("<SHARD>"), "{run:?}");

    let run = loadtest(&["merge", &missing, "--expect-safe", "redis"]).await;
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(
        run.stderr.contains("--url"),
        "--expect-safe needs the service: {run:?}"
    );
}
