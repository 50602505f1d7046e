//! The report's three charts, one `<svg>` each, a row per mode so that a
//! lab of 15 strategies reads top to bottom: what each sold (small multiples
//! of horizontal bars), its latency percentiles (markers on a log scale), and
//! its purchases per second over time. Every mark names the report's number
//! it draws (`data-field`, a JSON pointer into the mode's object, and
//! `data-value`).

use super::svg::{Anchor, Mark, Shape, Svg, nice_max, nice_step, number};
use crate::report::{Latency, ModeReport, Report, ServerOutcome};

/// Every chart's width in pixels (they scale down with the page).
pub const WIDTH: f64 = 1080.0;
/// The column of mode names on the left.
const LABEL_W: f64 = 190.0;
/// Longer mode names are cut (the whole name is in the tooltip).
const LABEL_CHARS: usize = 24;

fn label(mode: &ModeReport) -> String {
    if mode.mode.chars().count() > LABEL_CHARS {
        let cut: String = mode.mode.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        mode.mode.clone()
    }
}

fn mode_labels(svg: &mut Svg, modes: &[ModeReport], y0: f64, row_h: f64) {
    for (i, mode) in modes.iter().enumerate() {
        let y = y0 + i as f64 * row_h;
        if i % 2 == 0 {
            svg.rect(0.0, y, WIDTH, row_h, "stripe", &Mark::default());
        }
        svg.text(
            LABEL_W - 12.0,
            y + row_h / 2.0 + 4.5,
            "mode",
            Anchor::End,
            &label(mode),
        );
    }
}

/// A rough width of a short label in pixels, to decide whether it fits.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 7.0
}

struct Panel {
    title: &'static str,
    field: &'static str,
    class: &'static str,
    value: fn(&ServerOutcome) -> i64,
}

const PANELS: [Panel; 4] = [
    Panel {
        title: "sold (orders)",
        field: "/server/orders",
        class: "sold",
        value: |s| s.orders,
    },
    Panel {
        title: "oversold",
        field: "/server/oversold",
        class: "oversold",
        value: |s| s.oversold,
    },
    Panel {
        title: "lost updates",
        field: "/server/lost_updates",
        class: "lost",
        value: |s| s.lost_updates,
    },
    Panel {
        title: "unsold",
        field: "/server/unsold",
        class: "unsold",
        value: |s| s.unsold,
    },
];

