//! The catalogue: every strategy of the lock lab, in one place. Parsing of
//! `lock=`, the page's lock switch, `GET /api/strategies`, the README table
//! and the load generator's `--modes all` all read it.
//!
//! Adding a strategy: write its file (an `INFO` and either a `Lock` or a
//! `sell` function), add its variant to `Strategy` (`lock/strategy.rs`), its `INFO` here in
//! [`Strategy::info`], and its arm in `Lab::sell_with` (`lab/mod.rs`); the
//! compiler points at each.

use crate::lock::broken::{get_del, ignore_setnx, lua_nil, plain_del};
use crate::lock::{
    Family, Needs, Strategy, StrategyInfo, failfast, fair, fenced, local, redlock, spin, watchdog,
};

use super::postgres;

impl Strategy {
    /// What the strategy is and teaches. It lives here, beside the list, and
    /// not with the names in `lock/strategy.rs`: the list imports every
    /// strategy's file, and the strategies' own code needs only the names.
    pub fn info(self) -> &'static StrategyInfo {
        match self {
            Strategy::None => &NONE,
            Strategy::Redis => &spin::INFO,
            Strategy::RedisFailfast => &failfast::INFO,
            Strategy::RedisWatchdog => &watchdog::INFO,
            Strategy::RedisFenced => &fenced::INFO,
            Strategy::RedisFair => &fair::INFO,
            Strategy::Redlock => &redlock::INFO,
            Strategy::Local => &local::INFO,
            Strategy::PgAtomic => &postgres::atomic::INFO,
            Strategy::PgRowLock => &postgres::row_lock::INFO,
            Strategy::PgAdvisory => &postgres::advisory::INFO,
            Strategy::PgOptimistic => &postgres::optimistic::INFO,
            Strategy::PgSerializable => &postgres::serializable::INFO,
            Strategy::PgBatch => &super::batch::INFO,
            Strategy::RedisStream => &super::stream::INFO,
            Strategy::BrokenIgnoreSetnx => &ignore_setnx::INFO,
            Strategy::BrokenLuaNil => &lua_nil::INFO,
            Strategy::BrokenPlainDel => &plain_del::INFO,
            Strategy::BrokenGetDel => &get_del::INFO,
            Strategy::BrokenAckFirst => &super::stream::ACK_FIRST_INFO,
        }
    }

    /// Whether `deadline_ms` means anything to it: it waits for a lock (or a
    /// row, a retry, its share of the pool, a batch) until a deadline. The
    /// page disables the deadline knob for the others. Here, not in each
    /// `INFO`, so that a new strategy's file need not change; the match makes
    /// the compiler ask about every new one.
    pub fn uses_deadline(self) -> bool {
        match self {
            // Never waits: no lock, one try (busy at once), a SET whose
            // answer is ignored, a gate that answers at once.
            Strategy::None
            | Strategy::RedisFailfast
            | Strategy::BrokenIgnoreSetnx
            | Strategy::RedisStream
            | Strategy::BrokenAckFirst => false,
            Strategy::Redis
            | Strategy::RedisWatchdog
            | Strategy::RedisFenced
            | Strategy::RedisFair
            | Strategy::Redlock
            | Strategy::Local
            | Strategy::PgAtomic
            | Strategy::PgRowLock
            | Strategy::PgAdvisory
            | Strategy::PgOptimistic
            | Strategy::PgSerializable
            | Strategy::PgBatch
            | Strategy::BrokenLuaNil
            | Strategy::BrokenPlainDel
            | Strategy::BrokenGetDel => true,
        }
    }
}

/// `none`: the race itself, unguarded.
const NONE: StrategyInfo = StrategyInfo {
    label: "No lock",
    family: Family::None,
    safe: false,
    lesson: "Read, check, write back: buyers who read the same stock all sell, and the sale oversells.",
    breaks_when: "two buyers at once: both read the same stock",
    needs: Needs::Nothing,
    uses_ttl: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_lists_every_strategy_as_the_catalogue_does() {
        let readme = include_str!("../../README.md");
        for strategy in Strategy::ALL {
            let info = strategy.info();
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{strategy}` |")))
                .unwrap_or_else(|| panic!("README's lab table has no row for {strategy}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let family = serde_json::to_value(info.family).unwrap();
            assert_eq!(cells[2], family.as_str().unwrap(), "{row}");
            assert_eq!(cells[3], if info.safe { "yes" } else { "no" }, "{row}");
        }
    }

    #[test]
    fn the_broken_strategies_are_in_the_broken_family_and_never_safe() {
        for strategy in Strategy::ALL {
            let info = strategy.info();
            assert_eq!(
                strategy.as_str().starts_with("broken-"),
                info.family == Family::Broken,
                "{strategy}"
            );
            if info.family == Family::Broken {
                assert!(!info.safe, "{strategy}");
            }
            assert!(
                !info.lesson.is_empty() && !info.breaks_when.is_empty(),
                "{strategy}"
            );
        }
    }
}
