//! `redlock` — seed 04's redsync: the lock over N independent Redis nodes
//! (`REDLOCK_URLS`), as the Redis docs' Redlock algorithm describes it.
//!
//! 1. Take the time, then `SET key token NX PX ttl` on every node at once,
//!    each on a task of its own with a short timeout (5 % of the TTL, at
//!    least 50 ms). The attempt is decided as soon as a majority (N/2+1) said
//!    yes, or as soon as a majority answered and can no longer say yes (a
//!    node whose last call failed counting as a no until it answers): a
//!    frozen or dead node costs at most that timeout, and nothing once it is
//!    known to be silent — not even a split vote waits for it.
//! 2. The lock is ours only if a majority said yes while time is left: it is
//!    valid until start + TTL − drift, drift = 0.01 × TTL + 2 ms.
//! 3. Otherwise release it in the background wherever it may have been set
//!    (a timed-out SET's outcome is unknown) and retry under a fresh token
//!    after a random delay, until the deadline (429). A majority of nodes
//!    failing to answer three attempts in a row (or the last one before the
//!    deadline) is not "busy" but "cannot lock": 503 `strategy_unavailable`,
//!    nothing sold.
//! 4. The holder trusts the lock only until its validity runs out: the write
//!    runs under a statement timeout of the validity left, and a sale still
//!    running then writes nothing (409 `lock_lost`).
//! 5. Release: compare-and-delete on every node at once, answered once a
//!    majority has; the rest finish in the background, within the same
//!    per-node timeout.
//!
//! Nodes are connected lazily, so the service starts with some of them down
//! and picks them up when they come back. Every call notes whether its node
//! answered, which the lab's availability reads ([`NodeHealth`]). Like the
//! single-node lock it has no fencing: a holder that pauses past its
//! validity after its last check still writes.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::{Instant, sleep};

use super::info::{Family, Needs, StrategyInfo};
use super::{Guard, Ledger, Lock, LockError, LockTiming, lock_key, new_token};
use crate::domain::ProductId;

mod nodes;

pub use nodes::NodeHealth;
use nodes::{Calls, LazyNode};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redlock (3 Redis nodes)",
    family: Family::Redlock,
    safe: true,
    lesson: "The lock is held only with a majority of independent Redis nodes, so one node can die without losing it.",
    breaks_when: "a majority of nodes is down (503, sells nothing); a holder pausing past the validity still writes: no fencing",
    needs: Needs::RedlockNodes,
    uses_ttl: true,
};

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
                answering: AtomicBool::new(false),
            })
            .collect();
        Some(Self {
            nodes: Arc::new(nodes),
            prefix: prefix.to_owned(),
            ledger: ledger.clone(),
        })
    }

    fn quorum(&self) -> usize {
        self.nodes.len() / 2 + 1
    }

    /// The nodes' health, for the lab's availability.
    pub fn health(&self) -> NodeHealth {
        NodeHealth(self.nodes.clone())
    }

    /// How long one node may take to answer: redsync's 5 % of the TTL, at
    /// least 50 ms (a loaded machine answers slower than the loopback promises), at most the Redis call timeout.
    fn node_timeout(&self, ttl: Duration) -> Duration {
        let call_timeout = self.nodes[0].call_timeout;
        (ttl / 20).clamp(Duration::from_millis(50).min(call_timeout), call_timeout)
    }

    /// The lock, won on the nodes in `won`: entered in the ledger there.
    fn hold(
        &self,
        key: String,
        token: String,
        (valid_until, expires_at, ttl): (Instant, Instant, Duration),
        node_timeout: Duration,
        won: &[usize],
    ) -> RedlockGuard {
        let entries = won
            .iter()
            .filter_map(|&index| {
                let node = self.nodes[index].connected()?;
                Some((index, self.ledger.enter(&node, &key, &token)))
            })
            .collect();
        RedlockGuard {
            nodes: self.nodes.clone(),
            key,
            token,
            valid_until,
            expires_at,
            ttl,
            node_timeout,
            ledger: self.ledger.clone(),
            entries,
            released: false,
        }
    }

    /// `SET key token NX PX ttl` on every node at once.
    fn set_everywhere(&self, key: &str, token: &str, ttl: Duration, limit: Duration) -> Calls {
        Calls::start(&self.nodes, |index| {
            let (nodes, key, token) = (self.nodes.clone(), key.to_owned(), token.to_owned());
            async move {
                nodes[index]
                    .within(limit, |node| async move {
                        node.set_nx_px(&key, &token, ttl).await
                    })
                    .await
            }
        })
    }
}

/// Attempts in a row in which a majority of nodes did not answer before
/// Redlock answers "cannot lock" (503) rather than trying on.
const NO_MAJORITY_ATTEMPTS: u32 = 3;

/// A lock's entries in the ledger, by node, and when its keys expire.
struct Held<'a> {
    entries: &'a [(usize, u64)],
    expires_at: Instant,
}

