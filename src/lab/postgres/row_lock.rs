//! `pg-row-lock` — the documents' read-then-write, unchanged, inside one
//! transaction that reads with `SELECT … FOR UPDATE`: the row is locked from
//! the read to the commit, so the next buyer's read waits and then sees the
//! value written. Pessimistic locking, with Postgres as the lock service.

use std::time::Duration;

use sqlx::PgPool;

use super::{Isolation, begin};
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{LockTiming, Unguarded};
use crate::sale::{Order, PurchaseError, PurchaseRequest, SaleChecks, Store, sell_one};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres SELECT … FOR UPDATE",
    family: Family::Postgres,
    safe: true,
    lesson: "The same read-then-write in a transaction that locks the row as it reads it: the next reader waits for the commit.",
    breaks_when: "never oversells; waiters hold a database connection each while they wait",
    needs: Needs::Nothing,
    uses_ttl: false,
};

pub async fn sell(
    db: &PgPool,
    request: &PurchaseRequest,
    timing: &LockTiming,
    statement_timeout: Duration,
) -> Result<Order, PurchaseError> {
    let sale = async {
        let mut tx = begin(
            db,
            Isolation::ReadCommitted,
            timing.deadline,
            statement_timeout,
        )
        .await?;
        let checks = SaleChecks {
            lock_row: true,
            ..SaleChecks::default()
        };
        let order = sell_one(&mut Store::Tx(&mut tx), request, &Unguarded, checks).await?;
        tx.commit().await?;
        Ok(order)
    };
    sale.await
}
