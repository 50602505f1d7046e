//! The report's three charts, one `<svg>` each, a row per mode so that a
//! lab of 15 strategies reads top to bottom: what each sold (small multiples
//! of horizontal bars), its latency percentiles (markers on a log scale), and
//! its purchases per second over time. Every mark names the report's number
//! it draws (`data-field`, a JSON pointer into the mode's object, and
//! `data-value`).

mod latency;
mod sold;
mod throughput;

pub use self::latency::latency;
pub use self::sold::outcomes;
pub use self::throughput::throughput;

use super::svg::{Anchor, Mark, Svg};
use crate::report::ModeReport;

/// Every chart's width in pixels (they scale down with the page).
pub const WIDTH: f64 = 1080.0;
/// The column of mode names on the left.
pub(super) const LABEL_W: f64 = 190.0;
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

pub(super) fn mode_labels(svg: &mut Svg, modes: &[ModeReport], y0: f64, row_h: f64) {
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
pub(super) fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 7.0
}
