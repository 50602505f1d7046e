//! The sale: the race, and the words of a purchase.
//!
//! [`sell_one`] is the tutorial's business logic, kept in its racy
//! read-check-write shape on purpose: every strategy of the lock lab runs
//! this same function, and differs only in what it puts around it (a Redis
//! lock, a transaction, a row lock, a version check). [`locked_sale`] is the
//! shape every lock strategy shares: acquire, sell, release.

use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, Transaction};
use tokio::time::{Instant, sleep};
use uuid::Uuid;

use crate::domain::{BuyerName, DuplicateCheck, Knobs, ProductId};
use crate::lock::{Guard, Lock, LockError, LockTiming, Strategy};
use crate::metrics::Metrics;
use crate::outcome::Refusal;
use crate::timeline::Lane;

/// What a buyer asks for.
#[derive(Debug, Clone)]
pub struct PurchaseRequest {
    pub product: ProductId,
    pub strategy: Strategy,
    pub knobs: Knobs,
    pub buyer: Option<BuyerName>,
    /// How the per-buyer limit is checked (the key, or the naive count).
    pub duplicate_check: DuplicateCheck,
    /// Where to record this buyer's moments (traced crowds only).
    pub trace: Option<Lane>,
}

/// Where an order is: written in Postgres (201), or accepted by a gate in
/// Redis and queued for the order writer (202, `redis-stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Written,
    Queued,
}

