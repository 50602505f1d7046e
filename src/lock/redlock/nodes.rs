//! Redlock's nodes: each connected on first use, asked all at once, and
//! their replies counted as they come in, so that a frozen or dead node
//! costs at most its own timeout (see the parent module for the algorithm).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::future::{BoxFuture, join_all};
use futures::stream::FuturesUnordered;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::time::timeout;

use crate::lock::{LockError, RedisNode};

/// One node, connected on first use and reconnected by the manager after.
pub(super) struct LazyNode {
    pub(super) client: redis::Client,
    pub(super) address: String,
    pub(super) connection: OnceCell<ConnectionManager>,
    pub(super) call_timeout: Duration,
    /// Whether the node answered its last call (a sale's or the probe's).
    pub(super) answering: AtomicBool,
}

impl LazyNode {
    pub(super) async fn node(&self) -> Result<RedisNode, LockError> {
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

    /// The node, if it was ever connected.
    pub(super) fn connected(&self) -> Option<RedisNode> {
        let connection = self.connection.get()?;
        Some(RedisNode::new(connection.clone(), self.call_timeout))
    }

    /// One call on this node within `limit`, connecting first if need be.
    pub(super) async fn within<T, F, Fut>(&self, limit: Duration, call: F) -> Result<T, LockError>
    where
        F: FnOnce(RedisNode) -> Fut,
        Fut: Future<Output = Result<T, LockError>>,
    {
        let attempt = async { call(self.node().await?).await };
        let reply = match timeout(limit, attempt).await {
            Ok(reply) => reply,
            Err(_) => Err(LockError::TimedOut(limit)),
        };
        self.answering.store(reply.is_ok(), Ordering::Relaxed);
        reply
    }
}

/// What the nodes said to one call made on all of them, as far as it was
/// waited for.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// The nodes that said yes (a SET: the lock is ours there; a release:
    /// our lock is deleted there).
    pub(super) yes: Vec<usize>,
    /// The nodes that said no (a SET: someone else holds the key there).
    pub(super) no: Vec<usize>,
    pub(super) failed: usize,
}

type Reply = BoxFuture<'static, (usize, Result<bool, LockError>)>;

/// One call on every node at once: the replies are counted as they come in,
/// and a node that does not answer holds up nobody once the others have
/// decided.
pub(super) struct Calls {
    pub(super) pending: FuturesUnordered<Reply>,
    /// Per node: its last call had failed, and it has not answered this one
    /// yet. Once a majority of the others answered, such a node is not
    /// waited for (a frozen node would cost every split vote its timeout).
    pub(super) silent: Vec<bool>,
    pub(super) quorum: usize,
}

impl Calls {
    /// `call(index)` for every node.
    pub(super) fn start<Fut>(nodes: &[LazyNode], mut call: impl FnMut(usize) -> Fut) -> Self
    where
        Fut: Future<Output = Result<bool, LockError>> + Send + 'static,
    {
        let pending = (0..nodes.len())
            .map(|index| {
                let reply = call(index);
                Box::pin(async move { (index, reply.await) }) as Reply
            })
            .collect();
        Self {
            pending,
            silent: nodes
                .iter()
                .map(|node| !node.answering.load(Ordering::Relaxed))
                .collect(),
            quorum: nodes.len() / 2 + 1,
        }
    }

    /// The replies until the outcome is known: a majority said yes, a
    /// majority failed, or a majority answered and cannot say yes any more
    /// (counting a silent node as failed). The calls still out stay here:
    /// dropping `Calls` cancels them (a SET not yet sent is then never sent;
    /// one sent runs when its node wakes up and expires with its TTL — a
    /// minority, nobody's majority), or [`Calls::finish_in_background`] lets
    /// them run.
    pub(super) async fn decided(&mut self) -> Tally {
        let nodes = self.silent.len();
        let mut tally = Tally::default();
        while let Some((index, reply)) = self.pending.next().await {
            self.silent[index] = false;
            match reply {
                Ok(true) => tally.yes.push(index),
                Ok(false) => tally.no.push(index),
                Err(_) => tally.failed += 1,
            }
            let (yes, no, failed) = (tally.yes.len(), tally.no.len(), tally.failed);
            let silent = self.silent.iter().filter(|silent| **silent).count();
            let won = yes >= self.quorum;
            let down = failed + self.quorum > nodes;
            // Short of a majority of answers, hear the others out (each
            // within its timeout): whether a majority answers at all tells
            // "busy" from "down".
            let busy = yes + no >= self.quorum && no + failed + silent + self.quorum > nodes;
            if won || down || busy {
                break;
            }
        }
        tally
    }

    /// Let the calls still out finish in the background (each within its
    /// per-node timeout).
    pub(super) fn finish_in_background(self) {
        if !self.pending.is_empty() {
            let mut pending = self.pending;
            tokio::spawn(async move { while pending.next().await.is_some() {} });
        }
    }
}

/// The nodes' health as the lab's availability sees it: what each node's
/// last call said, kept fresh by a probe. Cheap to clone.
#[derive(Clone)]
pub struct NodeHealth(pub(super) Arc<Vec<LazyNode>>);

impl NodeHealth {
    pub fn quorum(&self) -> usize {
        self.0.len() / 2 + 1
    }

    /// Each node, and whether it answered its last call. Never waits.
    pub fn last_seen(&self) -> Vec<(String, bool)> {
        self.0
            .iter()
            .map(|node| (node.address.clone(), node.answering.load(Ordering::Relaxed)))
            .collect()
    }

    /// PING every node at once, each within the Redis timeout.
    pub async fn probe(&self) {
        join_all(self.0.iter().map(|node| async {
            let up = node
                .within(node.call_timeout, |n| async move { Ok(n.ping().await) })
                .await
                .unwrap_or(false);
            node.answering.store(up, Ordering::Relaxed);
        }))
        .await;
    }
}
