//! The page's knobs, and the query string the page is opened with: the
//! settings to show (and the crowd whose verdict to read back). Anything
//! malformed in it is ignored (the page shows its defaults). What a form
//! came to is never read from here: see [`super::outcome`].

use serde::Deserialize;

use super::{DEFAULT_BUYERS, DEFAULT_STOCK, DEFAULT_WORK_MS};
use crate::crowd::CrowdSize;
use crate::domain::{
    InvalidInput, Knobs, LockDeadline, LockTtl, PauseDelay, StockLevel, WorkDelay,
};
use crate::lock::Strategy;

/// The knobs, as the page shows them and as every form sends them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSettings {
    pub strategy: Strategy,
    /// The business step, the pause, and the lock's TTL and deadline (none:
    /// the service's settings).
    pub knobs: Knobs,
    pub buyers: CrowdSize,
    pub stock: StockLevel,
    pub restock_first: bool,
}

impl PageSettings {
    pub fn defaults(strategy: Strategy) -> Self {
        Self {
            strategy,
            knobs: Knobs {
                work: WorkDelay::from_millis(DEFAULT_WORK_MS).expect("a valid default"),
                ..Knobs::default()
            },
            buyers: CrowdSize::new(DEFAULT_BUYERS.into()).expect("a valid default"),
            stock: StockLevel::new(DEFAULT_STOCK).expect("a valid default"),
            restock_first: true,
        }
    }

    /// The TTL field's value: empty when the service's setting applies.
    pub fn ttl_ms(&self) -> String {
        self.knobs
            .ttl
            .map(|ttl| ttl.millis().to_string())
            .unwrap_or_default()
    }

    /// The deadline field's value: empty when the service's setting applies.
    pub fn deadline_ms(&self) -> String {
        self.knobs
            .deadline
            .map(|deadline| deadline.millis().to_string())
            .unwrap_or_default()
    }

    /// The settings as a query string; every value is URL-safe.
    pub fn query(&self) -> String {
        format!(
            "lock={}&work_ms={}&pause_ms={}&ttl_ms={}&deadline_ms={}\
             &buyers={}&stock={}&restock_first={}",
            self.strategy,
            self.knobs.work.millis(),
            self.knobs.pause.millis(),
            self.ttl_ms(),
            self.deadline_ms(),
            self.buyers.get(),
            self.stock.get(),
            u8::from(self.restock_first)
        )
    }
}

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub lock: Option<String>,
    pub work_ms: Option<String>,
    pub pause_ms: Option<String>,
    pub ttl_ms: Option<String>,
    pub deadline_ms: Option<String>,
    pub buyers: Option<String>,
    pub stock: Option<String>,
    pub restock_first: Option<String>,

    /// The id of the crowd the form ran: its verdict is read from the
    /// database ([`crate::crowd::find_report`]), never from this address.
    pub crowd: Option<String>,
}

fn parsed<T: std::str::FromStr>(raw: &Option<String>) -> Option<T> {
    raw.as_deref().and_then(|raw| raw.trim().parse().ok())
}

/// A knob's value if it parses; blank or malformed is "not set".
fn knob<T>(raw: &Option<String>, parse: fn(&str) -> Result<T, InvalidInput>) -> Option<T> {
    raw.as_deref().and_then(|raw| parse(raw).ok())
}

impl PageQuery {
    pub fn settings(&self, default_strategy: Strategy) -> PageSettings {
        let defaults = PageSettings::defaults(default_strategy);
        PageSettings {
            strategy: self
                .lock
                .as_deref()
                .and_then(|raw| Strategy::parse(raw).ok())
                .unwrap_or(defaults.strategy),
            knobs: Knobs {
                work: knob(&self.work_ms, WorkDelay::parse).unwrap_or(defaults.knobs.work),
                pause: knob(&self.pause_ms, PauseDelay::parse).unwrap_or(defaults.knobs.pause),
                ttl: knob(&self.ttl_ms, LockTtl::parse),
                deadline: knob(&self.deadline_ms, LockDeadline::parse),
            },
            buyers: parsed(&self.buyers)
                .and_then(|n| CrowdSize::new(n).ok())
                .unwrap_or(defaults.buyers),
            stock: parsed(&self.stock)
                .and_then(|n| StockLevel::new(n).ok())
                .unwrap_or(defaults.stock),
            // A ticked checkbox sends "on", a redirect "1" or "0"; a form sends
            // nothing for an unticked box, so absent means ticked only on a
            // bare address.
            restock_first: match self.restock_first.as_deref() {
                Some(value) => value != "0",
                None => self.lock.is_none(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::web;

    use super::*;

    fn query(raw: &str) -> PageQuery {
        web::Query::<PageQuery>::from_query(raw)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn the_settings_come_back_from_their_own_query_string() {
        let settings = PageSettings {
            strategy: Strategy::RedisFenced,
            knobs: Knobs::parse(&crate::domain::RawKnobs {
                work_ms: Some("5".into()),
                pause_ms: Some("1500".into()),
                ttl_ms: Some("300".into()),
                deadline_ms: Some("0".into()),
            })
            .unwrap(),
            buyers: CrowdSize::new(40).unwrap(),
            stock: StockLevel::new(7).unwrap(),
            restock_first: false,
        };

        assert_eq!(query(&settings.query()).settings(Strategy::Redis), settings);

        let unset = PageSettings::defaults(Strategy::None);
        assert!(unset.query().contains("&ttl_ms=&deadline_ms=&"));
        assert_eq!(query(&unset.query()).settings(Strategy::Redis), unset);
    }

    #[test]
    fn a_malformed_query_string_shows_the_defaults() {
        let query = query(
            "lock=mutex&work_ms=-3&pause_ms=x&ttl_ms=5&deadline_ms=99999&buyers=99999&stock=x\
             &restock_first=1",
        );
        assert_eq!(
            query.settings(Strategy::Redis),
            PageSettings::defaults(Strategy::Redis)
        );
    }
}
