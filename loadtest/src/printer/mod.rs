//! Writes a [`Report`] as text, JSON, Markdown, CSV or HTML to any `Write`.
//!
//! Text and Markdown show up to [`SIDE_BY_SIDE_MAX`] modes side by side
//! ([`columns`]: every number and percentile), more as one row per mode
//! ([`rows`]: the numbers that tell strategies apart); both end with a verdict
//! sentence per mode, and a fairness line per mode that has one. [`html`] is
//! one self-contained page: the verdict table and charts in inline SVG.

mod columns;
mod csv;
mod html;
mod repeat;
mod rows;

use std::io::{self, Write};

use clap::ValueEnum;

pub use self::csv::{csv, csv_header};
pub use self::repeat::has_repeats;
pub use self::rows::{verdict_word, word_of};
use crate::report::{Connecting, FRONT_DOOR, Fairness, Latency, ModeReport, Parameters, Report};

/// Up to this many modes are printed side by side; more get a row each.
pub const SIDE_BY_SIDE_MAX: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table (modes side by side, or a row per mode beyond three) and a
    /// verdict per mode.
    Text,
    /// One object: `parameters` and `modes` (fields in the README, "Run the benchmark").
    Json,
    /// The table as Markdown, and the verdicts as a list.
    Markdown,
    /// A header line and one row per mode.
    Csv,
    /// One self-contained page (inline CSS and SVG, nothing from outside):
    /// the verdict table, and charts of what each mode sold, its latency and
    /// its purchases per second over time. Best with --out FILE.
    Html,
}

pub fn print(out: &mut dyn Write, report: &Report, format: Format) -> io::Result<()> {
    match format {
        Format::Text => text(out, report),
        Format::Json => json(out, report),
        Format::Markdown => markdown(out, report),
        Format::Csv => csv(out, report),
        Format::Html => html::html(out, report),
    }
}

pub fn json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// The column title of a mode: `lock=redis`, `front-door` (no lock of its
/// own: `lock=none` at stock 0), or `GET /healthz` for `--get`.
pub fn column_title(report: &Report, mode: &ModeReport) -> String {
    match report.parameters.get_path {
        Some(_) => mode.mode.clone(),
        None if mode.mode == FRONT_DOOR => mode.mode.clone(),
        None => format!("lock={}", mode.mode),
    }
}

/// `0.93×`: a mode's purchases per second over the front door's answers per
/// second, or `-` without a front door in the run.
pub fn front_door_times(mode: &ModeReport) -> String {
    mode.front_door_ratio
        .map_or("-".to_string(), |ratio| format!("{ratio:.2}×"))
}

/// Whether the run had a `front-door` mode to compare with.
pub fn has_front_door(report: &Report) -> bool {
    report.modes.iter().any(|m| m.front_door_ratio.is_some())
}

/// Whether any mode was answered 202 (accepted, written later).
pub fn has_accepted_202(report: &Report) -> bool {
    report.modes.iter().any(|m| m.requests.accepted_202 > 0)
}

/// Whether the report gets one row per mode rather than a column each.
pub fn one_row_per_mode(report: &Report) -> bool {
    report.parameters.get_path.is_none() && report.modes.len() > SIDE_BY_SIDE_MAX
}

fn headline(report: &Report) -> String {
    let p = &report.parameters;
    let budget = match (p.requests, p.duration_s) {
        (Some(n), _) => format!("{n} requests"),
        (None, Some(d)) => format!("{d} s"),
        (None, None) => "?".to_string(),
    };
    let model = match p.rate {
        Some(rate) => format!("open model at {rate} req/s"),
        None => "closed model".to_string(),
    };
    match &p.get_path {
        Some(path) => format!(
            "flashsale-loadtest: GET {path}, {budget}{}, concurrency {}, {model}",
            runs(p.repeat),
            p.concurrency
        ),
        None => {
            let mut knobs = format!("work {} ms", p.work_ms);
            for (name, value) in [
                ("ttl", p.ttl_ms),
                ("deadline", p.deadline_ms),
                ("pause", p.pause_ms),
            ] {
                if let Some(ms) = value {
                    knobs.push_str(&format!(", {name} {ms} ms"));
                }
            }
            // Shards merged without the service: nobody read the stock.
            let stock = if p.shards.is_some() && p.drain_timeout_s.is_none() {
                "?".to_string()
            } else {
                p.stock.to_string()
            };
            format!(
                "flashsale-loadtest: product {}, stock {stock}, {budget} per mode{}, concurrency {}, {knobs}, {model}",
                p.product,
                runs(p.repeat),
                p.concurrency
            )
        }
    }
}

