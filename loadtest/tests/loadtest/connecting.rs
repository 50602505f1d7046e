//! The crowd's connections: opened before its first request, and counted
//! apart from the requests' latency.

use std::sync::{Arc, Mutex};

use flashsale::testing::spawn_app;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::loadtest;

/// What a [`logging_proxy`] saw, in order: connection `n` accepted, or the
/// first byte of a request on connection `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Accepted(usize),
    FirstByte(usize),
}

/// A TCP proxy in front of `upstream` that logs when each connection was
/// accepted and when its first request byte arrived. One task keeps the log
/// and takes every connection waiting at the listener before it logs a first
/// byte, so a connection the kernel had set up before a request was sent is
/// logged before that request.
async fn logging_proxy(upstream: &str) -> (String, Arc<Mutex<Vec<Event>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    let log = Arc::new(Mutex::new(Vec::new()));
    let logged = log.clone();
    let (first_bytes, mut first_byte) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            tokio::select! {
                biased;
                accepted = listener.accept() => {
                    let Ok((mut client, _)) = accepted else { return };
                    logged.lock().unwrap().push(Event::Accepted(n));
                    let (upstream, first_bytes) = (upstream.clone(), first_bytes.clone());
                    tokio::spawn(async move {
                        if client.peek(&mut [0u8; 1]).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let _ = first_bytes.send(n);
                        let Ok(mut server) = TcpStream::connect(&upstream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                    n += 1;
                }
                Some(n) = first_byte.recv() => logged.lock().unwrap().push(Event::FirstByte(n)),
            }
        }
    });
    (address, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_is_open_before_the_first_request_and_its_connect_time_is_reported_apart()
{
    let app = spawn_app().await;
    let (proxy, log) = logging_proxy(&app.address).await;

    let run = loadtest(&[
        "--url",
        &proxy,
        "--get",
        "/healthz",
        "--requests",
        "300",
        "--concurrency",
        "40",
        "--format",
        "json",
    ])
    .await;

    assert_eq!(run.code(), Some(0), "{run:?}");
    // Connection 0 is the start-up check's; the crowd's 40 follow, every
    // one accepted before the first of them carried a request.
    let log = log.lock().unwrap().clone();
    let accepted = log
        .iter()
        .filter(|e| matches!(e, Event::Accepted(_)))
        .count();
    assert_eq!(accepted, 1 + 40, "{log:?}");
    let crowd_starts = log
        .iter()
        .position(|e| matches!(e, Event::FirstByte(n) if *n > 0))
        .expect("the crowd sent requests");
    let accepted_before = log[..crowd_starts]
        .iter()
        .filter(|e| matches!(e, Event::Accepted(n) if *n > 0))
        .count();
    assert_eq!(accepted_before, 40, "{log:?}");
    let get = &run.json().modes[0];
    let connecting = get.connecting.as_ref().expect("connections are reported");
    assert_eq!(
        (connecting.opened_before, connecting.failed_before),
        (40, 0)
    );
    assert_eq!(connecting.before_ms.as_ref().map(|l| l.count), Some(40));
    assert_eq!((connecting.opened_during, connecting.failed_during), (0, 0));
    assert_eq!(connecting.during_ms, None);
    // Every answer's latency is a request's alone.
    assert_eq!(get.latency_ms.all.as_ref().map(|l| l.count), Some(300));
    assert!((1..=40).contains(&get.requests.peak_in_flight));
}
