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

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::http::TransportError;
use crate::service::Product;
use crate::stats::{Answer, BUCKET, Outcome, Stats};

pub const SCHEMA_VERSION: u32 = 3;

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
}

/// A strategy that was not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedMode {
    pub mode: String,
    /// The catalogue's `unavailable_reason`.
    pub reason: String,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// Requests the crowd attempted.
    pub sent: u64,
    /// Requests that got an HTTP answer (any status).
    pub completed: u64,
    pub sold_201: u64,
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
    /// 2xx answers other than 201 (the answers `--get` counts).
    pub other_2xx: u64,
    /// 1xx and 3xx answers (none expected).
    pub other_status: u64,
    /// Open model: requests that started more than 1 ms after their slot.
    pub started_late: u64,
    pub max_start_lag_ms: f64,
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
    /// Stock left over while buyers were turned away busy (429) or lost their
    /// lock (409 `lock_lost`): the undersell of a lock that fails fast or
    /// expires. 0 when nobody got either.
    pub unsold: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Answers per second (`completed / elapsed_s`).
    pub requests_per_s: f64,
    /// 201s per second.
    pub purchases_per_s: f64,
}

/// Latency in milliseconds, by outcome; an outcome nobody got is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyByOutcome {
    pub all: Option<Latency>,
    /// 201.
    pub sold: Option<Latency>,
    /// 409 `sold_out`.
    pub sold_out: Option<Latency>,
    /// 409 `lock_lost`.
    #[serde(default)]
    pub lock_lost: Option<Latency>,
    /// 429.
    pub busy: Option<Latency>,
    /// Any other answer (a 409 `restocked` included).
    pub other: Option<Latency>,
    /// Every refusal together: 409 `sold_out`, 409 `lock_lost` and 429.
    #[serde(default)]
    pub refused: Option<Latency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
}

/// The lock's wait and hold times during one mode's crowd, from the
/// service's histograms (`flashsale_lock_wait_seconds`,
/// `flashsale_lock_hold_seconds`) and counters for that mode's strategy:
/// the difference between `GET /metrics` read just before the crowd and just
/// after it, summed over every instance. Percentiles are estimated from the
/// buckets as Prometheus' `histogram_quantile` does (linear within a bucket),
/// so they are only as fine as the service's buckets; `null` when no lock
/// was waited for or held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockMetrics {
    /// Instances whose `/metrics` were summed.
    pub instances: usize,
    /// Waits for the lock (each ended holding it, or giving up).
    pub waits: u64,
    pub wait_p50_ms: Option<f64>,
    pub wait_p99_ms: Option<f64>,
    /// Locks held (and released, or lost).
    pub holds: u64,
    pub hold_p50_ms: Option<f64>,
    pub hold_p99_ms: Option<f64>,
    /// Locks that expired before their holder released them.
    pub expired: u64,
    /// `flashsale_purchases_total` by `outcome`, as the service counted them.
    pub purchases: BTreeMap<String, u64>,
}

/// The p99 of sold purchases against the wait of a first-come, first-served
/// queue: with `concurrency` buyers always in flight and purchases leaving at
/// `purchases_per_s`, a FIFO queue makes each wait `concurrency /
/// purchases_per_s`. A fair lock keeps `ratio` near 1; a spin lock, where a
/// buyer arriving just as the lock frees takes it before those asleep in
/// their retry, can be tens of times over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fairness {
    pub fifo_wait_ms: f64,
    pub sold_p99_ms: f64,
    /// `sold_p99_ms / fifo_wait_ms`.
    pub ratio: f64,
}

impl Fairness {
    /// At least this share of the answers must be sales for the purchases
    /// per second to measure the queue.
    pub const MIN_SOLD_SHARE: f64 = 0.9;

    /// Only where a FIFO wait means something: a closed-model crowd (always
    /// `concurrency` buyers in flight) of purchases where at least 90 % of
    /// the answers were sales (the stock did not run out, few gave up).
    pub fn of(mode: &ModeReport, concurrency: usize, closed_model: bool) -> Option<Fairness> {
        let sold = mode.latency_ms.sold.as_ref()?;
        let per_s = mode.throughput.purchases_per_s;
        let share = mode.requests.sold_201 as f64 / mode.requests.completed.max(1) as f64;
        if !closed_model || mode.verdict.is_none() || share < Self::MIN_SOLD_SHARE || per_s <= 0.0 {
            return None;
        }
        let fifo_wait_ms = concurrency as f64 / per_s * 1000.0;
        Some(Fairness {
            fifo_wait_ms: round3(fifo_wait_ms),
            sold_p99_ms: sold.p99,
            ratio: (sold.p99 / fifo_wait_ms * 100.0).round() / 100.0,
        })
    }
}

