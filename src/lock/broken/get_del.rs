//! `broken-get-del` — WHAT IS WRONG: seeds 01 and 04 release by `GET`, a
//! comparison in the client, then `DEL`: two commands, not one atomic step.
//! If the lock expires between them and another buyer takes it, the `DEL`
//! deletes *that* buyer's lock, and a third walks in while the second is
//! inside. (`scripts/release.lua` does the compare and the delete in one
//! step, which is the fix.)
//!
//! The gap between the two commands is one round trip, too short to hit on
//! purpose, unless the holder stalls there — a GC pause, a SIGSTOP, a busy
//! thread. So in this strategy the purchase's `pause_ms` is spent *between the
//! GET and the DEL* (and not after the read, as in every other strategy).
//!
//! Scenario: `pause_ms` above the TTL with buyers waiting: each holder, back
//! from its pause, deletes its successor's lock.

use std::time::Duration;

use tokio::time::sleep;

use crate::domain::ProductId;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{Guard, Lock, LockError, LockTiming, RedisBase, TokenGuard};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Broken: release by GET then DEL",
    family: Family::Broken,
    safe: false,
    lesson: "Checking the token with GET and then deleting with DEL leaves a window in which the lock can change hands.",
    breaks_when: "the holder stalls between its GET and its DEL (pause_ms, spent there) past the TTL: it deletes the next holder's lock",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct GetDel(pub RedisBase);

pub struct GetDelGuard {
    inner: TokenGuard,
    stall: Duration,
}

impl Guard for GetDelGuard {
    fn pauses_after_read(&self) -> bool {
        false
    }
}

impl Lock for GetDel {
    type Guard = GetDelGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<GetDelGuard, LockError> {
        let inner = self.0.spin_set_nx(product, timing).await?;
        Ok(GetDelGuard {
            inner,
            stall: timing.pause,
        })
    }

    async fn release(&self, mut guard: GetDelGuard) -> Result<bool, LockError> {
        guard.inner.disarm();
        let released = self.get_then_del(&guard).await;
        guard.inner.settle(&released);
        released
    }
}

impl GetDel {
    async fn get_then_del(&self, guard: &GetDelGuard) -> Result<bool, LockError> {
        let (key, token) = (&guard.inner.key, &guard.inner.token);
        let mut connection = self.0.node.connection();
        let holder: Option<String> = self
            .0
            .node
            .call(redis::cmd("GET").arg(key).query_async(&mut connection))
            .await?;
        if holder.as_deref() != Some(token.as_str()) {
            return Ok(false);
        }
        // THE BUG: between the GET above and the DEL below the lock can
        // expire and be taken by someone else.
        if !guard.stall.is_zero() {
            sleep(guard.stall).await;
        }
        let deleted: i64 = self
            .0
            .node
            .call(redis::cmd("DEL").arg(key).query_async(&mut connection))
            .await?;
        Ok(deleted == 1)
    }
}
