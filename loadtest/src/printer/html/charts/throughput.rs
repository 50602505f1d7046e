//! Purchases (or answers) per second over time, a row per mode.

use super::super::svg::{Anchor, Mark, Svg, nice_step, number};
use super::{LABEL_W, WIDTH, mode_labels};
use crate::report::Report;

/// At most this many bars per row: past it, neighbouring 100 ms buckets are
/// merged.
const MAX_BINS: usize = 400;

/// Purchases per second over time, one row per mode on its own time axis
/// each row on its own scale with its peak and mean written at the right.
/// `None` when no mode has a timeline (a report older than version 3).
pub fn throughput(report: &Report) -> Option<String> {
    let modes = &report.modes;
    if modes.iter().all(|m| m.timeline.is_none()) {
        return None;
    }
    let purchases = report.parameters.get_path.is_none();
    let (what, field) = if purchases {
        ("purchases", "/timeline/sold")
    } else {
        ("answers", "/timeline/completed")
    };
    // Each row: its plot, then its own time axis under it.
    const ROW_H: f64 = 62.0;
    const PLOT_TOP: f64 = 8.0;
    const PLOT_H: f64 = 30.0;
    let y0 = 12.0;
    let bottom = y0 + modes.len() as f64 * ROW_H;
    let height = bottom + 30.0;
    let plot_x0 = LABEL_W;
    let plot_w = WIDTH - LABEL_W - 170.0;
    let bucket_ms = modes
        .iter()
        .find_map(|m| m.timeline.as_ref().map(|t| t.bucket_ms))
        .unwrap_or(100);

    let mut svg = Svg::new(
        "chart-throughput",
        WIDTH,
        height,
        &format!("{} per second over time", capitalised(what)),
        &format!(
            "One row per strategy: {what} per second in each {bucket_ms} ms of the crowd, \
             each row on its own time axis in seconds, from the crowd's first request \
             to its last answer, and scaled to its own peak, written at its right with \
             the mean."
        ),
    );
    mode_labels(&mut svg, modes, y0, ROW_H);
    for (i, mode) in modes.iter().enumerate() {
        let base = y0 + i as f64 * ROW_H + PLOT_TOP + PLOT_H;
        // A crowd of 2 s beside one of 25 s: each gets the whole width.
        let span = mode.elapsed_s.max(0.1);
        let x = |t: f64| plot_x0 + t.clamp(0.0, span) / span * plot_w;
        svg.open_group(
            "row",
            &[
                ("mode", mode.mode.clone()),
                ("elapsed", mode.elapsed_s.to_string()),
            ],
        );
        time_axis(&mut svg, span, base, PLOT_H, &x);
        // The crowd's own span, first request to last answer.
        svg.rect(
            x(0.0),
            base - PLOT_H,
            x(mode.elapsed_s) - x(0.0),
            PLOT_H,
            "span",
            &Mark {
                tooltip: Some(format!(
                    "{}: the crowd ran {} s",
                    mode.mode,
                    number(mode.elapsed_s, 2)
                )),
                data: Vec::new(),
            },
        );
        svg.line((plot_x0, base), (plot_x0 + plot_w, base), "baseline");
        let Some(timeline) = &mode.timeline else {
            svg.text(
                plot_x0 + 6.0,
                base - 8.0,
                "value none",
                Anchor::Start,
                "no timeline",
            );
            svg.close_group();
            continue;
        };
        let counts = if purchases {
            &timeline.sold
        } else {
            &timeline.completed
        };
        let width_s = bucket_ms as f64 / 1000.0;
        let group = counts.len().div_ceil(MAX_BINS).max(1);
        // (start s, end s, per second) of each bar.
        let bins: Vec<(f64, f64, f64)> = counts
            .chunks(group)
            .enumerate()
            .map(|(j, chunk)| {
                let first = j * group;
                let seconds: f64 = (first..first + chunk.len())
                    .map(|b| timeline.bucket_s(b, mode.elapsed_s))
                    .sum();
                let start = first as f64 * width_s;
                let sum: u64 = chunk.iter().sum();
                (start, start + seconds, sum as f64 / seconds)
            })
            .collect();
        let peak = bins.iter().map(|b| b.2).fold(0.0, f64::max);
        let total: u64 = counts.iter().sum();
        let mean = if purchases {
            mode.throughput.purchases_per_s
        } else {
            mode.throughput.requests_per_s
        };
        if peak > 0.0 {
            let y = |rate: f64| base - rate / peak * PLOT_H;
            let mut points = vec![(x(0.0), base)];
            for &(start, end, rate) in &bins {
                points.push((x(start), y(rate)));
                points.push((x(end), y(rate)));
            }
            points.push((x(bins.last().map_or(0.0, |b| b.1)), base));
            svg.area(
                &points,
                "rate",
                &Mark {
                    tooltip: Some(format!(
                        "{}: {total} {what} in {} s, peak {}/s, mean {}/s",
                        mode.mode,
                        number(mode.elapsed_s, 2),
                        number(peak, 0),
                        number(mean, 1)
                    )),
                    data: vec![
                        ("mode", mode.mode.clone()),
                        ("field", field.to_string()),
                        ("total", total.to_string()),
                        ("buckets", counts.len().to_string()),
                    ],
                },
            );
            svg.line((x(0.0), y(peak)), (plot_x0 + plot_w, y(peak)), "peak");
        } else {
            svg.text(
                plot_x0 + 6.0,
                base - 8.0,
                "value none",
                Anchor::Start,
                &format!("no {what}"),
            );
        }
        let right = plot_x0 + plot_w + 10.0;
        svg.text(
            right,
            base - PLOT_H + 10.0,
            "value",
            Anchor::Start,
            &format!("peak {}/s", number(peak, 0)),
        );
        svg.text(
            right,
            base - 2.0,
            "note",
            Anchor::Start,
            &format!(
                "mean {}/s over {} s",
                number(mean, 1),
                number(mode.elapsed_s, 1)
            ),
        );
        svg.close_group();
    }
    let merged = modes
        .iter()
        .filter_map(|m| m.timeline.as_ref())
        .any(|t| t.sold.len() > MAX_BINS);
    svg.text(
        plot_x0,
        bottom + 16.0,
        "axis-title",
        Anchor::Start,
        &format!(
            "seconds since each crowd started (grey: until its last answer) · {what} per second in each {bucket_ms} ms{}",
            if merged { " (neighbours merged past 400 bars)" } else { "" }
        ),
    );
    Some(svg.finish())
}

