//! The words for what happened: a unit sold, a purchase refused, a flash
//! crowd's verdict. `static/words.js` says the same things with JavaScript.

use uuid::Uuid;

use super::notice::Tone;
use crate::crowd::CrowdReport;
use crate::lock::Strategy;

/// What the Buy button says when it sold.
pub fn sold_text(order: Uuid, remaining: i64) -> String {
    let short = order.simple().to_string();
    format!("Order {} placed · {remaining} left", &short[..8])
}

/// What the Buy button says when nothing was sold, by error code.
pub fn refusal_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "sold_out" => "Sold out · nothing sold",
        "lock_timeout" => "Busy · the lock stayed taken, try again",
        "lock_lost" => "Lock lost · it expired before the write, nothing sold",
        "restocked" => "Restocked during the sale · nothing sold",
        "limit_reached" => "Limit reached · one per buyer, nothing sold",
        "service_unavailable" => "Unavailable · nothing sold, try again",
        _ => return None,
    })
}

/// Why a `count(*)` check lets duplicates through, said under a crowd that got some.
pub const DUPLICATES_WHY: &str = "count(*) then insert: clicks at once all counted zero before any order was written, so all bought";

/// The result of a flash crowd as one big line and a line of detail.
pub struct CrowdVerdict {
    pub tone: Tone,
    pub oversold: i64,
    /// "sold 137 / 100 · oversold by 37", "sold 100 / 100 · no oversell",
    /// "sold 40 / 100 · UNDERSOLD by 60: 460 busy" or "nothing sold of 100 ·
    /// UNDERSOLD: 500 busy".
    pub headline: String,
    /// "lock none · 500 buyers · 20 ms business step · 363 sold out · …".
    pub detail: String,
    /// When a restock overtook the crowd, the sentence that says so.
    pub restocked: Option<String>,
}

/// The numbers of a finished crowd that its verdict names, from its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrowdNumbers {
    pub strategy: Strategy,
    pub buyers: u32,
    pub work_ms: u64,
    pub pause_ms: u64,
    pub ttl_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    pub stock_before: i64,
    pub sold: u32,
    pub restocked_during: bool,
    pub sold_after_restock: u32,
    pub sold_out: u32,
    pub busy: u32,
    pub lock_lost: u32,
    pub restocked: u32,
    pub unavailable: u32,
    pub failed: u32,
    /// Refused at the per-buyer limit (409 `limit_reached`).
    pub limit_reached: u32,
    /// Orders beyond a buyer's limit, from the orders table.
    pub duplicates: i64,
    pub elapsed_ms: u64,
    /// Of `sold`, answered 202 (queued, written later: the stream designs).
    pub queued: u32,
    /// Accepted orders in Postgres once the queue drained.
    pub written: i64,
    /// Accepted and never written.
    pub lost_orders: i64,
    pub drain_ms: u64,
}

impl From<&CrowdReport> for CrowdNumbers {
    fn from(report: &CrowdReport) -> Self {
        Self {
            strategy: report.lock,
            buyers: report.buyers,
            work_ms: report.work_ms,
            pause_ms: report.pause_ms,
            ttl_ms: report.ttl_ms,
            deadline_ms: report.deadline_ms,
            stock_before: report.stock_before,
            sold: report.sold,
            restocked_during: report.restocked_during,
            sold_after_restock: report.sold_after_restock,
            sold_out: report.sold_out,
            busy: report.busy,
            lock_lost: report.lock_lost,
            restocked: report.restocked,
            unavailable: report.unavailable,
            failed: report.failed,
            limit_reached: report.limit_reached,
            duplicates: report.duplicates,
            elapsed_ms: report.elapsed_ms,
            queued: report.queued,
            written: report.written,
            lost_orders: report.lost_orders,
            drain_ms: report.drain_ms,
        }
    }
}

