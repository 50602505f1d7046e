//! `broken-ignore-setnx` — WHAT IS WRONG: seed 04's `tryLock` sends
//! `SET key token NX EX 5` and looks only at the error, never at the reply.
//! A nil reply ("the key exists: someone else holds the lock") is not an
//! error, so every buyer believes it holds the lock and the sale races as if
//! there were none. In Rust the same bug compiles by reading the reply into
//! `()`, which accepts nil silently.
//!
//! Scenario: any crowd with a business step — it oversells like `none`.

use crate::domain::ProductId;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{Lock, LockError, LockTiming, RedisBase, TokenGuard, new_token, ttl_millis};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Broken: SET NX reply ignored",
    family: Family::Broken,
    safe: false,
    lesson: "Seed 04's tryLock never reads the SET NX reply, so every buyer thinks it holds the lock.",
    breaks_when: "always, with any concurrency: it oversells like no lock",
    needs: Needs::Redis,
    uses_ttl: true,
};

pub struct IgnoreSetNx(pub RedisBase);

impl Lock for IgnoreSetNx {
    type Guard = TokenGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        let key = self.0.key(product);
        let token = new_token();
        let mut connection = self.0.node.connection();
        // THE BUG: `()` takes "OK" and nil alike.
        let () = self
            .0
            .node
            .call(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_millis(timing.ttl))
                    .query_async(&mut connection),
            )
            .await?;
        Ok(self.0.guard(key, token, timing.ttl))
    }

    async fn release(&self, guard: TokenGuard) -> Result<bool, LockError> {
        self.0.release(guard).await
    }
}
