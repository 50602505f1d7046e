//! One request on a worker's keep-alive connection, read whole and sorted
//! into an [`Answer`].

use std::time::Instant;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::{Request, StatusCode};

use crate::http::{Conn, Target, TransportError, classify, classify_io};
use crate::stats::{Answer, Connects};

/// Sends one request on the slot's connection, opening one if needed, and
/// reads the whole answer so the connection stays reusable; returns it
/// sorted into an [`Answer`] (only a 409's body is kept, for its error code).
/// Never retries once the request may have reached the service: a
/// purchase is not idempotent. A connection the server closed while it sat
/// idle (or after a `connection: close` answer) is replaced before anything
/// is sent on it; each connection opened here is counted in `connects`
/// with its connect time.
pub(super) async fn send(
    slot: &mut Option<Conn<Empty<Bytes>>>,
    target: &Target,
    request: Request<Empty<Bytes>>,
    connects: &mut Connects,
) -> Result<Answer, TransportError> {
    if slot.as_ref().is_some_and(Conn::is_closed) {
        *slot = None;
    }
    let mut fresh = slot.is_none();
    let conn = loop {
        let conn = match slot {
            Some(conn) => conn,
            None => {
                let began = Instant::now();
                let opened = Conn::open(target).await.map_err(|e| {
                    connects.failed += 1;
                    match classify_io(&e) {
                        TransportError::Timeout => TransportError::Timeout,
                        // A failed connect is a connect error whatever its cause.
                        _ => TransportError::Connect,
                    }
                })?;
                connects.record(began.elapsed());
                slot.insert(opened)
            }
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::request::{RequestTemplate, Work};

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
            assert_eq!(
                send(&mut slot, &target, get(&target), &mut Connects::new()).await,
                Ok(expected)
            );
        }
        assert_eq!(connections.load(Ordering::Relaxed), 1);
        // `connection: close`: the next request goes on a new connection.
        assert_eq!(
            send(&mut slot, &target, get(&target), &mut Connects::new()).await,
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
            send(&mut slot, &target, get(&target), &mut Connects::new()).await,
            Ok(Answer::Other2xx)
        );
        assert_eq!(
            send(&mut slot, &target, get(&target), &mut Connects::new()).await,
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
            send(&mut None, &target, get(&target), &mut Connects::new()).await,
            Err(TransportError::Reset)
        );

        let (target, _) = scripted(vec![vec![b"SMTP ready\r\n\r\n"]]).await;
        assert_eq!(
            send(&mut None, &target, get(&target), &mut Connects::new()).await,
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
            send(&mut slot, &target, get(&target), &mut Connects::new()).await,
            Ok(Answer::Other2xx)
        );

        // The scripted server closes after its last answer.
        tokio::time::sleep(Duration::from_millis(50)).await;

        assert_eq!(
            send(&mut slot, &target, get(&target), &mut Connects::new()).await,
            Ok(Answer::Other2xx)
        );
        assert_eq!(connections.load(Ordering::Relaxed), 2);
    }
}
