//! What each mode sold: small multiples of horizontal bars.

use super::super::svg::{Anchor, Mark, Svg, nice_max, number};
use super::{LABEL_W, WIDTH, mode_labels, text_width};
use crate::report::{Report, ServerOutcome};

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
