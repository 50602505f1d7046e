//! The lock lab at run time: one instance of every lock, built at start-up,
//! the dispatch from a purchase's strategy to the guard around the sale, and
//! which strategies can be used right now. [`catalogue`] says what each
//! strategy teaches; [`postgres`] holds the guards that need no lock service.
//! The locks themselves are in `crate::lock`.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub mod availability;
pub mod batch;
pub mod bulkhead;
pub mod catalogue;
pub mod postgres;
pub mod stream;

pub use availability::Availability;
use bulkhead::Bulkhead;

use crate::db::{self, DbHealth};
use crate::domain::{DuplicateCheck, Knobs, ProductId};
use crate::lock::broken::{get_del, ignore_setnx, lua_nil, plain_del};
use crate::lock::{
    Family, Ledger, LockError, LockTiming, RedisBase, RedisNode, Strategy, Unguarded, failfast,
    fair, fenced, local, redlock, spin, watchdog,
};
use crate::metrics::Metrics;
use crate::sale::{
    Order, PurchaseError, PurchaseRequest, SaleChecks, Store, locked_sale, sell_one,
};

/// A statement held up by a row another transaction holds, past its lock or
/// statement timeout: the product is busy (429), Postgres is not down —
/// whatever the strategy (a guard's own wait, a Redis holder's write, the
/// fence's claim).
fn held_row_is_busy(
    error: PurchaseError,
    product: ProductId,
    arrived: tokio::time::Instant,
) -> PurchaseError {
    match &error {
        PurchaseError::Database(cause)
        | PurchaseError::Lock {
            source: LockError::Store(cause),
            ..
        } if db::is_timeout(cause) => PurchaseError::lock(
            product,
            LockError::Busy {
                waited: arrived.elapsed(),
            },
        ),
        _ => error,
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
    /// The sales' share of the Postgres connections.
    pub bulkhead: Bulkhead,
    /// Most buyers `pg-batch` sells in one transaction (`PG_BATCH_MAX`).
    pub batch_max: usize,
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
    batch: batch::Batcher,
    stream: stream::OrderStream,
    ignore_setnx: ignore_setnx::IgnoreSetNx,
    lua_nil: lua_nil::LuaNil,
    plain_del: plain_del::PlainDel,
    get_del: get_del::GetDel,
    /// Every Redis lock held right now, for a clean shutdown.
    ledger: Ledger,
    /// What the lock services looked like lately, for the page.
    probe: availability::Probe,
    db_health: Arc<DbHealth>,
    metrics: Arc<Metrics>,
    default_timing: LockTiming,
    db_timeout: Duration,
    key_prefix: String,
    bulkhead: Bulkhead,
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
            bulkhead,
            batch_max,
        } = settings;
        let ledger = Ledger::default();
        let db_for_health = db.clone();
        let base = || RedisBase {
            node: redis.clone(),
            ledger: ledger.clone(),
            prefix: prefix.clone(),
        };
        let redlock = redlock::Redlock::new(&redlock_nodes, &prefix, redis_timeout, &ledger);
        let metrics: Arc<Metrics> = Arc::default();
        let probe = availability::Probe::new(
            redis.clone(),
            redlock.as_ref().map(redlock::Redlock::health),
        );
        Self {
            spin: spin::SpinLock(base()),
            failfast: failfast::FailFastLock(base()),
            watchdog: watchdog::WatchdogLock(base()),
            fenced: fenced::FencedLock::new(base(), db),
            fair: fair::FairLock::new(base(), redis_info),
            redlock,
            local: local::LocalLock::default(),
            batch: batch::Batcher::new(batch_max, metrics.clone(), db_timeout),
            stream: stream::OrderStream::new(redis.clone(), &prefix),
            ignore_setnx: ignore_setnx::IgnoreSetNx(base()),
            lua_nil: lua_nil::LuaNil(base()),
            plain_del: plain_del::PlainDel(base()),
            get_del: get_del::GetDel(base()),
            ledger,
            db_health: Arc::new(DbHealth::new(db_for_health, db_timeout)),
            metrics,
            probe,
            default_timing,
            db_timeout,
            key_prefix: prefix,
            bulkhead,
        }
    }

    /// The lock's numbers.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The gate and queue of `redis-stream` and `broken-ack-first`.
    pub fn stream(&self) -> &stream::OrderStream {
        &self.stream
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
        if stream::Queue::of(request.strategy).is_some() {
            // The gate sells from Redis: Postgres down only stops its writer
            // (the queue grows) and the seeding of a product Redis lacks.
            return self.sell_queued(db, request).await;
        }
        self.db_health.ensure_up().await?;
        let arrived = tokio::time::Instant::now();
        let mut timing = self.timing(&request.knobs);
        let _pass = if request.strategy.info().family == Family::Postgres {
            // A Postgres guard holds a connection while it waits: it waits
            // for its share first (see `bulkhead`), within its deadline.
            // (`pg-batch` waits in its line holding none: one connection
            // per batch.)
            let pass = self.enter_bulkhead(request.product, &timing).await?;
            timing.deadline = timing.deadline.saturating_sub(arrived.elapsed());
            Some(pass)
        } else {
            None
        };
        let started = tokio::time::Instant::now();
        let outcome = match request.duplicate_check {
            // The tutorials' check, outside any strategy's critical section.
            DuplicateCheck::Count => match crate::limit::count_check(db, request).await {
                Ok(()) => self.sell_with(db, request, &timing).await,
                Err(refused) => Err(refused),
            },
            DuplicateCheck::Key => self.sell_with(db, request, &timing).await,
        }
        .map_err(|error| crate::limit::classify(error, request.product))
        .map_err(|error| held_row_is_busy(error, request.product, arrived));
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

    async fn sell_queued(
        &self,
        db: &PgPool,
        request: &PurchaseRequest,
    ) -> Result<Order, PurchaseError> {
        if request.duplicate_check == DuplicateCheck::Count {
            crate::limit::count_check(db, request).await?;
        }
        let outcome = self.stream.sell(db, request).await;
        if let Err(PurchaseError::Database(error)) = &outcome {
            self.db_health.observe(error);
        }
        outcome
    }

    /// Wait for a connection share for a Postgres guard's sale: 429 at the
    /// deadline, 503 at once if Postgres goes down meanwhile.
    async fn enter_bulkhead(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<bulkhead::Pass, PurchaseError> {
        let down = self.db_health.down_flag();
        tokio::select! {
            pass = self.bulkhead.enter(product, timing.deadline) => pass.ok_or_else(|| {
                PurchaseError::lock(product, LockError::Busy { waited: timing.deadline })
            }),
            () = down.wait() => Err(PurchaseError::lock(product, LockError::StoreUnavailable)),
        }
    }

    async fn sell_with(
        &self,
        db: &PgPool,
        request: &PurchaseRequest,
        t: &LockTiming,
    ) -> Result<Order, PurchaseError> {
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
            Strategy::PgBatch => self.batch.sell(db, request, t).await,
            Strategy::RedisStream | Strategy::BrokenAckFirst => self.stream.sell(db, request).await,
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

    /// Which strategies can be used now, as last probed: never waits.
    pub fn availability(&self) -> Vec<(Strategy, Availability)> {
        self.probe.now()
    }

    /// Probe the lock services once, then keep probing in the background
    /// until `stop` (the service's shutdown) is cancelled.
    pub async fn watch_availability(&self, stop: CancellationToken) {
        self.probe.start(stop).await;
    }
}
