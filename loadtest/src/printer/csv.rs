//! CSV: a header line and one row per mode, every number of a [`ModeReport`]
//! under a flattened column name (empty cells where JSON has `null`).

use std::io::{self, Write};

use super::rows::word_of;
use crate::report::{Latency, ModeReport, Repeat, Report};

const LATENCY_COLUMNS: [&str; 7] = ["count", "mean", "p50", "p90", "p99", "p99_9", "max"];

const LATENCY_OUTCOMES: [&str; 7] = [
    "all",
    "sold",
    "sold_out",
    "lock_lost",
    "busy",
    "other",
    "refused",
];

/// The outcomes of `flashsale_purchases_total` (the service's contract), a
/// column each.
const METRICS_OUTCOMES: [&str; 7] = [
    "sold",
    "sold_out",
    "busy",
    "unavailable",
    "lock_lost",
    "restocked",
    "failed",
];

/// What became of the orders (schema version 4), before the verdict.
const ORDER_COLUMNS: [&str; 9] = [
    "accepted_202",
    "accepted",
    "written",
    "lost_orders",
    "queued",
    "drained",
    "drain_ms",
    "durable_orders_per_s",
    "front_door_ratio",
];

/// `--repeat` (schema version 5): the spread over the runs, each as
/// `{name}_median`, `_min` and `_max`, before the verdict.
const SPREAD_COLUMNS: [&str; 4] = ["purchases_per_s", "requests_per_s", "sold_p99_ms", "p99_ms"];

/// The CSV header: one column per number of a [`ModeReport`].
pub fn csv_header() -> Vec<String> {
    let mut columns: Vec<String> = [
        "mode",
        "requests_sent",
        "requests_completed",
        "sold_201",
        "sold_out_409",
        "lock_lost_409",
        "restocked_409",
        "busy_429",
        "other_4xx",
        "server_5xx",
        "other_2xx",
        "other_status",
        "started_late",
        "max_start_lag_ms",
        "transport_connect",
        "transport_timeout",
        "transport_reset",
        "transport_other",
        "transport_total",
        "initial_stock",
        "orders",
        "stock",
        "oversold",
        "lost_updates",
        "unsold",
        "duplicates",
        "retries",
        "elapsed_s",
        "requests_per_s",
        "purchases_per_s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for outcome in LATENCY_OUTCOMES {
        for stat in LATENCY_COLUMNS {
            columns.push(format!("latency_{outcome}_{stat}_ms").replace("_count_ms", "_count"));
        }
    }
    columns.extend(
        [
            "lock_instances",
            "lock_waits",
            "lock_wait_p50_ms",
            "lock_wait_p99_ms",
            "lock_holds",
            "lock_hold_p50_ms",
            "lock_hold_p99_ms",
            "locks_expired",
        ]
        .map(String::from),
    );
    columns.extend(METRICS_OUTCOMES.map(|o| format!("metrics_purchases_{o}")));
    columns.extend(["fifo_wait_ms", "fairness_ratio"].map(String::from));
    columns.extend(CONNECT_COLUMNS.map(String::from));
    columns.extend(ORDER_COLUMNS.map(String::from));
    columns.extend(["repeat_runs", "repeat_failed", "repeat_shown_run"].map(String::from));
    for spread in SPREAD_COLUMNS {
        columns.extend(["median", "min", "max"].map(|stat| format!("{spread}_{stat}")));
    }
    columns.push("run_verdicts".to_string());
    columns.extend(["safe", "verdict"].map(String::from));
    columns
}

/// The connections apart from the requests (`connecting` in the JSON).
const CONNECT_COLUMNS: [&str; 5] = [
    "connects_before",
    "connect_before_p99_ms",
    "connects_during",
    "connect_during_p99_ms",
    "listen_overflows",
];

