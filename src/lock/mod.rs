//! The lock lab: every way the documents guard the sale, the safe ones and the
//! broken ones, one file each. [`catalogue`] names them all; everything else
//! (parsing `lock=`, the page's switch, `GET /api/strategies`, the README
//! table, the load generator's `--modes all`) reads it.
//!
//! A lock strategy is "acquire with a deadline → guard → release":
//! [`Lock::acquire`] waits at most the deadline and answers a guard or a
//! [`LockError`]; the sale ([`crate::sale::sell_one`]) runs while the
//! guard is held and asks it two things — its fencing token, and whether the
//! lock is known to be lost — then [`Lock::release`] gives it back.
//!
//! The Redis strategies share the plumbing below and in [`node`]: one
//! multiplexed connection, a timeout on every call ("timed out" means "outcome unknown": the SET may
//! have run, so a best-effort release with the same token follows; a call
//! refused at connect never ran, and nothing follows), the spin loop, and the
//! compare-and-delete release.
//!
//! The Postgres guards ([`postgres`]) need no lock service: they put the
//! transaction, the row lock or the version check around the same sale.

pub mod broken;
mod connection;
pub mod failfast;
pub mod fair;
pub mod fenced;
pub mod info;
mod ledger;
pub mod local;
mod node;
pub mod redlock;
pub mod spin;
pub mod strategy;
pub mod watchdog;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep};
use uuid::Uuid;

pub use connection::NodeConnection;
pub use info::{Family, Needs, StrategyInfo};
pub use ledger::Ledger;
pub use node::{RedisNode, ttl_millis};
pub use strategy::Strategy;

use crate::domain::ProductId;

/// The timing of one acquisition: the service's settings, or a purchase's
/// own `ttl_ms` / `deadline_ms`; and when to stop waiting early.
#[derive(Debug, Clone)]
pub struct LockTiming {
    /// How long a taken lock lives before it expires on its own.
    pub ttl: Duration,
    /// How long to keep trying before giving up (429).
    pub deadline: Duration,
    /// Pause between two attempts at a busy lock (plus jitter).
    pub retry: Duration,
    /// The purchase's `pause_ms`: only `broken-get-del` takes it at release.
    pub pause: Duration,
    /// Set when the sale cannot succeed whatever the lock (Postgres is
    /// down): waiters stop waiting at once instead of at the deadline.
    pub give_up: Option<GiveUp>,
}

impl LockTiming {
    /// `Err` when a waiter should stop waiting now.
    pub fn check_give_up(&self) -> Result<(), LockError> {
        match &self.give_up {
            Some(give_up) if give_up.is_set() => Err(LockError::StoreUnavailable),
            _ => Ok(()),
        }
    }
}

