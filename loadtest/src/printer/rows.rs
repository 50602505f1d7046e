//! The one-row-per-mode layout: a line per strategy with the numbers that
//! tell them apart, for more modes than fit side by side (`--modes all`
//! makes 15). About 135 columns wide with the longest strategy names.

use std::io::{self, Write};

use super::{front_door_times, has_accepted_202, has_front_door};
use crate::metrics::LockMetrics;
use crate::report::{Latency, ModeReport, Report, Verdict};

/// One column: its title in text and in Markdown, how to show a mode's value,
/// and whether it is numeric (right-aligned).
struct Column {
    title: &'static str,
    markdown_title: &'static str,
    value: fn(&ModeReport) -> String,
    numeric: bool,
}

const COLUMNS: [Column; 13] = [
    Column {
        title: "lock",
        markdown_title: "lock",
        value: |m| m.mode.clone(),
        numeric: false,
    },
    Column {
        title: "sold",
        markdown_title: "201 sold",
        value: |m| m.requests.sold_201.to_string(),
        numeric: true,
    },
    Column {
        title: "sold out",
        markdown_title: "409 sold out",
        value: |m| m.requests.sold_out_409.to_string(),
        numeric: true,
    },
    Column {
        title: "lock lost",
        markdown_title: "409 lock lost",
        value: |m| m.requests.lock_lost_409.to_string(),
        numeric: true,
    },
    Column {
        title: "429",
        markdown_title: "429 busy",
        value: |m| m.requests.busy_429.to_string(),
        numeric: true,
    },
    Column {
        title: "5xx",
        markdown_title: "5xx",
        value: |m| m.requests.server_5xx.to_string(),
        numeric: true,
    },
    Column {
        title: "oversold",
        markdown_title: "oversold",
        value: |m| server(m, |s| s.oversold),
        numeric: true,
    },
    Column {
        title: "lost updates",
        markdown_title: "lost updates",
        value: |m| server(m, |s| s.lost_updates),
        numeric: true,
    },
    Column {
        title: "unsold",
        markdown_title: "unsold",
        value: |m| server(m, |s| s.unsold),
        numeric: true,
    },
    Column {
        title: "purchases/s",
        markdown_title: "purchases/s",
        value: |m| format!("{:.1}", m.throughput.purchases_per_s),
        numeric: true,
    },
    Column {
        title: "sold p50",
        markdown_title: "sold p50 ms",
        value: |m| sold_latency(m, |l| l.p50),
        numeric: true,
    },
    Column {
        title: "sold p99",
        markdown_title: "sold p99 ms",
        value: |m| sold_latency(m, |l| l.p99),
        numeric: true,
    },
    Column {
        title: "verdict",
        markdown_title: "verdict",
        value: verdict_word,
        numeric: false,
    },
];

/// What the titles of the text table mean, printed under it.
const LEGEND: &str = "sold = 201 · sold out, lock lost = 409 sold_out, lock_lost (nothing written) · 429 = busy · \
                      sold p50/p99 in ms";

/// Shown after `sold` when any mode was answered 202.
const ACCEPTED_COLUMN: Column = Column {
    title: "202",
    markdown_title: "202 accepted",
    value: |m| m.requests.accepted_202.to_string(),
    numeric: true,
};

/// Shown after `purchases/s` when the run had a front door.
const FRONT_DOOR_COLUMN: Column = Column {
    title: "× front door",
    markdown_title: "× front door",
    value: front_door_times,
    numeric: true,
};

