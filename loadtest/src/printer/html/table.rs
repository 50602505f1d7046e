//! The verdict table: a row per mode with the text report's numbers, each
//! cell naming its JSON field, then the verdict sentences.

use super::svg::esc;
use crate::printer::{column_title, has_accepted_202, has_front_door, verdict_word};
use crate::report::{ModeReport, Report};

/// One numeric column of the verdict table.
struct Column {
    title: &'static str,
    /// Under the title, smaller: the status or the unit.
    note: &'static str,
    /// A JSON pointer into the mode's object.
    field: &'static str,
    decimals: usize,
    value: fn(&ModeReport) -> Option<f64>,
}

const PURCHASE_COLUMNS: [Column; 13] = [
    Column {
        title: "sold",
        note: "201",
        field: "/requests/sold_201",
        decimals: 0,
        value: |m| Some(m.requests.sold_201 as f64),
    },
    Column {
        title: "sold out",
        note: "409",
        field: "/requests/sold_out_409",
        decimals: 0,
        value: |m| Some(m.requests.sold_out_409 as f64),
    },
    Column {
        title: "lock lost",
        note: "409",
        field: "/requests/lock_lost_409",
        decimals: 0,
        value: |m| Some(m.requests.lock_lost_409 as f64),
    },
    Column {
        title: "busy",
        note: "429",
        field: "/requests/busy_429",
        decimals: 0,
        value: |m| Some(m.requests.busy_429 as f64),
    },
    Column {
        title: "5xx",
        note: "",
        field: "/requests/server_5xx",
        decimals: 0,
        value: |m| Some(m.requests.server_5xx as f64),
    },
    Column {
        title: "oversold",
        note: "units",
        field: "/server/oversold",
        decimals: 0,
        value: |m| m.server.as_ref().map(|s| s.oversold as f64),
    },
    Column {
        title: "duplicates",
        note: "orders past the per-buyer limit",
        field: "/server/duplicates",
        decimals: 0,
        value: |m| m.server.as_ref().map(|s| s.duplicates as f64),
    },
    Column {
        title: "retries",
        note: "",
        field: "/requests/retries",
        decimals: 0,
        value: |m| Some(m.requests.retries as f64),
    },
    Column {
        title: "lost updates",
        note: "units",
        field: "/server/lost_updates",
        decimals: 0,
        value: |m| m.server.as_ref().map(|s| s.lost_updates as f64),
    },
    Column {
        title: "unsold",
        note: "units",
        field: "/server/unsold",
        decimals: 0,
        value: |m| m.server.as_ref().map(|s| s.unsold as f64),
    },
    Column {
        title: "purchases/s",
        note: "",
        field: "/throughput/purchases_per_s",
        decimals: 1,
        value: |m| Some(m.throughput.purchases_per_s),
    },
    Column {
        title: "sold p50",
        note: "ms",
        field: "/latency_ms/sold/p50",
        decimals: 1,
        value: |m| m.latency_ms.sold.as_ref().map(|l| l.p50),
    },
    Column {
        title: "sold p99",
        note: "ms",
        field: "/latency_ms/sold/p99",
        decimals: 1,
        value: |m| m.latency_ms.sold.as_ref().map(|l| l.p99),
    },
];

/// After `sold`, when any mode was answered 202.
const ACCEPTED_COLUMN: Column = Column {
    title: "accepted",
    note: "202, queued",
    field: "/requests/accepted_202",
    decimals: 0,
    value: |m| Some(m.requests.accepted_202 as f64),
};

/// After `purchases/s`, when the run had a front door.
const FRONT_DOOR_COLUMN: Column = Column {
    title: "× front door",
    note: "purchases/s over its answers/s",
    field: "/front_door_ratio",
    decimals: 2,
    value: |m| m.front_door_ratio,
};

/// What became of the orders once the queue drained.
const ORDER_COLUMNS: [Column; 5] = [
    Column {
        title: "accepted",
        note: "201 + 202",
        field: "/accepted",
        decimals: 0,
        value: |m| m.accepted.map(|n| n as f64),
    },
    Column {
        title: "written",
        note: "order rows",
        field: "/written",
        decimals: 0,
        value: |m| m.written.map(|n| n as f64),
    },
    Column {
        title: "lost orders",
        note: "accepted, never written",
        field: "/lost_orders",
        decimals: 0,
        value: |m| m.lost_orders.map(|n| n as f64),
    },
    Column {
        title: "drain",
        note: "ms",
        field: "/drain_ms",
        decimals: 0,
        value: |m| m.drain_ms.map(|n| n as f64),
    },
    Column {
        title: "durable orders/s",
        note: "written per s of crowd + drain",
        field: "/durable_orders_per_s",
        decimals: 1,
        value: |m| m.durable_orders_per_s,
    },
];

/// The lock's side, when the service had `GET /metrics`.
const LOCK_COLUMNS: [Column; 5] = [
    Column {
        title: "lock wait p50",
        note: "ms",
        field: "/lock/wait_p50_ms",
        decimals: 1,
        value: |m| m.lock.as_ref().and_then(|l| l.wait_p50_ms),
    },
    Column {
        title: "lock wait p99",
        note: "ms",
        field: "/lock/wait_p99_ms",
        decimals: 1,
        value: |m| m.lock.as_ref().and_then(|l| l.wait_p99_ms),
    },
    Column {
        title: "hold p50",
        note: "ms",
        field: "/lock/hold_p50_ms",
        decimals: 1,
        value: |m| m.lock.as_ref().and_then(|l| l.hold_p50_ms),
    },
    Column {
        title: "hold p99",
        note: "ms",
        field: "/lock/hold_p99_ms",
        decimals: 1,
        value: |m| m.lock.as_ref().and_then(|l| l.hold_p99_ms),
    },
    Column {
        title: "expired",
        note: "locks",
        field: "/lock/expired",
        decimals: 0,
        value: |m| m.lock.as_ref().map(|l| l.expired as f64),
    },
];