/// `, 5 runs` after the budget with `--repeat 5`; nothing for one run.
fn runs(repeat: u32) -> String {
    if repeat > 1 {
        format!(", {repeat} runs")
    } else {
        String::new()
    }
}

/// `fairness: p99 0.91 s = 70× the FIFO wait of 13 ms`.
pub fn fairness_sentence(fairness: &Fairness) -> String {
    let ratio = if fairness.ratio >= 10.0 {
        format!("{:.0}", fairness.ratio)
    } else {
        format!("{:.1}", fairness.ratio)
    };
    format!(
        "fairness: p99 {} = {ratio}× the FIFO wait of {}",
        duration(fairness.sold_p99_ms),
        duration(fairness.fifo_wait_ms)
    )
}

/// Milliseconds as people say them: `0.91 s` from 100 ms up, `13 ms`,
/// `2.6 ms`, `0.26 ms`.
pub fn duration(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// `connections: 64 opened before the crowd (connect p50 0.12 ms, max 1.3
/// ms), 0 during it; listen queue: no overflow`: the set-up the requests'
/// latency leaves out.
pub fn connecting_sentence(connecting: &Connecting) -> String {
    let times = |latency: &Option<Latency>| {
        latency.as_ref().map_or(String::new(), |l| {
            format!(
                " (connect p50 {}, max {})",
                duration(l.p50),
                duration(l.max)
            )
        })
    };
    let failed = |n: u64| {
        if n > 0 {
            format!(", {n} failed")
        } else {
            String::new()
        }
    };
    let mut sentence = format!(
        "connections: {} opened before the crowd{}{}, {} during it{}{}",
        connecting.opened_before,
        times(&connecting.before_ms),
        failed(connecting.failed_before),
        connecting.opened_during,
        times(&connecting.during_ms),
        failed(connecting.failed_during),
    );
    if let Some(queue) = connecting.listen_queue {
        if connecting.overflowed() {
            sentence.push_str(&format!(
                "; listen queue overflowed {} times ({} dropped)",
                queue.overflows, queue.drops
            ));
        } else {
            sentence.push_str("; listen queue: no overflow");
        }
    }
    sentence
}

/// `(lock=redis, connections sentence)` for every mode that opened (or
/// tried to open) a connection.
fn connecting_lines(report: &Report) -> Vec<(String, String)> {
    report
        .modes
        .iter()
        .filter_map(|m| {
            m.connecting
                .as_ref()
                .filter(|c| {
                    c.opened_before + c.failed_before + c.opened_during + c.failed_during > 0
                })
                .map(|c| (column_title(report, m), connecting_sentence(c)))
        })
        .collect()
}

/// `(lock=redis, fairness sentence)` for every mode that has one.
fn fairness_lines(report: &Report) -> Vec<(String, String)> {
    report
        .modes
        .iter()
        .filter_map(|m| {
            m.fairness
                .as_ref()
                .map(|f| (column_title(report, m), fairness_sentence(f)))
        })
        .collect()
}

/// The lines under the headline: the targets, and what `--modes all` skipped.
fn preamble(report: &Report) -> Vec<String> {
    let urls: Vec<&str> = report.parameters.urls.iter().map(String::as_str).collect();
    let mut lines = vec![targets_line(&report.parameters, &urls)];
    for skipped in &report.parameters.skipped {
        lines.push(format!("skipped lock={}: {}", skipped.mode, skipped.reason));
    }
    lines
}

/// `target: …`, `targets (round-robin): …`, or for a merged report the
/// shards' targets and whether the verdict was read.
pub(crate) fn targets_line(p: &Parameters, urls: &[&str]) -> String {
    match p.shards {
        Some(shards) => {
            let verdict = if p.drain_timeout_s.is_some() {
                "verdict read from the service"
            } else {
                "no verdict: merged without --url"
            };
            let noun = if shards == 1 { "shard" } else { "shards" };
            format!(
                "{shards} {noun} merged (targets: {}); {verdict}",
                urls.join(", ")
            )
        }
        None if urls.len() > 1 => format!("targets (round-robin): {}", urls.join(", ")),
        None => format!("target: {}", urls.join(", ")),
    }
}

/// `(lock=redis, sentence)` for every mode with a verdict.
fn verdict_lines(report: &Report) -> Vec<(String, &str)> {
    report
        .modes
        .iter()
        .filter_map(|m| {
            m.verdict
                .as_ref()
                .map(|v| (column_title(report, m), v.summary.as_str()))
        })
        .collect()
}

pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{}", headline(report))?;
    for line in preamble(report) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    if one_row_per_mode(report) {
        rows::text(out, report)?;
    } else {
        columns::text(out, report)?;
    }
    let verdicts = verdict_lines(report);
    if !verdicts.is_empty() {
        writeln!(out)?;
        let width = verdicts.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
        for (title, summary) in verdicts {
            writeln!(out, "{title:width$}  {summary}")?;
        }
    }
    for lines in [connecting_lines(report), fairness_lines(report)] {
        if !lines.is_empty() {
            writeln!(out)?;
            let width = lines.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
            for (title, sentence) in lines {
                writeln!(out, "{title:width$}  {sentence}")?;
            }
        }
    }
    repeat::text(out, report)
}

