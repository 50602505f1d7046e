//! `broken-lua-nil` — WHAT IS WRONG: seed 04's `tryLockWithLua` tests
//! `redis.call("get", key) == nil`. Redis hands a missing key to Lua as
//! `false`, never `nil`, so the test never holds: nobody ever gets the lock
//! (`scripts/broken_lua_nil.lua`).
//!
//! Scenario: any purchase — every buyer spins until the deadline and gets
//! 429; nothing is sold.

use std::sync::LazyLock;

use crate::domain::ProductId;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{
    Lock, LockError, LockTiming, RedisBase, TokenGuard, new_token, spin, ttl_millis,
};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Broken: Lua `== nil`",
    family: Family::Broken,
    safe: false,
    lesson: "Seed 04's Lua lock compares GET with nil, but a missing key is false in Lua: nobody ever gets the lock.",
    breaks_when: "always: every buyer waits out the deadline (429) and nothing is sold",
    needs: Needs::Redis,
    uses_ttl: true,
};

static ACQUIRE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("../scripts/broken_lua_nil.lua")));

pub struct LuaNil(pub RedisBase);

impl Lock for LuaNil {
    type Guard = TokenGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        let key = self.0.key(product);
        let token = new_token();
        let ttl_ms = ttl_millis(timing.ttl);
        let attempt = || async {
            let mut connection = self.0.node.connection();
            let taken: i64 = self
                .0
                .node
                .call(
                    ACQUIRE_SCRIPT
                        .key(&key)
                        .arg(&token)
                        .arg(ttl_ms)
                        .invoke_async(&mut connection),
                )
                .await?;
            Ok((taken == 1).then_some(()))
        };
        spin(timing, attempt).await?;
        Ok(self.0.guard(key, token, timing.ttl))
    }

    async fn release(&self, guard: TokenGuard) -> Result<bool, LockError> {
        self.0.release(guard).await
    }
}
