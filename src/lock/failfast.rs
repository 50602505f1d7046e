//! `redis-failfast` — one `SET NX PX` attempt, and a busy lock is a 429 at
//! once (seed 03's advice for duplicate orders, duplicate payments and cron
//! jobs, where the second caller should not wait). In a flash crowd it is
//! safe but **undersells**: buyers are turned away while stock is left.

use super::catalogue::{Family, Needs, StrategyInfo};
use super::{Lock, LockError, LockTiming, RedisNode, TokenGuard, lock_key, new_token};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    name: "redis-failfast",
    label: "Redis fail-fast lock",
    family: Family::Redis,
    safe: true,
    lesson: "One SET NX attempt, busy means no: right for duplicate orders and cron jobs, but a flash crowd undersells.",
    breaks_when: "never oversells while the work fits the TTL; in a crowd it turns buyers away while stock is left (undersells)",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct FailFastLock {
    node: RedisNode,
    prefix: String,
}

impl FailFastLock {
    pub fn new(node: RedisNode, prefix: &str) -> Self {
        Self {
            node,
            prefix: prefix.to_owned(),
        }
    }
}

impl Lock for FailFastLock {
    type Guard = TokenGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        let key = lock_key(&self.prefix, product);
        let token = new_token();
        match self.node.set_nx_px(&key, &token, timing.ttl).await {
            Ok(true) => Ok(TokenGuard::new(&self.node, key, token)),
            Ok(false) => Err(LockError::Busy {
                waited: std::time::Duration::ZERO,
            }),
            Err(error) => {
                self.node.release_in_background(key, token);
                Err(error)
            }
        }
    }

    async fn release(&self, mut guard: TokenGuard) -> Result<bool, LockError> {
        guard.disarm();
        self.node.release_if_ours(&guard.key, &guard.token).await
    }
}
