//! One worker of the crowd: opens its connections and waits for the others
//! to have theirs, then claims a request with one atomic increment, waits for
//! its slot in the open model, sends it on its own connection and counts the
//! answer in its own [`Stats`], returned at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::send::send;
use super::warm::open_connections;
use super::{LATE_AFTER, Plan, Shared, Start, Stop, total_requests};
use crate::http::TransportError;
use crate::request::RequestTemplate;
use crate::stats::Stats;

/// `in_flight` counts the requests in flight on this worker's thread.
pub(super) async fn worker(
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    start: Arc<Start>,
    in_flight: Arc<AtomicU64>,
) -> Stats {
    let mut stats = Stats::new();
    let mut conns = open_connections(&plan, &start.gate, &mut stats.connects_before).await;
    start.connected.wait().await;
    let start = start.now();
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
        stats.sent += 1;
        let now_in_flight = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        stats.peak_in_flight = stats.peak_in_flight.max(now_in_flight);
        let connecting_before = stats.connects_during.total_us;
        let mut attempts = 0;
        let result = loop {
            let request = templates[t].request(n);
            let sending = send(
                &mut conns[t],
                &plan.targets[t],
                request,
                &mut stats.connects_during,
            );
            let result = tokio::time::timeout(plan.timeout, sending).await;
            // Timed out or lost its connection: the outcome is unknown. The
            // same idempotency key makes sending it again safe.
            let unknown = matches!(
                result,
                Err(_)
                    | Ok(Err(TransportError::Timeout
                        | TransportError::Reset
                        | TransportError::Connect))
            );
            if unknown && attempts < plan.retry {
                attempts += 1;
                stats.retries += 1;
                conns[t] = None;
                continue;
            }
            break result;
        };
        in_flight.fetch_sub(1, Ordering::Relaxed);
        match result {
            Ok(Ok(answer)) => {
                let now = Instant::now();
                // A connect made for this request is counted apart.
                let connecting = stats.connects_during.total_us - connecting_before;
                let latency = (now - began).as_micros() as u64;
                stats.record(answer, latency.saturating_sub(connecting));
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::crowd::run;
    use crate::http::Target;
    use crate::request::{Knobs, Work};
    use crate::stats::{Answer, Outcome};

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
                buyers: None,
                duplicate_check: None,
                idempotent: false,
            },
            stop: Stop::Requests(requests),
            concurrency,
            rate: None,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            retry: 0,
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
    async fn every_worker_connects_before_the_crowd_and_ten_requests_are_ten_in_flight_at_most() {
        let (address, connections, _) = canned(&[409]).await;

        let stats = run(Arc::new(purchase_plan(&address, 10, 200)), Shared::new()).await;

        assert_eq!(connections.load(Ordering::Relaxed), 200);
        assert_eq!(stats.connects_before.opened(), 200);
        assert_eq!(stats.connects_before.histogram().len(), 200);
        assert_eq!(stats.connects_during.opened(), 0);
        assert_eq!(stats.completed(), 10);
        assert!(stats.peak_in_flight >= 1);
        let report = crate::report::ModeReport::new("redis", &stats, None);
        let in_flight = crate::report::Fairness::in_flight(200, &report.requests);
        assert!((1..=10).contains(&in_flight), "{in_flight}");
    }

    #[tokio::test]
    async fn a_connection_the_server_closes_is_opened_again_and_counted_apart() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => seen.extend_from_slice(&chunk[..read]),
                        }
                    }
                    let answer =
                        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });

        let stats = run(Arc::new(purchase_plan(&address, 20, 2)), Shared::new()).await;

        assert_eq!(stats.count(Answer::Other2xx), 20);
        assert_eq!(stats.connects_before.opened(), 2);
        // Every request but each worker's first needs a new connection.
        assert_eq!(stats.connects_during.opened(), 18);
        assert_eq!(stats.connects_during.histogram().len(), 18);
        assert_eq!(stats.latency_all().len(), 20);
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
        assert_eq!(stats.latency(Outcome::LockLost).len(), 20);
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
        let latency = stats.latency(Outcome::SoldOut);
        assert!(latency.max() >= stats.max_start_lag_us);
    }
}