/// What became of the orders: the sales told yes, the rows written once the
/// queue drained.
const ORDER_COLUMNS: [Column; 6] = [
    Column {
        title: "orders (after the drain)",
        markdown_title: "orders (after the drain)",
        value: |m| m.mode.clone(),
        numeric: false,
    },
    Column {
        title: "accepted",
        markdown_title: "accepted (201+202)",
        value: |m| optional(m.accepted),
        numeric: true,
    },
    Column {
        title: "written",
        markdown_title: "written",
        value: |m| optional(m.written),
        numeric: true,
    },
    Column {
        title: "lost orders",
        markdown_title: "lost orders",
        value: |m| optional(m.lost_orders),
        numeric: true,
    },
    Column {
        title: "drain ms",
        markdown_title: "drain ms",
        value: |m| optional(m.drain_ms),
        numeric: true,
    },
    Column {
        title: "durable/s",
        markdown_title: "durable orders/s",
        value: |m| {
            m.durable_orders_per_s
                .map_or("-".to_string(), |n| format!("{n:.1}"))
        },
        numeric: true,
    },
];

const ORDER_LEGEND: &str = "accepted = 201 written + 202 queued · lost = accepted, never written · \
                            durable/s = written per s of crowd + drain";

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or("-".to_string(), |v| v.to_string())
}

/// The main table's columns for this report: the 202s and the front door
/// only when the run had them.
fn columns(report: &Report) -> Vec<&'static Column> {
    let mut columns = Vec::with_capacity(COLUMNS.len() + 2);
    for column in &COLUMNS {
        columns.push(column);
        if column.title == "sold" && has_accepted_202(report) {
            columns.push(&ACCEPTED_COLUMN);
        }
        if column.title == "purchases/s" && has_front_door(report) {
            columns.push(&FRONT_DOOR_COLUMN);
        }
    }
    columns
}

/// The lock's side, a row per mode, when the service has `GET /metrics`.
const LOCK_COLUMNS: [Column; 8] = [
    Column {
        title: "lock (GET /metrics)",
        markdown_title: "lock (GET /metrics)",
        value: |m| m.mode.clone(),
        numeric: false,
    },
    Column {
        title: "waits",
        markdown_title: "waits",
        value: |m| lock_count(m, |l| l.waits),
        numeric: true,
    },
    Column {
        title: "wait p50",
        markdown_title: "wait p50 ms",
        value: |m| lock_ms(m, |l| l.wait_p50_ms),
        numeric: true,
    },
    Column {
        title: "wait p99",
        markdown_title: "wait p99 ms",
        value: |m| lock_ms(m, |l| l.wait_p99_ms),
        numeric: true,
    },
    Column {
        title: "held",
        markdown_title: "held",
        value: |m| lock_count(m, |l| l.holds),
        numeric: true,
    },
    Column {
        title: "hold p50",
        markdown_title: "hold p50 ms",
        value: |m| lock_ms(m, |l| l.hold_p50_ms),
        numeric: true,
    },
    Column {
        title: "hold p99",
        markdown_title: "hold p99 ms",
        value: |m| lock_ms(m, |l| l.hold_p99_ms),
        numeric: true,
    },
    Column {
        title: "expired",
        markdown_title: "expired",
        value: |m| lock_count(m, |l| l.expired),
        numeric: true,
    },
];

const LOCK_LEGEND: &str = "wait = asking for the lock to holding it or giving up · hold = holding it · \
                           in ms, estimated from the service's histogram buckets, never above the slowest answer";

fn lock_count(mode: &ModeReport, pick: fn(&LockMetrics) -> u64) -> String {
    mode.lock
        .as_ref()
        .map_or("-".to_string(), |l| pick(l).to_string())
}

fn lock_ms(mode: &ModeReport, pick: fn(&LockMetrics) -> Option<f64>) -> String {
    mode.lock
        .as_ref()
        .and_then(pick)
        .map_or("-".to_string(), |ms| format!("{ms:.1}"))
}

/// Whether any mode has the lock's side.
fn has_lock(report: &Report) -> bool {
    report.modes.iter().any(|m| m.lock.is_some())
}

fn server(mode: &ModeReport, pick: fn(&crate::report::ServerOutcome) -> i64) -> String {
    mode.server
        .as_ref()
        .map_or("-".to_string(), |s| pick(s).to_string())
}

