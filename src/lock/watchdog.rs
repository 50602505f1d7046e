//! `redis-watchdog` — seed 02's renewal (Redisson's watchdog): the spin lock,
//! plus a task that extends the lock every TTL/3 with a Lua compare-and-PEXPIRE
//! (`scripts/renew.lua`: only while the token is still ours) for as long as
//! the sale runs. The work may then outlive the TTL; a crashed holder still
//! frees the lock within one TTL, since nobody renews it any more.
//!
//! If a renewal finds the lock gone, or no renewal has succeeded for a whole
//! TTL (Redis unreachable, the renewal task starved), the lock counts as lost
//! and the sale is abandoned before it writes: 409 `lock_lost`. That check is
//! not airtight — the lock can still be lost between the check and the write,
//! as under a long pause — which is what `redis-fenced` closes.
//!
//! The renewal is stopped *before* the release, so it can never outlive the
//! unlock (a known watchdog failure).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

use super::info::{Family, Needs, StrategyInfo};
use super::{Guard, Lock, LockError, LockTiming, RedisBase, RedisNode, TokenGuard, ttl_millis};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redis lock with a watchdog",
    family: Family::Redis,
    safe: true,
    lesson: "A task renews the lock every TTL/3 while the work runs, so slow work keeps it; a lost lock abandons the sale.",
    breaks_when: "a pause stops the holder after its last check (the renewal cannot vouch for a frozen process): needs fencing",
    needs: Needs::Redis,
    uses_ttl: true,
};

static RENEW_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/renew.lua")));

pub struct WatchdogLock(pub RedisBase);

/// What the renewal task and the sale share.
struct Renewal {
    lost: AtomicBool,
    last_renewed: Mutex<Instant>,
    ttl: Duration,
}

pub struct WatchdogGuard {
    inner: TokenGuard,
    renewal: Arc<Renewal>,
    task: StopOnDrop,
}

/// The renewal task, stopped when the guard goes: a guard dropped unreleased
/// stops renewing as its inner guard sends the release.
struct StopOnDrop(JoinHandle<()>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Guard for WatchdogGuard {
    fn ttl(&self) -> Option<Duration> {
        Some(self.renewal.ttl)
    }

    fn renewed(&self) -> bool {
        true
    }

    fn is_lost(&self) -> bool {
        let renewed = *self.renewal.last_renewed.lock().expect("not poisoned");
        self.renewal.lost.load(Ordering::Acquire) || renewed.elapsed() >= self.renewal.ttl
    }

    /// Until the TTL runs out after the last renewal: no later renewal is
    /// promised (Redis may be unreachable).
    fn valid_for(&self) -> Option<Duration> {
        if self.renewal.lost.load(Ordering::Acquire) {
            return Some(Duration::ZERO);
        }
        let renewed = *self.renewal.last_renewed.lock().expect("not poisoned");
        Some((renewed + self.renewal.ttl).saturating_duration_since(Instant::now()))
    }
}

impl Lock for WatchdogLock {
    type Guard = WatchdogGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<WatchdogGuard, LockError> {
        // The lock's life counts from when the SET was sent, not from its
        // reply: Redis may have run it anywhere within that round trip.
        let (inner, sent) = self.0.spin_set_nx_sent(product, timing).await?;
        let renewal = Arc::new(Renewal {
            lost: AtomicBool::new(false),
            last_renewed: Mutex::new(sent),
            ttl: timing.ttl,
        });
        let task = tokio::spawn(renew_until_stopped(
            self.0.node.clone(),
            inner.key.clone(),
            inner.token.clone(),
            renewal.clone(),
        ));
        Ok(WatchdogGuard {
            inner,
            renewal,
            task: StopOnDrop(task),
        })
    }

    async fn release(&self, guard: WatchdogGuard) -> Result<bool, LockError> {
        // Stop renewing before releasing, so no renewal outlives the unlock.
        let WatchdogGuard { inner, task, .. } = guard;
        drop(task);
        self.0.release(inner).await
    }
}

/// Every TTL/3: extend the lock if it is still ours; stop when it is not.
async fn renew_until_stopped(node: RedisNode, key: String, token: String, renewal: Arc<Renewal>) {
    let period = renewal.ttl / 3;
    let ttl_ms = ttl_millis(renewal.ttl);
    loop {
        sleep(period).await;
        let started = Instant::now();
        let mut connection = node.connection();
        let renewed: Result<i64, LockError> = node
            .call(
                RENEW_SCRIPT
                    .key(&key)
                    .arg(&token)
                    .arg(ttl_ms)
                    .invoke_async(&mut connection),
            )
            .await;
        match renewed {
            // The new TTL counts from when the renewal was sent, at the latest.
            Ok(1) => *renewal.last_renewed.lock().expect("not poisoned") = started,
            Ok(_) => {
                tracing::warn!(%key, "watchdog: the lock is no longer ours; the sale will be abandoned");
                renewal.lost.store(true, Ordering::Release);
                return;
            }
            // Keep trying: the lock is only lost once a whole TTL passes unrenewed.
            Err(error) => tracing::warn!(%key, error = %error, "watchdog: renewal failed"),
        }
    }
}
