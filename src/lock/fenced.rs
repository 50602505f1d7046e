//! `redis-fenced` — the Redis lock plus a fencing token, so that Postgres
//! itself refuses a holder whose lock has expired (Kleppmann's answer to the
//! three ways a lock service alone fails: work past the TTL, a paused holder,
//! a Redis that forgot the lock).
//!
//! * The token is minted **in the same Lua script that takes the lock**
//!   (`scripts/acquire_fenced.lua`: `SET NX PX`, then `INCR` of the product's
//!   counter). Minted by a second command, a holder paused between the two
//!   could get a higher token than the holder after it.
//! * Before it reads the stock, the holder **claims the row**:
//!   `UPDATE products SET fence = $token WHERE id = $id AND fence < $token`.
//!   The sale then writes back only `WHERE fence = $token`
//!   ([`crate::sale::sell_one`]). A holder whose claim or write finds a
//!   newer fence writes nothing: 409 `lock_lost`.
//!
//! Why claim first, not just fence the write (`WHERE fence < $token`): the
//! sale is a read-then-write. Two stale holders, tokens 5 and 6, can both read
//! stock 10 while holder 7 is slow; 5 writes 9 (fence 5), 6 writes 9 (fence 6)
//! — both pass, one decrement is lost. Claiming before the read makes every
//! read belong to one token, and only that token may write.
//!
//! What it does not cover: the counter lives in Redis. A Redis that restarts
//! without persistence (or fails over to a replica that missed the last
//! `INCR`) starts counting again below the fence stored in Postgres. Safety
//! holds — a low token is refused — but every new token would be refused for
//! good. So a holder refused at its claim checks, atomically, that the lock
//! is still its own and then moves the counter past the stored fence
//! (`scripts/advance_fence.lua`) and claims again. A token from a Postgres
//! sequence would never go back, at the price of a round trip to Postgres in
//! the lock service's place.

use std::sync::LazyLock;
use std::time::Duration;

use sqlx::PgPool;

use super::info::{Family, Needs, StrategyInfo};
use super::{
    Guard, Lock, LockError, LockTiming, RedisBase, TokenGuard, new_token, spin, ttl_millis,
};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redis lock + fencing token",
    family: Family::Redis,
    safe: true,
    lesson: "Each holder gets a token that only grows; Postgres accepts a write only from the newest one, so a stale holder writes nothing.",
    breaks_when: "holds when the work outlives the TTL, when a holder pauses, and when Redis restarts or fails over: the stale holder gets 409 lock_lost",
    needs: Needs::Redis,
    uses_ttl: true,
};

static ACQUIRE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/acquire_fenced.lua")));
static ADVANCE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/advance_fence.lua")));

/// How often a holder refused at its claim may move the counter and retry:
/// once is enough after a reset; more means someone newer really holds it.
const CLAIM_ATTEMPTS: usize = 3;

pub struct FencedLock {
    redis: RedisBase,
    db: PgPool,
}

impl FencedLock {
    pub fn new(redis: RedisBase, db: PgPool) -> Self {
        Self { redis, db }
    }

    /// The product's fence counter, e.g. `flashsale:fence:{product:1}`.
    pub fn counter_key(&self, product: ProductId) -> String {
        format!(
            "{}:fence:{}",
            self.redis.prefix,
            super::product_tag(product)
        )
    }

    /// Claim the row for `guard.fence`, moving the counter past a fence left
    /// by a Redis that forgot its count.
    async fn claim(&self, product: ProductId, guard: &mut FencedGuard) -> Result<(), LockError> {
        for _ in 0..CLAIM_ATTEMPTS {
            let claimed: Option<i64> = sqlx::query_scalar(
                "UPDATE products SET fence = $2 WHERE id = $1 AND fence < $2 RETURNING fence",
            )
            .bind(product.get())
            .bind(guard.fence)
            .fetch_optional(&self.db)
            .await?;
            if claimed.is_some() {
                return Ok(());
            }
            let stored: Option<i64> =
                sqlx::query_scalar("SELECT fence FROM products WHERE id = $1")
                    .bind(product.get())
                    .fetch_optional(&self.db)
                    .await?;
            // No such product: nothing to claim; the sale answers 404.
            let Some(stored) = stored else { return Ok(()) };

            let mut connection = self.redis.node.connection();
            let advanced: Option<i64> = self
                .redis
                .node
                .call(
                    ADVANCE_SCRIPT
                        .key(&guard.inner.key)
                        .key(self.counter_key(product))
                        .arg(&guard.inner.token)
                        .arg(stored)
                        .invoke_async(&mut connection),
                )
                .await?;
            match advanced {
                Some(token) => {
                    tracing::warn!(%product, stored, token, "fence counter was behind the row's fence; moved it past");
                    guard.fence = token;
                }
                None => return Err(LockError::Lost),
            }
        }
        Err(LockError::Lost)
    }
}

pub struct FencedGuard {
    inner: TokenGuard,
    fence: i64,
}

impl FencedGuard {
    pub fn token(&self) -> i64 {
        self.fence
    }
}

impl Guard for FencedGuard {
    fn ttl(&self) -> Option<Duration> {
        self.inner.ttl()
    }

    fn fence(&self) -> Option<i64> {
        Some(self.fence)
    }
}

impl Lock for FencedLock {
    type Guard = FencedGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<FencedGuard, LockError> {
        let key = self.redis.key(product);
        let counter = self.counter_key(product);
        let token = new_token();
        let ttl_ms = ttl_millis(timing.ttl);
        let attempt = || async {
            let mut connection = self.redis.node.connection();
            let minted: Result<Option<i64>, LockError> = self
                .redis
                .node
                .call(
                    ACQUIRE_SCRIPT
                        .key(&key)
                        .key(&counter)
                        .arg(&token)
                        .arg(ttl_ms)
                        .invoke_async(&mut connection),
                )
                .await;
            if let Err(error) = &minted {
                self.redis
                    .node
                    .clean_up_failed_acquire(error, key.clone(), token.clone());
            }
            minted
        };
        let fence = spin(timing, attempt).await?;
        let mut guard = FencedGuard {
            inner: self.redis.guard(key.clone(), token.clone(), timing.ttl),
            fence,
        };
        self.claim(product, &mut guard).await?;
        Ok(guard)
    }

    async fn release(&self, guard: FencedGuard) -> Result<bool, LockError> {
        self.redis.release(guard.inner).await
    }
}
