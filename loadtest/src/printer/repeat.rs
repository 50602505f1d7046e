//! `--repeat`: a line per mode with the median and the spread (min–max) of
//! its throughput and p99 over every run, and each run's verdict in a word.
//! Text and Markdown; the page has its own table (`html::repeat`).

use std::io::{self, Write};

use super::rows::word_of;
use super::{column_title, duration};
use crate::report::{ModeReport, Repeat, Report, Spread, measured_by_answers};

/// Whether any mode ran more than once.
pub fn has_repeats(report: &Report) -> bool {
    report.modes.iter().any(|m| m.repeat.is_some())
}

/// One mode's spread, in words.
pub(super) struct RepeatLine {
    pub title: String,
    /// `purchases/s 31.4 (29.0–33.2)`.
    pub throughput: String,
    /// `sold p99 2.27 s (2.10 s–2.40 s)`.
    pub p99: String,
    /// `safe safe OVERSOLD`.
    pub verdicts: Vec<String>,
    pub shown_run: usize,
}

fn spread_of(spread: &Spread, show: impl Fn(f64) -> String) -> String {
    format!(
        "{} ({}–{})",
        show(spread.median),
        show(spread.min),
        show(spread.max)
    )
}

pub(super) fn repeat_line(report: &Report, mode: &ModeReport, repeat: &Repeat) -> RepeatLine {
    let per_s = |n: f64| format!("{n:.1}");
    let (throughput, p99) = if measured_by_answers(mode) {
        (
            format!("answers/s {}", spread_of(&repeat.requests_per_s, per_s)),
            repeat.p99_ms.as_ref().map(|s| ("p99", s)),
        )
    } else {
        (
            format!("purchases/s {}", spread_of(&repeat.purchases_per_s, per_s)),
            repeat.sold_p99_ms.as_ref().map(|s| ("sold p99", s)),
        )
    };
    RepeatLine {
        title: column_title(report, mode),
        throughput,
        p99: p99.map_or("p99 -".to_string(), |(name, spread)| {
            format!("{name} {}", spread_of(spread, duration))
        }),
        verdicts: repeat
            .runs
            .iter()
            .map(|run| word_of(run.verdict.as_ref()))
            .collect(),
        shown_run: repeat.shown_run,
    }
}

pub(super) fn repeat_lines(report: &Report) -> Vec<RepeatLine> {
    report
        .modes
        .iter()
        .filter_map(|m| m.repeat.as_ref().map(|r| repeat_line(report, m, r)))
        .collect()
}

const INTRO: &str = "runs per mode: median (min–max); the tables show one run, \
                     the first that failed, else the median";

/// The block under the verdicts: one aligned line per mode.
pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let lines = repeat_lines(report);
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{} {INTRO}", report.parameters.repeat)?;
    let width = |f: &dyn Fn(&RepeatLine) -> usize| lines.iter().map(f).max().unwrap_or(0);
    let title_w = width(&|l| l.title.chars().count());
    let throughput_w = width(&|l| l.throughput.chars().count());
    let p99_w = width(&|l| l.p99.chars().count());
    for line in &lines {
        writeln!(
            out,
            "{:title_w$}  {:throughput_w$}  {:p99_w$}  runs: {} (shown: run {})",
            line.title,
            line.throughput,
            line.p99,
            line.verdicts.join(" "),
            line.shown_run
        )?;
    }
    Ok(())
}

