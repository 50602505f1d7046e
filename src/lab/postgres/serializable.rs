//! `pg-serializable` — the read-then-write, unchanged, in a SERIALIZABLE
//! transaction. Postgres notices that two buyers read the stock and both mean
//! to write it, and aborts one with SQLSTATE 40001 (serialization failure):
//! the application must run the whole transaction again — here after a short
//! jittered backoff, until the deadline (then 429). Each attempt's lock waits
//! get the time left, not a whole deadline again.

use std::time::Duration;

use sqlx::PgPool;
use tokio::time::Instant;

use super::{Backoff, Isolation, begin, is_serialization_failure};
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{LockError, LockTiming, Unguarded};
use crate::sale::{Order, PurchaseError, PurchaseRequest, SaleChecks, Store, sell_one};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres SERIALIZABLE",
    family: Family::Postgres,
    safe: true,
    lesson: "The racy code in a SERIALIZABLE transaction: Postgres aborts the loser (40001) and the sale is retried.",
    breaks_when: "never oversells; under a crowd most transactions abort and retry, and some run out of deadline (429)",
    needs: Needs::Nothing,
    uses_ttl: false,
};

pub async fn sell(
    db: &PgPool,
    request: &PurchaseRequest,
    timing: &LockTiming,
    statement_timeout: Duration,
) -> Result<Order, PurchaseError> {
    let started = Instant::now();
    let give_up_at = started + timing.deadline;
    let mut backoff = Backoff::new(timing.retry);
    loop {
        let left = give_up_at.saturating_duration_since(Instant::now());
        let attempt = async {
            let mut tx = begin(db, Isolation::Serializable, left, statement_timeout).await?;
            let order = sell_one(
                &mut Store::Tx(&mut tx),
                request,
                &Unguarded,
                SaleChecks::default(),
            )
            .await?;
            tx.commit().await?;
            Ok(order)
        };
        match attempt.await {
            Err(error) if is_serialization_failure(&error) => {
                if !backoff.wait_before(give_up_at).await {
                    return Err(PurchaseError::lock(
                        request.product,
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
