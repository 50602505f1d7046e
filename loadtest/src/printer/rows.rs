//! The one-row-per-mode layout: a line per strategy with the numbers that
//! tell them apart, for more modes than fit side by side (`--modes all`
//! makes 15). About 135 columns wide with the longest strategy names.

use std::io::{self, Write};

use crate::report::{Latency, ModeReport, Report};

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

/// The verdict in a word: what went wrong first, or `safe`.
pub fn verdict_word(mode: &ModeReport) -> String {
    match &mode.verdict {
        None => "-",
        Some(v) if v.oversold => "OVERSOLD",
        Some(v) if v.lost_updates => "LOST UPDATES",
        Some(v) if v.unsold => "UNDERSOLD",
        Some(_) => "safe",
    }
    .to_string()
}

/// The table as plain text, columns two spaces apart, then the legend.
pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let cells: Vec<Vec<String>> = report
        .modes
        .iter()
        .map(|m| COLUMNS.iter().map(|c| (c.value)(m)).collect())
        .collect();
    let widths: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, column)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([column.title.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let titles: Vec<String> = COLUMNS.iter().map(|c| c.title.to_string()).collect();
    for row in std::iter::once(&titles).chain(&cells) {
        let mut line = String::new();
        for ((value, column), width) in row.iter().zip(&COLUMNS).zip(&widths) {
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
    writeln!(out, "({LEGEND})")
}

/// The table in Markdown, with the statuses in the titles.
pub fn markdown(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let titles: Vec<&str> = COLUMNS.iter().map(|c| c.markdown_title).collect();
    writeln!(out, "| {} |", titles.join(" | "))?;
    let aligns: Vec<&str> = COLUMNS
        .iter()
        .map(|c| if c.numeric { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", aligns.join("|"))?;
    for mode in &report.modes {
        let values: Vec<String> = COLUMNS.iter().map(|c| (c.value)(mode)).collect();
        writeln!(out, "| {} |", values.join(" | "))?;
    }
    Ok(())
}
