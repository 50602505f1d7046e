//! The crowd's HTTP/1.1 client: one keep-alive connection, one request at a
//! time, written and read by the worker's own task.
//!
//! This is wrk's design rather than a general client's: the request is a
//! reused byte buffer, the answer is read into a reused buffer, its head is
//! parsed in place (`httparse`) and its body skipped. No allocation, no channel
//! and no second task per request, so a request costs about one `write` and one
//! `read`. It speaks only what the crowd needs (no TLS, no pipelining, no
//! `Expect`), but reads any answer framing: `Content-Length`, chunked, or
//! until the connection closes. The few calls outside the crowd use hyper
//! ([`crate::http`]).

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http::{Target, TransportError, classify_io};

/// Headers an answer may have; flashsale sends about five.
const MAX_HEADERS: usize = 64;
/// The largest answer head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// After this long unused, a connection is checked for a close by the server
/// before a request is written on it.
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(500);

/// A request in wire form, built once per worker and patched per request.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// Everything up to the per-request part (method, path, query prefix).
    head: Vec<u8>,
    /// Everything after it (the rest of the request line, headers).
    tail: Vec<u8>,
}

impl RequestTemplate {
    /// `METHOD {path_prefix}{n} HTTP/1.1` with `Host` and an empty body;
    /// `n` is appended by [`RequestTemplate::write`] when `numbered`.
    pub fn new(method: &str, target: &Target, path_prefix: &str) -> RequestTemplate {
        let host = target.host_header().to_str().unwrap_or("localhost");
        let content_length = if method == "POST" || method == "PUT" {
            "content-length: 0\r\n"
        } else {
            ""
        };
        RequestTemplate {
            head: format!("{method} {path_prefix}").into_bytes(),
            tail: format!(" HTTP/1.1\r\nhost: {host}\r\n{content_length}accept: */*\r\n\r\n")
                .into_bytes(),
        }
    }

