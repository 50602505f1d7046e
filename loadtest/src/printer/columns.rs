//! The side-by-side layout: one column per mode, one line per number, in
//! sections (requests, what the service says, throughput, latency). Used for
//! up to [`super::SIDE_BY_SIDE_MAX`] modes, where every percentile fits.

use std::io::{self, Write};

use super::{column_title, front_door_times, has_accepted_202, has_front_door};
use crate::metrics::LockMetrics;
use crate::report::{Latency, ModeReport, Report, ServerOutcome};

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
        if has_accepted_202(report) {
            rows.push(line(
                "202 accepted",
                each(&|m| m.requests.accepted_202.to_string()),
            ));
        }
        rows.push(line(
            "409 sold out",
            each(&|m| m.requests.sold_out_409.to_string()),
        ));
        rows.push(line(
            "409 lock lost",
            each(&|m| m.requests.lock_lost_409.to_string()),
        ));
        if any(&|m| m.requests.restocked_409 > 0) {
            rows.push(line(
                "409 restocked",
                each(&|m| m.requests.restocked_409.to_string()),
            ));
        }
        rows.push(line("429 busy", each(&|m| m.requests.busy_429.to_string())));
        if any(&|m| m.requests.retries > 0) {
            rows.push(line("retries", each(&|m| m.requests.retries.to_string())));
        }
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
            each(&|m| {
                let r = &m.requests;
                (r.other_2xx + r.sold_201 + r.accepted_202).to_string()
            }),
        ));
        rows.push(line(
            "4xx",
            each(&|m| {
                let r = &m.requests;
                (r.sold_out_409 + r.lock_lost_409 + r.restocked_409 + r.busy_429 + r.other_4xx)
                    .to_string()
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
        let server = |f: fn(&ServerOutcome) -> i64| {
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
        rows.push(line("duplicates", each(&server(|s| s.duplicates))));
        rows.push(line("lost updates", each(&server(|s| s.lost_updates))));
        rows.push(line("unsold", each(&server(|s| s.unsold))));
    }
    // Reports older than version 4 have no orders' side.
    if any(&|m| m.accepted.is_some()) {
        rows.push(Row::Section("orders (after the drain)"));
        let number = |n: Option<i64>| n.map_or("-".to_string(), |n| n.to_string());
        rows.push(line(
            "accepted",
            each(&|m| number(m.accepted.map(|n| n as i64))),
        ));
        rows.push(line("written", each(&|m| number(m.written))));
        rows.push(line("lost orders", each(&|m| number(m.lost_orders))));
        if any(&|m| m.server.as_ref().is_some_and(|s| !s.drained)) {
            rows.push(line(
                "still queued",
                each(&|m| match &m.server {
                    // `?`: the service could not say.
                    Some(s) if !s.drained => s.queued.map_or("?".to_string(), |n| n.to_string()),
                    Some(_) => "0".to_string(),
                    None => "-".to_string(),
                }),
            ));
        }
        rows.push(line(
            "drain ms",
            each(&|m| number(m.drain_ms.map(|n| n as i64))),
        ));
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
        if has_front_door(report) {
            rows.push(line("× front door", each(&front_door_times)));
        }
        rows.push(line(
            "durable orders/s",
            each(&|m| {
                m.durable_orders_per_s
                    .map_or("-".to_string(), |n| format!("{n:.1}"))
            }),
        ));
    }
    type Pick = fn(&ModeReport) -> &Option<Latency>;
    let outcomes: [(&str, Pick); 6] = if report.parameters.get_path.is_none() {
        [
            ("sold", |m| &m.latency_ms.sold),
            ("sold out", |m| &m.latency_ms.sold_out),
            ("lock lost", |m| &m.latency_ms.lock_lost),
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
    if any(&|m| m.lock.is_some()) {
        rows.push(Row::Section("the lock says (GET /metrics)"));
        type Count = fn(&LockMetrics) -> u64;
        type Millis = fn(&LockMetrics) -> Option<f64>;
        let count = |f: Count| {
            move |m: &ModeReport| {
                m.lock
                    .as_ref()
                    .map_or("-".to_string(), |l| f(l).to_string())
            }
        };
        let millis = |f: Millis| {
            move |m: &ModeReport| {
                m.lock
                    .as_ref()
                    .and_then(f)
                    .map_or("-".to_string(), |ms| format!("{ms:.2}"))
            }
        };
        rows.push(line("lock waits", each(&count(|l| l.waits))));
        rows.push(line("wait p50 ms", each(&millis(|l| l.wait_p50_ms))));
        rows.push(line("wait p99 ms", each(&millis(|l| l.wait_p99_ms))));
        rows.push(line("locks held", each(&count(|l| l.holds))));
        rows.push(line("hold p50 ms", each(&millis(|l| l.hold_p50_ms))));
        rows.push(line("hold p99 ms", each(&millis(|l| l.hold_p99_ms))));
        rows.push(line("expired", each(&count(|l| l.expired))));
    }
    rows
}

/// The table as plain text, titles right-aligned over their numbers.
pub fn text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
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
    Ok(())
}

/// The table in Markdown, sections as bold lines.
pub fn markdown(out: &mut dyn Write, report: &Report) -> io::Result<()> {
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
    Ok(())
}
