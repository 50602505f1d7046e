//! The fast designs' side of the report (accepted, written, lost, the
//! front door) in every format.

use super::tests::{render, sample, stats, words};
use super::*;
use crate::report::{Drain, FRONT_DOOR, ModeReport};
use crate::service::Product;
use crate::stats::Answer;
use std::time::Duration;

fn shelf(initial: i64, written: i64, queued: Option<i64>) -> Product {
    Product {
        id: 1,
        name: "Phone".into(),
        initial_stock: initial,
        stock: initial - written,
        orders: written,
        oversold: 0,
        lost_updates: 0,
        duplicates: 0,
        queued: Some(queued),
    }
}

/// The benchmark: the front door, a lock, and the two fast designs
/// (redis-stream drained whole in 250 ms; broken-ack-first lost 12 orders).
pub(crate) fn fast() -> Report {
    let door = stats(&[(Answer::SoldOut, 20_000, 3_000)], Duration::from_secs(1));
    let fair = stats(&[(Answer::Sold, 2_000, 35_000)], Duration::from_secs(1));
    let batch = stats(&[(Answer::Sold, 16_000, 4_000)], Duration::from_secs(1));
    let stream = stats(&[(Answer::Accepted, 18_000, 3_500)], Duration::from_secs(1));
    let ack_first = stats(&[(Answer::Accepted, 1_000, 3_500)], Duration::from_secs(1));
    let drained = |ms| Drain {
        waited: Duration::from_millis(ms),
        drained: true,
    };
    let mut report = sample();
    report.parameters.stock = 1_000_000;
    report.modes = vec![
        ModeReport::new(FRONT_DOOR, &door, Some(&shelf(0, 0, Some(0)))),
        ModeReport::new("redis-fair", &fair, Some(&shelf(1_000_000, 2_000, Some(0)))),
        ModeReport::new("pg-batch", &batch, Some(&shelf(1_000_000, 16_000, Some(0)))),
        ModeReport::after_drain(
            "redis-stream",
            &stream,
            Some(&shelf(1_000_000, 18_000, Some(0))),
            drained(250),
        ),
        ModeReport::after_drain(
            "broken-ack-first",
            &ack_first,
            Some(&shelf(1_000_000, 988, Some(0))),
            drained(40),
        ),
    ];
    report.parameters.modes = report.modes.iter().map(|m| m.mode.clone()).collect();
    report.compare_with_front_door();
    report
}

#[test]
fn the_fast_designs_show_accepted_written_lost_and_the_front_door_in_text() {
    let report = fast();
    let text = render(&report, Format::Text);
    let line = |start: &str| {
        text.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start} in\n{text}"))
    };

    let titles = words(line("lock "));
    assert_eq!(titles[1..4], ["sold", "202", "sold"], "{text}");
    assert!(
        line("lock ").contains("purchases/s  × front door"),
        "{text}"
    );
    // sold, 202, sold out, lock lost, 429, 5xx, oversold, lost updates,
    // unsold, purchases/s, × front door, p50, p99, verdict.
    assert_eq!(
        words(line("front-door ")),
        [
            "front-door",
            "0",
            "0",
            "20000",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0.0",
            "-",
            "-",
            "-",
            "reference"
        ]
    );
    assert_eq!(words(line("redis-stream "))[1..3], ["0", "18000"]);
    assert_eq!(words(line("redis-stream "))[10..12], ["18000.0", "0.90×"]);
    assert_eq!(words(line("redis-fair "))[11], "0.10×");
    assert_eq!(words(line("broken-ack-first ")).last(), Some(&"ORDERS"));
    let words_of: Vec<String> = report.modes.iter().map(verdict_word).collect();
    assert_eq!(
        words_of,
        ["reference", "safe", "safe", "safe", "LOST ORDERS"]
    );

    // The orders' table: accepted, written, lost, drain ms, durable/s.
    assert!(
        line("orders (after the drain)")
            .ends_with("accepted  written  lost orders  drain ms  durable/s"),
        "{text}"
    );
    let orders: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("redis-stream "))
        .collect();
    assert_eq!(
        words(orders[1]),
        ["redis-stream", "18000", "18000", "0", "250", "14400.0"]
    );
    let lost: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("broken-ack-first "))
        .collect();
    assert_eq!(
        words(lost[1]),
        ["broken-ack-first", "1000", "988", "12", "40", "950.0"]
    );
    assert!(
        text.contains("(accepted = 201 written + 202 queued · "),
        "{text}"
    );

    let door = format!(
        "\n{:21}  reference: 20000 answers, 20000.0/s (lock=none at stock 0: one read, 409 sold_out)\n",
        "front-door"
    );
    assert!(text.contains(&door), "{text}");
    assert!(
        text.contains(
            "lock=broken-ack-first  accepted 1000 of 1000000 but wrote 988: 12 LOST ORDERS\n"
        ),
        "{text}"
    );
    for l in text.lines() {
        assert!(
            l.chars().count() <= 160,
            "{} columns: {l}",
            l.chars().count()
        );
    }
}

