//! The words for how a purchase ended, shared by the purchase that decides
//! them, the metrics that count them, the timeline that draws them and the
//! crowd that reports them — so they live below all four.

use serde::Serialize;

/// Why a buyer went away without a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// 409 `sold_out`.
    SoldOut,
    /// 429: the lock stayed busy past the deadline.
    Busy,
    /// 409 `lock_lost`: the lock was lost before the write; nothing written.
    LockLost,
    /// 409 `restocked`: a restock overtook the sale; nothing written.
    Restocked,
    /// 409 `limit_reached`: the buyer already has the per-buyer limit.
    LimitReached,
    /// 503: Postgres, Redis or the strategy could not be used.
    Unavailable,
    /// 500 or 404: anything else.
    Failed,
}