fn sold_latency(mode: &ModeReport, pick: fn(&Latency) -> f64) -> String {
    mode.latency_ms
        .sold
        .as_ref()
        .map_or("-".to_string(), |l| format!("{:.1}", pick(l)))
}

/// The verdict in a word: what went wrong first, or `safe` (`reference`
/// for the front door).
pub fn verdict_word(mode: &ModeReport) -> String {
    word_of(mode.verdict.as_ref())
}

/// [`verdict_word`] of one verdict (`-` for none).
pub fn word_of(verdict: Option<&Verdict>) -> String {
    match verdict {
        None => "-",
        Some(v) if v.oversold => "OVERSOLD",
        Some(v) if v.lost_orders => "LOST ORDERS",
        Some(v) if v.lost_updates => "LOST UPDATES",
        Some(v) if v.duplicates => "DUPLICATES",
        Some(v) if !v.drained => "NOT DRAINED",
        Some(v) if v.unsold => "UNDERSOLD",
        Some(v) if v.reference => "reference",
        Some(_) => "safe",
    }
    .to_string()
}

/// Whether the report has the orders' side (not one older than version 4).
fn has_orders(report: &Report) -> bool {
    report.modes.iter().any(|m| m.accepted.is_some())
}

/// The table as plain text, columns two spaces apart, then the legend; the
/// orders' table under it; and the lock's when the service had
/// `GET /metrics`.
pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    text_table(out, report, &columns(report), LEGEND)?;
    if has_orders(report) {
        writeln!(out)?;
        text_table(
            out,
            report,
            &ORDER_COLUMNS.iter().collect::<Vec<_>>(),
            ORDER_LEGEND,
        )?;
    }
    if has_lock(report) {
        writeln!(out)?;
        text_table(
            out,
            report,
            &LOCK_COLUMNS.iter().collect::<Vec<_>>(),
            LOCK_LEGEND,
        )?;
    }
    Ok(())
}

fn text_table(
    out: &mut dyn Write,
    report: &Report,
    columns: &[&Column],
    legend: &str,
) -> io::Result<()> {
    let cells: Vec<Vec<String>> = report
        .modes
        .iter()
        .map(|m| columns.iter().map(|c| (c.value)(m)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([column.title.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let titles: Vec<String> = columns.iter().map(|c| c.title.to_string()).collect();
    for row in std::iter::once(&titles).chain(&cells) {
        let mut line = String::new();
        for ((value, column), width) in row.iter().zip(columns.iter()).zip(&widths) {
            if !line.is_empty() {
                line.push_str("  ");
            }
            if column.numeric {
                line.push_str(&format!("{value:>width$}"));
            } else {
                line.push_str(&format!("{value:<width$}"));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out, "({legend})")
}

/// The table in Markdown, with the statuses in the titles; the orders'
/// table under it; and the lock's when the service had `GET /metrics`.
pub fn markdown(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    markdown_table(out, report, &columns(report))?;
    if has_orders(report) {
        writeln!(out)?;
        markdown_table(out, report, &ORDER_COLUMNS.iter().collect::<Vec<_>>())?;
    }
    if has_lock(report) {
        writeln!(out)?;
        markdown_table(out, report, &LOCK_COLUMNS.iter().collect::<Vec<_>>())?;
    }
    Ok(())
}

fn markdown_table(out: &mut dyn Write, report: &Report, columns: &[&Column]) -> io::Result<()> {
    let titles: Vec<&str> = columns.iter().map(|c| c.markdown_title).collect();
    writeln!(out, "| {} |", titles.join(" | "))?;
    let aligns: Vec<&str> = columns
        .iter()
        .map(|c| if c.numeric { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", aligns.join("|"))?;
    for mode in &report.modes {
        let values: Vec<String> = columns.iter().map(|c| (c.value)(mode)).collect();
        writeln!(out, "| {} |", values.join(" | "))?;
    }
    Ok(())
}