/// What each mode sold, as the service counts it: four panels of horizontal
/// bars (sold, oversold, lost updates, unsold), each on its own scale, the
/// value written at each bar's end. `None` without the service's numbers
/// (`--get`).
pub fn outcomes(report: &Report) -> Option<String> {
    let modes = &report.modes;
    if modes.iter().all(|m| m.server.is_none()) {
        return None;
    }
    const GAP: f64 = 28.0;
    const ROW_H: f64 = 24.0;
    const BAR_H: f64 = 14.0;
    let y0 = 40.0;
    let bottom = y0 + modes.len() as f64 * ROW_H;
    let height = bottom + 46.0;
    let panel_w = (WIDTH - LABEL_W - 3.0 * GAP - 20.0) / 4.0;
    let stock = report.parameters.stock as f64;
    let mut svg = Svg::new(
        "chart-sold",
        WIDTH,
        height,
        "What each strategy sold",
        &format!(
            "Four panels of horizontal bars, one row per strategy: units sold (orders), \
             oversold, lost updates and unsold, as the service counted them. The stock was {}.",
            report.parameters.stock
        ),
    );
    mode_labels(&mut svg, modes, y0, ROW_H);
    for (p, panel) in PANELS.iter().enumerate() {
        let x0 = LABEL_W + p as f64 * (panel_w + GAP);
        let values: Vec<Option<i64>> = modes
            .iter()
            .map(|m| m.server.as_ref().map(|s| (panel.value)(s)))
            .collect();
        let mut highest = values.iter().flatten().copied().max().unwrap_or(0) as f64;
        if p == 0 {
            highest = highest.max(stock);
        }
        let max = nice_max(highest);
        let x = |v: f64| x0 + v / max * panel_w;

        svg.text(
            x0,
            16.0,
            &format!("panel-title {}", panel.class),
            Anchor::Start,
            panel.title,
        );
        for tick in [0.0, max / 2.0, max] {
            svg.line(
                (x(tick), y0),
                (x(tick), bottom),
                if tick == 0.0 { "axis" } else { "grid" },
            );
            svg.text(
                x(tick),
                bottom + 15.0,
                "tick",
                Anchor::Middle,
                &number(tick, 1),
            );
        }
        if p == 0 {
            svg.line((x(stock), y0 - 8.0), (x(stock), bottom), "stock");
            svg.text(
                x(stock),
                y0 - 11.0,
                "note",
                Anchor::Middle,
                &format!("stock {}", report.parameters.stock),
            );
        }
        for (i, (mode, value)) in modes.iter().zip(&values).enumerate() {
            let y = y0 + i as f64 * ROW_H + (ROW_H - BAR_H) / 2.0;
            let text_y = y + BAR_H / 2.0 + 4.5;
            let Some(value) = *value else {
                svg.text(x0 + 4.0, text_y, "value none", Anchor::Start, "–");
                continue;
            };
            let end = x(value as f64);
            svg.rect(
                x0,
                y,
                end - x0,
                BAR_H,
                &format!("bar {}", panel.class),
                &Mark {
                    tooltip: Some(format!("{}: {} {value}", mode.mode, panel.title)),
                    data: vec![
                        ("mode", mode.mode.clone()),
                        ("field", panel.field.to_string()),
                        ("value", value.to_string()),
                    ],
                },
            );
            let text = value.to_string();
            if end + 4.0 + text_width(&text) <= x0 + panel_w + GAP - 4.0 {
                svg.text(end + 4.0, text_y, "value", Anchor::Start, &text);
            } else {
                svg.text(end - 4.0, text_y, "value inside", Anchor::End, &text);
            }
        }
    }
    svg.text(
        LABEL_W,
        bottom + 36.0,
        "axis-title",
        Anchor::Start,
        "units, as the service counts them (GET /api/products/{id} after the crowd); each panel on its own scale",
    );
    Some(svg.finish())
}

/// One lane of the latency chart: which latencies, drawn how.
struct Lane {
    name: &'static str,
    /// Said in the lane when a mode had no such answer.
    empty: &'static str,
    /// The JSON pointer of the lane's latency object in a mode.
    field: &'static str,
    class: &'static str,
    pick: fn(&ModeReport) -> Option<&Latency>,
}

const SOLD: Lane = Lane {
    name: "sold",
    empty: "no sales",
    field: "/latency_ms/sold",
    class: "lane-sold",
    pick: |m| m.latency_ms.sold.as_ref(),
};
const REFUSED: Lane = Lane {
    name: "refused",
    empty: "no refusals",
    field: "/latency_ms/refused",
    class: "lane-refused",
    pick: |m| m.latency_ms.refused.as_ref(),
};
const ALL: Lane = Lane {
    name: "all",
    empty: "no answers",
    field: "/latency_ms/all",
    class: "lane-sold",
    pick: |m| m.latency_ms.all.as_ref(),
};

type Percentile = (&'static str, &'static str, Shape, fn(&Latency) -> f64);

const PERCENTILES: [Percentile; 4] = [
    ("p50", "p50", Shape::Circle, |l| l.p50),
    ("p90", "p90", Shape::Square, |l| l.p90),
    ("p99", "p99", Shape::Triangle, |l| l.p99),
    ("max", "max", Shape::Diamond, |l| l.max),
];

/// `1 ms`, `10 s`, `0.1 ms`: a decade of the log axis.
fn decade_label(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", number(ms / 1000.0, 3))
    } else if ms >= 1.0 {
        format!("{} ms", number(ms, 0))
    } else {
        format!("{} ms", number(ms, 3))
    }
}

