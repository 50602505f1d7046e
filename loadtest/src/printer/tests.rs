use super::*;
use crate::catalogue::SkippedMode;
use crate::report::{ModeReport, Parameters, SCHEMA_VERSION};
use crate::service::Product;
use crate::stats::{Answer, Stats};
use std::time::Duration;

pub(crate) fn stats(answers: &[(Answer, u64, u64)], elapsed: Duration) -> Stats {
    let mut stats = Stats::new();
    for &(answer, count, latency_us) in answers {
        for k in 0..count {
            stats.sent += 1;
            stats.record(answer, latency_us);
            // Spread over the crowd's time, for the timeline.
            stats.record_at(answer, elapsed.mul_f64(k as f64 / count as f64));
        }
    }
    stats.elapsed = elapsed;
    stats
}

fn product(initial: i64, orders: i64, stock: i64, lost: i64) -> Product {
    Product {
        id: 1,
        name: "Phone".into(),
        initial_stock: initial,
        stock,
        orders,
        oversold: (orders - initial).max(0),
        lost_updates: lost,
        duplicates: 0,
        queued: None,
    }
}

/// Two modes: none oversold by 37, redis safe.
pub(crate) fn sample() -> Report {
    let none = stats(
        &[(Answer::Sold, 137, 25_000), (Answer::SoldOut, 863, 800)],
        Duration::from_millis(1500),
    );
    let redis = stats(
        &[(Answer::Sold, 100, 40_000), (Answer::SoldOut, 900, 900)],
        Duration::from_secs(3),
    );
    Report {
        schema_version: SCHEMA_VERSION,
        parameters: Parameters {
            urls: vec!["http://127.0.0.1:8080".into()],
            product: 1,
            stock: 100,
            buyers: None,
            per_buyer: None,
            duplicate_check: None,
            retry: 0,
            requests: Some(1000),
            duration_s: None,
            concurrency: 200,
            modes: vec!["none".into(), "redis".into()],
            skipped: Vec::new(),
            work_ms: 20,
            ttl_ms: None,
            deadline_ms: None,
            pause_ms: None,
            model: "closed".into(),
            rate: None,
            timeout_s: 30.0,
            expect_safe: vec!["redis".into()],
            run_id: "x".into(),
            get_path: None,
            drain_timeout_s: Some(30.0),
            repeat: 1,
            shards: None,
        },
        modes: vec![
            ModeReport::new("none", &none, Some(&product(100, 137, 0, 37))),
            ModeReport::new("redis", &redis, Some(&product(100, 100, 0, 0))),
        ],
    }
}

/// Five modes, one skipped, the lab's knobs set: a row per mode.
pub(crate) fn many() -> Report {
    let mut report = sample();
    let fenced = stats(
        &[(Answer::Sold, 1, 900_000), (Answer::LockLost, 2, 600_000)],
        Duration::from_secs(1),
    );
    let broken = stats(
        &[(Answer::Sold, 100, 30_000), (Answer::SoldOut, 900, 700)],
        Duration::from_secs(2),
    );
    let atomic = stats(
        &[(Answer::Sold, 100, 2_000), (Answer::SoldOut, 900, 500)],
        Duration::from_secs(1),
    );
    report.modes.extend([
        ModeReport::new("redis-fenced", &fenced, Some(&product(10, 1, 9, 0))),
        ModeReport::new(
            "broken-ignore-setnx",
            &broken,
            Some(&product(100, 100, 33, 33)),
        ),
        ModeReport::new("pg-atomic", &atomic, Some(&product(100, 100, 0, 0))),
    ]);
    let p = &mut report.parameters;
    p.modes = report.modes.iter().map(|m| m.mode.clone()).collect();
    p.skipped = vec![SkippedMode {
        mode: "redlock".into(),
        reason: "0 of 3 Redlock nodes answer".into(),
    }];
    (p.ttl_ms, p.pause_ms) = (Some(150), Some(600));
    report
}

pub(crate) fn render(report: &Report, format: Format) -> String {
    let mut buffer = Vec::new();
    print(&mut buffer, report, format).unwrap();
    String::from_utf8(buffer).unwrap()
}

pub(crate) fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn the_text_report_puts_few_modes_side_by_side_and_ends_with_the_verdicts() {
    let text = render(&sample(), Format::Text);
    let header = text.lines().nth(3).unwrap();
    assert!(
        header.contains("lock=none") && header.contains("lock=redis"),
        "{text}"
    );
    let row = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{text}"))
    };
    assert_eq!(words(row("oversold")), ["oversold", "37", "0"]);
    assert_eq!(
        words(row("409 sold out")),
        ["409", "sold", "out", "863", "900"]
    );
    assert_eq!(
        words(row("409 lock lost")),
        ["409", "lock", "lost", "0", "0"]
    );
    assert!(text.contains("lock=none   sold 137 of 100: OVERSOLD by 37, 37 lost updates\n"));
    assert!(
        text.ends_with("lock=redis  sold exactly 100 of 100: safe\n"),
        "{text}"
    );
    assert!(text.contains("sold p99"));
    assert!(
        !text.contains("busy p50") && !text.contains("lock lost p50"),
        "no 429 nor lock lost in either mode: no rows for them"
    );
    assert!(!text.contains("409 restocked"), "{text}");
}

