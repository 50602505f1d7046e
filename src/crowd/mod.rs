//! The flash crowd: N buyers at once against one product, run by the server
//! itself through the one purchase path ([`purchase`]), so its sales, orders
//! and damage are exactly those of N HTTP purchases.
//!
//! Every buyer is a task of its own, racing the others for real: the same
//! `SELECT` on its own pooled connection, the same business step, the same
//! write-back, the same Redis lock — the race lives in how those calls
//! interleave in Postgres, as it does for HTTP buyers (whose purchases, like
//! these, run on the runtime of the worker that took the request). Each
//! outcome is counted honestly — sold,
//! sold out, busy (the lock stayed taken past its deadline), lock lost,
//! restocked, unavailable (Postgres or Redis did not answer in time), failed
//! (anything else).
//!
//! Bounds: one crowd per product at a time across every instance (a claim in
//! Postgres, [`claim`]), a few crowds per instance ([`CrowdSlots`]); a crowd
//! whose client hangs up, or that a shutdown interrupts, starts no more
//! buyers and reports what it did. Each report is kept ([`runs`]) so that a
//! page can show it by its id.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{
    BuyerName, DuplicateCheck, InvalidInput, Knobs, PerBuyer, ProductId, StockLevel,
};
use crate::lock::Strategy;
use crate::outcome::Refusal;
use crate::purchase::{Shop, purchase};
use crate::sale::{OrderStatus, PurchaseRequest};
use crate::timeline::{Lane, MAX_TRACED_BUYERS};

mod claim;
mod drain;
mod report;
mod runs;

pub use claim::CrowdSlots;
pub use report::{CrowdReport, undersold};
pub use runs::find_report;

/// How many buyers take part in one crowd: 1 to [`CrowdSize::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CrowdSize(u32);

impl CrowdSize {
    pub const MAX: u32 = 10_000;

    pub fn new(buyers: i64) -> Result<Self, InvalidInput> {
        match u32::try_from(buyers) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(Self::out_of_range(buyers)),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw.trim().parse::<i64>() {
            Ok(n) => Self::new(n),
            Err(_) => Err(Self::out_of_range(raw)),
        }
    }