/// A row's own time axis: grid lines over its plot and round ticks in
/// seconds under it, from 0 to at most `span`.
fn time_axis(svg: &mut Svg, span: f64, base: f64, plot_h: f64, x: &dyn Fn(f64) -> f64) {
    let step = tick_step(span);
    let ticks = (span / step + 1e-9).floor() as usize;
    for k in 0..=ticks {
        let t = k as f64 * step;
        svg.line(
            (x(t), base - plot_h),
            (x(t), base),
            if k == 0 { "axis" } else { "grid" },
        );
        svg.text(
            x(t),
            base + 13.0,
            "tick",
            Anchor::Middle,
            &format!("{} s", number(t, 2)),
        );
    }
}

/// About six ticks on a round step.
pub(super) fn tick_step(span: f64) -> f64 {
    nice_step(span / 6.0)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};

    use super::*;
    use crate::printer::tests::sample;

    /// Every row's tick labels, by the mode its `<g>` names.
    fn ticks_by_mode(svg: &str) -> Vec<(String, f64, Vec<String>)> {
        let page = Html::parse_fragment(svg);
        let rows = Selector::parse("g.row").unwrap();
        let ticks = Selector::parse("text.tick").unwrap();
        page.select(&rows)
            .map(|row| {
                let attr = |name: &str| row.value().attr(name).unwrap().to_string();
                let labels = row
                    .select(&ticks)
                    .map(|t| t.text().collect::<String>())
                    .collect();
                (
                    attr("data-mode"),
                    attr("data-elapsed").parse().unwrap(),
                    labels,
                )
            })
            .collect()
    }

    #[test]
    fn each_crowd_gets_its_own_time_axis_ending_at_its_own_duration() {
        // A crowd of 1.5 s beside one of 25 s.
        let mut report = sample();
        report.modes[1].elapsed_s = 25.0;
        let svg = throughput(&report).unwrap();

        let rows = ticks_by_mode(&svg);
        assert_eq!(rows.len(), 2);
        let last: Vec<(&str, &str)> = rows
            .iter()
            .map(|(mode, _, labels)| (mode.as_str(), labels.last().unwrap().as_str()))
            .collect();
        assert_eq!(last, [("none", "1.5 s"), ("redis", "25 s")]);
        for (mode, elapsed, labels) in &rows {
            let max: f64 = labels
                .last()
                .unwrap()
                .trim_end_matches(" s")
                .parse()
                .unwrap();
            // The last tick is the last round step within the crowd.
            assert!(
                max <= *elapsed && max + tick_step(*elapsed) > *elapsed,
                "{mode}: {labels:?}"
            );
            assert_eq!(labels[0], "0 s", "{mode}");
            assert!((4..=8).contains(&labels.len()), "{mode}: {labels:?}");
        }
    }
}