    /// Writes the request into `out` (cleared first), with `n` after the
    /// prefix when given.
    pub fn write(&self, out: &mut Vec<u8>, n: Option<u64>) {
        out.clear();
        out.extend_from_slice(&self.head);
        if let Some(n) = n {
            push_decimal(out, n);
        }
        out.extend_from_slice(&self.tail);
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// One keep-alive connection.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Unconsumed bytes are `buffer[start..end]`.
    start: usize,
    end: usize,
    last_used: Instant,
    /// Requests answered on this connection.
    used: u64,
}

/// How the answer's body is framed.
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

impl Connection {
    pub async fn open(target: &Target) -> io::Result<Connection> {
        let stream = TcpStream::connect((target.host(), target.port())).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            last_used: Instant::now(),
            used: 0,
        })
    }

    /// False when the connection was used before and has sat idle long enough
    /// that the server may have closed it (and did: an EOF or stray bytes are
    /// waiting). Costs one non-blocking read, only after an idle spell.
    pub fn still_open(&mut self) -> bool {
        if self.used == 0 || self.last_used.elapsed() < IDLE_CHECK_AFTER {
            return true;
        }
        let mut probe = [0u8; 1];
        matches!(
            self.stream.try_read(&mut probe),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        )
    }

    /// Writes `request`, reads the whole answer, returns its status. The
    /// connection must be dropped after an error. `Ok((status, reusable))`:
    /// `reusable` is false when the server closes the connection after it.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<(u16, bool), TransportError> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| write_error(&e))?;
        let (status, framing, mut keep_alive) = loop {
            if let Some(head) = self.parse_head()? {
                // 1xx answers are followed by the real one.
                if head.0 >= 200 {
                    break head;
                }
                continue;
            }
            self.fill().await?;
        };
        match framing {
            Framing::Length(length) => self.skip(length).await?,
            Framing::Chunked => self.skip_chunked().await?,
            Framing::UntilClose => {
                self.skip_until_close().await?;
                keep_alive = false;
            }
        }
        self.last_used = Instant::now();
        self.used += 1;
        Ok((status, keep_alive))
    }

    /// Parses an answer head from the buffer, if a whole one is there.
    fn parse_head(&mut self) -> Result<Option<(u16, Framing, bool)>, TransportError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response
            .parse(&self.buffer[self.start..self.end])
            .map_err(|_| TransportError::Other)?;
        let httparse::Status::Complete(length) = parsed else {
            if self.end - self.start >= MAX_HEAD {
                return Err(TransportError::Other);
            }
            return Ok(None);
        };
        let status = response.code.ok_or(TransportError::Other)?;
        let mut keep_alive = response.version == Some(1);
        let mut framing = Framing::UntilClose;
        if status < 200 || status == 204 || status == 304 {
            framing = Framing::Length(0);
        }
        for header in response.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                if let Framing::UntilClose = framing {
                    let value = std::str::from_utf8(header.value)
                        .ok()
                        .and_then(|v| v.trim().parse().ok())
                        .ok_or(TransportError::Other)?;
                    framing = Framing::Length(value);
                }
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                if contains_token(header.value, b"chunked") {
                    framing = Framing::Chunked;
                }
            } else if header.name.eq_ignore_ascii_case("connection") {
                if contains_token(header.value, b"close") {
                    keep_alive = false;
                } else if contains_token(header.value, b"keep-alive") {
                    keep_alive = true;
                }
            }
        }
        self.start += length;
        Ok(Some((status, framing, keep_alive)))
    }

    /// Reads more bytes into the buffer; EOF is a reset (the answer is not
    /// complete).
    async fn fill(&mut self) -> Result<(), TransportError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buffer.len() {
            if self.start > 0 {
                self.buffer.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = self.buffer.len() * 2;
                self.buffer.resize(grown, 0);
            }
        }
        let read = self
            .stream
            .read(&mut self.buffer[self.end..])
            .await
            .map_err(|e| classify_io(&e))?;
        if read == 0 {
            return Err(TransportError::Reset);
        }
        self.end += read;
        Ok(())
    }

    /// Drops `length` body bytes.
    async fn skip(&mut self, mut length: u64) -> Result<(), TransportError> {
        loop {
            let available = (self.end - self.start) as u64;
            if available >= length {
                self.start += length as usize;
                return Ok(());
            }
            length -= available;
            self.start = self.end;
            self.fill().await?;
        }
    }

    /// Reads one CRLF-terminated line of the chunked framing, returns it
    /// without the CRLF.
    async fn line(&mut self) -> Result<Vec<u8>, TransportError> {
        loop {
            let pending = &self.buffer[self.start..self.end];
            if let Some(at) = pending.windows(2).position(|w| w == b"\r\n") {
                let line = pending[..at].to_vec();
                self.start += at + 2;
                return Ok(line);
            }
            if pending.len() >= MAX_HEAD {
                return Err(TransportError::Other);
            }
            self.fill().await?;
        }
    }

    async fn skip_chunked(&mut self) -> Result<(), TransportError> {
        loop {
            let line = self.line().await?;
            let size = line.split(|&b| b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size)
                .ok()
                .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                .ok_or(TransportError::Other)?;
            if size == 0 {
                // Trailers, up to an empty line.
                while !self.line().await?.is_empty() {}
                return Ok(());
            }
            self.skip(size).await?;
            if !self.line().await?.is_empty() {
                return Err(TransportError::Other);
            }
        }
    }

    async fn skip_until_close(&mut self) -> Result<(), TransportError> {
        loop {
            self.start = 0;
            self.end = 0;
            let read = self
                .stream
                .read(&mut self.buffer)
                .await
                .map_err(|e| classify_io(&e))?;
            if read == 0 {
                return Ok(());
            }
        }
    }
}

