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
//! Scenario: the stale `DEL` must land while the *next* holder is between
//! its read and its write. That takes three things at once: work that ends
//! within the TTL (so the GET still finds our token), a stall that carries the
//! DEL past the TTL (so the lock has changed hands), and work long enough
//! that the new holder has not written yet when the DEL frees its lock — then
//! a third buyer takes it, reads the same stock, and both write. E.g.
//! `ttl_ms=300&work_ms=200&pause_ms=200` (the lab's test). A stall far above
//! the TTL with little work oversells nothing: by the time the DEL lands, the
//! holder it deletes has long written and is stalling in its own release.

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
    breaks_when: "the holder stalls between its GET and its DEL (pause_ms, spent there) past the TTL and the DEL lands while the next holder is between its read and its write: a third buyer walks in",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct GetDel(pub RedisBase);

pub struct GetDelGuard {
    inner: TokenGuard,
    stall: Duration,
}

impl Guard for GetDelGuard {
    fn ttl(&self) -> Option<Duration> {
        self.inner.ttl()
    }

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