/// Latency percentiles per mode on a log scale: for each mode a lane of its
/// sold purchases (filled markers) and, when there were any, a lane of its
/// refusals (hollow markers); p50 ●, p90 ■, p99 ▲, max ◆, joined by a line.
pub fn latency(report: &Report) -> String {
    let modes = &report.modes;
    let lanes: Vec<&Lane> = if report.parameters.get_path.is_some() {
        vec![&ALL]
    } else if modes.iter().any(|m| m.latency_ms.refused.is_some()) {
        vec![&SOLD, &REFUSED]
    } else {
        vec![&SOLD]
    };
    const LANE_H: f64 = 17.0;
    let row_h = lanes.len() as f64 * LANE_H + 8.0;
    let y0 = 40.0;
    let bottom = y0 + modes.len() as f64 * row_h;
    let height = bottom + 46.0;
    let plot_x0 = LABEL_W + 64.0;
    let plot_w = WIDTH - plot_x0 - 28.0;

    let values: Vec<f64> = modes
        .iter()
        .flat_map(|m| lanes.iter().filter_map(|lane| (lane.pick)(m)))
        .flat_map(|l| PERCENTILES.map(|(_, _, _, value)| value(l)))
        .filter(|v| *v > 0.0)
        .collect();
    let smallest = values.iter().copied().fold(f64::INFINITY, f64::min);
    let largest = values.iter().copied().fold(0.0, f64::max);
    let (mut lo, hi) = if values.is_empty() {
        (1.0, 1000.0)
    } else {
        (
            10f64.powf(smallest.max(0.001).log10().floor()),
            10f64.powf(largest.max(0.001).log10().ceil()),
        )
    };
    let hi = if hi <= lo { lo * 10.0 } else { hi };
    if hi / lo < 100.0 {
        lo = hi / 100.0;
    }
    let x = |ms: f64| {
        let ms = ms.clamp(lo, hi);
        plot_x0 + (ms.log10() - lo.log10()) / (hi.log10() - lo.log10()) * plot_w
    };

    let what = if lanes.len() == 2 {
        "of sold purchases (filled markers) and of refusals: 409 sold out or lock lost, 429 (hollow markers)"
    } else if report.parameters.get_path.is_some() {
        "of every answer"
    } else {
        "of sold purchases"
    };
    let mut svg = Svg::new(
        "chart-latency",
        WIDTH,
        height,
        "Latency percentiles per strategy, log scale",
        &format!(
            "One row per strategy: the p50 (circle), p90 (square), p99 (triangle) and maximum \
             (diamond) latency {what}, in milliseconds on a logarithmic axis."
        ),
    );

    // The legend: the shapes, then filled and hollow.
    let mut lx = plot_x0;
    for (name, _, shape, _) in PERCENTILES {
        svg.marker(
            shape,
            (lx + 5.0, 13.0),
            10.0,
            "marker lane-sold",
            &Mark::default(),
        );
        svg.text(lx + 14.0, 17.5, "legend", Anchor::Start, name);
        lx += 58.0;
    }
    if lanes.len() == 2 {
        svg.marker(
            Shape::Circle,
            (lx + 20.0, 13.0),
            10.0,
            "marker lane-sold",
            &Mark::default(),
        );
        svg.text(
            lx + 30.0,
            17.5,
            "legend",
            Anchor::Start,
            "filled: sold (201)",
        );
        svg.marker(
            Shape::Circle,
            (lx + 160.0, 13.0),
            10.0,
            "marker lane-refused",
            &Mark::default(),
        );
        svg.text(
            lx + 170.0,
            17.5,
            "legend",
            Anchor::Start,
            "hollow: refused (409 sold out or lock lost, 429 busy)",
        );
    }

    mode_labels(&mut svg, modes, y0, row_h);
    let mut decade = lo;
    while decade <= hi * 1.000_001 {
        for minor in [2.0, 5.0] {
            if decade * minor < hi {
                let xm = x(decade * minor);
                svg.line((xm, y0), (xm, bottom), "grid minor");
            }
        }
        svg.line((x(decade), y0), (x(decade), bottom), "grid");
        svg.text(
            x(decade),
            bottom + 15.0,
            "tick",
            Anchor::Middle,
            &decade_label(decade),
        );
        decade *= 10.0;
    }

    for (i, mode) in modes.iter().enumerate() {
        for (j, lane) in lanes.iter().enumerate() {
            let y = y0 + i as f64 * row_h + 4.0 + j as f64 * LANE_H + LANE_H / 2.0;
            svg.text(plot_x0 - 8.0, y + 4.0, "lane", Anchor::End, lane.name);
            let Some(latency) = (lane.pick)(mode) else {
                svg.text(
                    plot_x0 + 6.0,
                    y + 4.0,
                    "value none",
                    Anchor::Start,
                    lane.empty,
                );
                continue;
            };
            svg.line(
                (x(latency.p50), y),
                (x(latency.max), y),
                &format!("range {}", lane.class),
            );
            for (name, key, shape, value) in PERCENTILES {
                let ms = value(latency);
                svg.marker(
                    shape,
                    (x(ms), y),
                    10.0,
                    &format!("marker {}", lane.class),
                    &Mark {
                        tooltip: Some(format!(
                            "{}: {} {name} {} ms (of {})",
                            mode.mode,
                            lane.name,
                            number(ms, 3),
                            latency.count
                        )),
                        data: vec![
                            ("mode", mode.mode.clone()),
                            ("field", format!("{}/{key}", lane.field)),
                            ("value", ms.to_string()),
                        ],
                    },
                );
            }
        }
    }
    svg.text(
        plot_x0,
        bottom + 36.0,
        "axis-title",
        Anchor::Start,
        "milliseconds from sending the request to its answer, log scale (each labelled line ×10)",
    );
    svg.finish()
}