    fn out_of_range(raw: impl std::fmt::Display) -> InvalidInput {
        InvalidInput {
            code: "invalid_buyers",
            message: format!("a flash crowd has 1 to {} buyers, got `{raw}`", Self::MAX),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// At most this many buyers are inside [`purchase`] at the same moment; the
/// rest of the crowd is already spawned and waits at the door.
///
/// Why a cap: the Postgres pool has 20 connections and a 2 s acquire timeout.
/// Ten thousand buyers let in at once would mostly measure the pool (most of
/// them answering 503 after 2 s) and would starve everything else the
/// service does — including the page's own live numbers while the crowd
/// runs. A few hundred in flight keeps the race as real as it gets: each of
/// them reads the stock before the earliest ones have written it back (with
/// any business step at all, every one of them), which is more concurrency
/// than a stock of 100 can survive without a lock, while the pool's queue
/// stays short enough that no buyer times out waiting for a connection.
/// The Postgres guards' buyers get no more than their product's share of
/// the pool whatever this cap (`lab::bulkhead`): the rest of those let in
/// wait at the share, their deadline running, and leave 429 at it.
pub const MAX_IN_FLIGHT: usize = 256;

/// A crowd to run: `buyers` purchases of `product` under `strategy`,
/// optionally after restocking the product.
#[derive(Debug, Clone)]
pub struct CrowdRequest {
    pub product: ProductId,
    pub strategy: Strategy,
    pub knobs: Knobs,
    pub buyers: CrowdSize,
    pub restock: Option<StockLevel>,
    /// The limit per buyer the restock sets (only with `restock`).
    pub per_buyer: Option<PerBuyer>,
    /// How the limit is checked: the key, or the naive `count(*)`.
    pub duplicate_check: DuplicateCheck,
    /// Purchases sent under each buyer's name, at once (the bot case): 1
    /// when every purchase is a buyer of its own.
    pub clicks_per_buyer: u32,
    /// Record every buyer's timeline (at most [`MAX_TRACED_BUYERS`] buyers).
    pub trace: bool,
}

impl CrowdRequest {
    /// `Err` when a traced crowd is too large to draw.
    pub fn check_trace(&self) -> Result<(), InvalidInput> {
        if self.trace && self.buyers.get() > MAX_TRACED_BUYERS {
            return Err(InvalidInput::new(
                "invalid_trace",
                format!(
                    "a traced crowd has at most {MAX_TRACED_BUYERS} buyers, got {}; drop `trace` or send fewer buyers",
                    self.buyers.get()
                ),
            ));
        }
        Ok(())
    }
}

/// Why a crowd did not run.
#[derive(Debug, thiserror::Error)]
pub enum CrowdError {
    #[error("product {0} does not exist")]
    ProductNotFound(ProductId),
    #[error("a flash crowd is already running on product {0}")]
    AlreadyRunning(ProductId),
    #[error("{0} flash crowds are already running on this instance")]
    TooMany(usize),
    #[error("the service is shutting down")]
    ShuttingDown,
    #[error("database call failed")]
    Database(#[from] sqlx::Error),
    #[error("the crowd task died")]
    Aborted(#[from] tokio::task::JoinError),
}

/// Run a flash crowd and report what it did.
///
/// The crowd runs on a task of its own and holds its claim on the product
/// until it is done. If the caller goes away (the client hung up), the crowd
/// lets no further buyer in, finishes the sales already started, and logs
/// what it did.
pub async fn run(
    shop: &Shop,
    slots: &CrowdSlots,
    request: CrowdRequest,
) -> Result<CrowdReport, CrowdError> {
    if shop.shutdown.is_cancelled() {
        return Err(CrowdError::ShuttingDown);
    }
    let slot = slots.take(request.product)?;
    let claim = claim::ProductClaim::take(&shop.db, shop.lab.db_timeout(), request.product).await?;
    let stop = shop.shutdown.child_token();
    let client_gone = stop.clone().drop_guard();
    let shop = shop.clone();
    let crowd = shop.sales.clone().spawn(async move {
        let report = run_crowd(&shop, request, stop).await;
        claim.release().await;
        drop(slot);
        let report = report?;
        runs::save_report(&shop.db, &report).await?;
        Ok(report)
    });
    let report = crowd.await?;
    client_gone.disarm();
    report
}

#[tracing::instrument(name = "flash_crowd", skip_all, fields(
    product = %request.product, lock = %request.strategy, buyers = request.buyers.get()
))]
async fn run_crowd(
    shop: &Shop,
    request: CrowdRequest,
    stop: CancellationToken,
) -> Result<CrowdReport, CrowdError> {
    let product = request.product;
    let before = match request.restock {
        Some(level) => shop.restock(product, level, request.per_buyer).await?,
        None => shop.product(product).await?,
    }
    .ok_or(CrowdError::ProductNotFound(product))?;

    let started = Instant::now();
    let started_wall = chrono::Utc::now();
    let origin = tokio::time::Instant::from_std(started);
    let door = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut crowd = JoinSet::new();
    for n in 1..=request.buyers.get() {
        let (shop, door, stop) = (shop.clone(), door.clone(), stop.clone());
        let lane = request.trace.then(|| Lane::new(n, origin));
        let buyer = PurchaseRequest {
            product,
            strategy: request.strategy,
            knobs: request.knobs,
            buyer: BuyerName::parse(&format!(
                "crowd-{}",
                (n - 1) / request.clicks_per_buyer.max(1) + 1
            ))
            .ok(),
            duplicate_check: request.duplicate_check,
            trace: lane.clone(),
        };
        crowd.spawn(async move {
            let _inside = tokio::select! {
                biased;
                () = stop.cancelled() => return None,
                inside = door.acquire_owned() => inside.expect("the door is never closed"),
            };
            let outcome = purchase(&shop, buyer).await;
            let drawn = lane.map(|lane| lane.finish(outcome.as_ref().err().map(|e| e.refusal())));
            Some((n, outcome, drawn))
        });
    }

    let mut tally = Tally::default();
    let mut timeline = Vec::new();
    // Every accepted order's id, by buyer: to count which were written.
    let mut accepted: Vec<(u32, Uuid)> = Vec::new();
    while let Some(outcome) = crowd.join_next().await {
        match outcome {
            Ok(Some((n, outcome, drawn))) => {
                timeline.extend(drawn);
                match outcome {
                    Ok(order) => {
                        tally.sold += 1;
                        accepted.push((n, order.order_id));
                        if order.status == OrderStatus::Queued {
                            tally.queued += 1;
                        }
                        // Sold from a later generation: a restock overtook us.
                        if order.generation != before.generation {
                            tally.sold_after_restock += 1;
                        }
                    }
                    Err(error) => tally.count(error.refusal(), &error),
                }
            }
            Ok(None) => tally.not_started += 1,
            Err(error) => tally.count(Refusal::Failed, &error),
        }
    }
    let elapsed = started.elapsed();
    timeline.sort_by_key(|lane| lane.buyer);

    let drain = drain::wait(shop, product, tally.queued).await;
    // A 201 was answered after its commit: only queued orders (202) need
    // looking up to know whether they were written.
    let written = if tally.queued == 0 {
        i64::from(tally.sold)
    } else {
        let written = drain::written(&shop.db, &accepted).await?;
        if request.trace {
            drain::mark_written(&mut timeline, &written, started_wall);
        }
        i64::try_from(written.len()).unwrap_or(i64::MAX)
    };
    let after = shop
        .product(product)
        .await?
        .ok_or(CrowdError::ProductNotFound(product))?;
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let ran_on = tally.sold - tally.sold_after_restock;
    let refused = tally.busy + tally.lock_lost + tally.unavailable + tally.failed;
    let undersold = undersold(before.stock, ran_on, refused);
    let drain_ms = u64::try_from(drain.waited.as_millis()).unwrap_or(u64::MAX);
    let still_queued = if drain.drained {
        0
    } else {
        after.queued.unwrap_or(0)
    };
    let durable_seconds = (elapsed + drain.waited).as_secs_f64();
    if tally.not_started > 0 {
        tracing::warn!(
            sold = tally.sold,
            not_started = tally.not_started,
            elapsed_ms,
            "flash crowd cut short (client gone or shutting down)"
        );
    } else if undersold > 0 {
        // Not "done" in green words: stock was left while buyers were refused.
        tracing::warn!(
            sold = tally.sold,
            stock_before = before.stock,
            undersold,
            busy = tally.busy,
            lock_lost = tally.lock_lost,
            unavailable = tally.unavailable,
            failed = tally.failed,
            elapsed_ms,
            "flash crowd undersold: stock left while buyers were refused"
        );
    } else {
        tracing::info!(
            sold = tally.sold,
            stock_before = before.stock,
            elapsed_ms,
            "flash crowd done"
        );
    }
    Ok(CrowdReport {
        crowd_id: Uuid::new_v4(),
        buyers: request.buyers.get(),
        clicks_per_buyer: request.clicks_per_buyer,
        lock: request.strategy,
        work_ms: request.knobs.work.millis(),
        pause_ms: request.knobs.pause.millis(),
        ttl_ms: request.knobs.ttl.map(|ttl| ttl.millis()),
        deadline_ms: request.knobs.deadline.map(|deadline| deadline.millis()),
        stock_before: before.stock,
        sold: tally.sold,
        oversold: (i64::from(ran_on) - before.stock).max(0),
        restocked_during: after.generation != before.generation || tally.sold_after_restock > 0,
        sold_after_restock: tally.sold_after_restock,
        undersold,
        sold_out: tally.sold_out,
        busy: tally.busy,
        lock_lost: tally.lock_lost,
        restocked: tally.restocked,
        limit_reached: tally.limit_reached,
        duplicates: after.duplicates,
        unavailable: tally.unavailable,
        failed: tally.failed,
        not_started: tally.not_started,
        elapsed_ms,
        accepted: tally.sold,
        queued: tally.queued,
        written,
        lost_orders: (i64::from(tally.sold) - written - still_queued).max(0),
        still_queued,
        drain_ms,
        durable_orders_per_s: if durable_seconds > 0.0 {
            (written as f64 / durable_seconds * 10.0).round() / 10.0
        } else {
            0.0
        },
        product: after,
        timeline: request.trace.then_some(timeline),
    })
}

/// Outcomes counted as the HTTP API would answer them.
#[derive(Debug, Default)]
struct Tally {
    sold: u32,
    /// Of `sold`, answered 202 (queued).
    queued: u32,
    sold_after_restock: u32,
    sold_out: u32,
    busy: u32,
    lock_lost: u32,
    restocked: u32,
    limit_reached: u32,
    unavailable: u32,
    failed: u32,
    not_started: u32,
}

impl Tally {
    fn count(&mut self, refusal: Refusal, error: &dyn std::error::Error) {
        match refusal {
            Refusal::SoldOut => self.sold_out += 1,
            Refusal::Busy => self.busy += 1,
            Refusal::LockLost => self.lock_lost += 1,
            Refusal::Restocked => self.restocked += 1,
            Refusal::LimitReached => self.limit_reached += 1,
            Refusal::Unavailable => self.unavailable += 1,
            Refusal::Failed => {
                // Log the first few only: a broken crowd must not flood the log.
                if self.failed < 3 {
                    tracing::error!(error = %error, "a crowd buyer failed");
                }
                self.failed += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undersold_counts_the_units_left_that_refused_buyers_could_have_bought() {
        assert_eq!(undersold(100, 0, 500), 100);
        assert_eq!(undersold(100, 40, 460), 60);
        assert_eq!(undersold(100, 40, 20), 20);
        assert_eq!(undersold(100, 40, 0), 0);
        assert_eq!(undersold(100, 137, 10), 0);
        assert_eq!(undersold(i64::MIN, u32::MAX, u32::MAX), 0);
    }

    #[test]
    fn a_crowd_has_one_to_ten_thousand_buyers() {
        assert_eq!(CrowdSize::new(1).unwrap().get(), 1);
        assert_eq!(CrowdSize::parse(" 10000 ").unwrap().get(), 10_000);
        for bad in ["0", "-1", "10001", "many", "", "1e3"] {
            let error = CrowdSize::parse(bad).unwrap_err();
            assert_eq!(error.code, "invalid_buyers");
            assert!(error.message.contains("1 to 10000"), "{}", error.message);
        }
        assert!(CrowdSize::new(i64::MAX).is_err());
    }
}
