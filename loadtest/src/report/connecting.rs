//! The connections a crowd opened and how long each took to connect, apart
//! from the requests' latency (k6's `http_req_connecting`), and whether the
//! service's listen queue overflowed meanwhile.

use serde::{Deserialize, Serialize};

use super::Latency;
use crate::listen::ListenQueue;
use crate::stats::{Connects, Stats};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connecting {
    /// Connections opened before the crowd started: one per worker and
    /// target.
    pub opened_before: u64,
    /// Connects before the crowd that failed or timed out
    /// (`--connect-timeout`); their workers connect again at their first
    /// request.
    pub failed_before: u64,
    /// The connect times before the crowd (`null` when none succeeded).
    pub before_ms: Option<Latency>,
    /// Connections opened during the crowd (the server closed one, or one
    /// failed before); their connect time is not in `latency_ms`.
    pub opened_during: u64,
    pub failed_during: u64,
    pub during_ms: Option<Latency>,
    /// The machine's `TcpExt` ListenOverflows and ListenDrops over the
    /// crowd and its connects (Linux, every target on loopback; `null`
    /// otherwise).
    pub listen_queue: Option<ListenQueue>,
}

impl Connecting {
    pub fn of(stats: &Stats, listen_queue: Option<ListenQueue>) -> Connecting {
        let (before, during) = (&stats.connects_before, &stats.connects_during);
        let times = |connects: &Connects| Latency::of(&connects.histogram());
        Connecting {
            opened_before: before.opened(),
            failed_before: before.failed,
            before_ms: times(before),
            opened_during: during.opened(),
            failed_during: during.failed,
            during_ms: times(during),
            listen_queue,
        }
    }

    /// Whether the service turned connections away at its listen queue.
    pub fn overflowed(&self) -> bool {
        self.listen_queue
            .is_some_and(|q| q.overflows > 0 || q.drops > 0)
    }
}