impl CrowdNumbers {
    /// Turned away while there may have been stock for them: busy, lost
    /// their lock, unavailable, failed (not sold out, not at the limit).
    fn refused(&self) -> u32 {
        self.busy
            .saturating_add(self.lock_lost)
            .saturating_add(self.unavailable)
            .saturating_add(self.failed)
    }

    /// Why buyers were refused, in the crowd's counts: "460 busy, 2 unavailable".
    fn why_refused(&self) -> String {
        [
            (self.busy, "busy"),
            (self.lock_lost, "lost their lock"),
            (self.unavailable, "unavailable"),
            (self.failed, "failed"),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, words)| format!("{count} {words}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

impl From<CrowdNumbers> for CrowdVerdict {
    fn from(n: CrowdNumbers) -> Self {
        // Against the stock the crowd ran on: what it sold after a restock
        // came from the new stock (as in `CrowdReport::oversold`).
        let ran_on = n.sold.saturating_sub(n.sold_after_restock);
        let oversold = i64::from(ran_on).saturating_sub(n.stock_before).max(0);
        let undersold = crate::crowd::undersold(n.stock_before, ran_on, n.refused());
        // Never praise a failure: a crowd that left stock unsold while it
        // turned buyers away is amber, and one that sold nothing says so first.
        let mut headline = if oversold > 0 {
            format!(
                "sold {} / {} · oversold by {oversold}",
                n.sold, n.stock_before
            )
        } else if undersold > 0 && n.sold == 0 {
            format!(
                "nothing sold of {} · UNDERSOLD: {}",
                n.stock_before,
                n.why_refused()
            )
        } else if undersold > 0 {
            format!(
                "sold {} / {} · UNDERSOLD by {undersold}: {}",
                n.sold,
                n.stock_before,
                n.why_refused()
            )
        } else {
            format!("sold {} / {} · no oversell", n.sold, n.stock_before)
        };
        if n.duplicates > 0 {
            headline.push_str(&format!(" · {} duplicates", n.duplicates));
        }
        // An order accepted and never written fails the sale like an oversell.
        if n.lost_orders > 0 {
            headline.push_str(&format!(" · {} orders lost", n.lost_orders));
        }
        // The knobs that differ from a plain purchase, then every outcome
        // that happened at all.
        let mut parts = vec![
            format!("lock {}", n.strategy),
            format!("{} buyers", n.buyers),
            format!("{} ms business step", n.work_ms),
        ];
        if n.pause_ms > 0 {
            parts.push(format!("{} ms pause", n.pause_ms));
        }
        if let Some(ttl) = n.ttl_ms {
            parts.push(format!("TTL {ttl} ms"));
        }
        if let Some(deadline) = n.deadline_ms {
            parts.push(format!("deadline {deadline} ms"));
        }
        parts.push(format!("{} sold out", n.sold_out));
        parts.push(format!("{} busy", n.busy));
        for (count, words) in [
            (n.lock_lost, "lost their lock"),
            (n.restocked, "stopped by a restock"),
            (n.limit_reached, "refused at the limit per buyer"),
            (n.unavailable, "unavailable"),
            (n.failed, "failed"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {words}"));
            }
        }
        parts.push(format!("{:.1} s", n.elapsed_ms as f64 / 1000.0));
        if n.queued > 0 {
            parts.push(format!(
                "{} queued, {} written after a {:.1} s drain",
                n.queued,
                n.written,
                n.drain_ms as f64 / 1000.0
            ));
        }
        if n.duplicates > 0 {
            parts.push(DUPLICATES_WHY.to_owned());
        }
        Self {
            tone: if oversold > 0 || n.duplicates > 0 || n.lost_orders > 0 {
                Tone::Bad
            } else if undersold > 0 {
                Tone::Warn
            } else {
                Tone::Good
            },
            oversold,
            headline,
            detail: parts.join(" · "),
            restocked: n.restocked_during.then(|| {
                format!(
                    "Restocked during the crowd: {} of these sales came from the new stock, \
                     {ran_on} from the {} units it started with.",
                    n.sold_after_restock, n.stock_before
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBERS: CrowdNumbers = CrowdNumbers {
        strategy: Strategy::None,
        buyers: 500,
        work_ms: 20,
        pause_ms: 0,
        ttl_ms: None,
        deadline_ms: None,
        stock_before: 100,
        sold: 137,
        restocked_during: false,
        sold_after_restock: 0,
        sold_out: 363,
        busy: 0,
        lock_lost: 0,
        restocked: 0,
        unavailable: 0,
        failed: 0,
        limit_reached: 0,
        duplicates: 0,
        elapsed_ms: 1234,
        queued: 0,
        written: 137,
        lost_orders: 0,
        drain_ms: 0,
    };

    #[test]
    fn lost_orders_make_a_crowd_bad_and_the_drain_is_told() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            strategy: Strategy::BrokenAckFirst,
            sold: 100,
            queued: 100,
            written: 70,
            lost_orders: 30,
            drain_ms: 1500,
            ..NUMBERS
        });
        assert_eq!(verdict.tone, Tone::Bad);
        assert_eq!(
            verdict.headline,
            "sold 100 / 100 · no oversell · 30 orders lost"
        );
        assert!(
            verdict
                .detail
                .contains("100 queued, 70 written after a 1.5 s drain"),
            "{}",
            verdict.detail
        );
    }

    #[test]
    fn duplicates_make_a_crowd_bad_and_say_why() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            sold: 30,
            stock_before: 100,
            limit_reached: 20,
            duplicates: 20,
            ..NUMBERS
        });
        assert_eq!(verdict.tone, Tone::Bad);
        assert!(
            verdict.headline.ends_with("no oversell · 20 duplicates"),
            "{}",
            verdict.headline
        );
        assert!(
            verdict.detail.contains("20 refused at the limit per buyer"),
            "{}",
            verdict.detail
        );
        assert!(
            verdict.detail.ends_with(DUPLICATES_WHY),
            "{}",
            verdict.detail
        );
    }

    #[test]
    fn a_crowd_verdict_says_how_much_was_oversold() {
        let verdict = CrowdVerdict::from(NUMBERS);
        assert_eq!(verdict.headline, "sold 137 / 100 · oversold by 37");
        assert_eq!(verdict.tone, Tone::Bad);
        assert_eq!(
            verdict.detail,
            "lock none · 500 buyers · 20 ms business step · 363 sold out · 0 busy · 1.2 s"
        );

        let locked = CrowdVerdict::from(CrowdNumbers {
            strategy: Strategy::Redis,
            sold: 100,
            sold_out: 390,
            busy: 10,
            ..NUMBERS
        });
        assert_eq!(locked.headline, "sold 100 / 100 · no oversell");
        assert_eq!(locked.tone, Tone::Good);
        assert_eq!(locked.oversold, 0);
    }

    #[test]
    fn a_crowd_verdict_names_the_lab_knobs_and_the_lost_locks() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            strategy: Strategy::RedisFenced,
            pause_ms: 800,
            ttl_ms: Some(200),
            deadline_ms: Some(3000),
            sold: 90,
            sold_out: 0,
            busy: 395,
            lock_lost: 12,
            restocked: 3,
            ..NUMBERS
        });

