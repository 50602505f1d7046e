//! Postgres as a dependency: which failures mean "unreachable" (503), and a
//! shared view of whether it is reachable now, so that buyers do not queue
//! for a lock behind a sale that cannot write.

use std::time::Duration;

use std::sync::Arc;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::Mutex;
use tokio::time::{Instant, timeout};

use crate::lock::GiveUp;

/// The server being unreachable, as opposed to busy or a bug of ours: what
/// answers 503 and marks Postgres down ([`DbHealth::observe`]).
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57: operator intervention (admin or
            // crash shutdown, cannot connect now) — but not 57014, a
            // statement cancelled by its timeout (see `is_timeout`); 53:
            // insufficient resources (too many connections).
            (code.starts_with("08") || code.starts_with("57") || code.starts_with("53"))
                && code != QUERY_CANCELED
        }),
        _ => false,
    }
}

/// `lock_not_available`: a lock wait ran past `lock_timeout`.
const LOCK_NOT_AVAILABLE: &str = "55P03";
/// `query_canceled`: here, a statement that ran past `statement_timeout`.
const QUERY_CANCELED: &str = "57014";

/// A statement Postgres gave up on because it waited too long: for a lock
/// (55P03), or past its statement timeout (57014) — which, for the sale's
/// one-row statements, means waiting for a row another transaction holds.
/// Postgres answered: the row is busy, the server is not down.
pub fn is_timeout(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some(LOCK_NOT_AVAILABLE | QUERY_CANCELED))
    )
}

/// Whether Postgres answers, as last seen. A failed sale marks it down; while
/// it is down, lock waiters stop waiting (they watch [`GiveUp`]) and each new
/// buyer first asks one shared probe, which answers within the database
/// timeout — so an outage is a 503 within `DB_TIMEOUT_MS`, not a queue of
/// 429s behind a holder that cannot write.
pub struct DbHealth {
    db: PgPool,
    timeout: Duration,
    down: GiveUp,
    /// One probe at a time; its result serves everyone who waited for it.
    last_probe: Mutex<Option<(Instant, bool)>>,
}

/// How long one probe's answer stands for the buyers who queued behind it.
const PROBE_FRESH_FOR: Duration = Duration::from_millis(250);

impl DbHealth {
    pub fn new(db: PgPool, timeout: Duration) -> Self {
        Self {
            db,
            timeout,
            down: GiveUp::default(),
            last_probe: Mutex::new(None),
        }
    }

    /// Set while Postgres is known to be down.
    pub fn down_flag(&self) -> GiveUp {
        self.down.clone()
    }

    /// Note a failure of a sale. A broken connection means down. A pool
    /// that timed out may only be busy (every connection taken by waiting
    /// buyers): a probe on a connection of its own tells which.
    pub fn observe(self: &Arc<Self>, error: &sqlx::Error) {
        if self.down.is_set() || !is_unavailable(error) {
            return;
        }
        if matches!(error, sqlx::Error::PoolTimedOut) {
            let health = self.clone();
            tokio::spawn(async move {
                if !health.probe().await {
                    health.mark_down("a probe on a fresh connection failed too");
                }
            });
        } else {
            self.mark_down(&error.to_string());
        }
    }

    fn mark_down(&self, why: &str) {
        if !self.down.is_set() {
            tracing::warn!(
                why,
                "Postgres looks unreachable; buyers get 503 until it answers again"
            );
            self.down.set(true);
        }
    }

    /// `SELECT 1` on a connection of its own (not the pool's, which may just
    /// be busy), within the database timeout.
    async fn probe(&self) -> bool {
        let attempt = async {
            let mut connection = PgConnection::connect_with(&self.db.connect_options()).await?;
            sqlx::query("SELECT 1").execute(&mut connection).await?;
            connection.close().await
        };
        matches!(timeout(self.timeout, attempt).await, Ok(Ok(())))
    }

    /// `Ok` when Postgres is believed up, or a probe now says so.
    pub async fn ensure_up(&self) -> Result<(), sqlx::Error> {
        if !self.down.is_set() {
            return Ok(());
        }
        let mut last = self.last_probe.lock().await;
        if let Some((at, up)) = *last
            && at.elapsed() < PROBE_FRESH_FOR
        {
            return if up {
                Ok(())
            } else {
                Err(sqlx::Error::PoolTimedOut)
            };
        }
        let up = self.probe().await;
        *last = Some((Instant::now(), up));
        if up {
            tracing::info!("Postgres answers again");
            self.down.set(false);
            Ok(())
        } else {
            Err(sqlx::Error::PoolTimedOut)
        }
    }
}
