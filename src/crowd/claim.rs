//! The bounds on flash crowds: one at a time per product across every
//! instance, a few at a time per instance.
//!
//! The product is asked for before the slot: crowds sent at the same moment
//! on one product are 409 `crowd_running` for all but one, never 429
//! `too_many_crowds` because the others took the slots first. Slots run out
//! only for crowds on different products.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
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
    /// The products this instance runs (or is starting) a crowd on.
    running: Arc<Mutex<HashSet<ProductId>>>,
}

/// A crowd's place on this instance: its product and a slot, both given
/// back when it is dropped.
pub(super) struct CrowdSlot {
    _slot: OwnedSemaphorePermit,
    _product: RunningOn,
}

struct RunningOn {
    running: Arc<Mutex<HashSet<ProductId>>>,
    product: ProductId,
}

impl Drop for RunningOn {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.product);
    }
}

impl CrowdSlots {
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
            running: Arc::default(),
        }
    }

    /// The product, then a free slot, at once: [`CrowdError::AlreadyRunning`]
    /// when this instance has a crowd on the product, else
    /// [`CrowdError::TooMany`] when every slot is taken.
    pub(super) fn take(&self, product: ProductId) -> Result<CrowdSlot, CrowdError> {
        let fresh = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(product);
        if !fresh {
            return Err(CrowdError::AlreadyRunning(product));
        }
        let on = RunningOn {
            running: self.running.clone(),
            product,
        };
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| CrowdError::TooMany(self.max))?;
        Ok(CrowdSlot {
            _slot: slot,
            _product: on,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_product_is_refused_before_the_slots_are_counted() {
        let slots = CrowdSlots::new(1);
        let first = slots.take(ProductId::from(1)).unwrap();

        // Same product: 409, though no slot is free either.
        assert!(matches!(
            slots.take(ProductId::from(1)),
            Err(CrowdError::AlreadyRunning(_))
        ));
        // Another product: the slots are what is missing.
        assert!(matches!(
            slots.take(ProductId::from(2)),
            Err(CrowdError::TooMany(1))
        ));
        // A refusal for want of a slot does not keep its product.
        drop(first);
        let _second = slots.take(ProductId::from(2)).unwrap();
        assert!(matches!(
            slots.take(ProductId::from(1)),
            Err(CrowdError::TooMany(1))
        ));
    }
}
