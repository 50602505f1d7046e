//! `redlock` — seed 04's redsync: the lock over N independent Redis nodes
//! (`REDLOCK_URLS`), as the Redis docs' Redlock algorithm describes it.
//!
//! 1. Take the time, then `SET key token NX PX ttl` on every node at once,
//!    each with a short timeout of its own (a dead node must not stall us).
//! 2. The lock is ours only if a majority (N/2+1) said yes *and* time is left:
//!    validity = TTL − elapsed − drift, drift = 0.01 × TTL + 2 ms.
//! 3. Otherwise release it on every node (also where the SET seemed to fail:
//!    its outcome is unknown) and retry after a random delay, until the
//!    deadline (429). Fewer than a majority of nodes answering at all is not
//!    "busy" but "cannot lock": 503 `strategy_unavailable`, nothing sold.
//! 4. The holder trusts the lock only until its validity runs out: a sale
//!    still running then is abandoned before it writes (409 `lock_lost`).
//! 5. Release: compare-and-delete on every node.
//!
//! Nodes are connected lazily, so the service starts with some of them down
//! and picks them up when they come back. Like the single-node lock it has no
//! fencing: a holder that pauses past its validity still writes.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::time::{Instant, sleep, timeout};

use super::info::{Family, Needs, StrategyInfo};
use super::{Guard, Ledger, Lock, LockError, LockTiming, RedisNode, lock_key, new_token};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redlock (3 Redis nodes)",
    family: Family::Redlock,
    safe: true,
    lesson: "The lock is held only with a majority of independent Redis nodes, so one node can die without losing it.",
    breaks_when: "a majority of nodes is down (503, sells nothing); a holder pausing past the validity still writes: no fencing",
    needs: Needs::RedlockNodes,
    uses_ttl: true,
};

/// One node, connected on first use and reconnected by the manager after.
struct LazyNode {
    client: redis::Client,
    address: String,
    connection: OnceCell<ConnectionManager>,
    call_timeout: Duration,
}

impl LazyNode {
    async fn node(&self) -> Result<RedisNode, LockError> {
        let connect = self.connection.get_or_try_init(|| async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(self.call_timeout))
                .set_response_timeout(Some(self.call_timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_millis(200));
            ConnectionManager::new_with_config(self.client.clone(), config).await
        });
        match timeout(self.call_timeout, connect).await {
            Ok(connected) => Ok(RedisNode::new(connected?.clone(), self.call_timeout)),
            Err(_) => Err(LockError::TimedOut(self.call_timeout)),
        }
    }

    /// One call on this node within `limit`, connecting first if need be.
    async fn within<T, F, Fut>(&self, limit: Duration, call: F) -> Result<T, LockError>
    where
        F: FnOnce(RedisNode) -> Fut,
        Fut: Future<Output = Result<T, LockError>>,
    {
        let attempt = async { call(self.node().await?).await };
        match timeout(limit, attempt).await {
            Ok(reply) => reply,
            Err(_) => Err(LockError::TimedOut(limit)),
        }
    }
}

pub struct Redlock {
    nodes: Arc<Vec<LazyNode>>,
    prefix: String,
    ledger: Ledger,
}

impl Redlock {
    /// `None` when no node is configured.
    pub fn new(
        nodes: &[redis::ConnectionInfo],
        prefix: &str,
        call_timeout: Duration,
        ledger: &Ledger,
    ) -> Option<Self> {
        if nodes.is_empty() {
            return None;
        }
        let nodes = nodes
            .iter()
            .map(|info| LazyNode {
                address: info.addr().to_string(),
                client: redis::Client::open(super::with_resp3(info.clone()))
                    .expect("a parsed connection info opens"),
                connection: OnceCell::new(),
                call_timeout,
            })
            .collect();
        Some(Self {
            nodes: Arc::new(nodes),
            prefix: prefix.to_owned(),
            ledger: ledger.clone(),
        })
    }

    pub fn quorum(&self) -> usize {
        self.nodes.len() / 2 + 1
    }

    /// The nodes, and which of them answer a PING now.
    pub async fn reachable(&self) -> Vec<(String, bool)> {
        let pings = self.nodes.iter().map(|node| async {
            let up = node
                .within(node.call_timeout, |n| async move { Ok(n.ping().await) })
                .await
                .unwrap_or(false);
            (node.address.clone(), up)
        });
        join_all(pings).await
    }

