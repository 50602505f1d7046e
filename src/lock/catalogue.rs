//! The catalogue: every strategy of the lock lab, in one place. Parsing of
//! `lock=`, the page's lock switch, `GET /api/strategies`, the README table
//! and the load generator's `--modes all` all read it.
//!
//! Adding a strategy: write its file (an `INFO` and either a `Lock` or a
//! `sell` function), add its variant here — in [`Strategy::ALL`] and
//! [`Strategy::info`] — and its arm in `Lab::sell_with` (`lab.rs`); the
//! compiler points at each.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use super::broken::{get_del, ignore_setnx, lua_nil, plain_del};
use super::{failfast, fair, fenced, local, postgres, redlock, spin, watchdog};
use crate::domain::InvalidInput;

/// How a purchase guards its read-then-write of the stock: the `lock=` of a
/// purchase, a crowd, the page and the load generator's `--modes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    None,
    Redis,
    RedisFailfast,
    RedisWatchdog,
    RedisFenced,
    RedisFair,
    Redlock,
    Local,
    PgAtomic,
    PgRowLock,
    PgAdvisory,
    PgOptimistic,
    PgSerializable,
    BrokenIgnoreSetnx,
    BrokenLuaNil,
    BrokenPlainDel,
    BrokenGetDel,
}

/// What kind of guard a strategy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// No guard at all.
    None,
    /// A lock in one Redis server.
    Redis,
    /// A lock over several independent Redis nodes.
    Redlock,
    /// A lock inside one process.
    Local,
    /// Postgres alone.
    Postgres,
    /// Broken on purpose: a bug from the documents.
    Broken,
}

/// What a strategy needs besides the Postgres that holds the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Needs {
    Nothing,
    Redis,
    RedlockNodes,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StrategyInfo {
    /// The `lock=` name: a contract users' scripts rely on.
    pub name: &'static str,
    pub label: &'static str,
    pub family: Family,
    /// Safe on several instances when the work fits the TTL.
    pub safe: bool,
    /// The one sentence it teaches.
    pub lesson: &'static str,
    /// The scenario under which it breaks (or why it holds).
    pub breaks_when: &'static str,
    pub needs: Needs,
    /// Whether `ttl_ms` means anything to it.
    pub uses_ttl: bool,
}

impl Strategy {
    /// Every strategy, in the order the page and the reports list them.
    pub const ALL: [Strategy; 17] = [
        Strategy::None,
        Strategy::Redis,
        Strategy::RedisFailfast,
        Strategy::RedisWatchdog,
        Strategy::RedisFenced,
        Strategy::RedisFair,
        Strategy::Redlock,
        Strategy::Local,
        Strategy::PgAtomic,
        Strategy::PgRowLock,
        Strategy::PgAdvisory,
        Strategy::PgOptimistic,
        Strategy::PgSerializable,
        Strategy::BrokenIgnoreSetnx,
        Strategy::BrokenLuaNil,
        Strategy::BrokenPlainDel,
        Strategy::BrokenGetDel,
    ];

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
            Strategy::BrokenIgnoreSetnx => &ignore_setnx::INFO,
            Strategy::BrokenLuaNil => &lua_nil::INFO,
            Strategy::BrokenPlainDel => &plain_del::INFO,
            Strategy::BrokenGetDel => &get_del::INFO,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|strategy| strategy.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|s| s.as_str()).collect();
                InvalidInput::new(
                    "invalid_lock_mode",
                    format!(
                        "unknown lock strategy `{raw}`; expected one of: {}",
                        known.join(", ")
                    ),
                )
            })
    }
}

/// `none`: the race itself, unguarded.
const NONE: StrategyInfo = StrategyInfo {
    name: "none",
    label: "No lock",
    family: Family::None,
    safe: false,
    lesson: "Read, check, write back: buyers who read the same stock all sell, and the sale oversells.",
    breaks_when: "two buyers at once: both read the same stock",
    needs: Needs::Nothing,
    uses_ttl: false,
};

impl FromStr for Strategy {
    type Err = InvalidInput;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Strategy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Strategy::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_parses_by_its_name_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for strategy in Strategy::ALL {
            assert_eq!(Strategy::parse(strategy.as_str()).unwrap(), strategy);
            assert!(names.insert(strategy.as_str()), "duplicate name {strategy}");
        }
        assert_eq!(Strategy::parse(" REDIS ").unwrap(), Strategy::Redis);
        let error = Strategy::parse("mutex").unwrap_err();
        assert_eq!(error.code, "invalid_lock_mode");
        assert!(
            error.message.contains("none, redis, redis-failfast"),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_readme_table_lists_every_strategy_as_the_catalogue_does() {
        let readme = include_str!("../../README.md");
        for strategy in Strategy::ALL {
            let info = strategy.info();
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{}` |", info.name)))
                .unwrap_or_else(|| panic!("README's lab table has no row for {}", info.name));
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
                info.name.starts_with("broken-"),
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
