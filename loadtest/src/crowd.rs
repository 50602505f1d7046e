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

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::Empty;
use hyper::header::{CONTENT_LENGTH, HOST, HeaderValue};
use hyper::{Method, Request, Uri};

use crate::http::{Conn, Target, TransportError, classify, classify_io};

/// A request counts as started late when it starts more than this after its
/// scheduled time (open model only).
pub const LATE_AFTER: Duration = Duration::from_millis(1);

/// What each request of the crowd is.
#[derive(Debug, Clone)]
pub enum Work {
    /// `POST /api/products/{product}/purchase?lock={mode}&work_ms={work_ms}&user=lt-{run}-{mode}-{n}`
    Purchase {
        product: u64,
        mode: String,
        work_ms: u64,
        run_id: String,
    },
    /// `GET {path}`: to measure the generator itself on a cheap endpoint.
    Get { path: String },
}

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
}

/// The latency histograms are kept apart by outcome: fast refusals would
/// otherwise hide slow purchases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 201: bought.
    Sold = 0,
    /// 409: sold out.
    SoldOut = 1,
    /// 429: the lock was not obtained in time.
    Busy = 2,
    /// Any other HTTP status.
    Other = 3,
}

impl Outcome {
    fn of(status: u16) -> Outcome {
        match status {
            201 => Outcome::Sold,
            409 => Outcome::SoldOut,
            429 => Outcome::Busy,
            _ => Outcome::Other,
        }
    }
}

/// Tallies and histograms of one worker, or of the whole crowd once merged.
/// Latencies are recorded in microseconds.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Requests claimed and attempted.
    pub sent: u64,
    /// HTTP answers by status class.
    pub status_201: u64,
    pub status_409: u64,
    pub status_429: u64,
    pub other_4xx: u64,
    pub status_5xx: u64,
    /// 2xx other than 201 (what `--get` expects).
    pub other_2xx: u64,
    /// 1xx, 3xx: not expected from the service.
    pub other_status: u64,
    /// Transport errors, indexed by [`TransportError::index`].
    pub transport: [u64; 4],
    /// Open model: requests that started more than [`LATE_AFTER`] late.
    pub started_late: u64,
    pub max_start_lag_us: u64,
    /// Latency histograms, indexed by [`Outcome`].
    pub latency: [Histogram<u64>; 4],
    /// Wall time of the crowd, first claim to last answer (set once merged).
    pub elapsed: Duration,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        // Auto-resizing: a histogram only grows as far as the largest value
        // it saw, so a worker's unused outcomes cost a few bytes.
        let histogram = || Histogram::<u64>::new(3).expect("3 significant figures is valid");
        Stats {
            sent: 0,
            status_201: 0,
            status_409: 0,
            status_429: 0,
            other_4xx: 0,
            status_5xx: 0,
            other_2xx: 0,
            other_status: 0,
            transport: [0; 4],
            started_late: 0,
            max_start_lag_us: 0,
            latency: [histogram(), histogram(), histogram(), histogram()],
            elapsed: Duration::ZERO,
        }
    }

    /// Counts one HTTP answer and its latency.
    #[inline]
    pub fn record_status(&mut self, status: u16, latency_us: u64) {
        match status {
            201 => self.status_201 += 1,
            409 => self.status_409 += 1,
            429 => self.status_429 += 1,
            200..=299 => self.other_2xx += 1,
            400..=499 => self.other_4xx += 1,
            500..=599 => self.status_5xx += 1,
            _ => self.other_status += 1,
        }
        let histogram = &mut self.latency[Outcome::of(status) as usize];
        // `record` grows the auto-resizing histogram; it can only fail past
        // 2^62 µs, and `saturating_record` (which never resizes) clamps that.
        if histogram.record(latency_us.max(1)).is_err() {
            histogram.saturating_record(latency_us);
        }
    }

    #[inline]
    pub fn record_error(&mut self, kind: TransportError) {
        self.transport[kind.index()] += 1;
    }

    /// Answers received (any status).
    pub fn completed(&self) -> u64 {
        self.status_201
            + self.status_409
            + self.status_429
            + self.other_4xx
            + self.status_5xx
            + self.other_2xx
            + self.other_status
    }

    pub fn transport_errors(&self) -> u64 {
        self.transport.iter().sum()
    }

    /// Adds another worker's numbers to these.
    pub fn merge(&mut self, other: &Stats) {
        self.sent += other.sent;
        self.status_201 += other.status_201;
        self.status_409 += other.status_409;
        self.status_429 += other.status_429;
        self.other_4xx += other.other_4xx;
        self.status_5xx += other.status_5xx;
        self.other_2xx += other.other_2xx;
        self.other_status += other.other_status;
        for (mine, theirs) in self.transport.iter_mut().zip(other.transport) {
            *mine += theirs;
        }
        self.started_late += other.started_late;
        self.max_start_lag_us = self.max_start_lag_us.max(other.max_start_lag_us);
        for (mine, theirs) in self.latency.iter_mut().zip(&other.latency) {
            mine.add(theirs)
                .expect("auto-resizing histograms of the same precision always add");
        }
        self.elapsed = self.elapsed.max(other.elapsed);
    }

    /// All answers' latencies in one histogram.
    pub fn latency_all(&self) -> Histogram<u64> {
        let mut all = Histogram::<u64>::new(3).expect("3 significant figures is valid");
        for histogram in &self.latency {
            all.add(histogram)
                .expect("auto-resizing histograms of the same precision always add");
        }
        all
    }
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
    let start = Instant::now();
    let workers = plan.concurrency.max(1);
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(workers);
    let threads: Vec<_> = (0..cores)
        .map(|i| {
            let count = workers / cores + usize::from(i < workers % cores);
            let (plan, shared) = (plan.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("crowd-{i}"))
                .spawn(move || run_on_this_thread(count, plan, shared, start))
                .expect("the OS can start a thread per core")
        })
        .collect();
    let mut total = Stats::new();
    for thread in threads {
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(stats)) => total.merge(&stats),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    total.elapsed = start.elapsed();
    total
}