#[test]
fn the_fast_designs_side_by_side_have_an_orders_section() {
    let mut report = fast();
    report.modes.drain(1..3);
    let text = render(&report, Format::Text);
    let row = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{text}"))
    };
    assert!(
        text.lines()
            .nth(3)
            .unwrap()
            .contains("front-door  lock=redis-stream"),
        "{text}"
    );
    assert!(text.contains("\norders (after the drain)\n"), "{text}");
    assert_eq!(
        words(row("202 accepted")),
        ["202", "accepted", "0", "18000", "1000"]
    );
    assert_eq!(words(row("accepted")), ["accepted", "0", "18000", "1000"]);
    assert_eq!(words(row("written")), ["written", "0", "18000", "988"]);
    assert_eq!(
        words(row("lost orders")),
        ["lost", "orders", "0", "0", "12"]
    );
    assert_eq!(words(row("drain ms")), ["drain", "ms", "0", "250", "40"]);
    assert_eq!(
        words(row("× front door")),
        ["×", "front", "door", "-", "0.90×", "0.05×"]
    );
    assert_eq!(
        words(row("durable orders/s")),
        ["durable", "orders/s", "0.0", "14400.0", "950.0"]
    );
    assert!(!text.contains("still queued"), "everything drained: {text}");

    let md = render(&report, Format::Markdown);
    assert!(
        md.contains("| | front-door | lock=redis-stream | lock=broken-ack-first |"),
        "{md}"
    );
    assert!(md.contains("| lost orders | 0 | 0 | 12 |"), "{md}");
    assert!(md.contains("| × front door | - | 0.90× | 0.05× |"), "{md}");
    assert!(
        md.contains(
            "- **lock=broken-ack-first**: accepted 1000 of 1000000 but wrote 988: 12 LOST ORDERS"
        ),
        "{md}"
    );
}

#[test]
fn a_queue_that_did_not_drain_says_how_many_are_still_queued() {
    let mut report = fast();
    let stream = stats(&[(Answer::Accepted, 1_000, 3_500)], Duration::from_secs(1));
    report.modes = vec![ModeReport::after_drain(
        "redis-stream",
        &stream,
        Some(&shelf(1_000_000, 600, Some(400))),
        Drain {
            waited: Duration::from_secs(30),
            drained: false,
        },
    )];
    assert_eq!(verdict_word(&report.modes[0]), "NOT DRAINED");
    let text = render(&report, Format::Text);
    let still = text
        .lines()
        .find(|l| l.trim_start().starts_with("still queued"))
        .unwrap_or_else(|| panic!("no still queued row in\n{text}"));
    assert_eq!(words(still), ["still", "queued", "400"]);
    assert!(
        text.ends_with("lock=redis-stream  accepted 1000 of 1000000, wrote 600: NOT DRAINED (400 still queued)\n"),
        "{text}"
    );
    let csv = render(&report, Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    let column = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        ["queued", "drained", "drain_ms", "lost_orders", "safe"].map(column),
        ["400", "false", "30000", "0", "false"]
    );
}

