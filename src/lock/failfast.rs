//! `redis-failfast` — one `SET NX PX` attempt, and a busy lock is a 429 at
//! once (seed 03's advice for duplicate orders, duplicate payments and cron
//! jobs, where the second caller should not wait). In a flash crowd it is
//! safe but **undersells**: buyers are turned away while stock is left.

use super::info::{Family, Needs, StrategyInfo};
use super::{Lock, LockError, LockTiming, RedisBase, TokenGuard, new_token};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redis fail-fast lock",
    family: Family::Redis,
    safe: true,
    lesson: "One SET NX attempt, busy means no: right for duplicate orders and cron jobs, but a flash crowd undersells.",
    breaks_when: "never oversells while the work fits the TTL; in a crowd it turns buyers away while stock is left (undersells)",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct FailFastLock(pub RedisBase);

impl Lock for FailFastLock {
    type Guard = TokenGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        let key = self.0.key(product);
        let token = new_token();
        match self.0.node.set_nx_px(&key, &token, timing.ttl).await {
            Ok(true) => Ok(self.0.guard(key, token, timing.ttl)),
            Ok(false) => Err(LockError::Busy {
                waited: std::time::Duration::ZERO,
            }),
            Err(error) => {
                self.0.node.clean_up_failed_acquire(&error, key, token);
                Err(error)
            }
        }
    }

    async fn release(&self, guard: TokenGuard) -> Result<bool, LockError> {
        self.0.release(guard).await
    }
}