/// A unit sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub order_id: Uuid,
    pub product_id: ProductId,
    pub status: OrderStatus,
    pub remaining_stock: i64,
    pub lock: Strategy,
    /// The product's generation the unit was sold from: a crowd overtaken by
    /// a restock counts apart what it sold from the stock it started with.
    #[serde(skip)]
    pub generation: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PurchaseError {
    #[error("product {0} does not exist")]
    ProductNotFound(ProductId),
    #[error("product {0} is sold out")]
    SoldOut(ProductId),
    #[error("could not lock product {product}")]
    Lock {
        product: ProductId,
        #[source]
        source: LockError,
    },
    #[error("strategy `{strategy}` is not available: {reason}")]
    StrategyUnavailable { strategy: Strategy, reason: String },
    /// The product was restocked while the sale was in flight: the sale wrote
    /// nothing, so that it cannot overwrite the new stock.
    #[error("product {0} was restocked during the sale; nothing was sold")]
    Restocked(ProductId),
    /// `pg-optimistic`: the row changed since it was read; try again.
    #[error("product {0} changed since it was read")]
    VersionConflict(ProductId),
    /// The buyer already has the product's limit: nothing was sold.
    #[error("this buyer already has the most product {0} allows per buyer; nothing was sold")]
    LimitReached(ProductId),
    /// The product has a limit per buyer, and the purchase named no buyer.
    #[error("product {0} is limited per buyer: the purchase needs a `user`")]
    UserRequired(ProductId),
    /// The service is shutting down and takes no new sale.
    #[error("the service is shutting down")]
    ShuttingDown,
    #[error("database call failed")]
    Database(#[from] sqlx::Error),
    #[error("the purchase task died")]
    Aborted(#[from] tokio::task::JoinError),
}

impl PurchaseError {
    pub fn lock(product: ProductId, source: LockError) -> Self {
        PurchaseError::Lock { product, source }
    }

    /// How a refused purchase is counted: the words of the HTTP answers.
    pub fn refusal(&self) -> Refusal {
        match self {
            PurchaseError::SoldOut(_) => Refusal::SoldOut,
            PurchaseError::Restocked(_) => Refusal::Restocked,
            PurchaseError::LimitReached(_) => Refusal::LimitReached,
            PurchaseError::Lock { source, .. } => match source {
                LockError::Busy { .. } => Refusal::Busy,
                LockError::Lost => Refusal::LockLost,
                LockError::Store(error) if !crate::db::is_unavailable(error) => Refusal::Failed,
                _ => Refusal::Unavailable,
            },
            PurchaseError::StrategyUnavailable { .. } | PurchaseError::ShuttingDown => {
                Refusal::Unavailable
            }
            PurchaseError::Database(error) if crate::db::is_unavailable(error) => {
                Refusal::Unavailable
            }
            PurchaseError::ProductNotFound(_)
            | PurchaseError::UserRequired(_)
            | PurchaseError::VersionConflict(_)
            | PurchaseError::Database(_)
            | PurchaseError::Aborted(_) => Refusal::Failed,
        }
    }
}

/// The sale under a lock: acquire (with a deadline), sell, release — the
/// shape every lock strategy shares.
pub async fn locked_sale<L: Lock>(
    lock: &L,
    db: &PgPool,
    request: &PurchaseRequest,
    timing: &LockTiming,
    metrics: &Metrics,
) -> Result<Order, PurchaseError> {
    let product = request.product;
    let asked = Instant::now();
    let acquired = lock.acquire(product, timing).await;
    metrics.lock_waited(request.strategy, asked.elapsed());
    let guard = acquired.map_err(|source| PurchaseError::lock(product, source))?;
    let held_since = Instant::now();
    if let Some(lane) = &request.trace {
        lane.lock_acquired();
        if let Some(ttl) = guard.ttl() {
            lane.lock_ttl(ttl, guard.renewed());
        }
    }

    // Whatever the sale's outcome, release before answering.
    let outcome = sell_one(&mut Store::Pool(db), request, &guard, SaleChecks::default()).await;

    if let Some(lane) = &request.trace {
        lane.done();
    }
    let released = lock.release(guard).await;
    metrics.lock_held(request.strategy, held_since.elapsed());
    match released {
        Ok(true) => {}
        Ok(false) => {
            metrics.lock_expired(request.strategy);
            tracing::warn!("the lock expired before release: the critical section outlived its TTL")
        }
        Err(error) => tracing::warn!(error = %error, "lock release failed; the TTL will free it"),
    }
    outcome
}

/// Where the sale's statements go: each to the pool on its own, or all into
/// one transaction of the strategy's.
pub enum Store<'a> {
    Pool(&'a PgPool),
    Tx(&'a mut PgConnection),
}

/// What a Postgres guard asks of the sale besides the lock's own checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaleChecks {
    /// Read with `SELECT … FOR UPDATE` (`pg-row-lock`).
    pub lock_row: bool,
    /// Write only if the row's version is still the one read (`pg-optimistic`).
    pub compare_version: bool,
}

/// The row as the sale read it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
struct StockRead {
    stock: i64,
    version: i64,
    generation: i64,
}

/// THE RACE. Read the stock, check it, (do the business step,) write back the
/// value read minus one, record the order.
///
/// Between the read and the write another buyer can read the same value: both
/// write `stock - 1`, both get an order, one decrement is lost, and the sale
/// oversells. That is the bug the locks exist for, so it stays in this shape:
/// an atomic `UPDATE ... SET stock = stock - 1 WHERE stock > 0` would hide it
/// (that one is `pg-atomic`, the database's own answer).
///
/// The write is conditional on what no buyer changes but a restock (the
/// row's generation), on the guard's fencing token if it has one, and on the
/// version read if asked: a condition that fails writes nothing. A guard
/// that knows how long its lock lasts (Redlock, the watchdog) is asked after
/// the write has its connection, and bounds the write by it.
pub async fn sell_one(
    store: &mut Store<'_>,
    request: &PurchaseRequest,
    guard: &dyn Guard,
    checks: SaleChecks,
) -> Result<Order, PurchaseError> {
    let product = request.product;

    // 1. Read.
    let read = match store {
        Store::Pool(db) => read_stock(*db, product, checks.lock_row).await?,
        Store::Tx(tx) => read_stock(&mut **tx, product, checks.lock_row).await?,
    }
    .ok_or(PurchaseError::ProductNotFound(product))?;

    if let Some(lane) = &request.trace {
        lane.read(read.stock);
    }

    // 2. Check.
    if read.stock <= 0 {
        return Err(PurchaseError::SoldOut(product));
    }

    // A pause (GC, SIGSTOP) while holding what was read: the lock may expire.
    let pause = request.knobs.pause.duration();
    if guard.pauses_after_read() && !pause.is_zero() {
        sleep(pause).await;
    }

    // 3. The business step ("此处省略" in the tutorial) widens the window.
    let work = request.knobs.work.duration();
    if !work.is_zero() {
        sleep(work).await;
    }

    // 4. Write back what we read, minus one, and record the order. One
    //    statement, so a sale is never half written. The connection comes
    //    first, then "is the lock still mine?", so that no wait falls between
    //    the check and the write.
    let remaining = read.stock - 1;
    let order_id = Uuid::new_v4();
    let version = checks.compare_version.then_some(read.version);
    let mut writer = Writer::take(store, guard, product).await?;
    let written = write_back(
        writer.connection(),
        request,
        order_id,
        remaining,
        read,
        guard.fence(),
        version,
    )
    .await
    .map_err(|error| writer.explain(error, product))?;
    writer.finish().await?;
    if !written {
        // With a fence, a failed write is a newer token's claim or a restock:
        // ask the row which (a restock never moves the fence).
        let restocked = guard.fence().is_some()
            && match store {
                Store::Pool(db) => generation_now(*db, product).await?,
                Store::Tx(tx) => generation_now(&mut **tx, product).await?,
            } != Some(read.generation);
        return Err(if restocked {
            PurchaseError::Restocked(product)
        } else if guard.fence().is_some() {
            // A newer token claimed the row: our lock expired under us.
            PurchaseError::lock(product, LockError::Lost)
        } else if checks.compare_version {
            PurchaseError::VersionConflict(product)
        } else {
            PurchaseError::Restocked(product)
        });
    }

    if let Some(lane) = &request.trace {
        lane.wrote(remaining);
    }

    Ok(Order {
        order_id,
        product_id: product,
        status: OrderStatus::Written,
        remaining_stock: remaining,
        lock: request.strategy,
        generation: read.generation,
    })
}

/// Where the write goes, taken before the lock is asked whether it still
/// holds: a lock lost while the write waited for its connection writes
/// nothing.
enum Writer<'s> {
    /// The strategy's own transaction.
    Tx(&'s mut PgConnection),
    /// A connection of the pool's, for a guard with no validity.
    Pooled(PoolConnection<Postgres>),
    /// A transaction whose statement timeout is the lock's validity left
    /// (Redlock, the watchdog): a write still waiting (for a row lock) when
    /// the lock runs out is cancelled, and nothing is written. The commit
    /// that follows is one round trip nobody bounds: fencing closes that.
    Bounded(Transaction<'static, Postgres>),
}

impl<'s> Writer<'s> {
    /// A connection for the write, then the lock's word on whether to write.
    async fn take(
        store: &'s mut Store<'_>,
        guard: &dyn Guard,
        product: ProductId,
    ) -> Result<Self, PurchaseError> {
        let mut writer = match store {
            Store::Tx(tx) => Writer::Tx(tx),
            Store::Pool(db) if guard.valid_for().is_some() => Writer::Bounded(db.begin().await?),
            Store::Pool(db) => Writer::Pooled(db.acquire().await?),
        };
        // A lock known to be lost (watchdog, Redlock validity): write nothing.
        let lost = || PurchaseError::lock(product, LockError::Lost);
        if guard.is_lost() {
            return Err(lost());
        }
        if let Writer::Bounded(tx) = &mut writer {
            let left = guard.valid_for().unwrap_or_default();
            // 0 would mean "no timeout": under a millisecond left is lost.
            let left_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
            if left_ms == 0 {
                return Err(lost());
            }
            sqlx::query("SELECT set_config('statement_timeout', $1, true)")
                .bind(format!("{left_ms}ms"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(writer)
    }

    fn connection(&mut self) -> &mut PgConnection {
        match self {
            Writer::Tx(tx) => tx,
            Writer::Pooled(connection) => connection,
            Writer::Bounded(tx) => tx,
        }
    }

    /// A bounded write cancelled by its statement timeout ran past the
    /// lock's validity: the lock is lost, and nothing was written.
    fn explain(&self, error: sqlx::Error, product: ProductId) -> PurchaseError {
        const QUERY_CANCELED: &str = "57014";
        match (self, &error) {
            (Writer::Bounded(_), sqlx::Error::Database(db))
                if db.code().as_deref() == Some(QUERY_CANCELED) =>
            {
                PurchaseError::lock(product, LockError::Lost)
            }
            _ => PurchaseError::Database(error),
        }
    }

    /// Commit the bounded write's transaction; the others are done already.
    async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Writer::Bounded(tx) => tx.commit().await,
            Writer::Tx(_) | Writer::Pooled(_) => Ok(()),
        }
    }
}

async fn read_stock(
    db: impl PgExecutor<'_>,
    product: ProductId,
    lock_row: bool,
) -> Result<Option<StockRead>, sqlx::Error> {
    let sql = if lock_row {
        "SELECT stock, version, generation FROM products WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT stock, version, generation FROM products WHERE id = $1"
    };
    sqlx::query_as(sql)
        .bind(product.get())
        .fetch_optional(db)
        .await
}

/// The row's generation now (`None`: the product is gone).
async fn generation_now(
    db: impl PgExecutor<'_>,
    product: ProductId,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT generation FROM products WHERE id = $1")
        .bind(product.get())
        .fetch_optional(db)
        .await
}

/// `true` when the stock was written and the order recorded.
///
/// With a limit per buyer (and `duplicate_check=key`), the same statement
/// counts the unit on the buyer's row of `buyer_counts`, only if the stock
/// was written: past the limit its CHECK fails and the whole statement —
/// decrement included — is undone (`limit::classify` names the error).
async fn write_back(
    db: impl PgExecutor<'_>,
    request: &PurchaseRequest,
    order_id: Uuid,
    remaining: i64,
    read: StockRead,
    fence: Option<i64>,
    version: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let written: Option<Uuid> = sqlx::query_scalar(
        "WITH sold AS (
             UPDATE products
             SET stock = $2, version = version + 1, updated_at = now()
             WHERE id = $1
               AND generation = $6
               AND ($7::bigint IS NULL OR fence = $7)
               AND ($8::bigint IS NULL OR version = $8)
             RETURNING id, generation, per_buyer
         ),
         counted AS (
             INSERT INTO buyer_counts (product_id, generation, user_name, cap, bought)
             SELECT sold.id, sold.generation, $5, sold.per_buyer, 1 FROM sold
             WHERE sold.per_buyer IS NOT NULL AND $9
             ON CONFLICT (product_id, generation, user_name)
             DO UPDATE SET bought = buyer_counts.bought + 1
         )
         INSERT INTO orders (id, product_id, lock_mode, user_name)
         SELECT $3, sold.id, $4, $5 FROM sold
         RETURNING id",
    )
    .bind(request.product.get())
    .bind(remaining)
    .bind(order_id)
    .bind(request.strategy.as_str())
    .bind(request.buyer.as_ref().map(BuyerName::as_str))
    .bind(read.generation)
    .bind(fence)
    .bind(version)
    .bind(request.duplicate_check == DuplicateCheck::Key)
    .fetch_optional(db)
    .await?;
    Ok(written.is_some())
}