/// Compare-and-delete on every node at once but those in `skip`, each
/// within `limit`. A node's entries leave the ledger once its release has
/// answered; one that failed stays for the shutdown to try again, until the
/// keys expire by themselves at `expires_at`.
fn release_everywhere(
    nodes: &Arc<Vec<LazyNode>>,
    key: &str,
    token: &str,
    limit: Duration,
    ledger: &Ledger,
    held: Held<'_>,
    skip: &[usize],
) -> Calls {
    Calls::start(nodes, |index| {
        let skipped = skip.contains(&index);
        let (nodes, key, token) = (nodes.clone(), key.to_owned(), token.to_owned());
        let ledger = ledger.clone();
        let entries: Vec<u64> = held
            .entries
            .iter()
            .filter(|(node, _)| *node == index)
            .map(|(_, entry)| *entry)
            .collect();
        let ttl_left = held.expires_at.saturating_duration_since(Instant::now());
        for &entry in &entries {
            ledger.releasing(entry, ttl_left);
        }
        async move {
            if skipped {
                return Ok(false);
            }
            let released = nodes[index]
                .within(limit, |node| async move {
                    node.release_if_ours(&key, &token).await
                })
                .await;
            if released.is_ok() {
                entries.into_iter().for_each(|entry| ledger.leave(entry));
            }
            released
        }
    })
}

#[must_use = "a lock guard should be released"]
pub struct RedlockGuard {
    nodes: Arc<Vec<LazyNode>>,
    key: String,
    token: String,
    valid_until: Instant,
    /// When the keys expire in Redis by themselves (the attempt's start + TTL).
    expires_at: Instant,
    ttl: Duration,
    node_timeout: Duration,
    /// The nodes that said yes, in the ledger of held locks.
    ledger: Ledger,
    entries: Vec<(usize, u64)>,
    released: bool,
}

impl RedlockGuard {
    fn release(&mut self) -> Calls {
        self.released = true;
        let entries = std::mem::take(&mut self.entries);
        release_everywhere(
            &self.nodes,
            &self.key,
            &self.token,
            self.node_timeout,
            &self.ledger,
            Held {
                entries: &entries,
                expires_at: self.expires_at,
            },
            &[],
        )
    }
}

impl Guard for RedlockGuard {
    fn ttl(&self) -> Option<Duration> {
        Some(self.ttl)
    }

    fn is_lost(&self) -> bool {
        Instant::now() >= self.valid_until
    }

    fn valid_for(&self) -> Option<Duration> {
        Some(self.valid_until.saturating_duration_since(Instant::now()))
    }
}

impl Drop for RedlockGuard {
    fn drop(&mut self) {
        // Unreleased (a panic, a cancelled task): release in the background.
        if !self.released && tokio::runtime::Handle::try_current().is_ok() {
            self.release().finish_in_background();
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
        let quorum = self.quorum();
        let node_timeout = self.node_timeout(timing.ttl);
        let drift = timing.ttl / 100 + Duration::from_millis(2);
        let started = Instant::now();
        let give_up_at = started + timing.deadline;
        let mut without_majority = 0;

        loop {
            timing.check_give_up()?;
            // A fresh token per attempt: the background release of a failed
            // attempt can never delete a later attempt's lock.
            let token = new_token();
            let attempt_started = Instant::now();
            let valid_until = attempt_started + timing.ttl.saturating_sub(drift);
            let said = self
                .set_everywhere(&key, &token, timing.ttl, node_timeout)
                .decided()
                .await;

            if said.yes.len() >= quorum && Instant::now() < valid_until {
                let expires_at = attempt_started + timing.ttl;
                let lifetime = (valid_until, expires_at, timing.ttl);
                return Ok(self.hold(key, token, lifetime, node_timeout, &said.yes));
            }
            // Not waited for: the next attempt goes under another token. A
            // node that said no holds someone else's lock: nothing of ours.
            release_everywhere(
                &self.nodes,
                &key,
                &token,
                node_timeout,
                &self.ledger,
                Held {
                    entries: &[],
                    expires_at: attempt_started,
                },
                &said.no,
            )
            .finish_in_background();
            // One attempt without a majority answering may be a machine too
            // busy to read the replies in time; several in a row are an outage.
            let majority_failed = said.failed > self.nodes.len() - quorum;
            without_majority = if majority_failed {
                without_majority + 1
            } else {
                0
            };
            let no_quorum = || LockError::NoQuorum {
                reached: said.yes.len() + said.no.len(),
                needed: quorum,
            };
            if without_majority >= NO_MAJORITY_ATTEMPTS {
                return Err(no_quorum());
            }
            let pause = timing.retry + random_up_to(timing.retry);
            if Instant::now() + pause > give_up_at {
                return Err(if majority_failed {
                    no_quorum()
                } else {
                    LockError::Busy {
                        waited: started.elapsed(),
                    }
                });
            }
            sleep(pause).await;
        }
    }

    async fn release(&self, mut guard: RedlockGuard) -> Result<bool, LockError> {
        let mut releases = guard.release();
        let said = releases.decided().await;
        releases.finish_in_background();
        Ok(said.yes.len() >= self.quorum())
    }
}

/// A random delay up to `max`: redsync retries after a random delay, so that
/// contenders that split the vote do not split it again in step.
fn random_up_to(max: Duration) -> Duration {
    let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::random_range(0..=max))
}
