//! What a crowd did: its report, as `POST …/flash-crowd` and
//! `GET /api/crowds/{id}` answer it and the page draws it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lock::Strategy;
use crate::products::ProductStats;
use crate::timeline::BuyerTimeline;

/// What a crowd did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CrowdReport {
    /// The crowd's id: `GET /api/crowds/{id}` answers this report again.
    pub crowd_id: Uuid,
    pub buyers: u32,
    /// Purchases per buyer name (`buyers` counts every purchase).
    #[serde(default = "one")]
    pub clicks_per_buyer: u32,
    pub lock: Strategy,
    pub work_ms: u64,
    pub pause_ms: u64,
    /// The TTL and deadline the crowd asked for (null: the service's settings).
    pub ttl_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    /// The stock when the crowd arrived (after the restock, if any).
    pub stock_before: i64,
    /// Orders the crowd got.
    pub sold: u32,
    /// Units sold that did not exist, counted against the stock the crowd
    /// ran on: `max(0, sold - sold_after_restock - stock_before)`.
    pub oversold: i64,
    /// The product was restocked while the crowd ran (by someone else): the
    /// sales after it came from the new stock, so `oversold` counts only
    /// those from `stock_before`, and `product` shows the new stock.
    #[serde(default)]
    pub restocked_during: bool,
    /// Of `sold`, the orders taken from a stock restocked during the crowd.
    #[serde(default)]
    pub sold_after_restock: u32,
    /// Units of the stock the crowd ran on left unsold while buyers were
    /// turned away (busy, lock lost, unavailable, failed): at most that many
    /// buyers. Not a success: the page calls it UNDERSOLD (see [`undersold`]).
    #[serde(default)]
    pub undersold: i64,
    /// Turned away: the product was sold out.
    pub sold_out: u32,
    /// Turned away: the lock stayed taken past the deadline (HTTP 429).
    pub busy: u32,
    /// Abandoned: the buyer's lock was lost before it could write (HTTP 409
    /// `lock_lost`), so it wrote nothing.
    pub lock_lost: u32,
    /// Abandoned: the product was restocked during the sale (HTTP 409
    /// `restocked`).
    pub restocked: u32,
    /// Turned away: the buyer already had the per-buyer limit (HTTP 409
    /// `limit_reached`); nothing was decremented.
    #[serde(default)]
    pub limit_reached: u32,
    /// Orders beyond a buyer's limit, counted from the orders table after.
    #[serde(default)]
    pub duplicates: i64,
    /// Turned away: Postgres or Redis did not answer in time (HTTP 503).
    pub unavailable: u32,
    /// Anything else (HTTP 500); logged.
    pub failed: u32,
    /// Buyers never let in: the crowd was cut short (its client hung up, or
    /// the service is shutting down).
    pub not_started: u32,
    pub elapsed_ms: u64,
    /// Orders the service took: answered 201 (written) or 202 (queued, for
    /// the stream designs). Equal to `sold`.
    #[serde(default)]
    pub accepted: u32,
    /// Of those, answered 202: queued in Redis, written later.
    #[serde(default)]
    pub queued: u32,
    /// Of the accepted orders, those in Postgres once the queue drained.
    #[serde(default)]
    pub written: i64,
    /// Accepted and never written: `accepted - written` once drained (or
    /// minus those still queued when the drain timed out). An accepted order
    /// that is lost fails the sale like an oversell.
    #[serde(default)]
    pub lost_orders: i64,
    /// Queued orders still not written when the crowd stopped waiting.
    #[serde(default)]
    pub still_queued: i64,
    /// How long the crowd waited, after its last buyer, for the queue to
    /// drain (0 when nothing was queued).
    #[serde(default)]
    pub drain_ms: u64,
    /// Orders written per second, over the crowd and its drain.
    #[serde(default)]
    pub durable_orders_per_s: f64,
    /// The product after the crowd.
    pub product: ProductStats,
    /// Every buyer's moments, when the crowd was traced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<BuyerTimeline>>,
}

fn one() -> u32 {
    1
}

/// Sales a crowd missed: units of the `stock_before` it ran on left after it
/// sold `ran_on`, while `refused` buyers were turned away for a reason other
/// than the stock (busy, lock lost, unavailable, failed) — at most that many,
/// since only they could have bought. 0 when nobody was refused that way, or
/// nothing was left.
pub fn undersold(stock_before: i64, ran_on: u32, refused: u32) -> i64 {
    let left = stock_before.saturating_sub(i64::from(ran_on)).max(0);
    left.min(i64::from(refused))
}
