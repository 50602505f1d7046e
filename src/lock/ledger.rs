//! Every Redis lock this instance holds, so that a shutdown can release what
//! sales cut short left behind (a lock must not outlive the process that took
//! it by its TTL).
//!
//! A lock leaves the ledger once its release call has answered, never
//! before: a release that failed (Redis unreachable) is tried again at
//! shutdown. It is forgotten anyway once its TTL has passed since the release
//! began, since by then Redis has dropped it by itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::RedisNode;

/// The ledger of held locks. Cheap to clone.
#[derive(Clone, Default)]
pub struct Ledger(Arc<LedgerInner>);

#[derive(Default)]
struct LedgerInner {
    next: AtomicU64,
    held: Mutex<HashMap<u64, Entry>>,
}

struct Entry {
    node: RedisNode,
    key: String,
    token: String,
    /// Set once the release has begun: past this moment the lock has
    /// expired in Redis whatever the release did.
    forget_at: Option<Instant>,
}

impl Ledger {
    /// A lock just taken; returns its entry.
    pub(super) fn enter(&self, node: &RedisNode, key: &str, token: &str) -> u64 {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed);
        let entry = Entry {
            node: node.clone(),
            key: key.to_owned(),
            token: token.to_owned(),
            forget_at: None,
        };
        self.held().insert(id, entry);
        id
    }

    /// Its release call answered (the lock is gone, or was no longer ours):
    /// nothing left to release.
    pub(super) fn leave(&self, id: u64) {
        self.held().remove(&id);
    }

    /// Its release begins and may fail: keep it until `ttl` from now at most
    /// (a lock lives at most one TTL past its last `SET` or renewal).
    pub(super) fn releasing(&self, id: u64, ttl: Duration) {
        if let Some(entry) = self.held().get_mut(&id) {
            entry.forget_at = Some(Instant::now() + ttl);
        }
    }

    /// How many locks are held now (or still to be released).
    pub fn len(&self) -> usize {
        let mut held = self.held();
        forget_expired(&mut held);
        held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Release every lock still held (compare-and-delete: only if still
    /// ours). Returns how many were released.
    pub async fn release_all(&self) -> usize {
        let held: Vec<Entry> = {
            let mut held = self.held();
            forget_expired(&mut held);
            held.drain().map(|(_, entry)| entry).collect()
        };
        let mut released = 0;
        for Entry {
            node, key, token, ..
        } in held
        {
            match node.release_if_ours(&key, &token).await {
                Ok(true) => released += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%key, error = %error, "lock release at shutdown failed; the TTL will free it");
                }
            }
        }
        released
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.0.held.lock().expect("not poisoned")
    }
}

fn forget_expired(held: &mut HashMap<u64, Entry>) {
    let now = Instant::now();
    held.retain(|_, entry| entry.forget_at.is_none_or(|at| at > now));
}