/// A flag a lock waiter looks at between two attempts, or waits on.
#[derive(Debug, Clone)]
pub struct GiveUp(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for GiveUp {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl GiveUp {
    pub fn set(&self, value: bool) {
        self.0
            .send_if_modified(|current| std::mem::replace(current, value) != value);
    }

    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the flag is set.
    pub async fn wait(&self) {
        let mut watching = self.0.subscribe();
        let _ = watching.wait_for(|set| *set).await;
    }
}

/// Why no lock (or no longer a lock). Strategy-neutral: the HTTP edge maps
/// busy to 429, lost to 409, no quorum to 503 `strategy_unavailable` and a
/// failing lock service to 503.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the lock stayed busy for {waited:?}, past the deadline")]
    Busy { waited: Duration },
    #[error("only {reached} of the {needed} lock nodes needed for a majority answered")]
    NoQuorum { reached: usize, needed: usize },
    #[error("the lock was lost before the sale could write")]
    Lost,
    #[error("redis did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("redis call failed")]
    Redis(#[from] redis::RedisError),
    /// A lock that keeps part of its state in Postgres (the fence) could not
    /// reach it.
    #[error("the lock's database call failed")]
    Store(#[from] sqlx::Error),
    /// Postgres, which holds the stock, is down: no point waiting for a lock.
    #[error("Postgres is unreachable; stopped waiting for the lock")]
    StoreUnavailable,
}

impl LockError {
    /// The lock service failed (as opposed to busy, lost or no quorum).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, LockError::TimedOut(_) | LockError::Redis(_))
    }

    /// Whether the failed call may still have run in Redis: it timed out,
    /// or its connection broke after it was sent. A call refused when
    /// connecting never reached Redis (see [`NodeConnection`]), so no lock
    /// can be held under its token.
    pub fn may_have_run(&self) -> bool {
        match self {
            LockError::TimedOut(_) => true,
            LockError::Redis(error) => !error.is_connection_refusal(),
            _ => false,
        }
    }
}

/// A way to lock a product for one sale.
pub trait Lock: Sync {
    type Guard: Guard;

    /// Take the lock on `product`, waiting at most `timing.deadline`.
    fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> impl Future<Output = Result<Self::Guard, LockError>> + Send;

    /// Give the lock back. `Ok(false)`: it was no longer ours (it expired
    /// before the release — the critical section outlived the TTL).
    fn release(&self, guard: Self::Guard) -> impl Future<Output = Result<bool, LockError>> + Send;
}

/// What the sale asks of the lock it runs under.
pub trait Guard: Send + Sync {
    /// The fencing token the store must check before it accepts a write.
    fn fence(&self) -> Option<i64> {
        None
    }

    /// True once the lock is known to be lost (a renewal found it gone, or
    /// its validity ran out): the sale is abandoned before it writes.
    fn is_lost(&self) -> bool {
        false
    }

    /// How long the lock is still known to be ours, for a guard that knows
    /// (a validity, a renewal's TTL); `None` when nothing bounds it. The
    /// write must be done by then, or write nothing.
    fn valid_for(&self) -> Option<Duration> {
        None
    }

    /// The TTL the lock was taken with, for a lock that has one.
    fn ttl(&self) -> Option<Duration> {
        None
    }

    /// Whether the lock is kept alive while held (the watchdog's renewals)
    /// instead of expiring its TTL after it was taken.
    fn renewed(&self) -> bool {
        false
    }

    /// Where the purchase's `pause_ms` falls: right after the read (true, every
    /// strategy but one), or inside the release (`broken-get-del`).
    fn pauses_after_read(&self) -> bool {
        true
    }
}

/// No lock at all: the guard of `lock=none`.
pub struct Unguarded;

impl Guard for Unguarded {}

/// RESP3 lets the connection manager hear the server hang up and reconnect
/// at once, before the next command would fail on the dead connection.
pub fn with_resp3(info: redis::ConnectionInfo) -> redis::ConnectionInfo {
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    info.set_redis_settings(settings)
}

/// The Redis key of the lock on `product`, e.g. `flashsale:lock:{product:1}`.
/// Every Redis strategy uses the same key, so they exclude one another. The
/// braces are a hash tag: on Redis Cluster every key of one product (lock,
/// fence, fair queue) lands in one slot, so a script may take several.
pub fn lock_key(prefix: &str, product: ProductId) -> String {
    format!("{prefix}:lock:{}", product_tag(product))
}

/// `{product:1}`: the hash tag of every per-product key of the locks.
pub fn product_tag(product: ProductId) -> String {
    format!("{{product:{product}}}")
}

/// A fresh random token: proof that a lock is ours and nobody else's.
pub fn new_token() -> String {
    Uuid::new_v4().to_string()
}

/// The documents' spin: call `attempt` until it answers `Some`, sleeping the
/// retry interval plus jitter between tries, until the deadline (then
/// [`LockError::Busy`]). An error ends the spin at once.
pub async fn spin<T, F, Fut>(timing: &LockTiming, mut attempt: F) -> Result<T, LockError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, LockError>>,
{
    let started = Instant::now();
    let give_up_at = started + timing.deadline;
    loop {
        timing.check_give_up()?;
        if let Some(held) = attempt().await? {
            return Ok(held);
        }
        let pause = timing.retry + jitter(timing.retry);
        if Instant::now() + pause > give_up_at {
            return Err(LockError::Busy {
                waited: started.elapsed(),
            });
        }
        sleep(pause).await;
    }
}

/// Up to a fifth of the retry interval, so that waiters spread out.
pub fn jitter(retry: Duration) -> Duration {
    let max = u64::try_from(retry.as_micros() / 5).unwrap_or(u64::MAX);
    Duration::from_micros(if max == 0 {
        0
    } else {
        rand::random_range(0..=max)
    })
}

/// A lock held in one Redis node under a random token: the guard of the
/// single-node strategies. Dropped unreleased (a panic, a cancelled task), it
/// sends its compare-and-delete in the background.
#[must_use = "a lock guard should be released"]
pub struct TokenGuard {
    node: RedisNode,
    pub key: String,
    pub token: String,
    /// The TTL it was taken with: how long the ledger keeps it at most once
    /// its release has begun.
    ttl: Duration,
    ledger: Ledger,
    entry: u64,
    released: bool,
}

impl TokenGuard {
    /// A lock now held with `ttl`; it stays in `ledger` until its release
    /// has answered.
    pub fn new(
        node: &RedisNode,
        ledger: &Ledger,
        key: String,
        token: String,
        ttl: Duration,
    ) -> Self {
        let entry = ledger.enter(node, &key, &token);
        Self {
            node: node.clone(),
            key,
            token,
            ttl,
            ledger: ledger.clone(),
            entry,
            released: false,
        }
    }

    /// Its strategy's own release begins: no release on drop. The ledger
    /// keeps the lock until [`settle`](Self::settle) hears the release
    /// answered, or its TTL has passed.
    pub fn disarm(&mut self) {
        self.released = true;
        self.ledger.releasing(self.entry, self.ttl);
    }

    /// The release call ended: an answer (released, or no longer ours)
    /// forgets the lock; a failure leaves it for the shutdown to release.
    pub fn settle<T>(&self, release: &Result<T, LockError>) {
        if release.is_ok() {
            self.ledger.leave(self.entry);
        }
    }
}

impl Guard for TokenGuard {
    fn ttl(&self) -> Option<Duration> {
        Some(self.ttl)
    }
}

impl Drop for TokenGuard {
    fn drop(&mut self) {
        if !self.released && tokio::runtime::Handle::try_current().is_ok() {
            let (node, ledger, entry) = (self.node.clone(), self.ledger.clone(), self.entry);
            ledger.releasing(entry, self.ttl);
            let (key, token) = (
                std::mem::take(&mut self.key),
                std::mem::take(&mut self.token),
            );
            tokio::spawn(async move {
                match node.release_if_ours(&key, &token).await {
                    Ok(_) => ledger.leave(entry),
                    Err(error) => {
                        tracing::warn!(%key, error = %error, "best-effort lock release failed; the TTL will free it");
                    }
                }
            });
        }
    }
}

impl std::fmt::Debug for TokenGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGuard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// What every single-node Redis strategy is built from: the node, the
/// ledger of held locks, the key prefix. Cheap to clone.
#[derive(Clone)]
pub struct RedisBase {
    pub node: RedisNode,
    pub ledger: Ledger,
    pub prefix: String,
}

impl RedisBase {
    /// The key of the lock on `product`.
    pub fn key(&self, product: ProductId) -> String {
        lock_key(&self.prefix, product)
    }

    /// A guard for a lock just taken under `token` with `ttl`.
    pub fn guard(&self, key: String, token: String, ttl: Duration) -> TokenGuard {
        TokenGuard::new(&self.node, &self.ledger, key, token, ttl)
    }

    /// Take the lock on `product` with the spin: `SET NX PX` under a fresh
    /// token until it is ours or the deadline passes. Shared by every
    /// strategy that spins on one node with a sound `SET NX`.
    pub async fn spin_set_nx(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<TokenGuard, LockError> {
        Ok(self.spin_set_nx_sent(product, timing).await?.0)
    }

    /// [`spin_set_nx`](Self::spin_set_nx), with the moment the winning `SET`
    /// was sent: the lock lives at least its TTL from then (Redis ran the SET
    /// somewhere within the round trip that followed).
    pub async fn spin_set_nx_sent(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<(TokenGuard, Instant), LockError> {
        let key = self.key(product);
        let token = new_token();
        let node = &self.node;
        let attempt = || async {
            let sent = Instant::now();
            match node.set_nx_px(&key, &token, timing.ttl).await {
                Ok(true) => Ok(Some(sent)),
                Ok(false) => Ok(None),
                Err(error) => {
                    // The SET may have landed before the failure: clean up under our token.
                    node.clean_up_failed_acquire(&error, key.clone(), token.clone());
                    Err(error)
                }
            }
        };
        let sent = spin(timing, attempt).await?;
        Ok((self.guard(key, token, timing.ttl), sent))
    }

    /// The sound release: compare-and-delete.
    pub async fn release(&self, mut guard: TokenGuard) -> Result<bool, LockError> {
        guard.disarm();
        let released = self.node.release_if_ours(&guard.key, &guard.token).await;
        guard.settle(&released);
        released
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn io_error(kind: io::ErrorKind) -> LockError {
        LockError::Redis(redis::RedisError::from(io::Error::from(kind)))
    }

    #[test]
    fn only_a_call_that_may_have_reached_redis_is_cleaned_up_after() {
        // Refused at connect: never sent, so no lock, no clean-up, no warning.
        assert!(!io_error(io::ErrorKind::ConnectionRefused).may_have_run());
        // Sent, then no answer: the SET may have run.
        assert!(LockError::TimedOut(Duration::from_secs(1)).may_have_run());
        assert!(io_error(io::ErrorKind::BrokenPipe).may_have_run());
        assert!(io_error(io::ErrorKind::ConnectionReset).may_have_run());
        // Answered: nothing of ours can be held.
        assert!(
            !LockError::Busy {
                waited: Duration::ZERO
            }
            .may_have_run()
        );
    }
}