/// Runs `count` workers on a single-threaded runtime of this thread.
fn run_on_this_thread(count: usize, plan: Arc<Plan>, shared: Arc<Shared>, start: Instant) -> Stats {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded runtime can start");
    runtime.block_on(async {
        let workers: Vec<_> = (0..count)
            .map(|_| tokio::spawn(worker(plan.clone(), shared.clone(), start)))
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

async fn worker(plan: Arc<Plan>, shared: Arc<Shared>, start: Instant) -> Stats {
    let mut stats = Stats::new();
    let mut conns: Vec<Option<Conn<Empty<Bytes>>>> = plan.targets.iter().map(|_| None).collect();
    let total = total_requests(&plan);
    let deadline = match plan.stop {
        Stop::Duration(d) if plan.rate.is_none() => Some(start + d),
        _ => None,
    };
    let interval = plan.rate.map(|rate| 1.0 / rate);
    let templates: Vec<RequestTemplate> = plan
        .targets
        .iter()
        .map(|t| RequestTemplate::new(t, &plan.work))
        .collect();

    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if total.is_some_and(|total| n >= total) {
            break;
        }
        let began = match interval {
            None => {
                let now = Instant::now();
                if deadline.is_some_and(|deadline| now >= deadline) {
                    break;
                }
                now
            }
            Some(interval) => {
                let scheduled = start + Duration::from_secs_f64(n as f64 * interval);
                let now = Instant::now();
                if scheduled > now {
                    // Early: wait for the slot. Timer slack is the generator's,
                    // so latency counts from when the request really starts.
                    tokio::time::sleep_until(scheduled.into()).await;
                    Instant::now()
                } else {
                    // Late: no worker was free in time. Latency counts from
                    // the scheduled time.
                    let lag = now - scheduled;
                    if lag > LATE_AFTER {
                        stats.started_late += 1;
                        stats.max_start_lag_us = stats.max_start_lag_us.max(lag.as_micros() as u64);
                    }
                    scheduled
                }
            }
        };

        let t = (n % plan.targets.len() as u64) as usize;
        let request = templates[t].request(n);
        stats.sent += 1;
        let result =
            tokio::time::timeout(plan.timeout, send(&mut conns[t], &plan.targets[t], request))
                .await;
        match result {
            Ok(Ok(status)) => {
                let latency = began.elapsed().as_micros() as u64;
                stats.record_status(status, latency);
            }
            Ok(Err(kind)) => {
                conns[t] = None;
                stats.record_error(kind);
            }
            Err(_elapsed) => {
                conns[t] = None;
                stats.record_error(TransportError::Timeout);
            }
        }
        shared.done.fetch_add(1, Ordering::Relaxed);
    }
    stats
}

/// The part of the request target that is the same for every request of a
/// worker; a purchase only appends its request number to the user id.
fn prefix(target: &Target, work: &Work) -> String {
    match work {
        Work::Purchase {
            product,
            mode,
            work_ms,
            run_id,
        } => target.path(&format!(
            "/api/products/{product}/purchase?lock={mode}&work_ms={work_ms}&user=lt-{run_id}-{mode}-"
        )),
        Work::Get { path } => target.path(path),
    }
}

/// What a worker sends to one target, built once: a purchase only appends
/// its request number to the user id; a `GET` is the same every time.
#[derive(Debug, Clone)]
struct RequestTemplate {
    method: Method,
    host: HeaderValue,
    /// The request target, or its prefix when `numbered`.
    path: String,
    /// Set for a fixed request target: cloned, not parsed, per request.
    fixed: Option<Uri>,
}

impl RequestTemplate {
    fn new(target: &Target, work: &Work) -> RequestTemplate {
        let (method, fixed) = match work {
            Work::Purchase { .. } => (Method::POST, None),
            Work::Get { .. } => {
                let uri = prefix(target, work)
                    .parse()
                    .expect("--get paths are checked to be valid request targets");
                (Method::GET, Some(uri))
            }
        };
        RequestTemplate {
            method,
            host: target.host_header().clone(),
            path: prefix(target, work),
            fixed,
        }
    }

    /// Request number `n`, with `Host` and an empty body.
    fn request(&self, n: u64) -> Request<Empty<Bytes>> {
        let uri = match &self.fixed {
            Some(uri) => uri.clone(),
            None => {
                let mut path = String::with_capacity(self.path.len() + 20);
                path.push_str(&self.path);
                let _ = write!(path, "{n}");
                Uri::try_from(path).expect("a valid prefix and digits make a valid target")
            }
        };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(uri)
            .header(HOST, self.host.clone());
        if self.method == Method::POST {
            // hyper sends no length for an empty body; some proxies want one
            // on a POST.
            builder = builder.header(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        builder
            .body(Empty::new())
            .expect("a method, a valid target and valid headers make a valid request")
    }
}

/// Sends one request on the slot's connection, opening one if needed, and
/// reads the whole answer so the connection stays reusable; returns its
/// status. Never retries once the request may have reached the service: a
/// purchase is not idempotent. A connection the server closed while it sat
/// idle (or after a `connection: close` answer) is replaced before anything
/// is sent on it.
async fn send(
    slot: &mut Option<Conn<Empty<Bytes>>>,
    target: &Target,
    request: Request<Empty<Bytes>>,
) -> Result<u16, TransportError> {
    if slot.as_ref().is_some_and(Conn::is_closed) {
        *slot = None;
    }
    let mut fresh = slot.is_none();
    let conn = loop {
        let conn = match slot {
            Some(conn) => conn,
            None => slot.insert(Conn::open(target).await.map_err(|e| {
                match classify_io(&e) {
                    TransportError::Timeout => TransportError::Timeout,
                    // A failed connect is a connect error whatever its cause.
                    _ => TransportError::Connect,
                }
            })?),
        };
        match conn.ready().await {
            Ok(()) => break slot.as_mut().expect("just made ready"),
            // A kept-alive connection that closed under us: nothing was sent
            // on it, so one fresh connection is fair.
            Err(_) if !fresh => {
                *slot = None;
                fresh = true;
            }
            Err(e) => return Err(classify(&e)),
        }
    };
    match conn.send(request, false).await {
        Ok((status, _)) => Ok(status.as_u16()),
        Err(e) => Err(classify(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn statuses_are_tallied_by_class_and_latency_by_outcome() {
        let mut stats = Stats::new();
        stats.record_status(201, 5_000);
        stats.record_status(409, 100);
        stats.record_status(409, 120);
        stats.record_status(429, 5_000_000);
        stats.record_status(404, 50);
        stats.record_status(503, 70);
        stats.record_status(302, 70);
        stats.record_status(200, 70);
        stats.record_error(TransportError::Reset);
        assert_eq!(
            (stats.status_201, stats.status_409, stats.status_429),
            (1, 2, 1)
        );
        assert_eq!(
            (stats.other_4xx, stats.status_5xx, stats.other_status),
            (1, 1, 1)
        );
        assert_eq!(stats.other_2xx, 1);
        assert_eq!(stats.completed(), 8);
        assert_eq!(stats.transport_errors(), 1);
        assert_eq!(stats.latency[Outcome::Sold as usize].len(), 1);
        assert_eq!(stats.latency[Outcome::SoldOut as usize].len(), 2);
        assert_eq!(stats.latency[Outcome::Other as usize].len(), 4);
        assert_eq!(stats.latency_all().len(), 8);
    }

    #[test]
    fn merging_workers_adds_counts_and_histograms_and_keeps_the_worst_lag() {
        let mut a = Stats::new();
        a.sent = 2;
        a.record_status(201, 1_000);
        a.record_status(409, 10);
        a.max_start_lag_us = 7;
        let mut b = Stats::new();
        b.sent = 1;
        b.record_status(201, 9_000_000);
        b.record_error(TransportError::Connect);
        b.max_start_lag_us = 3;
        a.merge(&b);
        assert_eq!(a.sent, 3);
        assert_eq!(a.status_201, 2);
        assert_eq!(a.transport[TransportError::Connect.index()], 1);
        assert_eq!(a.max_start_lag_us, 7);
        let sold = &a.latency[Outcome::Sold as usize];
        assert_eq!(sold.len(), 2);
        assert!(sold.max() >= 9_000_000);
    }

    #[test]
    fn an_open_crowd_bounded_by_time_sends_rate_times_duration() {
        let plan = Plan {
            targets: vec![Target::parse("http://127.0.0.1:1").unwrap()],
            work: Work::Get { path: "/".into() },
            stop: Stop::Duration(Duration::from_secs(2)),
            concurrency: 1,
            rate: Some(50.0),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(total_requests(&plan), Some(100));
    }

    /// A canned HTTP/1.1 responder on loopback: answers every request on a
    /// connection with the next status of `statuses` (cycling), keep-alive,
    /// and remembers how many connections and request lines it saw.
    async fn canned(statuses: &'static [u16]) -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let (c, r) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                c.fetch_add(1, Ordering::Relaxed);
                let r = r.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let read = match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => read,
                        };
                        buffer.extend_from_slice(&chunk[..read]);
                        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            buffer.drain(..end + 4);
                            let n = r.fetch_add(1, Ordering::Relaxed) as usize;
                            let status = statuses[n % statuses.len()];
                            let body = "{}";
                            let answer = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if socket.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (address, connections, requests)
    }

    fn purchase_plan(address: &str, requests: u64, concurrency: usize) -> Plan {
        Plan {
            targets: vec![Target::parse(address).unwrap()],
            work: Work::Purchase {
                product: 1,
                mode: "none".into(),
                work_ms: 0,
                run_id: "t".into(),
            },
            stop: Stop::Requests(requests),
            concurrency,
            rate: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn a_closed_crowd_sends_exactly_its_budget_over_one_connection_per_worker() {
        let (address, connections, requests) = canned(&[201, 409, 409, 429]).await;
        let plan = Arc::new(purchase_plan(&address, 400, 4));
        let shared = Shared::new();

        let stats = run(plan, shared.clone()).await;

        assert_eq!(stats.sent, 400);
        assert_eq!(stats.completed(), 400);
        assert_eq!(requests.load(Ordering::Relaxed), 400);
        assert_eq!(
            connections.load(Ordering::Relaxed),
            4,
            "keep-alive: one per worker"
        );
        assert_eq!(stats.status_201 + stats.status_409 + stats.status_429, 400);
        assert_eq!(stats.status_201, 100);
        assert_eq!(stats.transport_errors(), 0);
        assert_eq!(shared.done.load(Ordering::Relaxed), 400);
    }

    #[tokio::test]
    async fn requests_go_round_robin_over_several_targets() {
        let (first, _, first_requests) = canned(&[201]).await;
        let (second, _, second_requests) = canned(&[409]).await;
        let mut plan = purchase_plan(&first, 100, 3);
        plan.targets.push(Target::parse(&second).unwrap());

        let stats = run(Arc::new(plan), Shared::new()).await;

        assert_eq!(first_requests.load(Ordering::Relaxed), 50);
        assert_eq!(second_requests.load(Ordering::Relaxed), 50);
        assert_eq!((stats.status_201, stats.status_409), (50, 50));
    }

    #[tokio::test]
    async fn a_refused_connection_is_counted_as_a_connect_error_not_a_panic() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);

        let stats = run(Arc::new(purchase_plan(&address, 10, 2)), Shared::new()).await;

        assert_eq!(stats.sent, 10);
        assert_eq!(stats.completed(), 0);
        assert_eq!(stats.transport[TransportError::Connect.index()], 10);
    }

    #[tokio::test]
    async fn a_server_that_hangs_up_mid_request_is_counted_as_a_reset() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut chunk = [0u8; 1024];
                let _ = socket.read(&mut chunk).await;
                drop(socket);
            }
        });

        let stats = run(Arc::new(purchase_plan(&address, 5, 1)), Shared::new()).await;

        assert_eq!(stats.transport[TransportError::Reset.index()], 5);
    }

    #[tokio::test]
    async fn a_silent_server_is_counted_as_timeouts() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                held.push(socket);
            }
        });
        let mut plan = purchase_plan(&address, 2, 2);
        plan.timeout = Duration::from_millis(100);

        let stats = run(Arc::new(plan), Shared::new()).await;

        assert_eq!(stats.transport[TransportError::Timeout.index()], 2);
    }

    #[tokio::test]
    async fn an_open_crowd_paces_its_requests_and_counts_the_late_ones() {
        let (address, _, requests) = canned(&[409]).await;
        let mut plan = purchase_plan(&address, 20, 4);
        plan.rate = Some(200.0);

        let begun = Instant::now();
        let stats = run(Arc::new(plan), Shared::new()).await;

        assert_eq!(requests.load(Ordering::Relaxed), 20);
        // 20 requests at 200/s: the last is scheduled 95 ms after the first.
        assert!(begun.elapsed() >= Duration::from_millis(90));
        assert_eq!(stats.completed(), 20);
    }

    #[tokio::test]
    async fn an_open_crowd_faster_than_its_workers_counts_late_starts_and_their_lag() {
        let (address, _, _) = canned(&[409]).await;
        let mut plan = purchase_plan(&address, 200, 1);
        // One worker cannot start a request every 10 µs on a real socket.
        plan.rate = Some(100_000.0);

        let stats = run(Arc::new(plan), Shared::new()).await;

        assert_eq!(stats.completed(), 200);
        assert!(stats.started_late > 0);
        assert!(stats.max_start_lag_us > LATE_AFTER.as_micros() as u64);
        // Latency counts from the scheduled start, so it includes the lag.
        let latency = &stats.latency[Outcome::SoldOut as usize];
        assert!(latency.max() >= stats.max_start_lag_us);
    }

    #[test]
    fn a_numbered_purchase_carries_its_number_the_host_and_a_zero_length() {
        let target = Target::parse("http://127.0.0.1:8080/shop").unwrap();
        let work = Work::Purchase {
            product: 3,
            mode: "redis".into(),
            work_ms: 0,
            run_id: "abc".into(),
        };
        let template = RequestTemplate::new(&target, &work);

        let request = template.request(1207);

        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            request.uri(),
            "/shop/api/products/3/purchase?lock=redis&work_ms=0&user=lt-abc-redis-1207"
        );
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
        assert_eq!(request.headers()[CONTENT_LENGTH], "0");
        assert!(template.request(0).uri().to_string().ends_with("-redis-0"));
    }

    #[test]
    fn a_get_is_the_same_request_every_time_without_a_length() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let template = RequestTemplate::new(
            &target,
            &Work::Get {
                path: "/healthz".into(),
            },
        );

        let request = template.request(42);

        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/healthz");
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
        assert!(!request.headers().contains_key(CONTENT_LENGTH));
    }

    /// A server that, on its `k`-th connection, answers each request with the
    /// next raw answer of `scripts[k]` (split in two writes, to exercise
    /// partial reads) and then closes. Counts its connections.
    async fn scripted(scripts: Vec<Vec<&'static [u8]>>) -> (Target, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let connections = Arc::new(AtomicU64::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            for answers in scripts {
                let (mut socket, _) = listener.accept().await.unwrap();
                counted.fetch_add(1, Ordering::Relaxed);
                let mut seen = Vec::new();
                let mut chunk = [0u8; 1024];
                for answer in answers {
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        let read = socket.read(&mut chunk).await.unwrap_or(0);
                        if read == 0 {
                            return;
                        }
                        seen.extend_from_slice(&chunk[..read]);
                    }
                    let end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                    seen.drain(..end + 4);
                    let half = answer.len() / 2;
                    socket.write_all(&answer[..half]).await.unwrap();
                    socket.flush().await.unwrap();
                    tokio::task::yield_now().await;
                    socket.write_all(&answer[half..]).await.unwrap();
                }
            }
        });
        (target, connections)
    }

    fn get(target: &Target) -> Request<Empty<Bytes>> {
        RequestTemplate::new(target, &Work::Get { path: "/".into() }).request(0)
    }

    #[tokio::test]
    async fn answers_framed_by_length_and_by_chunks_are_read_whole_on_one_connection() {
        let (target, connections) = scripted(vec![
            vec![
                b"HTTP/1.1 201 Created\r\ncontent-length: 13\r\n\r\n{\"order\":\"x\"}",
                b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\nTrailer: t\r\n\r\n",
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nretry-after: 1\r\n\r\n",
                b"HTTP/1.1 204 No Content\r\n\r\n",
                b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
            ],
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
        ])
        .await;
        let mut slot = None;

        for expected in [201, 409, 429, 204, 503] {
            assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(expected));
        }
        assert_eq!(connections.load(Ordering::Relaxed), 1);
        // `connection: close`: the next request goes on a new connection.
        assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(200));
        assert_eq!(connections.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn an_answer_without_length_is_read_until_the_server_closes() {
        let (target, connections) = scripted(vec![
            vec![b"HTTP/1.1 200 OK\r\n\r\nsome body"],
            vec![b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"],
        ])
        .await;
        let mut slot = None;

        assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(200));
        assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(201));
        assert_eq!(connections.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_truncated_answer_is_a_reset_and_garbage_is_other() {
        let (target, _) = scripted(vec![vec![
            b"HTTP/1.1 201 Created\r\ncontent-length: 50\r\n\r\n{",
        ]])
        .await;
        assert_eq!(
            send(&mut None, &target, get(&target)).await,
            Err(TransportError::Reset)
        );

        let (target, _) = scripted(vec![vec![b"SMTP ready\r\n\r\n"]]).await;
        assert_eq!(
            send(&mut None, &target, get(&target)).await,
            Err(TransportError::Other)
        );
    }

    #[tokio::test]
    async fn an_idle_connection_closed_by_the_server_is_replaced_before_sending() {
        let (target, connections) = scripted(vec![
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
        ])
        .await;
        let mut slot = None;
        assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(200));

        // The scripted server closes after its last answer.
        tokio::time::sleep(Duration::from_millis(50)).await;

        assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(200));
        assert_eq!(connections.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_purchase_prefix_carries_lock_work_and_a_per_request_user() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let work = Work::Purchase {
            product: 3,
            mode: "redis".into(),
            work_ms: 20,
            run_id: "abc".into(),
        };
        assert_eq!(
            prefix(&target, &work),
            "/api/products/3/purchase?lock=redis&work_ms=20&user=lt-abc-redis-"
        );
    }
}
