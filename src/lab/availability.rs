//! Which strategies can be used right now, as the page and
//! `GET /api/strategies` show it. Read from a cache that a background probe
//! keeps fresh (and Redlock's own calls too), so that a request never waits
//! for a frozen or dead node: asking the nodes on every request made the page
//! take the whole Redis timeout while any node was frozen.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::lock::redlock::NodeHealth;
use crate::lock::{Needs, RedisNode, Strategy};

/// How often the probe asks Redis and the Redlock nodes: how stale the
/// page's word may be.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Whether a strategy can be used right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Availability {
    pub available: bool,
    pub unavailable_reason: Option<String>,
}

impl Availability {
    fn up() -> Self {
        Self {
            available: true,
            unavailable_reason: None,
        }
    }

    fn down(reason: impl Into<String>) -> Self {
        Self {
            available: false,
            unavailable_reason: Some(reason.into()),
        }
    }
}

/// What the lock services looked like at the last probe.
pub struct Probe(Arc<Seen>);

struct Seen {
    redis: RedisNode,
    redis_up: AtomicBool,
    /// `None`: no Redlock nodes are configured.
    redlock: Option<NodeHealth>,
}

impl Seen {
    async fn refresh(&self) {
        let redlock = async {
            if let Some(nodes) = &self.redlock {
                nodes.probe().await;
            }
        };
        let (redis_up, ()) = tokio::join!(self.redis.ping(), redlock);
        self.redis_up.store(redis_up, Ordering::Relaxed);
    }
}

impl Probe {
    pub fn new(redis: RedisNode, redlock: Option<NodeHealth>) -> Self {
        Self(Arc::new(Seen {
            redis,
            redis_up: AtomicBool::new(false),
            redlock,
        }))
    }

    /// Probe once now (so the first page is right), then every
    /// [`PROBE_EVERY`] on a task of its own, until `stop` is cancelled or
    /// the probe is dropped with its lab.
    pub async fn start(&self, stop: CancellationToken) {
        self.0.refresh().await;
        let seen: Weak<Seen> = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(PROBE_EVERY) => {}
                }
                let Some(seen) = seen.upgrade() else { return };
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = seen.refresh() => {}
                }
            }
        });
    }

    /// Every strategy and whether it can be used, from what was last seen.
    /// Never waits. Postgres (which every strategy needs for the stock) is
    /// checked by `/readyz`.
    pub fn now(&self) -> Vec<(Strategy, Availability)> {
        let seen = &self.0;
        let redis_up = seen.redis_up.load(Ordering::Relaxed);
        let redlock = match &seen.redlock {
            None => Availability::down("no Redlock nodes are configured (REDLOCK_URLS)"),
            Some(health) => redlock(health),
        };
        Strategy::ALL
            .into_iter()
            .map(|strategy| {
                let availability = match strategy.info().needs {
                    Needs::Nothing => Availability::up(),
                    Needs::Redis if redis_up => Availability::up(),
                    Needs::Redis => Availability::down("Redis does not answer"),
                    Needs::RedlockNodes => redlock.clone(),
                };
                (strategy, availability)
            })
            .collect()
    }
}

fn redlock(health: &NodeHealth) -> Availability {
    let nodes = health.last_seen();
    let up = nodes.iter().filter(|(_, up)| *up).count();
    if up >= health.quorum() {
        return Availability::up();
    }
    let down: Vec<_> = nodes
        .iter()
        .filter(|(_, up)| !*up)
        .map(|(address, _)| address.as_str())
        .collect();
    Availability::down(format!(
        "{up} of {} Redlock nodes answer, {} needed for a majority (down: {})",
        nodes.len(),
        health.quorum(),
        down.join(", ")
    ))
}