/// Just the verdict lines (what `--out` leaves on stdout).
pub fn verdicts(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let titles: Vec<String> = report
        .modes
        .iter()
        .map(|m| column_title(report, m))
        .collect();
    let width = titles.iter().map(String::len).max().unwrap_or(0);
    for (mode, title) in report.modes.iter().zip(&titles) {
        let runs = mode.repeat.as_ref().map_or(String::new(), |r| {
            let words: Vec<String> = r
                .runs
                .iter()
                .map(|run| word_of(run.verdict.as_ref()))
                .collect();
            format!(" (runs: {})", words.join(" "))
        });
        match &mode.verdict {
            Some(v) => writeln!(out, "{title:width$}  {}{runs}", v.summary)?,
            None => writeln!(
                out,
                "{title:width$}  {} answers in {:.2} s: {:.1} requests/s",
                mode.requests.completed, mode.elapsed_s, mode.throughput.requests_per_s
            )?,
        }
    }
    Ok(())
}

pub fn markdown(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{}", headline(report))?;
    for line in preamble(report).iter().skip(1) {
        writeln!(out)?;
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    if one_row_per_mode(report) {
        rows::markdown(out, report)?;
    } else {
        columns::markdown(out, report)?;
    }
    let verdicts = verdict_lines(report);
    if !verdicts.is_empty() {
        writeln!(out)?;
        for (title, summary) in verdicts {
            writeln!(out, "- **{title}**: {summary}")?;
        }
    }
    for lines in [connecting_lines(report), fairness_lines(report)] {
        if !lines.is_empty() {
            writeln!(out)?;
            for (title, sentence) in lines {
                writeln!(out, "- **{title}** {sentence}")?;
            }
        }
    }
    repeat::markdown(out, report)
}

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod readme_tests;
#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod connecting_tests {
    use super::*;
    use crate::listen::ListenQueue;

    fn latency(p50: f64, max: f64) -> Option<Latency> {
        Some(Latency {
            count: 1,
            mean: p50,
            p50,
            p90: max,
            p99: max,
            p99_9: max,
            max,
        })
    }

    #[test]
    fn the_connections_line_says_before_during_and_whether_the_listen_queue_overflowed() {
        let mut connecting = Connecting {
            opened_before: 64,
            failed_before: 0,
            before_ms: latency(0.12, 1.3),
            opened_during: 2,
            failed_during: 1,
            during_ms: latency(0.2, 0.3),
            listen_queue: None,
        };
        assert_eq!(
            connecting_sentence(&connecting),
            "connections: 64 opened before the crowd (connect p50 0.12 ms, max 1.3 ms), \
             2 during it (connect p50 0.20 ms, max 0.30 ms), 1 failed"
        );
        connecting.listen_queue = Some(ListenQueue {
            overflows: 0,
            drops: 0,
        });
        assert!(connecting_sentence(&connecting).ends_with("; listen queue: no overflow"));
        connecting.listen_queue = Some(ListenQueue {
            overflows: 63,
            drops: 63,
        });
        assert!(
            connecting_sentence(&connecting)
                .ends_with("; listen queue overflowed 63 times (63 dropped)")
        );
    }
}
