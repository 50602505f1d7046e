//! Latency percentiles per mode, markers on a log axis.

use super::super::svg::{Anchor, Mark, Shape, Svg, number};
use super::{LABEL_W, WIDTH, mode_labels};
use crate::report::{Latency, ModeReport, Report};

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
