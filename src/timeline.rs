//! A buyer's timeline: the moments the purchase path itself records when a
//! traced crowd asks it to — arrived, took the lock (and its TTL), read the
//! stock (and what it read), wrote it back (and what it wrote), done. The
//! page draws them as lanes; with the lock off the reads all see the same
//! stock, and with a TTL shorter than the work the locks expire mid-hold.
//!
//! Recording costs one `Option` check per step when tracing is off.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::outcome::Refusal;

/// At most this many buyers in a traced crowd: a picture, not a benchmark.
pub const MAX_TRACED_BUYERS: u32 = 50;

/// Where one buyer records its moments. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Lane(Arc<LaneInner>);

#[derive(Debug)]
struct LaneInner {
    buyer: u32,
    origin: Instant,
    marks: Mutex<Marks>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    arrived: Option<f64>,
    lock_acquired: Option<f64>,
    /// The TTL the lock was taken with (ms), and whether it was renewed.
    lock_ttl: Option<(u64, bool)>,
    read: Option<(f64, i64)>,
    wrote: Option<(f64, i64)>,
    done: Option<f64>,
    /// `pg-batch`: the batch that took this buyer, and how many it served.
    batch: Option<(u64, u32)>,
    /// `redis-stream`: when the gate accepted the order into the queue.
    queued: Option<f64>,
}

/// One buyer, as `timeline` answers it: moments in ms since the crowd began.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BuyerTimeline {
    pub buyer: u32,
    /// `sold`, `sold_out`, `busy`, `unavailable`, `lock_lost`, `restocked` or `failed`.
    pub outcome: String,
    pub arrived: f64,
    pub lock_acquired: Option<f64>,
    /// The TTL the buyer's lock was taken with, for a strategy with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_ttl_ms: Option<u64>,
    /// When that lock expired by itself at the latest (`lock_acquired` plus
    /// the TTL: it was set just before), unless renewals kept it (the
    /// watchdog). Before `done`, the buyer held an expired lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_expires_at: Option<f64>,
    pub read_at: Option<f64>,
    pub read_stock: Option<i64>,
    pub wrote_at: Option<f64>,
    pub wrote_stock: Option<i64>,
    pub done: f64,
    /// `pg-batch`: the number of the batch (per product and instance) that
    /// sold or refused this buyer in one transaction, and its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// `redis-stream`: when the gate queued the order (the buyer's 202)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<f64>,
    /// …and when the order writer committed it, often after `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_at: Option<f64>,
}

impl Lane {
    /// Buyer `buyer` of a crowd that began at `origin`.
    pub fn new(buyer: u32, origin: Instant) -> Self {
        Self(Arc::new(LaneInner {
            buyer,
            origin,
            marks: Mutex::new(Marks::default()),
        }))
    }

    fn now(&self) -> f64 {
        // Hundredths of a millisecond are plenty for a picture.
        (self.0.origin.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
    }

    fn mark(&self, record: impl FnOnce(&mut Marks, f64)) {
        let at = self.now();
        record(&mut self.0.marks.lock().expect("not poisoned"), at);
    }

    pub fn arrived(&self) {
        self.mark(|marks, at| marks.arrived = Some(at));
    }

    pub fn lock_acquired(&self) {
        self.mark(|marks, at| marks.lock_acquired = Some(at));
    }

    /// The lock just taken lives `ttl` unless `renewed` keeps it alive.
    pub fn lock_ttl(&self, ttl: Duration, renewed: bool) {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.0.marks.lock().expect("not poisoned").lock_ttl = Some((ttl_ms, renewed));
    }

    /// The stock read (the last read, if a strategy retried).
    pub fn read(&self, stock: i64) {
        self.mark(|marks, at| marks.read = Some((at, stock)));
    }

    pub fn wrote(&self, stock: i64) {
        self.mark(|marks, at| marks.wrote = Some((at, stock)));
    }

    /// `pg-batch`: batch number `batch` of `size` buyers took this one.
    pub fn batched(&self, batch: u64, size: u32) {
        self.0.marks.lock().expect("not poisoned").batch = Some((batch, size));
    }

    /// `redis-stream`: the gate accepted the order into the queue.
    pub fn queued(&self) {
        self.mark(|marks, at| marks.queued = Some(at));
    }

    /// The sale is over. Under a lock it is marked just before the
    /// release, so the lanes of one lock's holders never overlap.
    pub fn done(&self) {
        self.mark(|marks, at| {
            marks.done.get_or_insert(at);
        });
    }

    /// The lane as answered, with the purchase's outcome.
    pub fn finish(&self, refusal: Option<Refusal>) -> BuyerTimeline {
        let marks = *self.0.marks.lock().expect("not poisoned");
        let outcome = match refusal {
            None => "sold".to_owned(),
            Some(refusal) => serde_json::to_value(refusal)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_else(|| "failed".to_owned()),
        };
        let done = marks.done.unwrap_or_else(|| self.now());
        BuyerTimeline {
            buyer: self.0.buyer,
            outcome,
            arrived: marks.arrived.unwrap_or(done),
            lock_acquired: marks.lock_acquired,
            lock_ttl_ms: marks.lock_ttl.map(|(ttl, _)| ttl),
            lock_expires_at: match (marks.lock_acquired, marks.lock_ttl) {
                (Some(at), Some((ttl, false))) => Some(((at + ttl as f64) * 100.0).round() / 100.0),
                _ => None,
            },
            read_at: marks.read.map(|(at, _)| at),
            read_stock: marks.read.map(|(_, stock)| stock),
            wrote_at: marks.wrote.map(|(at, _)| at),
            wrote_stock: marks.wrote.map(|(_, stock)| stock),
            done,
            batch: marks.batch.map(|(batch, _)| batch),
            batch_size: marks.batch.map(|(_, size)| size),
            queued_at: marks.queued,
            written_at: None,
        }
    }
}
