//! `broken-plain-del` — WHAT IS WRONG: the release is a plain `DEL key`, with
//! no check of the token (seed 01's first unlock). While the work fits in the
//! TTL nothing shows. Once it outlives the TTL, the lock expires, a second
//! buyer takes it — and the first, finishing, deletes *the second's* lock, so
//! a third walks in while the second is still inside. Each slow holder opens
//! the door for one more: it oversells where `redis` alone loses less.
//!
//! Scenario: `ttl_ms` below `work_ms` in a crowd.

use crate::domain::ProductId;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{Lock, LockError, LockTiming, RedisBase, TokenGuard};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Broken: release by plain DEL",
    family: Family::Broken,
    safe: false,
    lesson: "Releasing with a plain DEL deletes whoever's lock is there now: a slow holder frees the next holder's lock.",
    breaks_when: "the work outlives the TTL: each late release deletes the next holder's lock and lets one more buyer in",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct PlainDel(pub RedisBase);

impl Lock for PlainDel {
    type Guard = TokenGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        self.0.spin_set_nx(product, timing).await
    }

    async fn release(&self, mut guard: TokenGuard) -> Result<bool, LockError> {
        guard.disarm();
        let mut connection = self.0.node.connection();
        // THE BUG: whose lock this is, nobody asks.
        let deleted: Result<i64, LockError> = self
            .0
            .node
            .call(
                redis::cmd("DEL")
                    .arg(&guard.key)
                    .query_async(&mut connection),
            )
            .await;
        guard.settle(&deleted);
        Ok(deleted? == 1)
    }
}
