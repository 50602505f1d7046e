//! Writes a [`Report`] as text, JSON, Markdown or CSV to any `Write`.

use std::io::{self, Write};

use clap::ValueEnum;

use crate::report::{Latency, ModeReport, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A side-by-side table, one column per mode, and a verdict per mode.
    Text,
    /// One object: `parameters` and `modes` (fields in the README, "Run the benchmark").
    Json,
    /// The side-by-side table as Markdown, and the verdicts as a list.
    Markdown,
    /// A header line and one row per mode.
    Csv,
}

pub fn print(out: &mut dyn Write, report: &Report, format: Format) -> io::Result<()> {
    match format {
        Format::Text => text(out, report),
        Format::Json => json(out, report),
        Format::Markdown => markdown(out, report),
        Format::Csv => csv(out, report),
    }
}

pub fn json(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// The column title of a mode: `lock=redis`, or `GET /healthz` for `--get`.
pub fn column_title(report: &Report, mode: &ModeReport) -> String {
    match report.parameters.get_path {
        Some(_) => mode.mode.clone(),
        None => format!("lock={}", mode.mode),
    }
}

/// One line of the side-by-side table.
enum Row {
    Section(&'static str),
    Line(String, Vec<String>),
}

fn line(label: impl Into<String>, values: Vec<String>) -> Row {
    Row::Line(label.into(), values)
}

fn rows(report: &Report) -> Vec<Row> {
    let modes = &report.modes;
    let each = |f: &dyn Fn(&ModeReport) -> String| modes.iter().map(f).collect::<Vec<_>>();
    let any = |f: &dyn Fn(&ModeReport) -> bool| modes.iter().any(f);
    let mut rows = vec![
        Row::Section("requests"),
        line("sent", each(&|m| m.requests.sent.to_string())),
        line("completed", each(&|m| m.requests.completed.to_string())),
    ];
    if report.parameters.get_path.is_none() {
        rows.push(line("201 sold", each(&|m| m.requests.sold_201.to_string())));
        rows.push(line(
            "409 sold out",
            each(&|m| m.requests.sold_out_409.to_string()),
        ));
        rows.push(line("429 busy", each(&|m| m.requests.busy_429.to_string())));
        rows.push(line(
            "other 4xx",
            each(&|m| m.requests.other_4xx.to_string()),
        ));
        if any(&|m| m.requests.other_2xx > 0) {
            rows.push(line(
                "other 2xx",
                each(&|m| m.requests.other_2xx.to_string()),
            ));
        }
    } else {
        rows.push(line(
            "2xx",
            each(&|m| (m.requests.other_2xx + m.requests.sold_201).to_string()),
        ));
        rows.push(line(
            "4xx",
            each(&|m| {
                (m.requests.sold_out_409 + m.requests.busy_429 + m.requests.other_4xx).to_string()
            }),
        ));
    }
    rows.push(line("5xx", each(&|m| m.requests.server_5xx.to_string())));
    if any(&|m| m.requests.other_status > 0) {
        rows.push(line(
            "other status",
            each(&|m| m.requests.other_status.to_string()),
        ));
    }
    rows.push(line(
        "transport errors",
        each(&|m| m.transport_errors.total.to_string()),
    ));
    if any(&|m| m.transport_errors.total > 0) {
        rows.push(line(
            "  connect",
            each(&|m| m.transport_errors.connect.to_string()),
        ));
        rows.push(line(
            "  timeout",
            each(&|m| m.transport_errors.timeout.to_string()),
        ));
        rows.push(line(
            "  reset",
            each(&|m| m.transport_errors.reset.to_string()),
        ));
        rows.push(line(
            "  other",
            each(&|m| m.transport_errors.other.to_string()),
        ));
    }
    if report.parameters.rate.is_some() {
        rows.push(line(
            "started late",
            each(&|m| m.requests.started_late.to_string()),
        ));
        rows.push(line(
            "max start lag ms",
            each(&|m| format!("{:.2}", m.requests.max_start_lag_ms)),
        ));
    }
    if any(&|m| m.server.is_some()) {
        let server = |f: fn(&crate::report::ServerOutcome) -> i64| {
            move |m: &ModeReport| {
                m.server
                    .as_ref()
                    .map_or("-".to_string(), |s| f(s).to_string())
            }
        };
        rows.push(Row::Section("the service says"));
        rows.push(line("orders", each(&server(|s| s.orders))));
        rows.push(line("final stock", each(&server(|s| s.stock))));
        rows.push(line("oversold", each(&server(|s| s.oversold))));
        rows.push(line("lost updates", each(&server(|s| s.lost_updates))));
        rows.push(line("unsold", each(&server(|s| s.unsold))));
    }
    rows.push(Row::Section("throughput"));
    rows.push(line("elapsed s", each(&|m| format!("{:.2}", m.elapsed_s))));
    rows.push(line(
        "requests/s",
        each(&|m| format!("{:.1}", m.throughput.requests_per_s)),
    ));
    if report.parameters.get_path.is_none() {
        rows.push(line(
            "purchases/s",
            each(&|m| format!("{:.1}", m.throughput.purchases_per_s)),
        ));
    }
    type Pick = fn(&ModeReport) -> &Option<Latency>;
    let outcomes: [(&str, Pick); 5] = if report.parameters.get_path.is_none() {
        [
            ("sold", |m| &m.latency_ms.sold),
            ("sold out", |m| &m.latency_ms.sold_out),
            ("busy", |m| &m.latency_ms.busy),
            ("other", |m| &m.latency_ms.other),
            ("all", |m| &m.latency_ms.all),
        ]
    } else {
        [
            ("all", |m| &m.latency_ms.all),
            ("", |_| &None),
            ("", |_| &None),
            ("", |_| &None),
            ("", |_| &None),
        ]
    };
    rows.push(Row::Section("latency ms"));
    for (name, pick) in outcomes {
        if !any(&|m| pick(m).is_some()) {
            continue;
        }
        type Stat = fn(&Latency) -> f64;
        let stats: [(&str, Stat); 5] = [
            ("p50", |l| l.p50),
            ("p90", |l| l.p90),
            ("p99", |l| l.p99),
            ("p99.9", |l| l.p99_9),
            ("max", |l| l.max),
        ];
        for (stat, value) in stats {
            rows.push(line(
                format!("{name} {stat}"),
                each(&|m| {
                    pick(m)
                        .as_ref()
                        .map_or("-".to_string(), |l| format!("{:.2}", value(l)))
                }),
            ));
        }
    }
    rows
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
            "flashsale-loadtest: GET {path}, {budget}, concurrency {}, {model}",
            p.concurrency
        ),
        None => format!(
            "flashsale-loadtest: product {}, stock {}, {budget} per mode, concurrency {}, work {} ms, {model}",
            p.product, p.stock, p.concurrency, p.work_ms
        ),
    }
}

pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{}", headline(report))?;
    let urls = &report.parameters.urls;
    if urls.len() > 1 {
        writeln!(out, "targets (round-robin): {}", urls.join(", "))?;
    } else {
        writeln!(out, "target: {}", urls.join(", "))?;
    }
    writeln!(out)?;

    let titles: Vec<String> = report
        .modes
        .iter()
        .map(|m| column_title(report, m))
        .collect();
    let rows = rows(report);
    let label_width = rows
        .iter()
        .map(|r| match r {
            Row::Section(s) => s.len(),
            Row::Line(label, _) => label.len() + 2,
        })
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            rows.iter()
                .filter_map(|r| match r {
                    Row::Line(_, values) => Some(values[i].len()),
                    Row::Section(_) => None,
                })
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();

    write!(out, "{:label_width$}", "")?;
    for (title, width) in titles.iter().zip(&widths) {
        write!(out, "  {title:>width$}")?;
    }
    writeln!(out)?;
    for row in &rows {
        match row {
            Row::Section(name) => writeln!(out, "{name}")?,
            Row::Line(label, values) => {
                write!(out, "  {:w$}", label, w = label_width - 2)?;
                for (value, width) in values.iter().zip(&widths) {
                    write!(out, "  {value:>width$}")?;
                }
                writeln!(out)?;
            }
        }
    }

    let verdicts: Vec<(String, &str)> = report
        .modes
        .iter()
        .zip(&titles)
        .filter_map(|(m, title)| {
            m.verdict
                .as_ref()
                .map(|v| (title.clone(), v.summary.as_str()))
        })
        .collect();
    if !verdicts.is_empty() {
        writeln!(out)?;
        let width = verdicts.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
        for (title, summary) in verdicts {
            writeln!(out, "{title:width$}  {summary}")?;
        }
    }
    Ok(())
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
        match &mode.verdict {
            Some(v) => writeln!(out, "{title:width$}  {}", v.summary)?,
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
    writeln!(out)?;
    write!(out, "| |")?;
    for mode in &report.modes {
        write!(out, " {} |", column_title(report, mode))?;
    }
    writeln!(out)?;
    write!(out, "|---|")?;
    for _ in &report.modes {
        write!(out, "---:|")?;
    }
    writeln!(out)?;
    for row in rows(report) {
        match row {
            Row::Section(name) => {
                write!(out, "| **{name}** |")?;
                for _ in &report.modes {
                    write!(out, " |")?;
                }
                writeln!(out)?;
            }
            Row::Line(label, values) => {
                write!(out, "| {} |", label.trim())?;
                for value in values {
                    write!(out, " {value} |")?;
                }
                writeln!(out)?;
            }
        }
    }
    let verdicts: Vec<_> = report
        .modes
        .iter()
        .filter_map(|m| {
            m.verdict
                .as_ref()
                .map(|v| (column_title(report, m), &v.summary))
        })
        .collect();
    if !verdicts.is_empty() {
        writeln!(out)?;
        for (title, summary) in verdicts {
            writeln!(out, "- **{title}**: {summary}")?;
        }
    }
    Ok(())
}

