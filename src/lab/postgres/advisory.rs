//! `pg-advisory` — the read-then-write under `pg_advisory_xact_lock(product
//! id)`, a lock Postgres keeps for the application by number. The lock belongs
//! to the *transaction*: taken in autocommit it would be released at the end
//! of that one statement, so the whole sale runs in one transaction on one
//! connection, and the commit releases it. (The key is the product id alone:
//! another application using advisory locks on the same database would share
//! the number space.)

use std::time::Duration;

use sqlx::PgPool;

use super::{Isolation, begin};
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{LockTiming, Unguarded};
use crate::sale::{Order, PurchaseError, PurchaseRequest, SaleChecks, Store, sell_one};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres advisory lock",
    family: Family::Postgres,
    safe: true,
    lesson: "pg_advisory_xact_lock: a named lock in the database, held by the transaction that runs the whole sale.",
    breaks_when: "never oversells; taken outside a transaction it would protect nothing (released at the end of the statement)",
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
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(request.product.get())
            .execute(&mut *tx)
            .await?;
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
    sale.await
}
