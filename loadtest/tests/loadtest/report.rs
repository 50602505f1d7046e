//! The report's formats: the JSON others plot, diff and grade.

use flashsale::testing::spawn_app;
use scraper::{Html, Selector};
use serde_json::Value;

use crate::helpers::loadtest;

/// Every field the issue names, as JSON pointers into one mode's object.
const MODE_FIELDS: &[&str] = &[
    "/mode",
    "/requests/sent",
    "/requests/completed",
    "/requests/sold_201",
    "/requests/sold_out_409",
    "/requests/lock_lost_409",
    "/requests/restocked_409",
    "/requests/busy_429",
    "/requests/other_4xx",
    "/requests/server_5xx",
    "/requests/other_2xx",
    "/requests/other_status",
    "/requests/started_late",
    "/requests/max_start_lag_ms",
    "/transport_errors/connect",
    "/transport_errors/timeout",
    "/transport_errors/reset",
    "/transport_errors/other",
    "/transport_errors/total",
    "/server/initial_stock",
    "/server/orders",
    "/server/stock",
    "/server/oversold",
    "/server/lost_updates",
    "/server/unsold",
    "/elapsed_s",
    "/throughput/requests_per_s",
    "/throughput/purchases_per_s",
    "/verdict/safe",
    "/verdict/oversold",
    "/verdict/lost_updates",
    "/verdict/unsold",
    "/verdict/summary",
    "/timeline/bucket_ms",
    "/timeline/completed",
    "/timeline/sold",
    // Issue 16 (version 4).
    "/requests/accepted_202",
    "/server/queued",
    "/server/drained",
    "/accepted",
    "/written",
    "/lost_orders",
    "/drain_ms",
    "/durable_orders_per_s",
    "/verdict/lost_orders",
    "/verdict/drained",
    // Version 5.
    "/requests/peak_in_flight",
    "/connecting/opened_before",
    "/connecting/failed_before",
    "/connecting/before_ms/p99",
    "/connecting/opened_during",
    "/connecting/failed_during",
    "/connecting/listen_queue",
];

const LATENCY_STATS: &[&str] = &["count", "mean", "p50", "p90", "p99", "p99_9", "max"];

