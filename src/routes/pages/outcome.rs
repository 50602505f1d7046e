//! What a plain form came to, for the next page load to show on the
//! product's card: the 303 back to the page sets it in a one-time cookie
//! ([`NOTICE_COOKIE`]), which that page load reads and clears. Never in the
//! address: anybody can put `Restocked to 999999` in a link, nobody can put
//! a cookie of this site's in somebody else's browser.

use std::time::Duration;

use uuid::Uuid;

use super::notice::{Notice, Tone};
use super::verdict::{refusal_text, sold_text};
use crate::domain::{ProductId, StockLevel};

/// The one-time cookie of a plain form's outcome.
pub const NOTICE_COOKIE: &str = "flashsale_notice";

/// Long enough for a browser to follow the 303; a notice not shown by then
/// is stale.
pub const NOTICE_MAX_AGE: Duration = Duration::from_secs(60);

/// What one form did to one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOutcome {
    pub product: ProductId,
    pub what: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sold {
        order: Uuid,
        remaining: i64,
    },
    Restocked {
        level: StockLevel,
    },
    /// Nothing sold; the API's error code (`sold_out`, `lock_lost`, …).
    Refused(&'static str),
}

impl FormOutcome {
    /// The cookie's value: `1.sold.<order>.99`, `1.restock.7`, `1.sold_out`
    /// (only characters a cookie value may hold).
    pub fn encode(&self) -> String {
        let product = self.product;
        match &self.what {
            Outcome::Sold { order, remaining } => {
                format!("{product}.sold.{}.{remaining}", order.simple())
            }
            Outcome::Restocked { level } => format!("{product}.restock.{}", level.get()),
            Outcome::Refused(code) => format!("{product}.{code}"),
        }
    }

    /// The outcome a cookie's value names; `None` for anything else.
    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.split('.');
        let product = ProductId::parse(parts.next()?).ok()?;
        let what = match parts.next()? {
            "sold" => Outcome::Sold {
                order: parts.next()?.parse().ok()?,
                remaining: parts.next()?.parse().ok()?,
            },
            "restock" => Outcome::Restocked {
                level: StockLevel::new(parts.next()?.parse().ok()?).ok()?,
            },
            code => Outcome::Refused(refusal_code(code)?),
        };
        parts.next().is_none().then_some(Self { product, what })
    }

    /// The words on the product's card (none for a refusal without words).
    pub fn notice(&self) -> Option<Notice> {
        let (tone, text) = match &self.what {
            Outcome::Sold { order, remaining } => (Tone::Good, sold_text(*order, *remaining)),
            Outcome::Restocked { level } => (
                Tone::Info,
                format!("Restocked to {} · orders cleared", level.get()),
            ),
            Outcome::Refused(code) => (Tone::Bad, refusal_text(code)?.to_owned()),
        };
        Some(Notice { tone, text })
    }
}

/// The refusals the Buy button has words for, as `'static` codes.
pub fn refusal_code(code: &str) -> Option<&'static str> {
    [
        "sold_out",
        "lock_timeout",
        "lock_lost",
        "restocked",
        "service_unavailable",
    ]
    .into_iter()
    .find(|known| *known == code && refusal_text(known).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(what: Outcome) -> FormOutcome {
        FormOutcome {
            product: ProductId::from(2),
            what,
        }
    }

    #[test]
    fn an_outcome_comes_back_from_its_cookie_with_its_words() {
        let order = Uuid::new_v4();
        for (what, words) in [
            (
                Outcome::Sold {
                    order,
                    remaining: 99,
                },
                format!(
                    "Order {} placed · 99 left",
                    &order.simple().to_string()[..8]
                ),
            ),
            (
                Outcome::Restocked {
                    level: StockLevel::new(7).unwrap(),
                },
                "Restocked to 7 · orders cleared".to_owned(),
            ),
            (
                Outcome::Refused("lock_lost"),
                "Lock lost · it expired before the write, nothing sold".to_owned(),
            ),
        ] {
            let sent = outcome(what);
            let value = sent.encode();
            assert!(
                value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
                "{value}"
            );
            let read = FormOutcome::decode(&value).expect("decodes");
            assert_eq!(read, sent);
            assert_eq!(read.notice().unwrap().text, words);
        }
    }

    #[test]
    fn anything_else_in_the_cookie_is_no_notice() {
        for value in [
            "",
            "2",
            "2.mystery",
            "x.sold_out",
            "0.sold_out",
            "2.sold_out.extra",
            "2.restock.9999999",
            "2.restock.-1",
            "2.sold.not-a-uuid.5",
            "2.sold.00000000000000000000000000000000",
        ] {
            assert_eq!(FormOutcome::decode(value), None, "{value}");
        }
        for code in [
            "sold_out",
            "lock_timeout",
            "restocked",
            "service_unavailable",
        ] {
            assert!(refusal_code(code).is_some(), "{code}");
        }
    }
}