    /// How long one node may take to answer: redsync's 5 % of the TTL, at
    /// least 50 ms (a loaded machine answers slower than the loopback promises), at most the Redis call timeout.
    fn node_timeout(&self, ttl: Duration) -> Duration {
        let call_timeout = self.nodes[0].call_timeout;
        (ttl / 20).clamp(Duration::from_millis(50).min(call_timeout), call_timeout)
    }
}

/// Every node, in the background: the guard dropped unreleased.
fn release_everywhere_in_background(guard: &mut RedlockGuard) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let (nodes, ledger) = (guard.nodes.clone(), guard.ledger.clone());
    let (key, token) = (
        std::mem::take(&mut guard.key),
        std::mem::take(&mut guard.token),
    );
    let entries = std::mem::take(&mut guard.entries);
    tokio::spawn(async move {
        release_everywhere(&nodes, &key, &token).await;
        entries.into_iter().for_each(|entry| ledger.leave(entry));
    });
}

/// Compare-and-delete on every node at once; how many deleted our lock.
async fn release_everywhere(nodes: &[LazyNode], key: &str, token: &str) -> usize {
    let releases = nodes.iter().map(|node| {
        node.within(node.call_timeout, |n| async move {
            n.release_if_ours(key, token).await
        })
    });
    join_all(releases)
        .await
        .into_iter()
        .filter(|released| matches!(released, Ok(true)))
        .count()
}

#[must_use = "a lock guard should be released"]
pub struct RedlockGuard {
    nodes: Arc<Vec<LazyNode>>,
    key: String,
    token: String,
    valid_until: Instant,
    /// The nodes that said yes, in the ledger of held locks.
    ledger: Ledger,
    entries: Vec<u64>,
    released: bool,
}

impl Guard for RedlockGuard {
    fn is_lost(&self) -> bool {
        Instant::now() >= self.valid_until
    }
}

impl Drop for RedlockGuard {
    fn drop(&mut self) {
        if !self.released {
            release_everywhere_in_background(self);
        }
    }
}

impl Lock for Redlock {
    type Guard = RedlockGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<RedlockGuard, LockError> {
        let key = lock_key(&self.prefix, product);
        let token = new_token();
        let quorum = self.quorum();
        let node_timeout = self.node_timeout(timing.ttl);
        let drift = timing.ttl / 100 + Duration::from_millis(2);
        let started = Instant::now();
        let give_up_at = started + timing.deadline;

        loop {
            timing.check_give_up()?;
            let attempt_started = Instant::now();
            let replies = join_all(self.nodes.iter().map(|node| {
                node.within(node_timeout, |n| {
                    let (key, token) = (&key, &token);
                    async move { Ok((n.set_nx_px(key, token, timing.ttl).await?, n)) }
                })
            }))
            .await;
            let answered = replies.iter().filter(|reply| reply.is_ok()).count();
            let won: Vec<&RedisNode> = replies
                .iter()
                .filter_map(|reply| match reply {
                    Ok((true, node)) => Some(node),
                    _ => None,
                })
                .collect();
            let validity = timing
                .ttl
                .checked_sub(attempt_started.elapsed() + drift)
                .filter(|left| !left.is_zero());

            if let (true, Some(validity)) = (won.len() >= quorum, validity) {
                let entries = won
                    .iter()
                    .map(|node| self.ledger.enter(node, &key, &token))
                    .collect();
                return Ok(RedlockGuard {
                    nodes: self.nodes.clone(),
                    key,
                    token,
                    valid_until: attempt_started + validity,
                    ledger: self.ledger.clone(),
                    entries,
                    released: false,
                });
            }
            release_everywhere(&self.nodes, &key, &token).await;
            if answered < quorum {
                return Err(LockError::NoQuorum {
                    reached: answered,
                    needed: quorum,
                });
            }
            let pause = timing.retry + random_up_to(timing.retry);
            if Instant::now() + pause > give_up_at {
                return Err(LockError::Busy {
                    waited: started.elapsed(),
                });
            }
            sleep(pause).await;
        }
    }

    async fn release(&self, mut guard: RedlockGuard) -> Result<bool, LockError> {
        guard.released = true;
        let released = release_everywhere(&self.nodes, &guard.key, &guard.token).await;
        guard
            .entries
            .drain(..)
            .for_each(|entry| self.ledger.leave(entry));
        Ok(released >= self.quorum())
    }
}

/// A random delay up to `max`: redsync retries after a random delay, so that
/// contenders that split the vote do not split it again in step.
fn random_up_to(max: Duration) -> Duration {
    let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::random_range(0..=max))
}