#[test]
fn the_text_report_gives_many_modes_a_row_each_within_140_columns() {
    let report = many();
    let text = render(&report, Format::Text);
    let lines: Vec<&str> = text.lines().collect();

    assert!(
        lines[0].ends_with("work 20 ms, ttl 150 ms, pause 600 ms, closed model"),
        "{text}"
    );
    assert_eq!(
        lines[2],
        "skipped lock=redlock: 0 of 3 Redlock nodes answer"
    );
    assert_eq!(
        words(lines[4]),
        [
            "lock",
            "sold",
            "sold",
            "out",
            "lock",
            "lost",
            "429",
            "5xx",
            "oversold",
            "lost",
            "updates",
            "unsold",
            "purchases/s",
            "sold",
            "p50",
            "sold",
            "p99",
            "verdict"
        ]
    );
    for (line, mode) in lines[5..].iter().zip(&report.modes) {
        assert_eq!(words(line)[0], mode.mode, "{text}");
    }
    assert_eq!(
        words(lines[7]),
        [
            "redis-fenced",
            "1",
            "0",
            "2",
            "0",
            "0",
            "0",
            "0",
            "9",
            "1.0",
            "900.1",
            "900.1",
            "UNDERSOLD"
        ]
    );
    assert_eq!(words(lines[8])[12..], ["LOST", "UPDATES"]);
    assert_eq!(words(lines[5]).last(), Some(&"OVERSOLD"));
    assert_eq!(words(lines[6]).last(), Some(&"safe"));
    assert!(lines[10].starts_with("(sold = 201"), "{text}");
    assert!(
        text.ends_with("lock=pg-atomic            sold exactly 100 of 100: safe\n"),
        "{text}"
    );
    for line in &lines {
        assert!(
            line.chars().count() <= 140,
            "{} columns: {line}",
            line.len()
        );
    }
}

#[test]
fn the_json_report_round_trips() {
    for report in [sample(), many()] {
        let json = render(&report, Format::Json);
        let parsed: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, report);
    }
    let value: serde_json::Value = serde_json::from_str(&render(&many(), Format::Json)).unwrap();
    assert_eq!(value["schema_version"], 6);
    assert_eq!(value["modes"][0]["server"]["oversold"], 37);
    assert_eq!(value["modes"][2]["requests"]["lock_lost_409"], 2);
    assert_eq!(value["modes"][2]["latency_ms"]["lock_lost"]["count"], 2);
    assert_eq!(value["parameters"]["ttl_ms"], 150);
    assert_eq!(value["parameters"]["deadline_ms"], serde_json::Value::Null);
    assert_eq!(value["parameters"]["skipped"][0]["mode"], "redlock");
    assert_eq!(
        value["modes"][1]["latency_ms"]["busy"],
        serde_json::Value::Null
    );
}

#[test]
fn a_version_1_report_still_reads_back() {
    let mut value: serde_json::Value =
        serde_json::from_str(&render(&sample(), Format::Json)).unwrap();
    value["schema_version"] = 1.into();
    let parameters = value["parameters"].as_object_mut().unwrap();
    for field in ["skipped", "ttl_ms", "deadline_ms", "pause_ms"] {
        parameters.remove(field);
    }
    for mode in value["modes"].as_array_mut().unwrap() {
        mode["requests"]
            .as_object_mut()
            .unwrap()
            .remove("lock_lost_409");
        let latency = mode["latency_ms"].as_object_mut().unwrap();
        latency.remove("lock_lost");
        latency.remove("refused");
        let mode = mode.as_object_mut().unwrap();
        for field in ["lock", "fairness", "timeline"] {
            mode.remove(field);
        }
    }

    let report: Report = serde_json::from_value(value).unwrap();

    assert_eq!(report.schema_version, 1);
    assert_eq!(report.modes[0].requests.lock_lost_409, 0);
    assert!(report.parameters.skipped.is_empty());
    assert!(report.modes[0].timeline.is_none() && report.modes[0].lock.is_none());
    assert!(report.modes[0].latency_ms.refused.is_none());
}

