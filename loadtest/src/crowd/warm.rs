//! Before the crowd starts: every worker opens its connections, at most
//! [`CONNECTS_AT_ONCE`] at a time across the crowd, each within
//! `--connect-timeout`. The crowd's clock starts once all are open, so a
//! request's latency never holds a connect, and a crowd of hundreds never
//! floods the service's listen queue with its SYNs at once.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::Empty;
use tokio::sync::Semaphore;

use super::Plan;
use crate::http::Conn;
use crate::stats::Connects;

/// Connects in progress at once while the crowd warms up: well under a
/// listen backlog (Linux's `somaxconn` defaults to 4096, many services ask
/// for 128 to 1024), and enough that a few hundred connections open in
/// milliseconds on loopback.
pub const CONNECTS_AT_ONCE: usize = 32;

/// One connection per target for one worker (`None` where the connect failed:
/// the worker's first request there connects again and counts its error).
pub(super) async fn open_connections(
    plan: &Plan,
    gate: &Semaphore,
    connects: &mut Connects,
) -> Vec<Option<Conn<Empty<Bytes>>>> {
    let mut conns = Vec::with_capacity(plan.targets.len());
    for target in &plan.targets {
        let _permit = gate.acquire().await.expect("the gate is never closed");
        let began = Instant::now();
        match tokio::time::timeout(plan.connect_timeout, Conn::open(target)).await {
            Ok(Ok(conn)) => {
                connects.record(began.elapsed());
                conns.push(Some(conn));
            }
            Ok(Err(_)) | Err(_) => {
                connects.failed += 1;
                conns.push(None);
            }
        }
    }
    conns
}
