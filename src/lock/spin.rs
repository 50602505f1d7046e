//! `redis` — the documents' lock (seed 03): `SET key token NX PX ttl` with a
//! random token, retried every 50 ms plus jitter until the deadline (then
//! 429), released by a Lua compare-and-delete. Safe while the work fits in
//! the TTL; once the work (or a pause) outlives it, the lock expires under
//! its holder and a second buyer walks in.

use super::info::{Family, Needs, StrategyInfo};
use super::{Lock, LockError, LockTiming, RedisBase, TokenGuard};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redis spin lock",
    family: Family::Redis,
    safe: true,
    lesson: "SET NX PX with a random token, retried until a deadline, released by a Lua compare-and-delete: one buyer at a time.",
    breaks_when: "the work or a pause outlives the TTL, or Redis fails over to a replica that never got the lock: a second buyer takes it and reads the same stock",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct SpinLock(pub RedisBase);

impl Lock for SpinLock {
    type Guard = TokenGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        self.0.spin_set_nx(product, timing).await
    }

    async fn release(&self, guard: TokenGuard) -> Result<bool, LockError> {
        self.0.release(guard).await
    }
}
