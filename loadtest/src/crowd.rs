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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::{Request, StatusCode};

use crate::http::{Conn, Target, TransportError, classify, classify_io};
use crate::request::{RequestTemplate, Work};
use crate::stats::{Answer, Stats};

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
            Ok(Ok(answer)) => {
                let now = Instant::now();
                stats.record(answer, (now - began).as_micros() as u64);
                stats.record_at(answer, now - start);
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

/// Sends one request on the slot's connection, opening one if needed, and
/// reads the whole answer so the connection stays reusable; returns it
/// sorted into an [`Answer`] (only a 409's body is kept, for its error code).
/// Never retries once the request may have reached the service: a
/// purchase is not idempotent. A connection the server closed while it sat
/// idle (or after a `connection: close` answer) is replaced before anything
/// is sent on it.
async fn send(
    slot: &mut Option<Conn<Empty<Bytes>>>,
    target: &Target,
    request: Request<Empty<Bytes>>,
) -> Result<Answer, TransportError> {
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
    match conn
        .send(request, |status| status == StatusCode::CONFLICT)
        .await
    {
        Ok((status, body)) => Ok(Answer::of(status.as_u16(), &body)),
        Err(e) => Err(classify(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Knobs;
    use crate::stats::Outcome;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

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

    const SOLD_OUT: &str = r#"{"error":"sold_out","message":"product 1 is sold out"}"#;
    const LOCK_LOST: &str = r#"{"error":"lock_lost","message":"the lock was lost"}"#;

    /// A canned HTTP/1.1 responder on loopback: answers every request on a
    /// connection with the next status of `statuses` (cycling; a 409 says
    /// `sold_out`), keep-alive, and remembers how many connections and
    /// request lines it saw.
    async fn canned(statuses: &'static [u16]) -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
        let answers: Vec<(u16, &'static str)> = statuses
            .iter()
            .map(|&status| (status, if status == 409 { SOLD_OUT } else { "{}" }))
            .collect();
        canned_answers(answers).await
    }

    /// [`canned`] with a body of choice per answer.
    async fn canned_answers(
        answers: Vec<(u16, &'static str)>,
    ) -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
        let answers = Arc::new(answers);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let (c, r) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                c.fetch_add(1, Ordering::Relaxed);
                let (r, answers) = (r.clone(), answers.clone());
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
                            let (status, body) = answers[n % answers.len()];
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
                knobs: Knobs::default(),
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
        assert_eq!(stats.count(Answer::Sold), 100);
        assert_eq!(stats.count(Answer::SoldOut), 200);
        assert_eq!(stats.count(Answer::Busy), 100);
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
        assert_eq!(
            (stats.count(Answer::Sold), stats.count(Answer::SoldOut)),
            (50, 50)
        );
    }

    #[tokio::test]
    async fn conflicts_are_counted_by_the_code_in_their_body() {
        let (address, _, _) = canned_answers(vec![
            (201, "{}"),
            (409, SOLD_OUT),
            (409, LOCK_LOST),
            (409, LOCK_LOST),
            (409, "not json"),
        ])
        .await;

        let stats = run(Arc::new(purchase_plan(&address, 50, 1)), Shared::new()).await;

        assert_eq!(stats.count(Answer::Sold), 10);
        assert_eq!(stats.count(Answer::SoldOut), 10);
        assert_eq!(stats.count(Answer::LockLost), 20);
        assert_eq!(stats.count(Answer::Other4xx), 10);
        assert_eq!(stats.latency[Outcome::LockLost as usize].len(), 20);
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
                b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"error\":\r\nc;x=y\r\n\"lock_lost\"}\r\n0\r\nTrailer: t\r\n\r\n",
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nretry-after: 1\r\n\r\n",
                b"HTTP/1.1 204 No Content\r\n\r\n",
                b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
            ],
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
        ])
        .await;
        let mut slot = None;

        for expected in [
            Answer::Sold,
            // The 409's code is read across its chunks.
            Answer::LockLost,
            Answer::Busy,
            Answer::Other2xx,
            Answer::Server5xx,
        ] {
            assert_eq!(send(&mut slot, &target, get(&target)).await, Ok(expected));
        }
        assert_eq!(connections.load(Ordering::Relaxed), 1);
        // `connection: close`: the next request goes on a new connection.
        assert_eq!(
            send(&mut slot, &target, get(&target)).await,
            Ok(Answer::Other2xx)
        );
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

        assert_eq!(
            send(&mut slot, &target, get(&target)).await,
            Ok(Answer::Other2xx)
        );
        assert_eq!(
            send(&mut slot, &target, get(&target)).await,
            Ok(Answer::Sold)
        );
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
        assert_eq!(
            send(&mut slot, &target, get(&target)).await,
            Ok(Answer::Other2xx)
        );

        // The scripted server closes after its last answer.
        tokio::time::sleep(Duration::from_millis(50)).await;

        assert_eq!(
            send(&mut slot, &target, get(&target)).await,
            Ok(Answer::Other2xx)
        );
        assert_eq!(connections.load(Ordering::Relaxed), 2);
    }
}