#[test]
fn the_fast_designs_in_markdown_csv_json_and_html() {
    let report = fast();

    let md = render(&report, Format::Markdown);
    assert!(
        md.contains("| lock | 201 sold | 202 accepted | 409 sold out |"),
        "{md}"
    );
    assert!(
        md.contains("| purchases/s | × front door | sold p50 ms |"),
        "{md}"
    );
    assert!(
        md.contains("\n| orders (after the drain) | accepted (201+202) | written | lost orders | drain ms | durable orders/s |\n"),
        "{md}"
    );
    assert!(
        md.contains("\n| broken-ack-first | 1000 | 988 | 12 | 40 | 950.0 |\n"),
        "{md}"
    );

    let csv = render(&report, Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = |line: usize, name: &str| {
        lines[line]
            .split(',')
            .nth(header.iter().position(|h| *h == name).unwrap())
            .unwrap()
    };
    assert_eq!(header[header.len() - 2..], ["safe", "verdict"]);
    assert_eq!(
        [
            "accepted_202",
            "accepted",
            "written",
            "lost_orders",
            "queued",
            "drained",
            "drain_ms",
            "durable_orders_per_s",
            "front_door_ratio"
        ]
        .map(|c| column(4, c)),
        [
            "18000", "18000", "18000", "0", "0", "true", "250", "14400", "0.9"
        ]
    );
    assert_eq!(column(5, "lost_orders"), "12");
    assert_eq!(column(5, "safe"), "false");
    assert_eq!(column(1, "front_door_ratio"), "");

    let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
    let stream = &json["modes"][3];
    assert_eq!(stream["accepted"], 18000);
    assert_eq!(stream["written"], 18000);
    assert_eq!(stream["lost_orders"], 0);
    assert_eq!(stream["drain_ms"], 250);
    assert_eq!(stream["durable_orders_per_s"], 14400.0);
    assert_eq!(stream["front_door_ratio"], 0.9);
    assert_eq!(stream["requests"]["accepted_202"], 18000);
    assert_eq!(stream["server"]["queued"], 0);
    assert_eq!(stream["server"]["drained"], true);
    assert_eq!(json["modes"][4]["lost_orders"], 12);
    assert_eq!(json["modes"][4]["verdict"]["lost_orders"], true);
    assert_eq!(json["modes"][0]["verdict"]["reference"], true);
    assert_eq!(json["parameters"]["drain_timeout_s"], 30.0);
    let parsed: Report = serde_json::from_value(json).unwrap();
    assert_eq!(parsed, report);

    let html = render(&report, Format::Html);
    assert!(
        html.contains("data-field=\"/lost_orders\" data-value=\"12\""),
        "{html}"
    );
    assert!(
        html.contains("data-field=\"/front_door_ratio\" data-value=\"0.9\""),
        "{html}"
    );
    assert!(
        html.contains("data-field=\"/requests/accepted_202\" data-value=\"18000\""),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"word ref\">reference</span>"),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"word bad\">LOST ORDERS</span>"),
        "{html}"
    );
}

#[test]
fn a_version_3_report_reads_back_without_the_orders_side() {
    let mut value: serde_json::Value =
        serde_json::from_str(&render(&sample(), Format::Json)).unwrap();
    value["schema_version"] = 3.into();
    value["parameters"]
        .as_object_mut()
        .unwrap()
        .remove("drain_timeout_s");
    for mode in value["modes"].as_array_mut().unwrap() {
        mode["requests"]
            .as_object_mut()
            .unwrap()
            .remove("accepted_202");
        for field in ["queued", "drained"] {
            mode["server"].as_object_mut().unwrap().remove(field);
        }
        for field in ["lost_orders", "drained", "reference"] {
            mode["verdict"].as_object_mut().unwrap().remove(field);
        }
        let mode = mode.as_object_mut().unwrap();
        for field in [
            "accepted",
            "written",
            "lost_orders",
            "drain_ms",
            "durable_orders_per_s",
            "front_door_ratio",
        ] {
            mode.remove(field);
        }
    }

    let report: Report = serde_json::from_value(value).unwrap();

    let redis = &report.modes[1];
    assert_eq!((redis.accepted, redis.lost_orders), (None, None));
    assert_eq!(redis.requests.accepted_202, 0);
    let server = redis.server.as_ref().unwrap();
    assert!(server.drained && server.queued == Some(0));
    let verdict = redis.verdict.as_ref().unwrap();
    assert!(verdict.drained && !verdict.lost_orders && !verdict.reference);
    let text = render(&report, Format::Text);
    assert!(!text.contains("orders (after the drain)"), "{text}");
    assert!(
        text.ends_with("lock=redis  sold exactly 100 of 100: safe\n"),
        "{text}"
    );
}