fn connect_fields(mode: &ModeReport) -> Vec<String> {
    let Some(c) = &mode.connecting else {
        return vec![String::new(); CONNECT_COLUMNS.len()];
    };
    let p99 = |l: &Option<Latency>| l.as_ref().map_or(String::new(), |l| l.p99.to_string());
    vec![
        c.opened_before.to_string(),
        p99(&c.before_ms),
        c.opened_during.to_string(),
        p99(&c.during_ms),
        c.listen_queue
            .map_or(String::new(), |q| q.overflows.to_string()),
    ]
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn csv_row(mode: &ModeReport) -> Vec<String> {
    let r = &mode.requests;
    let t = &mode.transport_errors;
    let mut row: Vec<String> = vec![mode.mode.clone()];
    row.extend(
        [
            r.sent,
            r.completed,
            r.sold_201,
            r.sold_out_409,
            r.lock_lost_409,
            r.restocked_409,
            r.busy_429,
            r.other_4xx,
            r.server_5xx,
            r.other_2xx,
            r.other_status,
            r.started_late,
        ]
        .map(|n| n.to_string()),
    );
    row.push(r.max_start_lag_ms.to_string());
    row.extend([t.connect, t.timeout, t.reset, t.other, t.total].map(|n| n.to_string()));
    match &mode.server {
        Some(s) => row.extend(
            [
                s.initial_stock,
                s.orders,
                s.stock,
                s.oversold,
                s.lost_updates,
                s.unsold,
                s.duplicates,
            ]
            .map(|n| n.to_string()),
        ),
        None => row.extend(std::iter::repeat_n(String::new(), 7)),
    }
    row.push(mode.requests.retries.to_string());
    row.push(mode.elapsed_s.to_string());
    row.push(mode.throughput.requests_per_s.to_string());
    row.push(mode.throughput.purchases_per_s.to_string());
    let l = &mode.latency_ms;
    for latency in [
        &l.all,
        &l.sold,
        &l.sold_out,
        &l.lock_lost,
        &l.busy,
        &l.other,
        &l.refused,
    ] {
        match latency {
            Some(l) => {
                row.push(l.count.to_string());
                row.extend([l.mean, l.p50, l.p90, l.p99, l.p99_9, l.max].map(|x| x.to_string()));
            }
            None => {
                row.push("0".to_string());
                row.extend(std::iter::repeat_n(String::new(), 6));
            }
        }
    }
    let optional = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    match &mode.lock {
        Some(lock) => {
            row.push(lock.instances.to_string());
            row.push(lock.waits.to_string());
            row.push(optional(lock.wait_p50_ms));
            row.push(optional(lock.wait_p99_ms));
            row.push(lock.holds.to_string());
            row.push(optional(lock.hold_p50_ms));
            row.push(optional(lock.hold_p99_ms));
            row.push(lock.expired.to_string());
            for outcome in METRICS_OUTCOMES {
                row.push(
                    lock.purchases
                        .get(outcome)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                );
            }
        }
        None => row.extend(std::iter::repeat_n(
            String::new(),
            8 + METRICS_OUTCOMES.len(),
        )),
    }
    row.push(optional(mode.fairness.as_ref().map(|f| f.fifo_wait_ms)));
    row.push(optional(mode.fairness.as_ref().map(|f| f.ratio)));
    row.extend(connect_fields(mode));
    let number = |n: Option<i64>| n.map_or(String::new(), |n| n.to_string());
    row.push(mode.requests.accepted_202.to_string());
    row.push(number(mode.accepted.map(|n| n as i64)));
    row.push(number(mode.written));
    row.push(number(mode.lost_orders));
    row.push(number(mode.server.as_ref().and_then(|s| s.queued)));
    row.push(
        mode.server
            .as_ref()
            .map_or(String::new(), |s| s.drained.to_string()),
    );
    row.push(number(mode.drain_ms.map(|n| n as i64)));
    row.push(optional(mode.durable_orders_per_s));
    row.push(optional(mode.front_door_ratio));
    repeat_cells(&mut row, mode.repeat.as_ref());
    match &mode.verdict {
        Some(v) => {
            row.push(v.safe.to_string());
            row.push(v.summary.clone());
        }
        None => row.extend([String::new(), String::new()]),
    }
    row
}

/// Empty for a single run.
fn repeat_cells(row: &mut Vec<String>, repeat: Option<&Repeat>) {
    let Some(repeat) = repeat else {
        row.extend(std::iter::repeat_n(
            String::new(),
            4 + 3 * SPREAD_COLUMNS.len(),
        ));
        return;
    };
    row.extend([repeat.runs.len(), repeat.failed, repeat.shown_run].map(|n| n.to_string()));
    for spread in [
        Some(&repeat.purchases_per_s),
        Some(&repeat.requests_per_s),
        repeat.sold_p99_ms.as_ref(),
        repeat.p99_ms.as_ref(),
    ] {
        match spread {
            Some(s) => row.extend([s.median, s.min, s.max].map(|x| x.to_string())),
            None => row.extend(std::iter::repeat_n(String::new(), 3)),
        }
    }
    let words: Vec<String> = repeat
        .runs
        .iter()
        .map(|run| word_of(run.verdict.as_ref()))
        .collect();
    row.push(words.join(" "));
}

/// A header line and one row per mode.
pub fn csv(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{}", csv_header().join(","))?;
    for mode in &report.modes {
        let row: Vec<String> = csv_row(mode).iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::Format;
    use crate::printer::tests::{render, sample};

    #[test]
    fn the_csv_report_has_one_row_per_mode_and_as_many_fields_as_its_header() {
        let csv = render(&sample(), Format::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        let header = csv_header();
        assert_eq!(lines[0].split(',').count(), header.len());
        for row in &lines[1..] {
            let unquoted = row.split('"').next().unwrap();
            // Every field before the quoted verdict is a plain value.
            assert_eq!(unquoted.split(',').count(), header.len());
        }
        assert!(lines[0].starts_with("mode,requests_sent,requests_completed,sold_201,sold_out_409,lock_lost_409,restocked_409,busy_429,"));
        assert!(lines[1].starts_with("none,1000,1000,137,863,0,0,0,"));
        assert!(lines[1].ends_with(",false,\"sold 137 of 100: OVERSOLD by 37, 37 lost updates\""));
        assert!(header.contains(&"latency_lock_lost_p99_ms".to_string()));
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
