//! `pg-batch` — many buyers, one transaction.
//!
//! (Being built: see issue 16.)

use sqlx::PgPool;

use crate::lock::LockTiming;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::sale::{Order, PurchaseError, PurchaseRequest};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres batch",
    family: Family::Fast,
    safe: true,
    lesson: "Buyers who arrive while a batch is written wait for the next one; one transaction sells the whole batch.",
    breaks_when: "never oversells: the row's lock orders the batches",
    needs: Needs::Nothing,
    uses_ttl: false,
};

/// Sells in batches, per product, on this instance.
#[derive(Default)]
pub struct Batcher {}

impl Batcher {
    pub async fn sell(
        &self,
        _db: &PgPool,
        request: &PurchaseRequest,
        _timing: &LockTiming,
    ) -> Result<Order, PurchaseError> {
        Err(PurchaseError::StrategyUnavailable {
            strategy: request.strategy,
            reason: "not built yet".into(),
        })
    }
}