/// A failed write on a connection is the peer closing it, mostly.
fn write_error(err: &io::Error) -> TransportError {
    match classify_io(err) {
        TransportError::Other => TransportError::Reset,
        kind => kind,
    }
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    #[test]
    fn a_numbered_request_is_the_prefix_the_number_and_the_headers() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let template = RequestTemplate::new("POST", &target, "/buy?user=u-");
        let mut out = Vec::new();
        template.write(&mut out, Some(1207));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "POST /buy?user=u-1207 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-length: 0\r\naccept: */*\r\n\r\n"
        );
        template.write(&mut out, Some(0));
        assert!(out.starts_with(b"POST /buy?user=u-0 HTTP/1.1\r\n"));
        let get = RequestTemplate::new("GET", &target, "/healthz");
        get.write(&mut out, None);
        assert!(out.starts_with(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:8080\r\naccept"));
    }

    #[test]
    fn connection_tokens_are_matched_in_lists_without_case() {
        assert!(contains_token(b"Keep-Alive, Upgrade", b"keep-alive"));
        assert!(contains_token(b"gzip, chunked", b"chunked"));
        assert!(!contains_token(b"closed", b"close"));
    }

    /// A server that writes `answers` (raw bytes, one per request) and then
    /// closes; returns the address.
    async fn scripted(answers: Vec<&'static [u8]>) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut chunk = [0u8; 1024];
            for answer in answers {
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    let read = socket.read(&mut chunk).await.unwrap();
                    if read == 0 {
                        return;
                    }
                    seen.extend_from_slice(&chunk[..read]);
                }
                let end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                seen.drain(..end + 4);
                // Split the answer in two writes to exercise partial reads.
                let half = answer.len() / 2;
                socket.write_all(&answer[..half]).await.unwrap();
                socket.flush().await.unwrap();
                tokio::task::yield_now().await;
                socket.write_all(&answer[half..]).await.unwrap();
            }
        });
        target
    }

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n";

    #[tokio::test]
    async fn answers_framed_by_length_and_by_chunks_are_read_whole_on_one_connection() {
        let target = scripted(vec![
            b"HTTP/1.1 201 Created\r\ncontent-length: 13\r\n\r\n{\"order\":\"x\"}",
            b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\nTrailer: t\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nretry-after: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
        ])
        .await;
        let mut conn = Connection::open(&target).await.unwrap();

        assert_eq!(conn.exchange(REQUEST).await, Ok((201, true)));
        assert_eq!(conn.exchange(REQUEST).await, Ok((409, true)));
        assert_eq!(conn.exchange(REQUEST).await, Ok((429, true)));
        assert_eq!(conn.exchange(REQUEST).await, Ok((204, true)));
        assert_eq!(conn.exchange(REQUEST).await, Ok((503, false)));
        assert_eq!(conn.start, conn.end, "nothing left over");
    }

    #[tokio::test]
    async fn an_answer_without_length_is_read_until_the_server_closes() {
        let target = scripted(vec![b"HTTP/1.1 200 OK\r\n\r\nsome body"]).await;
        let mut conn = Connection::open(&target).await.unwrap();

        assert_eq!(conn.exchange(REQUEST).await, Ok((200, false)));
    }

    #[tokio::test]
    async fn a_truncated_answer_is_a_reset_and_garbage_is_other() {
        let target = scripted(vec![b"HTTP/1.1 201 Created\r\ncontent-length: 50\r\n\r\n{"]).await;
        let mut conn = Connection::open(&target).await.unwrap();
        assert_eq!(conn.exchange(REQUEST).await, Err(TransportError::Reset));

        let target = scripted(vec![b"SMTP ready\r\n\r\n"]).await;
        let mut conn = Connection::open(&target).await.unwrap();
        assert_eq!(conn.exchange(REQUEST).await, Err(TransportError::Other));
    }

    #[tokio::test]
    async fn an_idle_connection_closed_by_the_server_is_noticed_before_writing() {
        let target = scripted(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"]).await;
        let mut conn = Connection::open(&target).await.unwrap();
        assert_eq!(conn.exchange(REQUEST).await, Ok((200, true)));
        assert!(conn.still_open(), "just used");

        // The scripted server closes after its last answer.
        conn.last_used = Instant::now() - IDLE_CHECK_AFTER * 2;
        tokio::time::sleep(Duration::from_millis(50)).await;

        assert!(!conn.still_open());
    }
}