/// The same as a Markdown table.
pub fn markdown(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let lines = repeat_lines(report);
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{} {INTRO}.", report.parameters.repeat)?;
    writeln!(out)?;
    writeln!(
        out,
        "| mode | throughput | p99 | verdict of each run | shown |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for line in &lines {
        writeln!(
            out,
            "| {} | {} | {} | {} | run {} |",
            line.title,
            line.throughput,
            line.p99,
            line.verdicts.join(", "),
            line.shown_run
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};
    use serde_json::Value;

    use super::*;
    use crate::printer::tests::{render, sample};
    use crate::printer::{Format, csv_header, verdicts};

    /// The sample run three times: throughput ×1, ×0.5, ×2 and the sold p99
    /// ×1, ×30, ×0.5; redis oversells on its third run.
    pub(crate) fn repeated() -> Report {
        let mut report = sample();
        report.parameters.repeat = 3;
        report.modes = report
            .modes
            .iter()
            .map(|mode| {
                let runs = [(1.0, 1.0), (0.5, 30.0), (2.0, 0.5)]
                    .iter()
                    .map(|&(rate, p99)| {
                        let mut run = mode.clone();
                        run.throughput.purchases_per_s *= rate;
                        run.latency_ms.sold.as_mut().unwrap().p99 *= p99;
                        run
                    })
                    .collect::<Vec<_>>();
                let mut runs = runs;
                if mode.mode == "redis" {
                    let verdict = runs[2].verdict.as_mut().unwrap();
                    (verdict.safe, verdict.oversold) = (false, true);
                }
                ModeReport::of_runs(runs)
            })
            .collect();
        report
    }

    #[test]
    fn the_text_report_gives_the_spread_and_every_runs_verdict() {
        let report = repeated();
        let text = render(&report, Format::Text);

        assert!(text.starts_with(
            "flashsale-loadtest: product 1, stock 100, 1000 requests per mode, 3 runs, concurrency 200,"
        ));
        let block: Vec<&str> = text
            .trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap()
            .lines()
            .collect();
        assert_eq!(
            block,
            [
                "3 runs per mode: median (min–max); the tables show one run, the first that failed, else the median",
                "lock=none   purchases/s 91.3 (45.7–182.7)  sold p99 25 ms (13 ms–0.75 s)  runs: OVERSOLD OVERSOLD OVERSOLD (shown: run 1)",
                "lock=redis  purchases/s 33.3 (16.7–66.7)   sold p99 40 ms (20 ms–1.20 s)  runs: safe safe OVERSOLD (shown: run 3)",
            ]
        );
    }

    #[test]
    fn a_failed_run_fails_the_expected_mode_and_shows_in_the_verdict_lines() {
        let mut report = repeated();
        assert_eq!(report.unsafe_expected().len(), 1);
        // Even if the run shown were a safe one.
        report.modes[1].verdict.as_mut().unwrap().safe = true;
        assert_eq!(report.unsafe_expected()[0].mode, "redis");

        let mut out = Vec::new();
        verdicts(&mut out, &repeated()).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .ends_with(" (runs: safe safe OVERSOLD)"),
            "{out}"
        );
    }

    #[test]
    fn markdown_csv_and_json_carry_the_spread() {
        let report = repeated();

        let markdown = render(&report, Format::Markdown);
        assert!(markdown.contains(
            "| lock=redis | purchases/s 33.3 (16.7–66.7) | sold p99 40 ms (20 ms–1.20 s) | safe, safe, OVERSOLD | run 3 |"
        ), "{markdown}");

        let csv = render(&report, Format::Csv);
        let header = csv_header();
        let redis: Vec<&str> = csv.lines().nth(2).unwrap().split(',').collect();
        let cell = |name: &str| redis[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(
            (
                cell("repeat_runs"),
                cell("repeat_failed"),
                cell("repeat_shown_run")
            ),
            ("3", "1", "3")
        );
        assert_eq!(cell("purchases_per_s_median"), "33.333");
        assert_eq!(cell("run_verdicts"), "safe safe OVERSOLD");
        let single = render(&sample(), Format::Csv);
        let none: Vec<&str> = single.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(
            none[header.iter().position(|h| h == "repeat_runs").unwrap()],
            ""
        );

        let json: Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
        assert_eq!(json["parameters"]["repeat"], 3);
        assert_eq!(json["modes"][1]["repeat"]["failed"], 1);
        assert_eq!(
            json["modes"][1]["repeat"]["runs"].as_array().unwrap().len(),
            3
        );
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn the_page_has_a_row_of_spreads_per_mode_each_cell_the_jsons() {
        let report = repeated();
        let json: Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
        let page = Html::parse_document(&render(&report, Format::Html));

        let rows = Selector::parse("#repeats tbody tr").unwrap();
        let cells = Selector::parse("td[data-field]").unwrap();
        let mut checked = 0;
        for (row, mode) in page.select(&rows).zip(json["modes"].as_array().unwrap()) {
            assert_eq!(row.value().attr("data-mode"), mode["mode"].as_str());
            for cell in row.select(&cells) {
                let field = cell.value().attr("data-field").unwrap();
                let shown: f64 = cell.value().attr("data-value").unwrap().parse().unwrap();
                assert_eq!(
                    Some(shown),
                    mode.pointer(field).and_then(Value::as_f64),
                    "{field}"
                );
                checked += 1;
            }
        }
        // The shown run and three numbers each of throughput and p99.
        assert_eq!(checked, 2 * 7);
        assert!(
            render(&sample(), Format::Html)
                .find("id=\"repeats\"")
                .is_none()
        );
    }
}
