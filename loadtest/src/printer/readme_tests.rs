//! The README's sample report must look like the text report of today: the
//! same sections in the same order, the same blocks under the table.

use super::Format;
use super::tests::{render, sample};
use crate::listen::ListenQueue;
use crate::metrics::LockMetrics;
use crate::report::Connecting;

/// The README's first text block after "A report captured".
fn readme_sample() -> String {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let from = readme
        .find("A report captured")
        .expect("the README has a sample report");
    let block = &readme[from..];
    let start = block.find("```text\n").expect("a text block") + "```text\n".len();
    let end = block[start..].find("```").expect("the block ends") + start;
    block[start..end].to_string()
}

/// The table's section headings: its lines that are not indented, between
/// the column titles (the first indented line) and the first blank line.
fn headings(report: &str) -> Vec<&str> {
    report
        .lines()
        .skip_while(|l| !l.starts_with(' '))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with(' '))
        .collect()
}

/// How many blocks the report has, blank lines apart (headline, table,
/// verdicts, ...).
fn blocks(report: &str) -> usize {
    report.trim_end().split("\n\n").count()
}

#[test]
fn the_readme_sample_report_has_the_sections_of_todays_text_report() {
    // The README's command against a service with GET /metrics: the lock's
    // side and the connections of both modes (no fairness line: most of the
    // locked crowd was told "sold out").
    let mut report = sample();
    for mode in &mut report.modes {
        // Every crowd opens its connections first (one per worker).
        mode.connecting = Some(Connecting {
            opened_before: 200,
            failed_before: 0,
            before_ms: None,
            opened_during: 0,
            failed_during: 0,
            during_ms: None,
            listen_queue: Some(ListenQueue {
                overflows: 0,
                drops: 0,
            }),
        });
        mode.lock = Some(LockMetrics {
            instances: 1,
            waits: 1000,
            wait_p50_ms: Some(100.0),
            wait_p99_ms: Some(2000.0),
            holds: 1000,
            hold_p50_ms: Some(21.0),
            hold_p99_ms: Some(25.0),
            expired: 0,
            purchases: Default::default(),
        });
    }
    let today = render(&report, Format::Text);
    let readme = readme_sample();

    assert_eq!(
        headings(&readme),
        headings(&today),
        "README:\n{readme}\ntoday:\n{today}"
    );
    assert_eq!(
        headings(&today),
        [
            "requests",
            "the service says",
            "orders (after the drain)",
            "throughput",
            "latency ms",
            "the lock says (GET /metrics)"
        ]
    );
    assert_eq!(blocks(&readme), blocks(&today), "README:\n{readme}");
}