const LATENCY_COLUMNS: [&str; 7] = ["count", "mean", "p50", "p90", "p99", "p99_9", "max"];

/// The CSV header: one column per number of a [`ModeReport`].
pub fn csv_header() -> Vec<String> {
    let mut columns: Vec<String> = [
        "mode",
        "requests_sent",
        "requests_completed",
        "sold_201",
        "sold_out_409",
        "busy_429",
        "other_4xx",
        "server_5xx",
        "other_2xx",
        "other_status",
        "started_late",
        "max_start_lag_ms",
        "transport_connect",
        "transport_timeout",
        "transport_reset",
        "transport_other",
        "transport_total",
        "initial_stock",
        "orders",
        "stock",
        "oversold",
        "lost_updates",
        "unsold",
        "elapsed_s",
        "requests_per_s",
        "purchases_per_s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for outcome in ["all", "sold", "sold_out", "busy", "other"] {
        for stat in LATENCY_COLUMNS {
            columns.push(format!("latency_{outcome}_{stat}_ms").replace("_count_ms", "_count"));
        }
    }
    columns.extend(["safe", "verdict"].map(String::from));
    columns
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn csv_row(mode: &ModeReport) -> Vec<String> {
    let r = &mode.requests;
    let t = &mode.transport_errors;
    let mut row: Vec<String> = vec![mode.mode.clone()];
    row.extend(
        [
            r.sent,
            r.completed,
            r.sold_201,
            r.sold_out_409,
            r.busy_429,
            r.other_4xx,
            r.server_5xx,
            r.other_2xx,
            r.other_status,
            r.started_late,
        ]
        .map(|n| n.to_string()),
    );
    row.push(r.max_start_lag_ms.to_string());
    row.extend([t.connect, t.timeout, t.reset, t.other, t.total].map(|n| n.to_string()));
    match &mode.server {
        Some(s) => row.extend(
            [
                s.initial_stock,
                s.orders,
                s.stock,
                s.oversold,
                s.lost_updates,
                s.unsold,
            ]
            .map(|n| n.to_string()),
        ),
        None => row.extend(std::iter::repeat_n(String::new(), 6)),
    }
    row.push(mode.elapsed_s.to_string());
    row.push(mode.throughput.requests_per_s.to_string());
    row.push(mode.throughput.purchases_per_s.to_string());
    let l = &mode.latency_ms;
    for latency in [&l.all, &l.sold, &l.sold_out, &l.busy, &l.other] {
        match latency {
            Some(l) => {
                row.push(l.count.to_string());
                row.extend([l.mean, l.p50, l.p90, l.p99, l.p99_9, l.max].map(|x| x.to_string()));
            }
            None => {
                row.push("0".to_string());
                row.extend(std::iter::repeat_n(String::new(), 6));
            }
        }
    }
    match &mode.verdict {
        Some(v) => {
            row.push(v.safe.to_string());
            row.push(v.summary.clone());
        }
        None => row.extend([String::new(), String::new()]),
    }
    row
}

pub fn csv(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{}", csv_header().join(","))?;
    for mode in &report.modes {
        let row: Vec<String> = csv_row(mode).iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crowd::Stats;
    use crate::report::{ModeReport, Parameters, SCHEMA_VERSION};
    use crate::service::Product;
    use std::time::Duration;

    fn sample() -> Report {
        let mut none = Stats::new();
        none.sent = 1000;
        for _ in 0..137 {
            none.record_status(201, 25_000);
        }
        for _ in 0..863 {
            none.record_status(409, 800);
        }
        none.elapsed = Duration::from_millis(1500);
        let mut redis = Stats::new();
        redis.sent = 1000;
        for _ in 0..100 {
            redis.record_status(201, 40_000);
        }
        for _ in 0..900 {
            redis.record_status(409, 900);
        }
        redis.elapsed = Duration::from_secs(3);
        let product = |orders, stock, oversold| Product {
            id: 1,
            name: "Phone".into(),
            initial_stock: 100,
            stock,
            orders,
            oversold,
            lost_updates: oversold,
        };
        Report {
            schema_version: SCHEMA_VERSION,
            parameters: Parameters {
                urls: vec!["http://127.0.0.1:8080".into()],
                product: 1,
                stock: 100,
                requests: Some(1000),
                duration_s: None,
                concurrency: 200,
                modes: vec!["none".into(), "redis".into()],
                work_ms: 20,
                model: "closed".into(),
                rate: None,
                timeout_s: 30.0,
                expect_safe: vec!["redis".into()],
                run_id: "x".into(),
                get_path: None,
            },
            modes: vec![
                ModeReport::new("none", &none, Some(&product(137, 0, 37))),
                ModeReport::new("redis", &redis, Some(&product(100, 0, 0))),
            ],
        }
    }

    fn render(format: Format) -> String {
        let mut buffer = Vec::new();
        print(&mut buffer, &sample(), format).unwrap();
        String::from_utf8(buffer).unwrap()
    }

    #[test]
    fn the_text_report_puts_modes_side_by_side_and_ends_with_the_verdicts() {
        let text = render(Format::Text);
        let header = text.lines().nth(3).unwrap();
        assert!(
            header.contains("lock=none") && header.contains("lock=redis"),
            "{text}"
        );
        let oversold = text
            .lines()
            .find(|l| l.trim_start().starts_with("oversold"))
            .unwrap();
        assert_eq!(
            oversold.split_whitespace().collect::<Vec<_>>(),
            ["oversold", "37", "0"]
        );
        assert!(text.contains("lock=none   sold 137 of 100: OVERSOLD by 37, 37 lost updates\n"));
        assert!(
            text.ends_with("lock=redis  sold exactly 100 of 100: safe\n"),
            "{text}"
        );
        assert!(text.contains("sold p99"));
        assert!(
            !text.contains("busy p50"),
            "no 429 in either mode: no busy rows"
        );
    }

    #[test]
    fn the_json_report_round_trips() {
        let json = render(Format::Json);
        let parsed: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, sample());
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["modes"][0]["server"]["oversold"], 37);
        assert_eq!(
            value["modes"][1]["latency_ms"]["busy"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn the_csv_report_has_one_row_per_mode_and_as_many_fields_as_its_header() {
        let csv = render(Format::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        let header = csv_header();
        assert_eq!(lines[0].split(',').count(), header.len());
        for row in &lines[1..] {
            let unquoted = row.split('"').next().unwrap();
            // Every field before the quoted verdict is a plain value.
            assert_eq!(unquoted.split(',').count(), header.len());
        }
        assert!(lines[1].starts_with("none,1000,1000,137,863,"));
        assert!(lines[1].ends_with(",false,\"sold 137 of 100: OVERSOLD by 37, 37 lost updates\""));
    }

    #[test]
    fn the_markdown_report_is_a_table_with_a_column_per_mode() {
        let md = render(Format::Markdown);
        assert!(md.contains("| | lock=none | lock=redis |"));
        assert!(md.contains("| oversold | 37 | 0 |"));
        assert!(md.contains("- **lock=redis**: sold exactly 100 of 100: safe"));
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