        // 10 units left while 407 buyers were refused: not a success.
        assert_eq!(
            verdict.headline,
            "sold 90 / 100 · UNDERSOLD by 10: 395 busy, 12 lost their lock"
        );
        assert_eq!(verdict.tone, Tone::Warn);
        assert_eq!(
            verdict.detail,
            "lock redis-fenced · 500 buyers · 20 ms business step · 800 ms pause · TTL 200 ms \
             · deadline 3000 ms · 0 sold out · 395 busy · 12 lost their lock \
             · 3 stopped by a restock · 1.2 s"
        );
    }

    #[test]
    fn a_crowd_overtaken_by_a_restock_counts_against_the_stock_it_ran_on() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            strategy: Strategy::Redis,
            stock_before: 20,
            sold: 120,
            restocked_during: true,
            sold_after_restock: 100,
            ..NUMBERS
        });

        assert_eq!(verdict.oversold, 0);
        assert_eq!(verdict.tone, Tone::Good);
        assert_eq!(verdict.headline, "sold 120 / 20 · no oversell");
        assert_eq!(
            verdict.restocked.as_deref(),
            Some(
                "Restocked during the crowd: 100 of these sales came from the new stock, \
                 20 from the 20 units it started with."
            )
        );
        assert_eq!(CrowdVerdict::from(NUMBERS).restocked, None);
    }

    #[test]
    fn a_crowd_that_sold_nothing_says_so_first_and_names_why_in_amber() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            strategy: Strategy::BrokenLuaNil,
            sold: 0,
            sold_out: 0,
            busy: 498,
            unavailable: 2,
            ..NUMBERS
        });
        assert_eq!(
            verdict.headline,
            "nothing sold of 100 · UNDERSOLD: 498 busy, 2 unavailable"
        );
        assert_eq!(verdict.tone, Tone::Warn);
        assert_eq!(verdict.oversold, 0);

        let lost = CrowdVerdict::from(CrowdNumbers {
            sold: 0,
            sold_out: 0,
            lock_lost: 500,
            ..NUMBERS
        });
        assert_eq!(
            lost.headline,
            "nothing sold of 100 · UNDERSOLD: 500 lost their lock"
        );
    }

    #[test]
    fn stock_left_while_buyers_were_refused_is_undersold_not_safe() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            strategy: Strategy::RedisFailfast,
            sold: 40,
            sold_out: 0,
            busy: 460,
            ..NUMBERS
        });
        assert_eq!(
            verdict.headline,
            "sold 40 / 100 · UNDERSOLD by 60: 460 busy"
        );
        assert_eq!(verdict.tone, Tone::Warn);

        // Fewer refused than units left: only they could have bought.
        let few = CrowdVerdict::from(CrowdNumbers {
            buyers: 60,
            sold: 40,
            sold_out: 0,
            busy: 20,
            ..NUMBERS
        });
        assert_eq!(few.headline, "sold 40 / 100 · UNDERSOLD by 20: 20 busy");

        // Fewer buyers than stock, none refused: safe, and green.
        let quiet = CrowdVerdict::from(CrowdNumbers {
            buyers: 40,
            sold: 40,
            sold_out: 0,
            ..NUMBERS
        });
        assert_eq!(quiet.headline, "sold 40 / 100 · no oversell");
        assert_eq!(quiet.tone, Tone::Good);

        // Sold out and some busy at the end: nothing was left to sell.
        let sold_out = CrowdVerdict::from(CrowdNumbers {
            sold: 100,
            sold_out: 300,
            busy: 100,
            ..NUMBERS
        });
        assert_eq!(sold_out.tone, Tone::Good);
    }

    #[test]
    fn a_crowd_verdict_never_overflows() {
        let verdict = CrowdVerdict::from(CrowdNumbers {
            stock_before: i64::MIN,
            sold: u32::MAX,
            ..NUMBERS
        });
        assert_eq!(verdict.oversold, i64::MAX);
    }

    #[test]
    fn every_refusal_a_purchase_can_answer_has_words() {
        for code in [
            "sold_out",
            "lock_timeout",
            "lock_lost",
            "restocked",
            "service_unavailable",
        ] {
            let words = refusal_text(code).unwrap_or_else(|| panic!("no words for {code}"));
            assert!(words.contains("nothing sold") || words.contains("try again"));
        }
        assert_eq!(refusal_text("internal_error"), None);
    }
}