const PARAMETERS: &[&str] = &[
    "urls",
    "product",
    "stock",
    "requests",
    "duration_s",
    "concurrency",
    "modes",
    "skipped",
    "work_ms",
    "ttl_ms",
    "deadline_ms",
    "pause_ms",
    "model",
    "rate",
    "timeout_s",
    "expect_safe",
    "run_id",
    "get_path",
    "drain_timeout_s",
    "repeat",
    "shards",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_parses_and_carries_every_field() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("loadtest-json-{}", app.port));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.json");

    let run = loadtest(&[
        "--url",
        &app.address,
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
        "--out",
        file.to_str().unwrap(),
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    // With --out, stdout keeps only the verdicts.
    assert_eq!(run.stdout.lines().count(), 2, "{run:?}");
    assert!(run.stdout.contains("lock=redis  sold "), "{run:?}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(json["schema_version"], 6);
    for field in PARAMETERS {
        assert!(
            json["parameters"].get(field).is_some(),
            "parameters.{field} missing"
        );
    }
    assert_eq!(
        json["parameters"]["modes"],
        serde_json::json!(["none", "redis"])
    );
    let modes = json["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 2);
    for mode in modes {
        for pointer in MODE_FIELDS {
            let value = mode.pointer(pointer);
            assert!(
                value.is_some_and(|v| !v.is_null()),
                "{pointer} missing in {mode:#}"
            );
        }
        let latency = mode["latency_ms"].as_object().unwrap();
        for outcome in [
            "all",
            "sold",
            "sold_out",
            "lock_lost",
            "busy",
            "other",
            "refused",
        ] {
            assert!(
                latency.contains_key(outcome),
                "latency_ms.{outcome} missing"
            );
        }
        // Both modes sold; with the lock the rest were turned away as sold
        // out (without it, everybody may have bought).
        let outcomes: &[&str] = if mode["mode"] == "redis" {
            &["all", "sold", "sold_out"]
        } else {
            &["all", "sold"]
        };
        for outcome in outcomes {
            for stat in LATENCY_STATS {
                assert!(
                    latency[*outcome][stat].is_number(),
                    "latency_ms.{outcome}.{stat} missing in {mode:#}"
                );
            }
        }
        // The server's numbers, not the client's, are the truth: they agree here.
        assert_eq!(mode["server"]["orders"], mode["requests"]["sold_201"]);
        // Every answer a 201: accepted is written, nothing lost, no drain.
        assert_eq!(mode["accepted"], mode["requests"]["sold_201"]);
        assert_eq!(mode["written"], mode["server"]["orders"]);
        assert_eq!(mode["lost_orders"], 0);
        assert_eq!(mode["drain_ms"], 0);
        assert_eq!(mode["server"]["drained"], true);
        // The timeline counts every answer once, and every sale.
        let sum = |series: &str| -> u64 {
            mode["timeline"][series]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .sum()
        };
        assert_eq!(sum("completed"), 200);
        assert_eq!(Some(sum("sold")), mode["requests"]["sold_201"].as_u64());
        let buckets = mode["timeline"]["sold"].as_array().unwrap().len() as f64;
        let elapsed = mode["elapsed_s"].as_f64().unwrap();
        assert!(
            (buckets - (elapsed * 10.0).ceil()).abs() <= 1.0,
            "{buckets} buckets in {elapsed} s"
        );
    }
    // And the library reads it back into its own types.
    let _: loadtest::report::Report = serde_json::from_value(json).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_markdown_put_each_mode_in_its_own_row_or_column() {
    let app = spawn_app().await;
    let common = [
        "--url",
        &app.address,
        "--stock",
        "5",
        "--requests",
        "20",
        "--concurrency",
        "5",
    ];

    let csv = loadtest(&[&common[..], &["--format", "csv"]].concat()).await;
    let markdown = loadtest(&[&common[..], &["--format", "markdown"]].concat()).await;

    assert_eq!(csv.code(), Some(0), "{csv:?}");
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{csv:?}");
    assert!(lines[0].starts_with("mode,requests_sent,requests_completed,sold_201,"));
    assert!(lines[1].starts_with("none,20,20,"));
    assert!(lines[2].starts_with("redis,20,20,5,15,"), "{csv:?}");
    assert_eq!(markdown.code(), Some(0), "{markdown:?}");
    assert!(markdown.stdout.contains("| | lock=none | lock=redis |"));
    assert!(
        markdown
            .stdout
            .contains("- **lock=redis**: sold exactly 5 of 5: safe")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_run_paces_the_crowd_and_reports_late_starts() {
    let app = spawn_app().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--modes",
        "redis",
        "--rate",
        "100",
        "--duration",
        "1s",
        "--concurrency",
        "10",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    assert_eq!(report.parameters.model, "open");
    let redis = &report.modes[0];
    assert_eq!(redis.requests.sent, 100);
    assert!(redis.elapsed_s >= 0.98, "{run:?}");
    assert_eq!(redis.server.as_ref().unwrap().orders, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_can_be_benchmarked_on_a_cheap_endpoint() {
    let app = spawn_app().await;

    let run = loadtest(&[
        "--url",
        &app.address,
        "--get",
        "/healthz",
        "--requests",
        "500",
        "--concurrency",
        "10",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    let report = run.json();
    let get = &report.modes[0];
    assert_eq!(get.mode, "GET /healthz");
    assert_eq!(get.requests.completed, 500);
    assert!(get.server.is_none() && get.verdict.is_none());
    assert_eq!(get.requests.other_2xx, 500);
    assert!(get.throughput.requests_per_s > 0.0);
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_is_one_self_contained_page_with_the_json_reports_numbers() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("loadtest-html-{}", app.port));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_file, html_file, direct_file) = (
        dir.join("run.json"),
        dir.join("run.html"),
        dir.join("direct.html"),
    );
    let crowd = [
        "--url",
        &app.address,
        "--modes",
        "none,redis,pg-atomic",
        "--stock",
        "10",
        "--requests",
        "60",
        "--concurrency",
        "20",
        "--work-ms",
        "5",
    ];

    // One run saved as JSON, then the same run written as HTML.
    let saved = loadtest(
        &[
            &crowd[..],
            &["--format", "json", "--out", json_file.to_str().unwrap()],
        ]
        .concat(),
    )
    .await;
    let rendered = loadtest(&[
        "--from-json",
        json_file.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        html_file.to_str().unwrap(),
    ])
    .await;
    // And a run written as HTML directly.
    let direct = loadtest(
        &[
            &crowd[..],
            &["--format", "html", "--out", direct_file.to_str().unwrap()],
        ]
        .concat(),
    )
    .await;

    assert_eq!(saved.code(), Some(0), "{saved:?}");
    assert_eq!(rendered.code(), Some(0), "{rendered:?}");
    assert_eq!(rendered.stdout, saved.stdout, "the same verdict lines");
    assert_eq!(direct.code(), Some(0), "{direct:?}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    let html = std::fs::read_to_string(&html_file).unwrap();
    let direct_html = std::fs::read_to_string(&direct_file).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    for html in [&html, &direct_html] {
        let page = Html::parse_document(html);
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        let svgs: Vec<_> = page.select(&Selector::parse("svg").unwrap()).collect();
        let ids: Vec<_> = svgs.iter().filter_map(|s| s.value().attr("id")).collect();
        assert_eq!(ids, ["chart-sold", "chart-latency", "chart-throughput"]);
        for needle in ["http://", "https://", "src=", "<script", "<link", "url("] {
            assert!(!html.contains(needle), "{needle} in the page");
        }
        // The sale's numbers, then the orders' and the lock's: a row per mode.
        let body_rows = Selector::parse("tbody tr").unwrap();
        let tables = Selector::parse("#verdicts table.numbers").unwrap();
        let rows: Vec<usize> = page
            .select(&tables)
            .map(|t| t.select(&body_rows).count())
            .collect();
        assert_eq!(rows, [3, 3]);
    }

    let page = Html::parse_document(&html);
    let modes = json["modes"].as_array().unwrap();
    let mut checked = 0;
    for cell in page.select(&Selector::parse("[data-field][data-value]").unwrap()) {
        let element = cell.value();
        let mode_name = element
            .attr("data-mode")
            .map(str::to_string)
            .unwrap_or_else(|| {
                // A table cell: its row names the mode.
                let row = cell.parent().and_then(scraper::ElementRef::wrap).unwrap();
                row.value().attr("data-mode").unwrap().to_string()
            });
        let mode = modes
            .iter()
            .find(|m| m["mode"] == mode_name.as_str())
            .unwrap();
        let field = element.attr("data-field").unwrap();
        let shown = element.attr("data-value").unwrap();
        match mode.pointer(field) {
            Some(Value::Number(n)) => {
                assert_eq!(
                    shown.parse::<f64>().unwrap(),
                    n.as_f64().unwrap(),
                    "{mode_name} {field}"
                );
            }
            None | Some(Value::Null) => assert_eq!(shown, "", "{mode_name} {field}"),
            Some(other) => panic!("{field} is {other}"),
        }
        checked += 1;
    }
    assert!(checked >= 3 * (11 + 4), "{checked} numbers checked");
    for mode in modes {
        let name = mode["mode"].as_str().unwrap();
        let selector = format!("ul.verdicts li[data-mode=\"{name}\"] .summary");
        let summary: String = page
            .select(&Selector::parse(&selector).unwrap())
            .next()
            .unwrap()
            .text()
            .collect();
        assert_eq!(summary, mode["verdict"]["summary"].as_str().unwrap());
    }
}
