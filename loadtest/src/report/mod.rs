//! The report: the run's parameters and one entry per lock mode. This is the
//! JSON others plot, diff and grade, so its shape is stable: fields are only
//! ever added, and `schema_version` changes if one ever has to change meaning.
//! Every field is documented in the README's "Run the benchmark" section.
//!
//! Version 2: a 409 is counted by its error code (`sold_out_409` is only
//! `sold_out` now; `lock_lost_409` and `restocked_409` are new, as are
//! `latency_ms.lock_lost` and the lab's knobs and skipped modes in
//! `parameters`), and `unsold` counts buyers who lost their lock as well as
//! busy ones. Fields added in version 2 default when a version 1 report is
//! read back.
//!
//! Version 3 adds to each mode `timeline` (answers per 100 ms), `lock` (the
//! lock's wait and hold times from the service's `GET /metrics`), `fairness`
//! and `latency_ms.refused`; no field changed meaning. They read as `null`
//! from older reports.
//!
//! Version 4 counts a 202 (accepted into a queue, written later) as a sale:
//! `requests.accepted_202` is new, and `throughput.purchases_per_s`,
//! `latency_ms.sold` and `timeline.sold` count 201s and 202s (the same as
//! before for every strategy that answers 201). Each mode gains `accepted`,
//! `written`, `lost_orders`, `drain_ms`, `durable_orders_per_s` and
//! `front_door_ratio`; `server` gains `queued` and `drained`; `verdict`
//! gains `lost_orders`, `drained` and `reference`; `parameters` gains
//! `drain_timeout_s`. They read as `null` (or false, or 0) from older reports.
//!
//! Version 5 adds `parameters.repeat` (`--repeat`, 1 in older reports) and
//! each mode's `repeat` (every run's throughput, p99 and verdict, and their
//! median and spread; `null` for a single run); no field changed meaning.
//!
//! Version 6 adds `parameters.shards`: how many shards `flashsale-loadtest
//! merge` added into the report (`null` for a run from one machine); no
//! field changed meaning.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::catalogue::SkippedMode;
use crate::http::TransportError;
use crate::metrics::LockMetrics;
use crate::service::Product;
use crate::stats::{Answer, Outcome, Stats};

mod connecting;
mod fairness;
mod latency;
mod repeat;
mod verdict;

pub use connecting::Connecting;
pub use fairness::Fairness;
pub use latency::{Latency, LatencyByOutcome, Timeline};
use latency::{ms, round3};
pub use repeat::{Repeat, Run, Spread, measured_by_answers};
pub use verdict::{Verdict, reference, verdict};

/// The pseudo-mode `front-door` of `--modes`: `lock=none` purchases of the
/// product at stock 0, every one answered 409 `sold_out` after one read.
/// The fastest answer a purchase can get from the service: what the other
/// modes' throughput is measured against (`front_door_ratio`).
pub const FRONT_DOOR: &str = "front-door";

pub const SCHEMA_VERSION: u32 = 6;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub parameters: Parameters,
    pub modes: Vec<ModeReport>,
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    pub urls: Vec<String>,
    pub product: u64,
    pub stock: u64,
    /// `--buyers`, `--per-buyer`, `--duplicate-check`, `--retry`.
    #[serde(default)]
    pub buyers: Option<u64>,
    #[serde(default)]
    pub per_buyer: Option<u64>,
    #[serde(default)]
    pub duplicate_check: Option<String>,
    #[serde(default)]
    pub retry: u32,
    /// Request budget per mode (`null` when bounded by `duration_s`).
    pub requests: Option<u64>,
    /// Time budget per mode in seconds (`null` when bounded by `requests`).
    pub duration_s: Option<f64>,
    pub concurrency: usize,
    /// The modes run, in order (`--modes all` expanded).
    pub modes: Vec<String>,
    /// Strategies `--modes all` left out because the service lists them as
    /// unavailable.
    #[serde(default)]
    pub skipped: Vec<SkippedMode>,
    pub work_ms: u64,
    /// The lock's TTL asked of every purchase (`null`: not sent, the
    /// service's own applies).
    #[serde(default)]
    pub ttl_ms: Option<u64>,
    /// How long a purchase may wait for its lock (`null`: the service's own).
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// A pause right after the stock is read (`null`: none asked for).
    #[serde(default)]
    pub pause_ms: Option<u64>,
    /// `"closed"` (send when the previous answer arrives) or `"open"` (`rate`).
    pub model: String,
    /// Open model: requests per second; `null` in the closed model.
    pub rate: Option<f64>,
    pub timeout_s: f64,
    /// The modes that must be safe (`--expect-safe safe` expanded).
    pub expect_safe: Vec<String>,
    /// Users are named `lt-{run_id}-{mode}-{n}`.
    pub run_id: String,
    /// Set when the generator was benchmarked on `GET {get_path}` instead of
    /// running a sale.
    pub get_path: Option<String>,
    /// `--drain-timeout`: how long each mode's queue was given to drain
    /// (`null` in older reports).
    #[serde(default)]
    pub drain_timeout_s: Option<f64>,
    /// `--repeat`: runs per mode.
    #[serde(default = "one")]
    pub repeat: u32,
    /// `merge`: the shards added into this report (`null`: one machine's
    /// run). `urls` are then every shard's, `concurrency`, `requests` and
    /// `rate` their sums.
    #[serde(default)]
    pub shards: Option<u32>,
}

