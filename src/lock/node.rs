//! One Redis node as every Redis lock uses it: the shared connection, a
//! timeout on every call, `SET NX PX`, the compare-and-delete release, and
//! the clean-up after an acquire that went unanswered.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::time::timeout;

use super::{LockError, NodeConnection};

static RELEASE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/release.lua")));

/// One Redis server and the longest wait for one call to it. Cheap to clone.
#[derive(Clone)]
pub struct RedisNode {
    connection: NodeConnection,
    call_timeout: Duration,
}

impl RedisNode {
    pub fn new(connection: ConnectionManager, call_timeout: Duration) -> Self {
        Self {
            connection: NodeConnection::new(connection),
            call_timeout,
        }
    }

    /// The shared connection, which retries a command refused on a dead
    /// connection once (see [`NodeConnection`]).
    pub fn connection(&self) -> NodeConnection {
        self.connection.clone()
    }

    /// Run one call under the timeout (which covers its retry, if any).
    pub async fn call<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, LockError> {
        match timeout(self.call_timeout, call).await {
            Ok(reply) => Ok(reply?),
            Err(_) => Err(LockError::TimedOut(self.call_timeout)),
        }
    }

    /// `SET key token NX PX ttl`: `true` when the lock is now ours. The reply
    /// is "OK" when set and nil when the key exists — read as an `Option`,
    /// never ignored (see `broken::ignore_setnx` for what ignoring it does).
    pub async fn set_nx_px(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, LockError> {
        let mut connection = self.connection();
        let reply: Option<String> = self
            .call(
                redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_millis(ttl))
                    .query_async(&mut connection),
            )
            .await?;
        Ok(reply.is_some())
    }

    /// Delete `key` only while it holds `token` (`scripts/release.lua`, one
    /// atomic step). `Ok(false)`: it did not, and nothing was deleted.
    pub async fn release_if_ours(&self, key: &str, token: &str) -> Result<bool, LockError> {
        let mut connection = self.connection();
        let deleted: i64 = self
            .call(
                RELEASE_SCRIPT
                    .key(key)
                    .arg(token)
                    .invoke_async(&mut connection),
            )
            .await?;
        Ok(deleted == 1)
    }

    /// After a `SET NX` (or an acquire script) that failed with `error`: if
    /// it may have run ([`LockError::may_have_run`]), a lock may be held
    /// under `token`, so a compare-and-delete goes out in the background. A
    /// call refused at connect took no lock: nothing is sent. That was 502
    /// "lock release failed" warnings in one crowd with Redis down, for locks
    /// never taken. The clean-up's own failure is no warning either: nobody
    /// knows a lock was taken, and its TTL frees it if one was.
    pub fn clean_up_failed_acquire(&self, error: &LockError, key: String, token: String) {
        if !error.may_have_run() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let node = self.clone();
        tokio::spawn(async move {
            if let Err(error) = node.release_if_ours(&key, &token).await {
                tracing::debug!(%key, error = %error, "clean-up after an unanswered acquire failed; if it took the lock, the TTL frees it");
            }
        });
    }

    /// PING under the timeout: is this node answering?
    pub async fn ping(&self) -> bool {
        let mut connection = self.connection();
        self.call(redis::cmd("PING").query_async::<String>(&mut connection))
            .await
            .is_ok()
    }
}

/// Milliseconds for `PX`, at least 1.
pub fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