/// Answers counted by the moment they arrived, in buckets of `bucket_ms`
/// from the start of the crowd; the last bucket may be cut short by the end
/// of the crowd (`elapsed_s`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_ms: u64,
    /// HTTP answers (any status) per bucket.
    pub completed: Vec<u64>,
    /// 201s per bucket.
    pub sold: Vec<u64>,
}

impl Timeline {
    fn of(stats: &Stats) -> Timeline {
        let bucket_us = BUCKET.as_micros();
        let covering = stats.elapsed.as_micros().div_ceil(bucket_us) as usize;
        let len = covering.max(stats.answered_per_bucket.len());
        let widen = |counts: &[u32]| {
            let mut counts: Vec<u64> = counts.iter().map(|&n| u64::from(n)).collect();
            counts.resize(len, 0);
            counts
        };
        Timeline {
            bucket_ms: BUCKET.as_millis() as u64,
            completed: widen(&stats.answered_per_bucket),
            sold: widen(&stats.sold_per_bucket),
        }
    }

    /// How long bucket `i` lasted, in seconds: `bucket_ms`, except the last
    /// one, which ends with the crowd.
    pub fn bucket_s(&self, i: usize, elapsed_s: f64) -> f64 {
        let width = Duration::from_millis(self.bucket_ms).as_secs_f64();
        let left = elapsed_s - i as f64 * width;
        // At least a millisecond, so a bucket cut to nothing by rounding
        // does not make a rate out of thin air.
        left.clamp(0.001, width)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Neither oversold nor lost an update: what `--expect-safe` checks.
    pub safe: bool,
    pub oversold: bool,
    pub lost_updates: bool,
    pub unsold: bool,
    /// The sentence, e.g. `sold 137 of 100: OVERSOLD by 37, 37 lost updates`.
    pub summary: String,
}

fn ms(us: u64) -> f64 {
    // Three decimals: microsecond resolution.
    us as f64 / 1000.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Option<Latency> {
        if histogram.is_empty() {
            return None;
        }
        Some(Latency {
            count: histogram.len(),
            mean: round3(histogram.mean() / 1000.0),
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p99_9: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        })
    }
}

impl ModeReport {
    /// Puts one crowd's merged numbers and the service's read-back together.
    pub fn new(mode: &str, stats: &Stats, product: Option<&Product>) -> ModeReport {
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
            unsold: if turned_away > 0 { p.stock.max(0) } else { 0 },
        });
        let requests = Requests {
            sent: stats.sent,
            completed: stats.completed(),
            sold_201: stats.count(Answer::Sold),
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
        };
        let transport_errors = TransportErrors {
            connect: transport(TransportError::Connect),
            timeout: transport(TransportError::Timeout),
            reset: transport(TransportError::Reset),
            other: transport(TransportError::Other),
            total: stats.transport_errors(),
        };
        let verdict = server
            .as_ref()
            .map(|s| verdict(s, &requests, &transport_errors));
        ModeReport {
            mode: mode.to_string(),
            throughput: Throughput {
                requests_per_s: per_s(requests.completed),
                purchases_per_s: per_s(requests.sold_201),
            },
            requests,
            transport_errors,
            server,
            elapsed_s: round3(elapsed_s),
            latency_ms: LatencyByOutcome {
                all: Latency::of(&stats.latency_all()),
                sold: Latency::of(&stats.latency[Outcome::Sold as usize]),
                sold_out: Latency::of(&stats.latency[Outcome::SoldOut as usize]),
                lock_lost: Latency::of(&stats.latency[Outcome::LockLost as usize]),
                busy: Latency::of(&stats.latency[Outcome::Busy as usize]),
                other: Latency::of(&stats.latency[Outcome::Other as usize]),
                refused: Latency::of(&refused(stats)),
            },
            verdict,
            lock: None,
            fairness: None,
            timeline: Some(Timeline::of(stats)),
        }
    }
}

