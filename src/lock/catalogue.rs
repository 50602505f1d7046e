//! The catalogue: every strategy of the lock lab, in one place. Parsing of
//! `lock=`, the page's lock switch, `GET /api/strategies`, the README table
//! and the load generator's `--modes all` all read it.
//!
//! Adding a strategy: write its file (an `INFO` and either a [`Lock`] or a
//! `sell` function), then add its variant here — in [`Strategy::ALL`],
//! [`Strategy::info`] and [`Lab::sell`]; the compiler points at each.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use sqlx::PgPool;

use super::broken::{get_del, ignore_setnx, lua_nil, plain_del};
use super::{
    Ledger, LockError, LockTiming, RedisBase, RedisNode, Unguarded, failfast, fair, fenced, local,
    postgres, redlock, spin, watchdog,
};
use std::sync::Arc;

use crate::db::DbHealth;
use crate::domain::{InvalidInput, Knobs};
use crate::metrics::Metrics;
use crate::purchase::{
    Order, PurchaseError, PurchaseRequest, SaleChecks, Store, locked_sale, sell_one,
};

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

/// Whether a strategy can be used right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub available: bool,
    pub unavailable_reason: Option<String>,
}

impl Availability {
    fn up() -> Self {
        Self {
            available: true,
            unavailable_reason: None,
        }
    }

    fn down(reason: impl Into<String>) -> Self {
        Self {
            available: false,
            unavailable_reason: Some(reason.into()),
        }
    }
}

/// Everything the strategies need, built once at start-up.
pub struct LabSettings {
    pub redis: RedisNode,
    /// Where `redis` connects: the fair lock subscribes there too.
    pub redis_info: redis::ConnectionInfo,
    pub db: PgPool,
    pub key_prefix: String,
    pub redlock_nodes: Vec<redis::ConnectionInfo>,
    /// TTL, deadline and retry when a purchase names none.
    pub default_timing: LockTiming,
    pub redis_timeout: Duration,
    pub db_timeout: Duration,
}

/// The strategies, ready to sell: one instance of each lock.
pub struct Lab {
    spin: spin::SpinLock,
    failfast: failfast::FailFastLock,
    watchdog: watchdog::WatchdogLock,
    fenced: fenced::FencedLock,
    fair: fair::FairLock,
    redlock: Option<redlock::Redlock>,
    local: local::LocalLock,
    ignore_setnx: ignore_setnx::IgnoreSetNx,
    lua_nil: lua_nil::LuaNil,
    plain_del: plain_del::PlainDel,
    get_del: get_del::GetDel,
    /// Every Redis lock held right now, for a clean shutdown.
    ledger: Ledger,
    redis: RedisNode,
    db_health: Arc<DbHealth>,
    metrics: Arc<Metrics>,
    default_timing: LockTiming,
    db_timeout: Duration,
    key_prefix: String,
}

impl Lab {
    pub fn new(settings: LabSettings) -> Self {
        let LabSettings {
            redis,
            redis_info,
            db,
            key_prefix: prefix,
            redlock_nodes,
            default_timing,
            redis_timeout,
            db_timeout,
        } = settings;
        let ledger = Ledger::default();
        let db_for_health = db.clone();
        let base = || RedisBase {
            node: redis.clone(),
            ledger: ledger.clone(),
            prefix: prefix.clone(),
        };
        Self {
            spin: spin::SpinLock(base()),
            failfast: failfast::FailFastLock(base()),
            watchdog: watchdog::WatchdogLock(base()),
            fenced: fenced::FencedLock::new(base(), db),
            fair: fair::FairLock::new(base(), redis_info),
            redlock: redlock::Redlock::new(&redlock_nodes, &prefix, redis_timeout, &ledger),
            local: local::LocalLock::default(),
            ignore_setnx: ignore_setnx::IgnoreSetNx(base()),
            lua_nil: lua_nil::LuaNil(base()),
            plain_del: plain_del::PlainDel(base()),
            get_del: get_del::GetDel(base()),
            ledger,
            db_health: Arc::new(DbHealth::new(db_for_health, db_timeout)),
            metrics: Arc::default(),
            redis,
            default_timing,
            db_timeout,
            key_prefix: prefix,
        }
    }

    /// The lock's numbers.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Longest wait for Postgres before a 503.
    pub fn db_timeout(&self) -> Duration {
        self.db_timeout
    }

    /// Every Redis lock this instance holds right now.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The Redis key prefix of every lock and counter.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The timing of one purchase: its own knobs over the service's settings.
    pub fn timing(&self, knobs: &Knobs) -> LockTiming {
        LockTiming {
            ttl: knobs
                .ttl
                .map_or(self.default_timing.ttl, |ttl| ttl.duration()),
            deadline: knobs
                .deadline
                .map_or(self.default_timing.deadline, |deadline| deadline.duration()),
            retry: self.default_timing.retry,
            pause: knobs.pause.duration(),
            give_up: Some(self.db_health.down_flag()),
        }
    }

