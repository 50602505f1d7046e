//! The verdict of one mode: the sentence a student needs, and the flags
//! behind it (what `--expect-safe` checks).

use serde::{Deserialize, Serialize};

use super::{Requests, ServerOutcome, TransportErrors};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Neither oversold nor lost an update: what `--expect-safe` checks.
    pub safe: bool,
    pub oversold: bool,
    pub lost_updates: bool,
    /// Orders past a buyer's limit: as unsafe as an oversell.
    #[serde(default)]
    pub duplicates: bool,
    pub unsold: bool,
    /// The sentence, e.g. `sold 137 of 100: OVERSOLD by 37, 37 lost updates`.
    pub summary: String,
}

/// The sentence a student needs, and the flags behind it.
pub fn verdict(server: &ServerOutcome, requests: &Requests, errors: &TransportErrors) -> Verdict {
    let oversold = server.oversold > 0;
    let lost = server.lost_updates > 0;
    let unsold = server.unsold > 0;
    let duplicates = server.duplicates > 0;
    let (orders, initial) = (server.orders, server.initial_stock);
    let mut summary = if oversold {
        let mut s = format!(
            "sold {orders} of {initial}: OVERSOLD by {}",
            server.oversold
        );
        if lost {
            s.push_str(&format!(", {} lost updates", server.lost_updates));
        }
        s
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
        safe: !oversold && !lost && !duplicates,
        oversold,
        lost_updates: lost,
        duplicates,
        unsold,
        summary,
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