/// The refusals' latencies in one histogram: 409 sold out, 409 lock lost, 429.
fn refused(stats: &Stats) -> Histogram<u64> {
    let mut refused = stats.latency[Outcome::SoldOut as usize].clone();
    for outcome in [Outcome::LockLost, Outcome::Busy] {
        refused
            .add(&stats.latency[outcome as usize])
            .expect("auto-resizing histograms of the same precision always add");
    }
    refused
}

/// The sentence a student needs, and the flags behind it.
pub fn verdict(server: &ServerOutcome, requests: &Requests, errors: &TransportErrors) -> Verdict {
    let oversold = server.oversold > 0;
    let lost = server.lost_updates > 0;
    let unsold = server.unsold > 0;
    let (orders, initial) = (server.orders, server.initial_stock);
    let mut summary = if oversold {
        let mut s = format!(
            "sold {orders} of {initial}: OVERSOLD by {}",
            server.oversold
        );
        if lost {
            s.push_str(&format!(", {} lost updates", server.lost_updates));
        }
        s
    } else if lost {
        format!(
            "sold {orders} of {initial} but LOST {} updates (the stock says {} sold)",
            server.lost_updates,
            initial - server.stock
        )
    } else if unsold {
        format!(
            "sold {orders} of {initial}: UNDERSOLD, {} left in stock while {}",
            server.unsold,
            turned_away(requests)
        )
    } else if orders == initial {
        format!("sold exactly {orders} of {initial}: safe")
    } else {
        format!(
            "sold {orders} of {initial}: safe ({} left: fewer buyers than stock)",
            server.stock
        )
    };
    let mut troubles = Vec::new();
    if requests.lock_lost_409 > 0 && !unsold {
        troubles.push(format!(
            "{} lost their lock and wrote nothing",
            requests.lock_lost_409
        ));
    }
    if requests.restocked_409 > 0 {
        troubles.push(format!("{} answered 409 restocked", requests.restocked_409));
    }
    if requests.server_5xx > 0 {
        troubles.push(format!("{} answered 5xx", requests.server_5xx));
    }
    if requests.other_4xx > 0 {
        troubles.push(format!("{} answered another 4xx", requests.other_4xx));
    }
    if errors.total > 0 {
        troubles.push(format!("{} transport errors", errors.total));
    }
    if !troubles.is_empty() {
        summary.push_str(&format!(" ({})", troubles.join(", ")));
    }
    Verdict {
        safe: !oversold && !lost,
        oversold,
        lost_updates: lost,
        unsold,
        summary,
    }
}

/// `40 buyers were turned away busy`, `2 buyers lost their lock`, or both.
fn turned_away(requests: &Requests) -> String {
    let (busy, lost) = (requests.busy_429, requests.lock_lost_409);
    let buyers = |n: u64| if n == 1 { "buyer" } else { "buyers" };
    match (busy, lost) {
        (0, lost) => format!("{lost} {} lost their lock", buyers(lost)),
        (busy, 0) => format!(
            "{busy} {} turned away busy",
            if busy == 1 {
                "buyer was"
            } else {
                "buyers were"
            }
        ),
        (busy, lost) => format!(
            "{busy} {} turned away busy and {lost} lost their lock",
            if busy == 1 {
                "buyer was"
            } else {
                "buyers were"
            }
        ),
    }
}

