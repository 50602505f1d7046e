//! The bounds on flash crowds: one at a time per product across every
//! instance, a few at a time per instance.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

use super::CrowdError;
use crate::domain::ProductId;

/// How many crowds one instance runs at once: each holds up to
/// [`super::MAX_IN_FLIGHT`] buyers and a database connection of its own.
#[derive(Clone)]
pub struct CrowdSlots {
    slots: Arc<Semaphore>,
    max: usize,
}

impl CrowdSlots {
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A free slot, or [`CrowdError::TooMany`] at once.
    pub(super) fn take(&self) -> Result<OwnedSemaphorePermit, CrowdError> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| CrowdError::TooMany(self.max))
    }
}

/// Advisory-lock class of crowd claims (two-key form: it never meets
/// `pg-advisory`'s single-key locks on product ids).
const CROWD_CLASS: i32 = 0x6372_6f77; // "crow"

/// A product claimed for one crowd, by a session-level advisory lock on a
/// connection of its own: held across instances for as long as the crowd
/// runs, and released by Postgres itself if this process dies (the
/// connection closes), so a crashed instance cannot block a product.
pub(super) struct ProductClaim {
    connection: PgConnection,
    key: i32,
}

impl ProductClaim {
    pub(super) async fn take(
        db: &PgPool,
        limit: Duration,
        product: ProductId,
    ) -> Result<Self, CrowdError> {
        let options = db.connect_options();
        let mut connection = timeout(limit, PgConnection::connect_with(&options))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        // Ids past i32 share keys with others: two crowds on such products
        // wait for each other, which is harmless.
        let key = (product.get() & 0x7fff_ffff) as i32;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(CROWD_CLASS)
            .bind(key)
            .fetch_one(&mut connection)
            .await?;
        if taken {
            Ok(Self { connection, key })
        } else {
            let _ = connection.close().await;
            Err(CrowdError::AlreadyRunning(product))
        }
    }

    /// Unlock and close; closing alone would release it too.
    pub(super) async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
            .bind(CROWD_CLASS)
            .bind(self.key)
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}