fn with_lock_and_fairness() -> Report {
    let mut report = sample();
    let redis = &mut report.modes[1];
    redis.lock = Some(crate::metrics::LockMetrics {
        instances: 1,
        waits: 1000,
        wait_p50_ms: Some(37.5),
        wait_p99_ms: Some(497.5),
        holds: 100,
        hold_p50_ms: Some(5.8),
        hold_p99_ms: Some(22.1),
        expired: 1,
        purchases: [("sold".to_string(), 100), ("sold_out".to_string(), 900)].into(),
    });
    redis.fairness = Some(Fairness {
        fifo_wait_ms: 13.0,
        sold_p99_ms: 910.0,
        ratio: 70.0,
        in_flight: 64,
    });
    report
}

#[test]
fn the_lock_side_and_fairness_appear_in_text_and_markdown_when_present() {
    let report = with_lock_and_fairness();

    let text = render(&report, Format::Text);
    let row = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{text}"))
    };
    assert!(text.contains("\nthe lock says (GET /metrics)\n"), "{text}");
    assert_eq!(
        words(row("wait p50 ms")),
        ["wait", "p50", "ms", "-", "37.50"]
    );
    assert_eq!(
        words(row("hold p99 ms")),
        ["hold", "p99", "ms", "-", "22.10"]
    );
    assert_eq!(words(row("expired")), ["expired", "-", "1"]);
    assert!(
        text.ends_with("\nlock=redis  fairness: p99 0.91 s = 70× the FIFO wait of 13 ms\n"),
        "{text}"
    );

    let md = render(&report, Format::Markdown);
    assert!(md.contains("| wait p99 ms | - | 497.50 |"), "{md}");
    assert!(
        md.ends_with("- **lock=redis** fairness: p99 0.91 s = 70× the FIFO wait of 13 ms\n"),
        "{md}"
    );

    let mut many = many();
    many.modes[1].lock = report.modes[1].lock.clone();
    let text = render(&many, Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("lock (GET /metrics)"))
        .unwrap_or_else(|| panic!("no lock table in\n{text}"));
    assert_eq!(
        words(lines[header + 2]),
        ["redis", "1000", "37.5", "497.5", "100", "5.8", "22.1", "1"]
    );
    assert_eq!(words(lines[header + 1])[1..], ["-"; 7]);
}

#[test]
fn the_lock_side_and_fairness_have_csv_columns() {
    let csv = render(&with_lock_and_fairness(), Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let none: Vec<&str> = lines[1].split(',').collect();
    let redis: Vec<&str> = lines[2].split(',').collect();

    assert_eq!(redis[column("lock_wait_p99_ms")], "497.5");
    assert_eq!(redis[column("locks_expired")], "1");
    assert_eq!(redis[column("metrics_purchases_sold_out")], "900");
    assert_eq!(redis[column("metrics_purchases_busy")], "0");
    assert_eq!(redis[column("fairness_ratio")], "70");
    assert_eq!(redis[column("fifo_wait_ms")], "13");
    assert_eq!(none[column("lock_wait_p99_ms")], "");
    assert_eq!(none[column("fairness_ratio")], "");
    assert_eq!(redis[column("latency_refused_count")], "900");
}

#[test]
fn durations_and_the_fairness_sentence_read_like_the_issue() {
    assert_eq!(duration(910.0), "0.91 s");
    assert_eq!(duration(13.4), "13 ms");
    assert_eq!(duration(2.63), "2.6 ms");
    assert_eq!(duration(0.26), "0.26 ms");
    let f = Fairness {
        fifo_wait_ms: 50.0,
        sold_p99_ms: 90.0,
        ratio: 1.8,
        in_flight: 64,
    };
    assert_eq!(
        fairness_sentence(&f),
        "fairness: p99 90 ms = 1.8× the FIFO wait of 50 ms"
    );
}

#[test]
fn the_markdown_report_is_a_table_with_a_column_per_mode() {
    let md = render(&sample(), Format::Markdown);
    assert!(md.contains("| | lock=none | lock=redis |"));
    assert!(md.contains("| oversold | 37 | 0 |"));
    assert!(md.contains("| 409 lock lost | 0 | 0 |"));
    assert!(md.contains("- **lock=redis**: sold exactly 100 of 100: safe"));
}

#[test]
fn the_markdown_report_gives_many_modes_a_row_each() {
    let md = render(&many(), Format::Markdown);
    assert!(
        md.contains("\n| lock | 201 sold | 409 sold out | 409 lock lost | 429 busy |"),
        "{md}"
    );
    assert!(
        md.contains(
            "\n| redis-fenced | 1 | 0 | 2 | 0 | 0 | 0 | 0 | 9 | 1.0 | 900.1 | 900.1 | UNDERSOLD |\n"
        ),
        "{md}"
    );
    assert!(md.contains("skipped lock=redlock: 0 of 3 Redlock nodes answer"));
    assert!(md.contains("- **lock=redis-fenced**: sold 1 of 10: UNDERSOLD, 9 left in stock while 2 buyers lost their lock"), "{md}");
}