/// At most this many bars per row: past it, neighbouring 100 ms buckets are
/// merged.
const MAX_BINS: usize = 400;

/// Purchases per second over time, one row per mode on a shared time axis,
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
    const ROW_H: f64 = 42.0;
    const PLOT_H: f64 = 30.0;
    let y0 = 12.0;
    let bottom = y0 + modes.len() as f64 * ROW_H;
    let height = bottom + 46.0;
    let plot_x0 = LABEL_W;
    let plot_w = WIDTH - LABEL_W - 170.0;
    let span = modes.iter().map(|m| m.elapsed_s).fold(0.1, f64::max);
    let x = |t: f64| plot_x0 + t.clamp(0.0, span) / span * plot_w;
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
             on a shared time axis in seconds; each row is scaled to its own peak, \
             written at its right with the mean."
        ),
    );
    mode_labels(&mut svg, modes, y0, ROW_H);
    let step = nice_step(span / 8.0);
    let mut t = 0.0;
    while t <= span + 1e-9 {
        svg.line(
            (x(t), y0),
            (x(t), bottom),
            if t == 0.0 { "axis" } else { "grid" },
        );
        svg.text(
            x(t),
            bottom + 15.0,
            "tick",
            Anchor::Middle,
            &format!("{} s", number(t, 2)),
        );
        t += step;
    }

    for (i, mode) in modes.iter().enumerate() {
        let base = y0 + i as f64 * ROW_H + (ROW_H - PLOT_H) / 2.0 + PLOT_H;
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
    }
    let merged = modes
        .iter()
        .filter_map(|m| m.timeline.as_ref())
        .any(|t| t.sold.len() > MAX_BINS);
    svg.text(
        plot_x0,
        bottom + 36.0,
        "axis-title",
        Anchor::Start,
        &format!(
            "seconds since the crowd started (grey: until its last answer) · {what} per second in each {bucket_ms} ms{} · each row on its own scale",
            if merged { " (neighbours merged past 400 bars)" } else { "" }
        ),
    );
    Some(svg.finish())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
