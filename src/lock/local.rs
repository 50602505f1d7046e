//! `local` — an in-process mutex per product (tokio's `Mutex`, which is FIFO).
//! Exact on one instance, and no lock at all across two: each instance has its
//! own mutexes, so two buyers on two instances read the same stock (seed 03's
//! lesson on why a flash sale needs a distributed lock). No TTL: the mutex is
//! held exactly as long as the sale.

use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::{Instant, timeout};

use super::info::{Family, Needs, StrategyInfo};
use super::{Guard, Lock, LockError, LockTiming};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "In-process mutex",
    family: Family::Local,
    safe: false,
    lesson: "A mutex inside one process: exact on one instance, useless across two, which is why the lock lives in Redis.",
    breaks_when: "the service runs as two or more instances: each has its own mutex",
    needs: Needs::Nothing,
    uses_ttl: false,
};

/// Products share a fixed set of mutexes (lock striping), so the memory a
/// client can make us hold is bounded whatever product ids it sends.
const STRIPES: usize = 256;

pub struct LocalLock {
    stripes: Vec<Arc<Mutex<()>>>,
}

impl Default for LocalLock {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
        }
    }
}

pub struct LocalGuard(#[allow(dead_code)] OwnedMutexGuard<()>);

impl Guard for LocalGuard {}

impl Lock for LocalLock {
    type Guard = LocalGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<LocalGuard, LockError> {
        let stripe = usize::try_from(product.get().unsigned_abs()).unwrap_or(0) % STRIPES;
        let mutex = self.stripes[stripe].clone();
        let started = Instant::now();
        timing.check_give_up()?;
        let give_up = async {
            match &timing.give_up {
                Some(give_up) => give_up.wait().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            held = timeout(timing.deadline, mutex.lock_owned()) => match held {
                Ok(held) => Ok(LocalGuard(held)),
                Err(_) => Err(LockError::Busy {
                    waited: started.elapsed(),
                }),
            },
            () = give_up => Err(LockError::StoreUnavailable),
        }
    }

    async fn release(&self, guard: LocalGuard) -> Result<bool, LockError> {
        drop(guard);
        Ok(true)
    }
}
