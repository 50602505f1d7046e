//! `--repeat`: a table of the spread over every run of each mode, each
//! number naming its JSON field as the verdict table's do.

use super::svg::esc;
use crate::printer::{column_title, word_of};
use crate::report::{ModeReport, Report, Spread, measured_by_answers};

/// One median, min and max: three cells naming `/repeat/{field}/…`.
fn spread_cells(html: &mut String, field: &str, spread: Option<&Spread>, decimals: usize) {
    for (stat, value) in [
        ("median", spread.map(|s| s.median)),
        ("min", spread.map(|s| s.min)),
        ("max", spread.map(|s| s.max)),
    ] {
        html.push_str(&format!(
            "<td class=\"num{}\" data-field=\"/repeat/{field}/{stat}\" data-value=\"{}\">{}</td>",
            if value.is_some() { "" } else { " empty" },
            value.map_or(String::new(), |v| v.to_string()),
            value.map_or("-".to_string(), |v| format!("{v:.decimals$}"))
        ));
    }
}

/// The section, or nothing when every mode ran once.
pub(super) fn section(report: &Report) -> String {
    let modes: Vec<&ModeReport> = report.modes.iter().filter(|m| m.repeat.is_some()).collect();
    if modes.is_empty() {
        return String::new();
    }
    let mut html = format!(
        "<section id=\"repeats\">\n<h2>{} runs per mode</h2>\n<p>The median and the spread \
         (min–max) of every run; the table above shows one run of each mode: the first that \
         failed its verdict, else the median run by throughput. Any run that fails fails the \
         mode.</p>\n<div class=\"scroll\">\n<table>\n<thead><tr><th scope=\"col\">lock</th>\
         <th scope=\"col\">verdict of each run</th><th scope=\"col\" class=\"num\">shown<small>run</small></th>\
         <th scope=\"col\" class=\"num\">throughput<small>median /s</small></th>\
         <th scope=\"col\" class=\"num\">min</th><th scope=\"col\" class=\"num\">max</th>\
         <th scope=\"col\" class=\"num\">p99<small>median ms</small></th>\
         <th scope=\"col\" class=\"num\">min</th><th scope=\"col\" class=\"num\">max</th></tr></thead>\n<tbody>\n",
        report.parameters.repeat
    );
    for mode in modes {
        let Some(repeat) = &mode.repeat else { continue };
        let words: Vec<String> = repeat
            .runs
            .iter()
            .map(|run| {
                let word = word_of(run.verdict.as_ref());
                let class = if run.verdict.as_ref().is_some_and(|v| !v.safe) {
                    "bad"
                } else {
                    "safe"
                };
                format!("<span class=\"word {class}\">{}</span>", esc(&word))
            })
            .collect();
        html.push_str(&format!(
            "<tr data-mode=\"{}\"><td class=\"mode\">{}</td><td class=\"runs\">{}</td>\
             <td class=\"num\" data-field=\"/repeat/shown_run\" data-value=\"{}\">{}</td>",
            esc(&mode.mode),
            esc(&column_title(report, mode)),
            words.join(" "),
            repeat.shown_run,
            repeat.shown_run
        ));
        let (throughput, p99) = if measured_by_answers(mode) {
            (
                ("requests_per_s", &repeat.requests_per_s),
                ("p99_ms", repeat.p99_ms.as_ref()),
            )
        } else {
            (
                ("purchases_per_s", &repeat.purchases_per_s),
                ("sold_p99_ms", repeat.sold_p99_ms.as_ref()),
            )
        };
        spread_cells(&mut html, throughput.0, Some(throughput.1), 1);
        spread_cells(&mut html, p99.0, p99.1, 1);
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</div>\n</section>\n");
    html
}
