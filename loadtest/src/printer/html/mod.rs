//! The report as one self-contained HTML page: inline CSS and inline SVG, no
//! script, no font, nothing fetched from anywhere, so it opens from a file,
//! an e-mail or a CI artifact as it is. It holds the verdict table (the text
//! report's numbers, each cell naming its JSON field), a fairness line per
//! mode that has one, and three charts ([`charts`]). Every text from the run
//! (mode names, reasons, sentences) is escaped.

mod charts;
mod repeat;
mod svg;
mod table;

use std::io::{self, Write};

use self::svg::esc;
use self::table::table;
use super::{column_title, fairness_sentence, headline};
use crate::report::Report;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1d1d1f;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 1340px; margin: 0 auto; padding: 16px 12px 40px; }
h1 { font-size: 1.55rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 1.8rem 0 .4rem; padding-bottom: .2rem; border-bottom: 1px solid #ddd; }
p, li { max-width: 85ch; }
.run { color: #444; margin: .1rem 0; }
.run li { margin: 0; }
.note { color: #6b4e00; }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 4px; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #888; font-weight: 600; vertical-align: bottom; }
th small { display: block; font-weight: 400; color: #666; }
.num { text-align: right; }
td.num { white-space: nowrap; }
tbody tr:nth-child(odd) { background: #f4f5f7; }
td.mode { font-weight: 600; white-space: nowrap; }
td.empty { color: #999; }
.word { font-weight: 700; padding: 0 .3em; border-radius: 3px; white-space: nowrap; }
.word.bad { background: #fbe3e1; color: #8e1b12; }
.word.under { background: #fdf0d8; color: #6b4300; }
.word.safe { background: #e2f2e5; color: #1d5a2a; }
.word.ref { background: #e4e7ec; color: #333; }
.scroll { overflow-x: auto; }
.scroll + .scroll { margin-top: 1rem; }
ul.verdicts, ul.fairness { list-style: none; padding: 0; font-size: 14px; }
ul.verdicts li { margin: .1rem 0; }
figure { margin: .4rem 0 1rem; }
figcaption { font-size: 13px; color: #444; max-width: 95ch; margin-top: .3rem; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #222; }
svg .mode { font-size: 13px; font-weight: 600; }
svg .panel-title { font-size: 13px; font-weight: 700; }
svg .tick, svg .note, svg .lane, svg .axis-title, svg .legend { fill: #555; }
svg .value.inside { fill: #fff; font-weight: 600; }
svg .value.none { fill: #999; }
svg .stripe { fill: #f4f5f7; }
svg .axis { stroke: #555; }
svg .grid { stroke: #d2d2d2; }
svg .grid.minor { stroke: #ececec; }
svg .baseline { stroke: #888; }
svg .stock { stroke: #111; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg .bar.sold { fill: #2c5d8f; }
svg .bar.oversold { fill: #c0392b; }
svg .bar.lost { fill: #d9822b; }
svg .bar.unsold { fill: #7a6a9c; }
svg .marker.lane-sold { fill: #1f4e79; stroke: #1f4e79; stroke-width: 1.5; }
svg .marker.lane-refused { fill: #fff; stroke: #b35300; stroke-width: 1.8; }
svg .range.lane-sold { stroke: #1f4e79; stroke-width: 2; }
svg .range.lane-refused { stroke: #b35300; stroke-width: 1.5; stroke-dasharray: 3 2; }
svg .rate { fill: #2c5d8f; fill-opacity: .85; }
svg .span { fill: #e4e7ec; }
svg .peak { stroke: #2c5d8f; stroke-opacity: .5; stroke-dasharray: 2 3; }
footer { margin-top: 2rem; color: #777; font-size: 12px; }
"#;

/// Writes the whole page.
pub fn html(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut page = String::with_capacity(64 * 1024);
    let title = match &report.parameters.get_path {
        Some(path) => format!("flashsale-loadtest: GET {path}"),
        None => format!(
            "flashsale-loadtest: {} mode{} on product {}, stock {}",
            report.modes.len(),
            if report.modes.len() == 1 { "" } else { "s" },
            report.parameters.product,
            report.parameters.stock
        ),
    };
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{}</title>\n", esc(&title)));
    page.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    page.push_str(&format!("<h1>{}</h1>\n", esc(&title)));
    page.push_str("<ul class=\"run\">\n");
    for line in run_lines(report) {
        page.push_str(&format!("<li>{}</li>\n", esc(&line)));
    }
    page.push_str("</ul>\n");

    page.push_str("<section id=\"verdicts\">\n<h2>Verdicts</h2>\n");
    page.push_str(&table(report));
    let fairness: Vec<String> = report
        .modes
        .iter()
        .filter_map(|m| {
            m.fairness
                .as_ref()
                .map(|f| format!("{}: {}", column_title(report, m), fairness_sentence(f)))
        })
        .collect();
    if !fairness.is_empty() {
        page.push_str("<ul class=\"fairness\">\n");
        for line in fairness {
            page.push_str(&format!("<li>{}</li>\n", esc(&line)));
        }
        page.push_str(
            "</ul>\n<p>FIFO wait: the buyers in flight over purchases per second, \
                       what each would wait in a first-come, first-served queue.</p>\n",
        );
    }
    if report.parameters.get_path.is_none() && report.modes.iter().all(|m| m.lock.is_none()) {
        page.push_str(
            "<p class=\"note\">No lock wait or hold times: the service did not answer \
             <code>GET /metrics</code> with Prometheus text during this run.</p>\n",
        );
    }
    page.push_str("</section>\n");
    page.push_str(&repeat::section(report));

    if let Some(svg) = charts::outcomes(report) {
        page.push_str("<section id=\"sold\">\n<h2>What each strategy sold</h2>\n<figure>\n");
        page.push_str(&svg);
        page.push_str(&format!(
            "<figcaption>As the service counts them after each crowd, against a stock of {} \
             (dashed line). <b>Oversold</b>: orders beyond the stock. <b>Lost updates</b>: sales \
             whose stock decrement another buyer overwrote. <b>Unsold</b>: stock left while \
             buyers were turned away busy or lost their lock. A safe lock has no bar in the \
             second and third panels.</figcaption>\n</figure>\n</section>\n",
            report.parameters.stock
        ));
    }

    page.push_str("<section id=\"latency\">\n<h2>Latency</h2>\n<figure>\n");
    page.push_str(&charts::latency(report));
    page.push_str(
        "<figcaption>Percentiles of the time from sending a request to its answer, on a \
         logarithmic axis: each labelled line is ten times the one before. Refusals (sold \
         out, lock lost, busy) are drawn apart from sales, so fast refusals cannot hide slow \
         purchases. A wide gap from p50 to p99 is a lock that serves some buyers at once and \
         lets others wait.</figcaption>\n</figure>\n</section>\n",
    );

    match charts::throughput(report) {
        Some(svg) => {
            page.push_str("<section id=\"throughput\">\n<h2>Over time</h2>\n<figure>\n");
            page.push_str(&svg);
            page.push_str(
                "<figcaption>Each row is one crowd from its first request to its last answer, \
                 on its own time axis: a crowd of 2 s and one of 25 s both fill the width. Purchases stop when the stock runs out; a lock shows \
                 as a lower, steadier rate than no lock at all.</figcaption>\n</figure>\n</section>\n",
            );
        }
        None => page.push_str(
            "<section id=\"throughput\">\n<h2>Over time</h2>\n<p class=\"note\">This report \
             has no timeline: it was written before JSON schema version 3.</p>\n</section>\n",
        ),
    }

    page.push_str(&format!(
        "<footer>Written by flashsale-loadtest · JSON schema version {} · run {}</footer>\n\
         </main>\n</body>\n</html>\n",
        report.schema_version,
        esc(&report.parameters.run_id)
    ));
    out.write_all(page.as_bytes())
}

/// The headline and what the text report says under it, without the
/// targets' `http://` (the generator speaks nothing else, and the page
/// refers to no address).
fn run_lines(report: &Report) -> Vec<String> {
    let urls: Vec<&str> = report
        .parameters
        .urls
        .iter()
        .map(|u| u.strip_prefix("http://").unwrap_or(u))
        .collect();
    let mut lines = vec![
        headline(report)
            .trim_start_matches("flashsale-loadtest: ")
            .to_string(),
        super::targets_line(&report.parameters, &urls),
    ];
    for skipped in &report.parameters.skipped {
        lines.push(format!("skipped lock={}: {}", skipped.mode, skipped.reason));
    }
    lines
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};
    use serde_json::Value;

    use super::*;
    use crate::catalogue::SkippedMode;
    use crate::metrics::LockMetrics;
    use crate::printer::Format;
    use crate::printer::tests::{many, render, sample};
    use crate::report::Fairness;

    fn select<'a>(page: &'a Html, selector: &str) -> Vec<scraper::ElementRef<'a>> {
        page.select(&Selector::parse(selector).unwrap()).collect()
    }

    /// The sample with everything a page can show: lock times from
    /// `/metrics`, a fairness line, and hostile text from the service.
    fn full() -> Report {
        let mut report = many();
        report.modes[1].lock = Some(LockMetrics {
            instances: 2,
            waits: 1000,
            wait_p50_ms: Some(37.5),
            wait_p99_ms: Some(497.5),
            holds: 100,
            hold_p50_ms: Some(5.8),
            hold_p99_ms: None,
            expired: 1,
            purchases: [("sold".to_string(), 100)].into(),
        });
        report.modes[1].fairness = Some(Fairness {
            fifo_wait_ms: 13.0,
            sold_p99_ms: 910.0,
            ratio: 70.0,
            in_flight: 64,
        });
        report.parameters.skipped.push(SkippedMode {
            mode: "zk".into(),
            reason: "<script>alert('x')</script> & \"quotes\"".into(),
        });
        report
    }

    #[test]
    fn the_page_parses_with_one_svg_per_chart_and_refers_to_nothing_outside() {
        let html = render(&full(), Format::Html);
        let page = Html::parse_document(&html);

        assert!(page.errors.is_empty(), "{:?}", page.errors);
        let svgs = select(&page, "svg");
        let ids: Vec<_> = svgs.iter().map(|s| s.value().attr("id").unwrap()).collect();
        assert_eq!(ids, ["chart-sold", "chart-latency", "chart-throughput"]);
        for svg in &svgs {
            assert_eq!(svg.value().attr("role"), Some("img"));
        }
        for needle in [
            "http://", "https://", "src=", "<script", "<link", "url(", "@import",
        ] {
            assert!(!html.contains(needle), "{needle} in the page");
        }
        for element in select(&page, "*") {
            for (name, value) in element.value().attrs() {
                assert!(
                    !(name == "href" || name == "src" || value.contains("//")),
                    "{name}={value} refers outside"
                );
            }
        }
        assert!(select(&page, "script, link, img, iframe, object, embed").is_empty());
    }

    #[test]
    fn every_number_in_the_verdict_table_is_the_json_reports() {
        let report = full();
        let json: Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
        let page = Html::parse_document(&render(&report, Format::Html));

        let tables = select(&page, "#verdicts table.numbers");
        assert_eq!(
            tables.len(),
            2,
            "the sale's numbers, then the orders' and the lock's"
        );
        let mut checked = 0;
        let body_rows = Selector::parse("tbody tr").unwrap();
        for (row, mode) in tables
            .iter()
            .flat_map(|t| t.select(&body_rows))
            .zip(json["modes"].as_array().unwrap().iter().cycle())
        {
            assert_eq!(row.value().attr("data-mode"), mode["mode"].as_str());
            for cell in row.select(&Selector::parse("td[data-value]").unwrap()) {
                let field = cell.value().attr("data-field").unwrap();
                let shown = cell.value().attr("data-value").unwrap();
                match mode.pointer(field) {
                    Some(Value::Number(n)) => {
                        assert_eq!(
                            shown.parse::<f64>().unwrap(),
                            n.as_f64().unwrap(),
                            "{field}"
                        );
                    }
                    None | Some(Value::Null) => assert_eq!(shown, "", "{field}"),
                    Some(other) => panic!("{field} is {other}"),
                }
                checked += 1;
            }
            let word: String = row
                .select(&Selector::parse("td.verdict").unwrap())
                .next()
                .unwrap()
                .text()
                .collect();
            assert!(
                [
                    "OVERSOLD",
                    "LOST ORDERS",
                    "LOST UPDATES",
                    "DUPLICATES",
                    "NOT DRAINED",
                    "UNDERSOLD",
                    "reference",
                    "safe"
                ]
                .contains(&word.as_str())
            );
            let selector = format!(
                "ul.verdicts li[data-mode=\"{}\"] .summary",
                mode["mode"].as_str().unwrap()
            );
            let summary: String = select(&page, &selector)[0].text().collect();
            assert_eq!(summary, mode["verdict"]["summary"].as_str().unwrap());
        }
        // 13 numbers, 5 of the orders, 5 of the lock and the fairness ratio
        // per mode.
        assert_eq!(checked, report.modes.len() * 24);
    }

    #[test]
    fn every_bar_and_marker_draws_the_json_reports_number() {
        let report = full();
        let json: Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
        let page = Html::parse_document(&render(&report, Format::Html));
        let mode = |name: &str| {
            json["modes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["mode"] == name)
                .unwrap()
                .clone()
        };

        let marks = select(&page, "svg [data-field][data-value]");
        for mark in &marks {
            let attrs = mark.value();
            let value = mode(attrs.attr("data-mode").unwrap())
                .pointer(attrs.attr("data-field").unwrap())
                .and_then(Value::as_f64)
                .unwrap();
            assert_eq!(
                attrs.attr("data-value").unwrap().parse::<f64>().unwrap(),
                value
            );
        }
        let bars = select(&page, "#chart-sold rect[data-field]");
        assert_eq!(bars.len(), 4 * report.modes.len());
        // Four percentiles of sold and of refused per mode with both.
        let markers = select(&page, "#chart-latency [data-field]");
        let lanes: usize = report
            .modes
            .iter()
            .map(|m| {
                usize::from(m.latency_ms.sold.is_some())
                    + usize::from(m.latency_ms.refused.is_some())
            })
            .sum();
        assert_eq!(markers.len(), 4 * lanes);
        // One area per mode that sold, its total the timeline's.
        for area in select(&page, "#chart-throughput path[data-field]") {
            let mode = mode(area.value().attr("data-mode").unwrap());
            let sold: u64 = mode["timeline"]["sold"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .sum();
            assert_eq!(
                area.value().attr("data-total"),
                Some(sold.to_string().as_str())
            );
            let accepted = mode["requests"]["sold_201"].as_u64().unwrap()
                + mode["requests"]["accepted_202"].as_u64().unwrap();
            assert_eq!(sold, accepted);
        }
    }

    #[test]
    fn text_from_the_run_is_escaped() {
        let html = render(&full(), Format::Html);
        let page = Html::parse_document(&html);

        assert!(
            html.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"
            )
        );
        let items: Vec<String> = select(&page, "ul.run li")
            .iter()
            .map(|li| li.text().collect())
            .collect();
        assert!(
            items
                .contains(&"skipped lock=zk: <script>alert('x')</script> & \"quotes\"".to_string()),
            "{items:?}"
        );
        assert_eq!(items[1], "target: 127.0.0.1:8080");
    }

    #[test]
    fn a_lab_of_sixteen_strategies_gets_a_row_each_in_every_chart() {
        let mut report = many();
        let template = report.modes[1].clone();
        while report.modes.len() < 16 {
            let mut mode = template.clone();
            mode.mode = format!("strategy-with-a-long-name-{}", report.modes.len());
            report.modes.push(mode);
        }
        let page = Html::parse_document(&render(&report, Format::Html));

        for chart in ["#chart-sold", "#chart-latency", "#chart-throughput"] {
            let names: Vec<String> = select(&page, &format!("{chart} text.mode"))
                .iter()
                .map(|t| t.text().collect())
                .collect();
            assert_eq!(names.len(), 16, "{chart}");
            assert_eq!(names[15], "strategy-with-a-long-na…", "{chart}");
        }
        let height: f64 = select(&page, "#chart-sold")[0]
            .value()
            .attr("height")
            .unwrap()
            .parse()
            .unwrap();
        assert!(height < 600.0, "16 rows fit on a screen: {height}");
    }

    #[test]
    fn a_report_without_a_timeline_or_metrics_says_so_instead_of_drawing_them() {
        let mut report = sample();
        for mode in &mut report.modes {
            mode.timeline = None;
        }
        let html = render(&report, Format::Html);
        let page = Html::parse_document(&html);

        assert_eq!(select(&page, "svg").len(), 2);
        assert!(html.contains("no timeline: it was written before JSON schema version 3"));
        assert!(html.contains("No lock wait or hold times"));
    }
}
