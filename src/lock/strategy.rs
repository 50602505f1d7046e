//! The strategies' names: the `lock=` of a purchase, a crowd, the page and
//! the load generator's `--modes`. What each one teaches is in the catalogue
//! (`crate::lab::catalogue`), beside the code that runs it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

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
    PgBatch,
    RedisStream,
    BrokenIgnoreSetnx,
    BrokenLuaNil,
    BrokenPlainDel,
    BrokenGetDel,
    BrokenAckFirst,
}

impl Strategy {
    /// Every strategy, in the order the page and the reports list them.
    pub const ALL: [Strategy; 20] = [
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
        Strategy::PgBatch,
        Strategy::RedisStream,
        Strategy::BrokenIgnoreSetnx,
        Strategy::BrokenLuaNil,
        Strategy::BrokenPlainDel,
        Strategy::BrokenGetDel,
        Strategy::BrokenAckFirst,
    ];

    /// The `lock=` name: a contract users' scripts rely on.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::None => "none",
            Strategy::Redis => "redis",
            Strategy::RedisFailfast => "redis-failfast",
            Strategy::RedisWatchdog => "redis-watchdog",
            Strategy::RedisFenced => "redis-fenced",
            Strategy::RedisFair => "redis-fair",
            Strategy::Redlock => "redlock",
            Strategy::Local => "local",
            Strategy::PgAtomic => "pg-atomic",
            Strategy::PgRowLock => "pg-row-lock",
            Strategy::PgAdvisory => "pg-advisory",
            Strategy::PgOptimistic => "pg-optimistic",
            Strategy::PgSerializable => "pg-serializable",
            Strategy::PgBatch => "pg-batch",
            Strategy::RedisStream => "redis-stream",
            Strategy::BrokenIgnoreSetnx => "broken-ignore-setnx",
            Strategy::BrokenLuaNil => "broken-lua-nil",
            Strategy::BrokenPlainDel => "broken-plain-del",
            Strategy::BrokenGetDel => "broken-get-del",
            Strategy::BrokenAckFirst => "broken-ack-first",
        }
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

/// In the OpenAPI document: a string, one of the catalogue's names.
impl utoipa::PartialSchema for Strategy {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.map(Strategy::as_str)))
            .description(Some(
                "A strategy's name: the `lock=` of a purchase or a crowd.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Strategy {}

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
}
