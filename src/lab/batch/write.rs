//! One batch, one transaction: lock the product's row, read its stock,
//! generation and limit (and the batch's buyers' counts), decide who is
//! served, do the business step once, write every order and one decrement,
//! commit. Nothing of a batch is written unless all of it is.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use sqlx::{AssertSqlSafe, PgPool};
use tokio::time::{Instant, sleep};
use uuid::Uuid;

use super::allocate::{Claim, Verdict, allocate, units_per_buyer};
use crate::domain::{BuyerName, ProductId};
use crate::lock::Strategy;
use crate::metrics::Metrics;
use crate::sale::{Order, OrderStatus, PurchaseError};
use crate::timeline::Lane;

/// One buyer taken into a batch.
#[derive(Debug)]
pub struct Seat {
    pub buyer: Option<BuyerName>,
    /// `duplicate_check=key`: the limit per buyer is counted in the write.
    pub counted: bool,
    pub work: Duration,
    /// The buyer's deadline: the batch waits for the row at most until the
    /// latest of its buyers' deadlines.
    pub give_up_at: Instant,
    pub trace: Option<Lane>,
}

/// A batch as it ended: one answer per seat, or one failure for all.
pub type Answers = Result<Vec<Result<Order, PurchaseError>>, PurchaseError>;

/// Most of a statement's own work beyond its lock wait, as the Postgres
/// guards allow it (see `lab::postgres::begin`).
const STATEMENT_SLACK: Duration = Duration::from_millis(500);

/// Sell to batch number `number` of `product`, in one transaction.
pub async fn sell_batch(
    db: &PgPool,
    product: ProductId,
    number: u64,
    seats: &[Seat],
    statement_timeout: Duration,
    metrics: &Metrics,
) -> Answers {
    let size = u32::try_from(seats.len()).unwrap_or(u32::MAX);
    for lane in seats.iter().filter_map(|seat| seat.trace.as_ref()) {
        lane.batched(number, size);
    }
    // The row lock is waited for until the latest deadline in the batch; a
    // wait past it is a busy product (429) and writes nothing.
    let now = Instant::now();
    let lock_ms = seats
        .iter()
        .map(|seat| seat.give_up_at.saturating_duration_since(now))
        .max()
        .unwrap_or_default()
        .as_millis()
        .max(1);
    let statement_ms = lock_ms + STATEMENT_SLACK.min(statement_timeout).as_millis();
    // One round trip: the timeouts ride along with BEGIN (a simple query).
    let begin = format!(
        "BEGIN; SET LOCAL lock_timeout = '{lock_ms}ms'; \
         SET LOCAL statement_timeout = '{statement_ms}ms'"
    );
    let mut tx = db.begin_with(AssertSqlSafe(begin)).await?;

    // 1. Lock and read. The row's lock orders the batches of every instance,
    //    and holds off a restock until the commit: the generation read here
    //    is the one written.
    let row: Option<(i64, i64, Option<i32>)> = sqlx::query_as(
        "SELECT stock, generation, per_buyer FROM products WHERE id = $1 FOR UPDATE",
    )
    .bind(product.get())
    .fetch_optional(&mut *tx)
    .await?;
    let (stock, generation, per_buyer) = row.ok_or(PurchaseError::ProductNotFound(product))?;
    let held_since = Instant::now();
    for lane in seats.iter().filter_map(|seat| seat.trace.as_ref()) {
        lane.lock_acquired();
        lane.read(stock);
    }

    // 2. Check, in arrival order.
    let claims: Vec<Claim<'_>> = seats
        .iter()
        .map(|seat| Claim {
            buyer: seat.buyer.as_ref().map(BuyerName::as_str),
            counted: seat.counted,
        })
        .collect();
    let bought = match per_buyer {
        Some(_) if claims.iter().any(|c| c.counted && c.buyer.is_some()) => {
            let names: Vec<&str> = claims.iter().filter_map(|c| c.buyer).collect();
            let rows: Vec<(String, i32)> = sqlx::query_as(
                "SELECT user_name, bought FROM buyer_counts
                 WHERE product_id = $1 AND generation = $2 AND user_name = ANY($3)",
            )
            .bind(product.get())
            .bind(generation)
            .bind(&names)
            .fetch_all(&mut *tx)
            .await?;
            rows.into_iter().collect()
        }
        _ => HashMap::new(),
    };
    let verdicts = allocate(stock, per_buyer, &bought, &claims);
    let served = verdicts
        .iter()
        .filter(|verdict| matches!(verdict, Verdict::Served { .. }))
        .count();

    // 3. The business step, once for the whole batch, with the row held.
    if served > 0 {
        let work = seats.iter().map(|seat| seat.work).max().unwrap_or_default();
        if !work.is_zero() {
            sleep(work).await;
        }
    }

    // 4. One statement writes the batch: the decrement by the units served
    //    (never below zero: they were counted from the locked row), one order
    //    per buyer served, one count per named buyer.
    let order_ids: Vec<Uuid> = (0..served).map(|_| Uuid::new_v4()).collect();
    if served > 0 {
        let served_names: Vec<Option<&str>> = claims
            .iter()
            .zip(&verdicts)
            .filter(|(_, verdict)| matches!(verdict, Verdict::Served { .. }))
            .map(|(claim, _)| claim.buyer)
            .collect();
        let (counted_names, counted_units) = units_per_buyer(&claims, &verdicts);
        let written: i64 = sqlx::query_scalar(
            "WITH sold AS (
                 UPDATE products
                 SET stock = stock - $2, version = version + 1, updated_at = now()
                 WHERE id = $1 AND generation = $3 AND stock >= $2
                 RETURNING id, generation, per_buyer
             ),
             counted AS (
                 INSERT INTO buyer_counts (product_id, generation, user_name, cap, bought)
                 SELECT sold.id, sold.generation, c.user_name, sold.per_buyer, c.units
                 FROM sold, unnest($6::text[], $7::int[]) AS c (user_name, units)
                 WHERE sold.per_buyer IS NOT NULL
                 ON CONFLICT (product_id, generation, user_name)
                 DO UPDATE SET bought = buyer_counts.bought + EXCLUDED.bought
             ),
             ordered AS (
                 INSERT INTO orders (id, product_id, lock_mode, user_name)
                 SELECT o.id, sold.id, $4, o.user_name
                 FROM sold, unnest($5::uuid[], $8::text[]) AS o (id, user_name)
                 RETURNING 1
             )
             SELECT count(*) FROM ordered",
        )
        .bind(product.get())
        .bind(i64::try_from(served).unwrap_or(i64::MAX))
        .bind(generation)
        .bind(Strategy::PgBatch.as_str())
        .bind(&order_ids)
        .bind(&counted_names)
        .bind(&counted_units)
        .bind(&served_names)
        .fetch_one(&mut *tx)
        .await?;
        if written != i64::try_from(served).unwrap_or(i64::MAX) {
            // Under the row lock nothing but this batch moves the row: a
            // mismatch is a bug; write nothing rather than half a batch.
            return Err(PurchaseError::Restocked(product));
        }
    }
    tx.commit().await?;
    metrics.lock_held(Strategy::PgBatch, held_since.elapsed());

    // 5. Only now, with the batch durable, the answers.
    let mut order_ids = order_ids.into_iter();
    Ok(seats
        .iter()
        .zip(verdicts)
        .map(|(seat, verdict)| match verdict {
            Verdict::Served { remaining } => {
                if let Some(lane) = &seat.trace {
                    lane.wrote(remaining);
                }
                Ok(Order {
                    order_id: order_ids.next().expect("one id per unit served"),
                    product_id: product,
                    status: OrderStatus::Written,
                    remaining_stock: remaining,
                    lock: Strategy::PgBatch,
                    generation,
                })
            }
            Verdict::SoldOut => Err(PurchaseError::SoldOut(product)),
            Verdict::LimitReached => Err(PurchaseError::LimitReached(product)),
            Verdict::UserRequired => Err(PurchaseError::UserRequired(product)),
        })
        .collect())
}

