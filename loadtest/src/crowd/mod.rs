//! The flash crowd: `concurrency` workers, each with its own keep-alive
//! connection(s), its own tallies and its own histograms, merged once at the
//! end. The hot loop does one atomic increment to claim a request and nothing
//! shared after that.
//!
//! Two arrival models:
//! - closed (default): each worker sends its next request as soon as the
//!   previous one is answered;
//! - open (`--rate`): request `n` is scheduled at `start + n / rate`. A worker
//!   that claims a request whose time has already passed (all workers were busy)
//!   starts it late, counts it, and measures its latency from the scheduled
//!   time, as wrk2 does, so a slow server cannot hide behind the generator
//!   (coordinated omission).
//!
//! The crowd's clock starts once every worker has opened its connections
//! ([`warm`]): connect times are counted apart, never in a request's latency.
//!
//! - [`warm`]: the connections opened before the crowd starts;
//! - [`worker`]: the hot loop of one worker, and its own tallies;
//! - [`send`]: one request on a worker's keep-alive connection.

mod send;
mod warm;
mod worker;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Barrier, Semaphore};

pub use self::warm::CONNECTS_AT_ONCE;
use self::worker::worker;
use crate::http::Target;
use crate::request::Work;
use crate::stats::Stats;

/// A request counts as started late when it starts more than this after its
/// scheduled time (open model only).
pub const LATE_AFTER: Duration = Duration::from_millis(1);

/// When the crowd stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    Requests(u64),
    Duration(Duration),
}

/// Everything one crowd needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub targets: Vec<Target>,
    pub work: Work,
    pub stop: Stop,
    pub concurrency: usize,
    /// Open model: requests per second. `None`: closed model.
    pub rate: Option<f64>,
    pub timeout: Duration,
    /// `--connect-timeout`: how long each connection opened before the crowd
    /// may take.
    pub connect_timeout: Duration,
    /// `--retry`: how many times a request that timed out or lost its
    /// connection is sent again (with its idempotency key).
    pub retry: u32,
}

/// Shared by the workers of one crowd: the request counter, and a count of
/// answered requests for the progress bar.
pub struct Shared {
    next: AtomicU64,
    /// Requests finished (answered or failed), for the progress bar.
    pub done: AtomicU64,
}

impl Shared {
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            next: AtomicU64::new(0),
            done: AtomicU64::new(0),
        })
    }
}

/// What the workers of every thread share while the crowd warms up: the
/// bound on connects at once, the wait for all to be connected, and the
/// moment the crowd starts (set by the first worker past that wait).
pub(crate) struct Start {
    gate: Semaphore,
    connected: Barrier,
    at: OnceLock<Instant>,
}

impl Start {
    /// The crowd's start: the same instant for every worker.
    fn now(&self) -> Instant {
        *self.at.get_or_init(Instant::now)
    }
}

/// The number of requests an open-model crowd sends, or a closed one with a
/// request budget; `None` for a closed crowd bounded by time.
pub fn total_requests(plan: &Plan) -> Option<u64> {
    match (plan.stop, plan.rate) {
        (Stop::Requests(n), _) => Some(n),
        (Stop::Duration(d), Some(rate)) => Some((d.as_secs_f64() * rate).ceil() as u64),
        (Stop::Duration(_), None) => None,
    }
}

/// Runs one crowd to the end and returns the merged numbers.
///
/// The workers are spread over one single-threaded runtime per core, as oha
/// does: a worker and its connection's task then wake each other on the same
/// thread, never across threads, and no work is stolen between them.
pub async fn run(plan: Arc<Plan>, shared: Arc<Shared>) -> Stats {
    let workers = plan.concurrency.max(1);
    let start = Arc::new(Start {
        gate: Semaphore::new(CONNECTS_AT_ONCE),
        connected: Barrier::new(workers),
        at: OnceLock::new(),
    });
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(workers);
    let threads: Vec<_> = (0..cores)
        .map(|i| {
            let count = workers / cores + usize::from(i < workers % cores);
            let (plan, shared, start) = (plan.clone(), shared.clone(), start.clone());
            std::thread::Builder::new()
                .name(format!("crowd-{i}"))
                .spawn(move || run_on_this_thread(count, plan, shared, start))
                .expect("the OS can start a thread per core")
        })
        .collect();
    let mut total = Stats::new();
    let mut peak_in_flight = 0;
    for thread in threads {
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(stats)) => {
                // Each thread's peak was counted apart: their sum bounds the
                // crowd's from above, exactly so on one thread.
                peak_in_flight += stats.peak_in_flight;
                total.merge(&stats);
            }
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    total.elapsed = start.now().elapsed();
    total.peak_in_flight = peak_in_flight;
    total
}

/// Runs `count` workers on a single-threaded runtime of this thread.
fn run_on_this_thread(
    count: usize,
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    start: Arc<Start>,
) -> Stats {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded runtime can start");
    // The requests in flight on this thread: an atomic only this thread's
    // workers touch, so counting it never bounces a cache line between cores.
    let in_flight = Arc::new(AtomicU64::new(0));
    runtime.block_on(async {
        let workers: Vec<_> = (0..count)
            .map(|_| {
                let on_this_thread = in_flight.clone();
                tokio::spawn(worker(
                    plan.clone(),
                    shared.clone(),
                    start.clone(),
                    on_this_thread,
                ))
            })
            .collect();
        let mut stats = Stats::new();
        for handle in workers {
            match handle.await {
                Ok(worker) => stats.merge(&worker),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        stats
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_crowd_bounded_by_time_sends_rate_times_duration() {
        let plan = Plan {
            targets: vec![Target::parse("http://127.0.0.1:1").unwrap()],
            work: Work::Get { path: "/".into() },
            stop: Stop::Duration(Duration::from_secs(2)),
            concurrency: 1,
            rate: Some(50.0),
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            retry: 0,
        };
        assert_eq!(total_requests(&plan), Some(100));
    }
}