fn one() -> u32 {
    1
}

/// One lock mode's crowd and what the service says it sold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeReport {
    pub mode: String,
    pub requests: Requests,
    pub transport_errors: TransportErrors,
    /// The service's numbers, read back after the crowd (`null` for `--get`).
    pub server: Option<ServerOutcome>,
    pub elapsed_s: f64,
    pub throughput: Throughput,
    pub latency_ms: LatencyByOutcome,
    /// `null` for `--get`.
    pub verdict: Option<Verdict>,
    /// The lock's side, from the service's `GET /metrics` read before and
    /// after the crowd (`null`: a service without it, or `--get`).
    #[serde(default)]
    pub lock: Option<LockMetrics>,
    /// How far the slowest purchases are from first come, first served
    /// (`null` unless it means something: see [`Fairness::of`]).
    #[serde(default)]
    pub fairness: Option<Fairness>,
    /// Answers over time (`null` in reports older than version 3).
    #[serde(default)]
    pub timeline: Option<Timeline>,
    /// Buyers told yes: 201 (written) + 202 (accepted into a queue). `null`
    /// for `--get` and in reports older than version 4, as are the fields
    /// below.
    #[serde(default)]
    pub accepted: Option<u64>,
    /// Order rows written: the product's `orders` once the queue drained.
    #[serde(default)]
    pub written: Option<i64>,
    /// Accepted orders that were never written:
    /// `accepted - written - still queued`, never below 0.
    #[serde(default)]
    pub lost_orders: Option<i64>,
    /// From the crowd's last answer to the reading that found nothing
    /// queued (or to the drain timeout); 0 when the first reading found
    /// nothing queued.
    #[serde(default)]
    pub drain_ms: Option<u64>,
    /// `written / (elapsed_s + drain_ms / 1000)`: orders in the database per
    /// second of the crowd and its drain.
    #[serde(default)]
    pub durable_orders_per_s: Option<f64>,
    /// `purchases_per_s` over the `front-door` mode's `requests_per_s`, when
    /// the run had one (`null` otherwise, and for the front door itself).
    #[serde(default)]
    pub front_door_ratio: Option<f64>,
    /// `--repeat`: every run of this mode and their spread (`null` for a
    /// single run). The fields above are those of run `repeat.shown_run`.
    #[serde(default)]
    pub repeat: Option<Repeat>,
    /// The connections the crowd opened, their connect times, and the
    /// listen queue (`null` in reports older than version 5).
    #[serde(default)]
    pub connecting: Option<Connecting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// Requests the crowd attempted.
    pub sent: u64,
    /// `--retry`: requests sent again after a timeout or a lost connection.
    #[serde(default)]
    pub retries: u64,
    /// Requests that got an HTTP answer (any status).
    pub completed: u64,
    pub sold_201: u64,
    /// 202: accepted into the service's queue, to be written later.
    #[serde(default)]
    pub accepted_202: u64,
    /// 409 `sold_out`.
    pub sold_out_409: u64,
    /// 409 `lock_lost`: the buyer's lock was lost before it wrote; it wrote
    /// nothing.
    #[serde(default)]
    pub lock_lost_409: u64,
    /// 409 `restocked`: the product was restocked during the sale.
    #[serde(default)]
    pub restocked_409: u64,
    pub busy_429: u64,
    pub other_4xx: u64,
    pub server_5xx: u64,
    /// 2xx answers other than 201 and 202 (the answers `--get` counts).
    pub other_2xx: u64,
    /// 1xx and 3xx answers (none expected).
    pub other_status: u64,
    /// Open model: requests that started more than 1 ms after their slot.
    pub started_late: u64,
    pub max_start_lag_ms: f64,
    /// The most requests in flight at once (0 in reports older than
    /// version 5).
    #[serde(default)]
    pub peak_in_flight: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportErrors {
    pub connect: u64,
    pub timeout: u64,
    pub reset: u64,
    pub other: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerOutcome {
    pub initial_stock: i64,
    pub orders: i64,
    pub stock: i64,
    pub oversold: i64,
    pub lost_updates: i64,
    /// Orders beyond a buyer's limit (`--per-buyer`), from the orders table.
    #[serde(default)]
    pub duplicates: i64,
    /// Stock left over while buyers were turned away busy (429) or lost their
    /// lock (409 `lock_lost`): the undersell of a lock that fails fast or
    /// expires. 0 when nobody got either.
    pub unsold: i64,
    /// Orders accepted and still not written at the last reading: 0 once
    /// drained (and from a service without a queue), `null` when the
    /// service could not say.
    #[serde(default = "some_zero")]
    pub queued: Option<i64>,
    /// Whether the queue was empty at the last reading (or nothing of this
    /// crowd was queued); `false`: the drain timed out.
    #[serde(default = "yes")]
    pub drained: bool,
}

fn some_zero() -> Option<i64> {
    Some(0)
}

fn yes() -> bool {
    true
}

impl ServerOutcome {
    /// Orders accepted (`accepted`: 201 + 202) that are neither written nor
    /// still queued. A request the client gave up on may have been written
    /// all the same, hence never below 0.
    pub fn lost_orders(&self, accepted: u64) -> i64 {
        (accepted as i64 - self.orders - self.queued.unwrap_or(0)).max(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Answers per second (`completed / elapsed_s`).
    pub requests_per_s: f64,
    /// Sales per second: 201s and 202s (accepted, not necessarily written;
    /// see `durable_orders_per_s`).
    pub purchases_per_s: f64,
}

/// How the product's queue drained after a crowd (see
/// [`crate::drain::drain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drain {
    /// From the crowd's end to the reading that found the queue empty, or
    /// to giving up.
    pub waited: Duration,
    pub drained: bool,
}

impl Drain {
    /// Nothing to wait for: the first reading found the queue empty.
    pub const NONE: Drain = Drain {
        waited: Duration::ZERO,
        drained: true,
    };
}

impl ModeReport {
    /// Puts one crowd's merged numbers and the service's read-back together,
    /// the read-back taken with nothing left to drain.
    pub fn new(mode: &str, stats: &Stats, product: Option<&Product>) -> ModeReport {
        Self::after_drain(mode, stats, product, Drain::NONE)
    }

    /// Puts one crowd's merged numbers, the service's last reading and how
    /// the queue drained together. The `front-door` mode gets a reference
    /// verdict, not a sale's.
    pub fn after_drain(
        mode: &str,
        stats: &Stats,
        product: Option<&Product>,
        drain: Drain,
    ) -> ModeReport {
        let elapsed_s = stats.elapsed.as_secs_f64();
        let per_s = |n: u64| {
            if elapsed_s > 0.0 {
                round3(n as f64 / elapsed_s)
            } else {
                0.0
            }
        };
        let transport = |kind: TransportError| stats.transport[kind.index()];
        let turned_away = stats.count(Answer::Busy) + stats.count(Answer::LockLost);
        let server = product.map(|p| ServerOutcome {
            initial_stock: p.initial_stock,
            orders: p.orders,
            stock: p.stock,
            oversold: p.oversold,
            lost_updates: p.lost_updates,
            duplicates: p.duplicates,
            unsold: if turned_away > 0 { p.stock.max(0) } else { 0 },
            queued: p.queued_now(),
            drained: drain.drained,
        });
        let requests = Requests {
            sent: stats.sent,
            retries: stats.retries,
            completed: stats.completed(),
            sold_201: stats.count(Answer::Sold),
            accepted_202: stats.count(Answer::Accepted),
            sold_out_409: stats.count(Answer::SoldOut),
            lock_lost_409: stats.count(Answer::LockLost),
            restocked_409: stats.count(Answer::Restocked),
            busy_429: stats.count(Answer::Busy),
            other_4xx: stats.count(Answer::Other4xx),
            server_5xx: stats.count(Answer::Server5xx),
            other_2xx: stats.count(Answer::Other2xx),
            other_status: stats.count(Answer::OtherStatus),
            started_late: stats.started_late,
            max_start_lag_ms: ms(stats.max_start_lag_us),
            peak_in_flight: stats.peak_in_flight,
        };
        let transport_errors = TransportErrors {
            connect: transport(TransportError::Connect),
            timeout: transport(TransportError::Timeout),
            reset: transport(TransportError::Reset),
            other: transport(TransportError::Other),
            total: stats.transport_errors(),
        };
        let verdict = server.as_ref().map(|s| {
            if mode == FRONT_DOOR {
                reference(s, &requests, &transport_errors, per_s(requests.completed))
            } else {
                verdict(s, &requests, &transport_errors)
            }
        });
        let accepted = requests.sold_201 + requests.accepted_202;
        let drain_ms = drain.waited.as_millis() as u64;
        let durable = server.as_ref().map(|s| {
            let seconds = elapsed_s + drain.waited.as_secs_f64();
            if seconds > 0.0 {
                round3(s.orders.max(0) as f64 / seconds)
            } else {
                0.0
            }
        });
        ModeReport {
            mode: mode.to_string(),
            throughput: Throughput {
                requests_per_s: per_s(requests.completed),
                purchases_per_s: per_s(accepted),
            },
            accepted: server.as_ref().map(|_| accepted),
            written: server.as_ref().map(|s| s.orders),
            lost_orders: server.as_ref().map(|s| s.lost_orders(accepted)),
            drain_ms: server.as_ref().map(|_| drain_ms),
            durable_orders_per_s: durable,
            front_door_ratio: None,
            requests,
            transport_errors,
            server,
            elapsed_s: round3(elapsed_s),
            latency_ms: LatencyByOutcome {
                all: Latency::of(&stats.latency_all()),
                sold: Latency::of(stats.latency(Outcome::Sold)),
                sold_out: Latency::of(stats.latency(Outcome::SoldOut)),
                lock_lost: Latency::of(stats.latency(Outcome::LockLost)),
                busy: Latency::of(stats.latency(Outcome::Busy)),
                other: Latency::of(stats.latency(Outcome::Other)),
                refused: Latency::of(&refused(stats)),
            },
            verdict,
            lock: None,
            fairness: None,
            timeline: Some(Timeline::of(stats)),
            repeat: None,
            connecting: Some(Connecting::of(stats, None)),
        }
    }
}

/// The refusals' latencies in one histogram: 409 sold out, 409 lock lost, 429.
fn refused(stats: &Stats) -> Histogram<u64> {
    let mut refused = stats.latency(Outcome::SoldOut).clone();
    for outcome in [Outcome::LockLost, Outcome::Busy] {
        refused
            .add(stats.latency(outcome))
            .expect("auto-resizing histograms of the same precision always add");
    }
    refused
}

impl Report {
    /// Sets every mode's `front_door_ratio` when the run had a `front-door`
    /// mode that answered: its purchases per second over the front door's
    /// answers per second.
    pub fn compare_with_front_door(&mut self) {
        let Some(door) = self
            .modes
            .iter()
            .find(|m| m.mode == FRONT_DOOR)
            .map(|m| m.throughput.requests_per_s)
            .filter(|&per_s| per_s > 0.0)
        else {
            return;
        };
        for mode in self.modes.iter_mut().filter(|m| m.mode != FRONT_DOOR) {
            mode.front_door_ratio =
                Some((mode.throughput.purchases_per_s / door * 100.0).round() / 100.0);
        }
    }

    /// The modes named in `expect_safe` that oversold, lost an update or an
    /// order, or did not drain (in any run, with `--repeat`).
    pub fn unsafe_expected(&self) -> Vec<&ModeReport> {
        self.modes
            .iter()
            .filter(|m| self.parameters.expect_safe.iter().any(|e| e == &m.mode))
            .filter(|m| {
                m.verdict.as_ref().is_some_and(|v| !v.safe)
                    || m.repeat.as_ref().is_some_and(|r| r.failed > 0)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
