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
use tokio::time::{Instant, sleep};

use crate::sale::PurchaseError;

/// `serialization_failure` and `deadlock_detected`: retry the transaction.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";

/// How a guard's transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadCommitted,
    Serializable,
}

/// Most of a statement's own work, beyond its lock waits, before the
/// statement timeout ends it (at most the usual statement timeout).
const STATEMENT_SLACK: Duration = Duration::from_millis(500);

/// Begin a transaction whose lock waits end after `lock_wait`, the time left
/// to the purchase's deadline, and revert when it ends (`SET LOCAL`).
///
/// `lock_timeout` counts each lock wait on its own, and a buyer queued
/// behind others for a row waits for two locks in turn (its place in the
/// row's line, then the holder's transaction) — up to twice the deadline. So
/// each statement also gets a timeout of the time left plus a little slack
/// for its own work. Either running out is a busy product (429), not a
/// broken database (see `lab::held_row_is_busy`).
pub async fn begin(
    db: &PgPool,
    isolation: Isolation,
    lock_wait: Duration,
    statement_timeout: Duration,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = match isolation {
        Isolation::ReadCommitted => db.begin().await?,
        Isolation::Serializable => db.begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE").await?,
    };
    // 0 means "no limit" to Postgres: a deadline of 0 waits 1 ms.
    let lock_ms = lock_wait.as_millis().max(1);
    let statement_ms = lock_ms + STATEMENT_SLACK.min(statement_timeout).as_millis();
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

/// Postgres refused the transaction to keep it serializable: run it again.
pub fn is_serialization_failure(error: &PurchaseError) -> bool {
    matches!(
        sqlstate(error).as_deref(),
        Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED)
    )
}

/// The pause between two attempts of a retrying guard: from about 1 ms,
/// doubling up to the lock's retry interval (`LOCK_RETRY_MS`), the upper
/// half of it random — so that the losers of a conflict spread out instead
/// of all running again at once, and a sale with no business step does not
/// spin on Postgres.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(1);

    pub fn new(max: Duration) -> Self {
        Self {
            next: Self::FIRST.min(max),
            max,
        }
    }

    /// The next pause: half the current step, plus up to as much again.
    pub fn next_pause(&mut self) -> Duration {
        let step = self.next;
        self.next = (step * 2).min(self.max);
        let half = u64::try_from(step.as_micros() / 2).unwrap_or(u64::MAX);
        Duration::from_micros(half + rand::random_range(0..=half))
    }

    /// Sleep the next pause and answer `true`, or answer `false` at once if
    /// the pause would end past `give_up_at`: no attempt starts after the
    /// deadline.
    pub async fn wait_before(&mut self, give_up_at: Instant) -> bool {
        let pause = self.next_pause();
        if Instant::now() + pause >= give_up_at {
            return false;
        }
        sleep(pause).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_grows_from_a_millisecond_to_the_retry_interval_and_is_never_zero() {
        let mut backoff = Backoff::new(Duration::from_millis(50));
        let pauses: Vec<_> = (0..12).map(|_| backoff.next_pause()).collect();
        assert!(pauses[0] >= Duration::from_micros(500) && pauses[0] <= Duration::from_millis(1));
        for pause in &pauses[8..] {
            assert!(*pause >= Duration::from_millis(25), "{pauses:?}");
            assert!(*pause <= Duration::from_millis(50), "{pauses:?}");
        }
    }

    #[tokio::test]
    async fn no_attempt_starts_past_the_deadline() {
        let mut backoff = Backoff::new(Duration::from_millis(50));
        let give_up_at = Instant::now() + Duration::from_millis(120);
        let mut attempts = 0;
        while backoff.wait_before(give_up_at).await {
            attempts += 1;
            assert!(attempts < 1000, "the backoff ends");
        }
        assert!(Instant::now() < give_up_at + Duration::from_millis(20));
        assert!(attempts >= 3, "it waited in steps: {attempts}");
    }
}
