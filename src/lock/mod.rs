//! The Redis lock: the subject this project teaches.
//!
//! * **Acquire** — `SET {key} {token} NX PX {ttl}` with a fresh UUID v4 token.
//!   A nil reply means someone else holds it: sleep the retry interval (plus a
//!   little jitter, so waiters do not stampede in step) and try again, until the
//!   deadline; then give up with [`LockError::Busy`] (the HTTP edge says 429).
//! * **Release** — a Lua compare-and-delete (`release.lua`) sent as EVALSHA:
//!   the key is deleted only while it still holds *our* token, so a holder whose
//!   lock expired can never delete the next holder's lock.
//! * **Fail closed** — every Redis call has a timeout. A call that times out or
//!   errors means "outcome unknown": the SET may have run on the server, so a
//!   best-effort release with the same token is sent and the caller gets
//!   [`LockError::Unavailable`], never a lock it might not hold.
//!
//! The TTL bounds how long a crashed holder can block others; it also bounds
//! the critical section: work that outlives the TTL is no longer protected.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::time::{Instant, sleep, timeout};
use uuid::Uuid;

static RELEASE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("release.lua")));

/// Timing of the lock; see the configuration for what each one means.
#[derive(Debug, Clone, Copy)]
pub struct LockTimings {
    pub ttl: Duration,
    pub deadline: Duration,
    pub retry: Duration,
    /// Longest wait for a single Redis call.
    pub call_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("lock `{key}` still held by someone else after {waited:?}")]
    Busy { key: String, waited: Duration },
    #[error("redis did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("redis call failed")]
    Redis(#[from] redis::RedisError),
}

impl LockError {
    /// Redis itself failed (as opposed to the lock being busy).
    pub fn is_unavailable(&self) -> bool {
        !matches!(self, LockError::Busy { .. })
    }
}

/// A factory of per-resource locks sharing one multiplexed Redis connection.
#[derive(Clone)]
pub struct RedisLock {
    inner: Arc<Inner>,
}

struct Inner {
    redis: ConnectionManager,
    prefix: String,
    timings: LockTimings,
}

impl RedisLock {
    pub fn new(redis: ConnectionManager, prefix: impl Into<String>, timings: LockTimings) -> Self {
        Self {
            inner: Arc::new(Inner {
                redis,
                prefix: prefix.into(),
                timings,
            }),
        }
    }

    /// The Redis key guarding `resource`, e.g. `flashsale:lock:product:1`.
    pub fn key_for(&self, resource: &str) -> String {
        format!("{}:lock:{resource}", self.inner.prefix)
    }

    /// Spin until the lock on `resource` is ours or the deadline passes.
    pub async fn acquire(&self, resource: &str) -> Result<LockGuard, LockError> {
        let key = self.key_for(resource);
        let token = Uuid::new_v4().to_string();
        let LockTimings {
            deadline, retry, ..
        } = self.inner.timings;
        let started = Instant::now();
        let give_up_at = started + deadline;

        loop {
            match self.try_set(&key, &token).await {
                Ok(true) => {
                    return Ok(LockGuard {
                        lock: self.clone(),
                        key,
                        token,
                        released: false,
                    });
                }
                Ok(false) => {}
                Err(error) => {
                    // The SET may have landed before the failure: clean up under our token.
                    self.release_in_background(key, token);
                    return Err(error);
                }
            }
            let pause = retry + jitter(retry);
            if Instant::now() + pause > give_up_at {
                return Err(LockError::Busy {
                    key,
                    waited: started.elapsed(),
                });
            }
            sleep(pause).await;
        }
    }

    /// One `SET key token NX PX ttl`: `true` when the lock is now ours.
    async fn try_set(&self, key: &str, token: &str) -> Result<bool, LockError> {
        let ttl_ms = self.inner.timings.ttl.as_millis() as u64;
        let mut redis = self.inner.redis.clone();
        let reply: Option<String> = self
            .within_call_timeout(
                redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async(&mut redis),
            )
            .await?;
        // "OK" when set, nil when the key already exists.
        Ok(reply.is_some())
    }

    /// Delete `key` only if it still holds `token`. `Ok(false)`: it did not
    /// (expired, or taken over by someone else), and nothing was deleted.
    pub async fn release(&self, key: &str, token: &str) -> Result<bool, LockError> {
        let mut redis = self.inner.redis.clone();
        let deleted: i64 = self
            .within_call_timeout(RELEASE_SCRIPT.key(key).arg(token).invoke_async(&mut redis))
            .await?;
        Ok(deleted == 1)
    }

    fn release_in_background(&self, key: String, token: String) {
        let lock = self.clone();
        tokio::spawn(async move {
            if let Err(error) = lock.release(&key, &token).await {
                tracing::warn!(%key, error = %error, "best-effort lock release failed; the TTL will free it");
            }
        });
    }

    async fn within_call_timeout<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, LockError> {
        let limit = self.inner.timings.call_timeout;
        match timeout(limit, call).await {
            Ok(reply) => Ok(reply?),
            Err(_) => Err(LockError::TimedOut(limit)),
        }
    }
}

/// Up to a fifth of the retry interval, so that waiters spread out.
fn jitter(retry: Duration) -> Duration {
    let max = (retry.as_micros() / 5) as u64;
    Duration::from_micros(if max == 0 {
        0
    } else {
        rand::random_range(0..=max)
    })
}

/// Proof of holding a lock. Release it with [`LockGuard::release`]; if it is
/// dropped unreleased (a panic), a release is sent in the background.
#[must_use = "a lock guard should be released"]
pub struct LockGuard {
    lock: RedisLock,
    key: String,
    token: String,
    released: bool,
}

impl LockGuard {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Release by compare-and-delete. `Ok(false)` means the lock had expired
    /// before we released it: the critical section outlived the TTL.
    pub async fn release(mut self) -> Result<bool, LockError> {
        self.released = true;
        self.lock.release(&self.key, &self.token).await
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if !self.released && tokio::runtime::Handle::try_current().is_ok() {
            self.lock.release_in_background(
                std::mem::take(&mut self.key),
                std::mem::take(&mut self.token),
            );
        }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}
