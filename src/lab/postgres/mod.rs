//! The Postgres guards: no lock service at all. The database that holds the
//! stock also serialises the buyers — with one atomic statement, a row lock,
//! an advisory lock, a version check or a serializable transaction. Each keeps
//! the business step (`work_ms`) and the pause inside its critical section,
//! so the lab compares like with like, and each waits at most the purchase's
//! deadline (then 429), answers 503 when Postgres is unreachable, and never
//! leaves a transaction open: a transaction dropped uncommitted is rolled
//! back before its connection goes back to the pool.

pub mod advisory;
pub mod atomic;
pub mod optimistic;
pub mod row_lock;
pub mod serializable;

use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction};

use crate::lock::{LockError, LockTiming};
use crate::sale::PurchaseError;

/// `lock_not_available`: a lock wait ran past `lock_timeout`.
const LOCK_NOT_AVAILABLE: &str = "55P03";
/// `serialization_failure` and `deadlock_detected`: retry the transaction.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";

/// How a guard's transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadCommitted,
    Serializable,
}

/// Begin a transaction whose lock waits end at the purchase's deadline
/// (`lock_timeout`) and whose statements may run that long plus the usual
/// statement timeout; both revert when the transaction ends (`SET LOCAL`).
pub async fn begin(
    db: &PgPool,
    isolation: Isolation,
    timing: &LockTiming,
    statement_timeout: Duration,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = match isolation {
        Isolation::ReadCommitted => db.begin().await?,
        Isolation::Serializable => db.begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE").await?,
    };
    // 0 means "no limit" to Postgres: a deadline of 0 waits 1 ms.
    let lock_ms = timing.deadline.as_millis().max(1);
    let statement_ms = lock_ms + statement_timeout.as_millis();
    sqlx::query(
        "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)",
    )
    .bind(format!("{lock_ms}ms"))
    .bind(format!("{statement_ms}ms"))
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

fn sqlstate(error: &PurchaseError) -> Option<String> {
    match error {
        PurchaseError::Database(sqlx::Error::Database(db)) => {
            db.code().map(|code| code.into_owned())
        }
        _ => None,
    }
}

/// A lock wait that ran out is a busy lock (429), not a broken database.
pub fn lock_wait_is_busy(
    error: PurchaseError,
    product: crate::domain::ProductId,
    timing: &LockTiming,
) -> PurchaseError {
    if sqlstate(&error).as_deref() == Some(LOCK_NOT_AVAILABLE) {
        PurchaseError::lock(
            product,
            LockError::Busy {
                waited: timing.deadline,
            },
        )
    } else {
        error
    }
}

/// Postgres refused the transaction to keep it serializable: run it again.
pub fn is_serialization_failure(error: &PurchaseError) -> bool {
    matches!(
        sqlstate(error).as_deref(),
        Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED)
    )
}