impl Report {
    /// The modes named in `expect_safe` that oversold or lost an update.
    pub fn unsafe_expected(&self) -> Vec<&ModeReport> {
        self.modes
            .iter()
            .filter(|m| self.parameters.expect_safe.iter().any(|e| e == &m.mode))
            .filter(|m| m.verdict.as_ref().is_some_and(|v| !v.safe))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(initial: i64, orders: i64, stock: i64, lost: i64, unsold: i64) -> ServerOutcome {
        ServerOutcome {
            initial_stock: initial,
            orders,
            stock,
            oversold: (orders - initial).max(0),
            lost_updates: lost,
            unsold,
        }
    }

    fn requests(busy: u64) -> Requests {
        Requests {
            sent: 1000,
            completed: 1000,
            sold_201: 0,
            sold_out_409: 0,
            lock_lost_409: 0,
            restocked_409: 0,
            busy_429: busy,
            other_4xx: 0,
            server_5xx: 0,
            other_2xx: 0,
            other_status: 0,
            started_late: 0,
            max_start_lag_ms: 0.0,
        }
    }

    fn no_errors() -> TransportErrors {
        TransportErrors {
            connect: 0,
            timeout: 0,
            reset: 0,
            other: 0,
            total: 0,
        }
    }

    #[test]
    fn an_oversold_sale_says_by_how_much_and_is_unsafe() {
        let v = verdict(&server(100, 137, 0, 37, 0), &requests(0), &no_errors());
        assert_eq!(
            v.summary,
            "sold 137 of 100: OVERSOLD by 37, 37 lost updates"
        );
        assert!(!v.safe && v.oversold && v.lost_updates);
    }

    #[test]
    fn a_sale_of_exactly_the_stock_is_safe() {
        let v = verdict(&server(100, 100, 0, 0, 0), &requests(0), &no_errors());
        assert_eq!(v.summary, "sold exactly 100 of 100: safe");
        assert!(v.safe && !v.unsold);
    }

    #[test]
    fn lost_updates_without_oversell_are_unsafe_too() {
        let v = verdict(&server(100, 90, 20, 10, 0), &requests(0), &no_errors());
        assert!(!v.safe && !v.oversold && v.lost_updates);
        assert_eq!(
            v.summary,
            "sold 90 of 100 but LOST 10 updates (the stock says 80 sold)"
        );
    }

    #[test]
    fn stock_left_while_buyers_were_turned_away_busy_is_an_undersell() {
        let v = verdict(&server(100, 87, 13, 0, 13), &requests(40), &no_errors());
        assert!(v.safe && v.unsold);
        assert_eq!(
            v.summary,
            "sold 87 of 100: UNDERSOLD, 13 left in stock while 40 buyers were turned away busy"
        );
    }

    #[test]
    fn buyers_who_lost_their_lock_leave_stock_unsold_but_the_sale_safe() {
        let mut reqs = requests(0);
        reqs.lock_lost_409 = 2;
        let v = verdict(&server(10, 1, 9, 0, 9), &reqs, &no_errors());
        assert!(v.safe && v.unsold);
        assert_eq!(
            v.summary,
            "sold 1 of 10: UNDERSOLD, 9 left in stock while 2 buyers lost their lock"
        );
        reqs.busy_429 = 1;
        let v = verdict(&server(10, 1, 9, 0, 9), &reqs, &no_errors());
        assert_eq!(
            v.summary,
            "sold 1 of 10: UNDERSOLD, 9 left in stock while 1 buyer was turned away busy and 2 lost their lock"
        );
    }

    #[test]
    fn lost_locks_are_named_when_the_stock_sold_anyway() {
        let mut reqs = requests(0);
        reqs.lock_lost_409 = 3;
        let v = verdict(&server(5, 5, 0, 0, 0), &reqs, &no_errors());
        assert!(v.safe && !v.unsold);
        assert_eq!(
            v.summary,
            "sold exactly 5 of 5: safe (3 lost their lock and wrote nothing)"
        );
    }

    #[test]
    fn failed_requests_are_named_after_the_verdict() {
        let mut errors = no_errors();
        errors.total = 3;
        let mut reqs = requests(0);
        reqs.server_5xx = 2;
        let v = verdict(&server(100, 50, 50, 0, 0), &reqs, &errors);
        assert_eq!(
            v.summary,
            "sold 50 of 100: safe (50 left: fewer buyers than stock) (2 answered 5xx, 3 transport errors)"
        );
    }

    #[test]
    fn unsold_is_the_stock_left_only_when_someone_got_a_429() {
        let product = Product {
            id: 1,
            name: "p".into(),
            initial_stock: 100,
            stock: 13,
            orders: 87,
            oversold: 0,
            lost_updates: 0,
        };
        let mut stats = Stats::new();
        stats.record(Answer::Sold, 10);
        let calm = ModeReport::new("redis", &stats, Some(&product));
        assert_eq!(calm.server.unwrap().unsold, 0);
        stats.record(Answer::Busy, 5_000_000);
        let busy = ModeReport::new("redis", &stats, Some(&product));
        assert_eq!(busy.server.unwrap().unsold, 13);
        assert!(busy.latency_ms.busy.unwrap().p50 >= 4_990.0);
        assert!(busy.latency_ms.sold_out.is_none());
    }

    fn endless_stock() -> Product {
        Product {
            id: 1,
            name: "p".into(),
            initial_stock: 1_000_000,
            stock: 999_000,
            orders: 1000,
            oversold: 0,
            lost_updates: 0,
        }
    }

    #[test]
    fn fairness_compares_the_sold_p99_with_the_wait_of_a_fifo_queue() {
        // 64 buyers, 1000 purchases in 2 s (500/s): a FIFO queue makes each
        // wait 64 / 500 s = 128 ms.
        let mut stats = Stats::new();
        for i in 0..1000u64 {
            stats.record(Answer::Sold, if i < 980 { 2_000 } else { 1_280_000 });
        }
        stats.elapsed = Duration::from_secs(2);
        let mode = ModeReport::new("redis", &stats, Some(&endless_stock()));

        let fairness = Fairness::of(&mode, 64, true).unwrap();

        assert_eq!(fairness.fifo_wait_ms, 128.0);
        assert!(
            (1279.0..1282.0).contains(&fairness.sold_p99_ms),
            "{fairness:?}"
        );
        // 1280 ms as the histogram keeps it (3 significant digits).
        assert!((10.0..=10.01).contains(&fairness.ratio), "{fairness:?}");
        assert_eq!(Fairness::of(&mode, 64, false), None, "open model");
    }

    #[test]
    fn fairness_is_left_out_when_most_buyers_did_not_buy() {
        let mut stats = Stats::new();
        stats.record(Answer::Sold, 1_000);
        for _ in 0..9 {
            stats.record(Answer::Busy, 5_000);
        }
        stats.elapsed = Duration::from_secs(1);
        let failfast = ModeReport::new("redis-failfast", &stats, Some(&endless_stock()));
        assert_eq!(Fairness::of(&failfast, 10, true), None);

        let mut stats = Stats::new();
        stats.elapsed = Duration::from_secs(1);
        let nothing = ModeReport::new("broken-lua-nil", &stats, Some(&endless_stock()));
        assert_eq!(Fairness::of(&nothing, 10, true), None);
    }

    #[test]
    fn the_timeline_covers_the_whole_crowd_and_its_last_bucket_is_cut_short() {
        let mut stats = Stats::new();
        stats.record_at(Answer::Sold, Duration::from_millis(10));
        stats.record_at(Answer::SoldOut, Duration::from_millis(120));
        stats.elapsed = Duration::from_millis(350);

        let mode = ModeReport::new("redis", &stats, None);
        let timeline = mode.timeline.unwrap();

        assert_eq!(timeline.bucket_ms, 100);
        assert_eq!(timeline.completed, [1, 1, 0, 0]);
        assert_eq!(timeline.sold, [1, 0, 0, 0]);
        assert!((timeline.bucket_s(0, 0.35) - 0.1).abs() < 1e-9);
        assert!((timeline.bucket_s(3, 0.35) - 0.05).abs() < 1e-9);
    }

    #[test]
    fn refusals_are_one_latency_of_sold_outs_lost_locks_and_busies() {
        let mut stats = Stats::new();
        stats.record(Answer::Sold, 1_000);
        stats.record(Answer::SoldOut, 2_000);
        stats.record(Answer::LockLost, 3_000);
        stats.record(Answer::Busy, 4_000);
        stats.record(Answer::Server5xx, 5_000);

        let mode = ModeReport::new("redis", &stats, None);

        let refused = mode.latency_ms.refused.unwrap();
        assert_eq!(refused.count, 3);
        assert!((4.0..4.01).contains(&refused.max), "{refused:?}");
    }

    #[test]
    fn a_lost_lock_counts_apart_and_makes_the_leftover_stock_unsold() {
        let product = Product {
            id: 1,
            name: "p".into(),
            initial_stock: 10,
            stock: 9,
            orders: 1,
            oversold: 0,
            lost_updates: 0,
        };
        let mut stats = Stats::new();
        stats.record(Answer::Sold, 900_000);
        stats.record(Answer::LockLost, 600_000);
        stats.record(Answer::LockLost, 700_000);

        let report = ModeReport::new("redis-fenced", &stats, Some(&product));

        assert_eq!(report.requests.lock_lost_409, 2);
        assert_eq!(report.requests.sold_out_409, 0);
        assert_eq!(report.server.as_ref().unwrap().unsold, 9);
        assert_eq!(report.latency_ms.lock_lost.as_ref().unwrap().count, 2);
        assert!(report.verdict.unwrap().safe);
    }
}