/// The same failure for one more buyer of a failed batch: `sqlx::Error` is
/// not `Clone`, so a copy that keeps what decides the answer (unavailable:
/// 503; a lock or statement timeout: 429; anything else: 500) and the
/// message for the logs.
pub fn relay(error: &PurchaseError, product: ProductId) -> PurchaseError {
    match error {
        PurchaseError::Database(error) => PurchaseError::Database(relay_sqlx(error)),
        PurchaseError::ProductNotFound(_) => PurchaseError::ProductNotFound(product),
        PurchaseError::Restocked(_) => PurchaseError::Restocked(product),
        other => PurchaseError::Database(sqlx::Error::Configuration(other.to_string().into())),
    }
}

fn relay_sqlx(error: &sqlx::Error) -> sqlx::Error {
    match error {
        sqlx::Error::Database(db) => sqlx::Error::Database(Box::new(Relayed {
            message: db.message().to_owned(),
            code: db.code().map(Cow::into_owned),
            constraint: db.constraint().map(str::to_owned),
            table: db.table().map(str::to_owned),
        })),
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        sqlx::Error::Tls(tls) => sqlx::Error::Protocol(tls.to_string()),
        sqlx::Error::Protocol(message) => sqlx::Error::Protocol(message.clone()),
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::WorkerCrashed => sqlx::Error::WorkerCrashed,
        other => sqlx::Error::Configuration(other.to_string().into()),
    }
}

/// A database error told again to another buyer of the same batch.
#[derive(Debug)]
struct Relayed {
    message: String,
    code: Option<String>,
    constraint: Option<String>,
    table: Option<String>,
}

impl std::fmt::Display for Relayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Relayed {}

impl sqlx::error::DatabaseError for Relayed {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.code.as_deref().map(Cow::Borrowed)
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }

    fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        sqlx::error::ErrorKind::Other
    }
}