    /// Sell one unit under the request's strategy — unless Postgres is known
    /// to be down: then fail fast instead of queueing for a lock.
    pub async fn sell(
        &self,
        db: &PgPool,
        request: &PurchaseRequest,
    ) -> Result<Order, PurchaseError> {
        self.db_health.ensure_up().await?;
        let started = tokio::time::Instant::now();
        let outcome = self.sell_with(db, request).await;
        if request.strategy.info().family == Family::Postgres {
            // The database does the waiting; the whole sale is the hold.
            self.metrics.lock_held(request.strategy, started.elapsed());
        }
        if let Err(
            PurchaseError::Database(error)
            | PurchaseError::Lock {
                source: LockError::Store(error),
                ..
            },
        ) = &outcome
        {
            self.db_health.observe(error);
        }
        outcome
    }

    async fn sell_with(
        &self,
        db: &PgPool,
        request: &PurchaseRequest,
    ) -> Result<Order, PurchaseError> {
        let timing = self.timing(&request.knobs);
        let t = &timing;
        let db_timeout = self.db_timeout;
        match request.strategy {
            Strategy::None => {
                sell_one(
                    &mut Store::Pool(db),
                    request,
                    &Unguarded,
                    SaleChecks::default(),
                )
                .await
            }
            Strategy::Redis => locked_sale(&self.spin, db, request, t, &self.metrics).await,
            Strategy::RedisFailfast => {
                locked_sale(&self.failfast, db, request, t, &self.metrics).await
            }
            Strategy::RedisWatchdog => {
                locked_sale(&self.watchdog, db, request, t, &self.metrics).await
            }
            Strategy::RedisFenced => locked_sale(&self.fenced, db, request, t, &self.metrics).await,
            Strategy::RedisFair => locked_sale(&self.fair, db, request, t, &self.metrics).await,
            Strategy::Redlock => match &self.redlock {
                Some(redlock) => locked_sale(redlock, db, request, t, &self.metrics).await,
                None => Err(PurchaseError::StrategyUnavailable {
                    strategy: request.strategy,
                    reason: "no Redlock nodes are configured (REDLOCK_URLS)".into(),
                }),
            },
            Strategy::Local => locked_sale(&self.local, db, request, t, &self.metrics).await,
            Strategy::PgAtomic => postgres::atomic::sell(db, request, t, db_timeout).await,
            Strategy::PgRowLock => postgres::row_lock::sell(db, request, t, db_timeout).await,
            Strategy::PgAdvisory => postgres::advisory::sell(db, request, t, db_timeout).await,
            Strategy::PgOptimistic => postgres::optimistic::sell(db, request, t).await,
            Strategy::PgSerializable => {
                postgres::serializable::sell(db, request, t, db_timeout).await
            }
            Strategy::BrokenIgnoreSetnx => {
                locked_sale(&self.ignore_setnx, db, request, t, &self.metrics).await
            }
            Strategy::BrokenLuaNil => {
                locked_sale(&self.lua_nil, db, request, t, &self.metrics).await
            }
            Strategy::BrokenPlainDel => {
                locked_sale(&self.plain_del, db, request, t, &self.metrics).await
            }
            Strategy::BrokenGetDel => {
                locked_sale(&self.get_del, db, request, t, &self.metrics).await
            }
        }
    }

    /// Which strategies can be used now, checking what each needs. Postgres
    /// (which every strategy needs for the stock) is checked by `/readyz`.
    pub async fn availability(&self) -> Vec<(Strategy, Availability)> {
        let redis_up = self.redis.ping();
        let redlock = async {
            match &self.redlock {
                None => Availability::down("no Redlock nodes are configured (REDLOCK_URLS)"),
                Some(redlock) => {
                    let nodes = redlock.reachable().await;
                    let up = nodes.iter().filter(|(_, up)| *up).count();
                    if up >= redlock.quorum() {
                        Availability::up()
                    } else {
                        let down: Vec<_> = nodes
                            .iter()
                            .filter(|(_, up)| !*up)
                            .map(|(address, _)| address.as_str())
                            .collect();
                        Availability::down(format!(
                            "{up} of {} Redlock nodes answer, {} needed for a majority (down: {})",
                            nodes.len(),
                            redlock.quorum(),
                            down.join(", ")
                        ))
                    }
                }
            }
        };
        let (redis_up, redlock) = tokio::join!(redis_up, redlock);
        Strategy::ALL
            .into_iter()
            .map(|strategy| {
                let availability = match strategy.info().needs {
                    Needs::Nothing => Availability::up(),
                    Needs::Redis if redis_up => Availability::up(),
                    Needs::Redis => Availability::down("Redis does not answer"),
                    Needs::RedlockNodes => redlock.clone(),
                };
                (strategy, availability)
            })
            .collect()
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