const FAIRNESS_COLUMN: Column = Column {
    title: "p99 ÷ FIFO wait",
    note: "×",
    field: "/fairness/ratio",
    decimals: 1,
    value: |m| m.fairness.as_ref().map(|f| f.ratio),
};

/// `--get`: the generator's own benchmark.
const GET_COLUMNS: [Column; 6] = [
    Column {
        title: "answers",
        note: "",
        field: "/requests/completed",
        decimals: 0,
        value: |m| Some(m.requests.completed as f64),
    },
    Column {
        title: "5xx",
        note: "",
        field: "/requests/server_5xx",
        decimals: 0,
        value: |m| Some(m.requests.server_5xx as f64),
    },
    Column {
        title: "transport errors",
        note: "",
        field: "/transport_errors/total",
        decimals: 0,
        value: |m| Some(m.transport_errors.total as f64),
    },
    Column {
        title: "requests/s",
        note: "",
        field: "/throughput/requests_per_s",
        decimals: 1,
        value: |m| Some(m.throughput.requests_per_s),
    },
    Column {
        title: "p50",
        note: "ms",
        field: "/latency_ms/all/p50",
        decimals: 2,
        value: |m| m.latency_ms.all.as_ref().map(|l| l.p50),
    },
    Column {
        title: "p99",
        note: "ms",
        field: "/latency_ms/all/p99",
        decimals: 2,
        value: |m| m.latency_ms.all.as_ref().map(|l| l.p99),
    },
];

/// The verdict table: a row per mode, the text report's numbers, each cell
/// naming its JSON field (`data-field`, a pointer into the mode's object)
/// and holding its exact value (`data-value`, empty for `null`).
pub(super) fn table(report: &Report) -> String {
    let modes = &report.modes;
    // Two tables, the sale's numbers and then the orders' and the lock's,
    // so that each fits a 1366 px screen instead of scrolling its last
    // columns out of sight.
    let mut sale: Vec<&Column> = Vec::new();
    let mut after: Vec<&Column> = Vec::new();
    if report.parameters.get_path.is_some() {
        sale.extend(GET_COLUMNS.iter());
    } else {
        for column in &PURCHASE_COLUMNS {
            sale.push(column);
            if column.field == "/requests/sold_201" && has_accepted_202(report) {
                sale.push(&ACCEPTED_COLUMN);
            }
            if column.field == "/throughput/purchases_per_s" && has_front_door(report) {
                sale.push(&FRONT_DOOR_COLUMN);
            }
        }
        if modes.iter().any(|m| m.accepted.is_some()) {
            after.extend(ORDER_COLUMNS.iter());
        }
        if modes.iter().any(|m| m.lock.is_some()) {
            after.extend(LOCK_COLUMNS.iter());
        }
        if modes.iter().any(|m| m.fairness.is_some()) {
            after.push(&FAIRNESS_COLUMN);
        }
    }
    let with_verdict = modes.iter().any(|m| m.verdict.is_some());
    let mut html = numbers(modes, &sale, with_verdict);
    if !after.is_empty() {
        html.push_str(&numbers(modes, &after, with_verdict));
    }
    if with_verdict {
        html.push_str("<ul class=\"verdicts\">\n");
        for mode in modes {
            if let Some(verdict) = &mode.verdict {
                html.push_str(&format!(
                    "<li data-mode=\"{}\">{} <b>{}</b>: <span class=\"summary\">{}</span></li>\n",
                    esc(&mode.mode),
                    word(mode),
                    esc(&column_title(report, mode)),
                    esc(&verdict.summary)
                ));
            }
        }
        html.push_str("</ul>\n");
    }
    html
}

/// One table of `columns`, a row per mode, the verdict in a word beside
/// its name (the word a reader looks for first).
fn numbers(modes: &[ModeReport], columns: &[&Column], with_verdict: bool) -> String {
    let mut html = String::from(
        "<div class=\"scroll\">\n<table class=\"numbers\">\n<thead><tr><th scope=\"col\">lock</th>",
    );
    if with_verdict {
        html.push_str("<th scope=\"col\">verdict</th>");
    }
    for column in columns {
        html.push_str(&format!(
            "<th scope=\"col\" class=\"num\">{}<small>{}</small></th>",
            esc(column.title),
            esc(column.note)
        ));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for mode in modes {
        html.push_str(&format!(
            "<tr data-mode=\"{}\"><td class=\"mode\">{}</td>",
            esc(&mode.mode),
            esc(&mode.mode)
        ));
        if with_verdict {
            html.push_str(&format!("<td class=\"verdict\">{}</td>", word(mode)));
        }
        for column in columns {
            let value = (column.value)(mode);
            let shown = value.map_or("-".to_string(), |v| format!("{v:.*}", column.decimals));
            html.push_str(&format!(
                "<td class=\"num{}\" data-field=\"{}\" data-value=\"{}\">{}</td>",
                if value.is_some() { "" } else { " empty" },
                esc(column.field),
                value.map_or(String::new(), |v| v.to_string()),
                esc(&shown)
            ));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</div>\n");
    html
}

/// The verdict in a word, on a background that says the same.
fn word(mode: &ModeReport) -> String {
    let word = verdict_word(mode);
    let class = match word.as_str() {
        "safe" => "safe",
        "reference" => "ref",
        "UNDERSOLD" => "under",
        "-" => "",
        _ => "bad",
    };
    format!("<span class=\"word {class}\">{}</span>", esc(&word))
}
