//! `pg-optimistic` — no lock at all while working: read the stock *and its
//! version*, do the work, then write back only `WHERE version = $read`. If
//! someone wrote in between, the write touches 0 rows: read again and retry
//! after a short jittered backoff, until the deadline (then 429). Cheap when conflicts are rare; under a flash
//! crowd almost every attempt conflicts, and all but one do their work for
//! nothing.

use sqlx::PgPool;
use tokio::time::Instant;

use super::Backoff;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{LockError, LockTiming, Unguarded};
use crate::sale::{Order, PurchaseError, PurchaseRequest, SaleChecks, Store, sell_one};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres optimistic (version)",
    family: Family::Postgres,
    safe: true,
    lesson: "Write only if the row's version is still the one read, else read again: no lock, but wasted work under contention.",
    breaks_when: "never oversells; under a crowd most attempts conflict and buyers run out of deadline (429)",
    needs: Needs::Nothing,
    uses_ttl: false,
};

pub async fn sell(
    db: &PgPool,
    request: &PurchaseRequest,
    timing: &LockTiming,
) -> Result<Order, PurchaseError> {
    let started = Instant::now();
    let give_up_at = started + timing.deadline;
    let mut backoff = Backoff::new(timing.retry);
    let checks = SaleChecks {
        compare_version: true,
        ..SaleChecks::default()
    };
    loop {
        match sell_one(&mut Store::Pool(db), request, &Unguarded, checks).await {
            Err(PurchaseError::VersionConflict(product)) => {
                if !backoff.wait_before(give_up_at).await {
                    return Err(PurchaseError::lock(
                        product,
                        LockError::Busy {
                            waited: started.elapsed(),
                        },
                    ));
                }
            }
            outcome => return outcome,
        }
    }
}
