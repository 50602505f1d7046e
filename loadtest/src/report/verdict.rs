//! The verdict of one mode: the sentence a student needs, and the flags
//! behind it (what `--expect-safe` checks). From worst to mildest: an
//! oversell, a lost order (a buyer told yes whose order was never written),
//! a lost update, a duplicate, a queue that did not drain, an undersell.

use serde::{Deserialize, Serialize};

use super::{Requests, ServerOutcome, TransportErrors};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Neither oversold, lost an update or an order, nor left orders queued:
    /// what `--expect-safe` checks.
    pub safe: bool,
    pub oversold: bool,
    pub lost_updates: bool,
    /// Orders past a buyer's limit: as unsafe as an oversell.
    #[serde(default)]
    pub duplicates: bool,
    /// Buyers told yes (201 or 202) whose order was never written: as
    /// unsafe as an oversell.
    #[serde(default)]
    pub lost_orders: bool,
    /// The queue was empty by the end of the drain; `false` fails the
    /// verdict (what was accepted may still be lost).
    #[serde(default = "yes")]
    pub drained: bool,
    /// The `front-door` mode: a measure for the others, not a sale.
    #[serde(default)]
    pub reference: bool,
    pub unsold: bool,
    /// The sentence, e.g. `sold 137 of 100: OVERSOLD by 37, 37 lost updates`.
    pub summary: String,
}

fn yes() -> bool {
    true
}

/// The sentence a student needs, and the flags behind it. `orders` are the
/// written orders; the accepted ones are the 201s and 202s.
pub fn verdict(server: &ServerOutcome, requests: &Requests, errors: &TransportErrors) -> Verdict {
    let oversold = server.oversold > 0;
    let lost = server.lost_updates > 0;
    let unsold = server.unsold > 0;
    let duplicates = server.duplicates > 0;
    let accepted = requests.sold_201 + requests.accepted_202;
    let lost_orders = server.lost_orders(accepted);
    let drained = server.drained;
    let (orders, initial) = (server.orders, server.initial_stock);
    let mut summary = if oversold {
        let mut s = format!(
            "sold {orders} of {initial}: OVERSOLD by {}",
            server.oversold
        );
        if lost {
            s.push_str(&format!(", {} lost updates", server.lost_updates));
        }
        if lost_orders > 0 {
            s.push_str(&format!(", {lost_orders} LOST ORDERS"));
        }
        s
    } else if lost_orders > 0 {
        format!("accepted {accepted} of {initial} but wrote {orders}: {lost_orders} LOST ORDERS")
    } else if !drained {
        format!("accepted {accepted} of {initial}, wrote {orders}: NOT DRAINED")
    } else if lost {
        format!(
            "sold {orders} of {initial} but LOST {} updates (the stock says {} sold)",
            server.lost_updates,
            initial - server.stock
        )
    } else if unsold {
        format!(
            "sold {orders} of {initial}: UNDERSOLD, {} left in stock while {}",
            server.unsold,
            turned_away(requests)
        )
    } else if orders == initial {
        format!("sold exactly {orders} of {initial}: safe")
    } else {
        format!(
            "sold {orders} of {initial}: safe ({} left: fewer buyers than stock)",
            server.stock
        )
    };
    if !drained {
        // Counted as lost above only once nothing can still be written.
        summary.push_str(&match server.queued {
            Some(queued) => format!(" ({queued} still queued)"),
            None => " (the service cannot say how many are queued)".to_string(),
        });
    }
    let mut troubles = Vec::new();
    if duplicates {
        // A count(*) then an insert: two clicks at once both count zero.
        summary.push_str(&format!(
            "; {} DUPLICATES past the per-buyer limit",
            server.duplicates
        ));
    }
    if requests.lock_lost_409 > 0 && !unsold {
        troubles.push(format!(
            "{} lost their lock and wrote nothing",
            requests.lock_lost_409
        ));
    }
    if requests.restocked_409 > 0 {
        troubles.push(format!("{} answered 409 restocked", requests.restocked_409));
    }
    if requests.server_5xx > 0 {
        troubles.push(format!("{} answered 5xx", requests.server_5xx));
    }
    if requests.other_4xx > 0 {
        troubles.push(format!("{} answered another 4xx", requests.other_4xx));
    }
    if requests.retries > 0 {
        troubles.push(format!("{} retries", requests.retries));
    }
    if errors.total > 0 {
        troubles.push(format!("{} transport errors", errors.total));
    }
    if !troubles.is_empty() {
        summary.push_str(&format!(" ({})", troubles.join(", ")));
    }
    Verdict {
        safe: !oversold && !lost && !duplicates && lost_orders == 0 && drained,
        oversold,
        lost_updates: lost,
        duplicates,
        lost_orders: lost_orders > 0,
        drained,
        reference: false,
        unsold,
        summary,
    }
}

/// The `front-door` mode's verdict: how fast the service answers a purchase
/// it refuses after one read, the measure for the others. A front door that
/// sold anything was no front door: it gets a sale's verdict instead.
pub fn reference(
    server: &ServerOutcome,
    requests: &Requests,
    errors: &TransportErrors,
    answers_per_s: f64,
) -> Verdict {
    let sale = verdict(server, requests, errors);
    if !sale.safe || server.orders > 0 || requests.sold_201 + requests.accepted_202 > 0 {
        return sale;
    }
    let mut summary = format!(
        "reference: {} answers, {answers_per_s:.1}/s (lock=none at stock 0: one read, 409 sold_out)",
        requests.completed
    );
    let others = requests.completed.saturating_sub(requests.sold_out_409);
    let mut troubles = Vec::new();
    if others > 0 {
        troubles.push(format!("{others} answered something else"));
    }
    if errors.total > 0 {
        troubles.push(format!("{} transport errors", errors.total));
    }
    if !troubles.is_empty() {
        summary.push_str(&format!(" ({})", troubles.join(", ")));
    }
    Verdict {
        reference: true,
        unsold: false,
        summary,
        ..sale
    }
}

/// `40 buyers were turned away busy`, `2 buyers lost their lock`, or both.
fn turned_away(requests: &Requests) -> String {
    let (busy, lost) = (requests.busy_429, requests.lock_lost_409);
    let buyers = |n: u64| if n == 1 { "buyer" } else { "buyers" };
    match (busy, lost) {
        (0, lost) => format!("{lost} {} lost their lock", buyers(lost)),
        (busy, 0) => format!(
            "{busy} {} turned away busy",
            if busy == 1 {
                "buyer was"
            } else {
                "buyers were"
            }
        ),
        (busy, lost) => format!(
            "{busy} {} turned away busy and {lost} lost their lock",
            if busy == 1 {
                "buyer was"
            } else {
                "buyers were"
            }
        ),
    }
}
