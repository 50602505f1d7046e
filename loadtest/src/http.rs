//! The HTTP plumbing shared by the crowd and the calls around it: parsed
//! target URLs, one keep-alive HTTP/1.1 connection to one target (hyper's
//! low-level connection API, as oha does), and the classification of
//! transport errors into the kinds the report counts.

use std::fmt;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One flashsale instance: a parsed `http://host:port[/base]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given, without a trailing slash (used in messages and reports).
    pub url: String,
    host: String,
    port: u16,
    host_header: HeaderValue,
    base_path: String,
}

impl Target {
    /// Parses a base URL. Only plain `http` is supported: the generator is meant
    /// for a service on this machine, and TLS would measure the handshake.
    pub fn parse(input: &str) -> Result<Target, String> {
        let trimmed = input.trim().trim_end_matches('/');
        let uri: Uri = trimmed
            .parse()
            .map_err(|e| format!("`{input}` is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(format!(
                    "`{input}`: only http:// is supported, not {other}://"
                ));
            }
            None => return Err(format!("`{input}`: write the scheme, e.g. http://{input}")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{input}` has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{input}`: credentials in the URL are not supported"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("`{input}`: a base URL takes no query string"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = authority.port_u16().unwrap_or(80);
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|e| format!("`{input}`: bad host: {e}"))?;
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Target {
            url: trimmed.to_string(),
            host,
            port,
            host_header,
            base_path,
        })
    }

    /// The request target for `path` (which starts with `/`), in origin form.
    pub fn path(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path)
    }

    /// The base path prefix (empty, or `/something`).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    pub fn host_header(&self) -> &HeaderValue {
        &self.host_header
    }

    /// The host to connect to (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// What went wrong below HTTP, as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// The TCP connection (or the HTTP handshake) could not be made.
    Connect,
    /// No complete answer within `--timeout`.
    Timeout,
    /// The connection was reset or closed before the answer was complete.
    Reset,
    /// Anything else (a malformed answer, ...).
    Other,
}

impl TransportError {
    /// The position of this kind in per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Sorts a hyper error into a [`TransportError`] kind.
pub fn classify(err: &hyper::Error) -> TransportError {
    if err.is_timeout() {
        return TransportError::Timeout;
    }
    if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
        return TransportError::Reset;
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(io_err) = cause.downcast_ref::<io::Error>() {
            return classify_io(io_err);
        }
        source = cause.source();
    }
    TransportError::Other
}

/// Sorts an I/O error into a [`TransportError`] kind.
pub fn classify_io(err: &io::Error) -> TransportError {
    match err.kind() {
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::AddrNotAvailable
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable => TransportError::Connect,
        io::ErrorKind::TimedOut => TransportError::Timeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => TransportError::Reset,
        _ => TransportError::Other,
    }
}

/// One keep-alive HTTP/1.1 connection to one target: a crowd worker keeps one
/// per target; the calls outside the crowd open one per call.
pub struct Conn<B> {
    sender: SendRequest<B>,
}

impl<B> Conn<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// Opens a TCP connection (no Nagle) and does the HTTP/1.1 handshake; the
    /// connection's I/O runs on its own task until the `Conn` is dropped or
    /// the peer closes.
    pub async fn open(target: &Target) -> io::Result<Conn<B>> {
        let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the peer closes; errors are
            // seen by the request that was in flight.
            let _ = connection.await;
        });
        Ok(Conn { sender })
    }

    /// True when the connection is gone (the peer closed it while it was
    /// idle, or it answered `connection: close`).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Waits until the connection can take a request. An error here means the
    /// request was never sent, so a fresh connection may be tried.
    pub async fn ready(&mut self) -> Result<(), hyper::Error> {
        self.sender.ready().await
    }

    /// Sends one request and reads its whole answer (so the connection can be
    /// reused); returns the status and, if `keep_body` says so for that
    /// status, the body (else an empty one). Call [`Conn::ready`] first when
    /// the connection was used before.
    pub async fn send(
        &mut self,
        request: Request<B>,
        keep_body: impl FnOnce(StatusCode) -> bool,
    ) -> Result<(StatusCode, Bytes), hyper::Error> {
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let mut body = response.into_body();
        if keep_body(status) {
            let bytes = body.collect().await?.to_bytes();
            return Ok((status, bytes));
        }
        // Frame by frame, each dropped at once: nothing is gathered.
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok((status, Bytes::new()))
    }
}

/// Builds a request for `target` with an origin-form `path_and_query`.
pub fn request(
    target: &Target,
    method: Method,
    path_and_query: &str,
    json_body: Option<String>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(HOST, target.host_header().clone());
    let body = match json_body {
        Some(json) => {
            builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Full::new(Bytes::from(json))
        }
        None => Full::new(Bytes::new()),
    };
    builder
        .body(body)
        .expect("a request built from a parsed target and an origin-form path is valid")
}

/// Why a one-off call to the service failed.
#[derive(Debug)]
pub enum CallError {
    Connect(io::Error),
    Timeout(Duration),
    Http(hyper::Error),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Connect(e) => f.write_str(&describe_io(e)),
            CallError::Timeout(d) => write!(f, "no answer within {} s", d.as_secs_f64()),
            CallError::Http(e) => match classify(e) {
                TransportError::Reset => f.write_str("connection closed before the answer"),
                _ => write!(f, "{e}"),
            },
        }
    }
}

impl std::error::Error for CallError {}

/// A short human description of an I/O error ("connection refused").
pub fn describe_io(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::TimedOut => "connection timed out".to_string(),
        io::ErrorKind::ConnectionReset => "connection reset".to_string(),
        _ => {
            // Drop the "(os error N)" suffix and lower-case the first letter.
            let text = err.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// One request on a fresh connection, answer read whole: for the few
/// out-of-band calls (health, reset, read-back), never for the crowd.
pub async fn call(
    target: &Target,
    method: Method,
    path_and_query: &str,
    json_body: Option<String>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), CallError> {
    let exchange = async {
        let mut conn: Conn<Full<Bytes>> = Conn::open(target).await.map_err(CallError::Connect)?;
        let request = request(target, method, path_and_query, json_body);
        conn.send(request, |_| true).await.map_err(CallError::Http)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout(timeout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_loopback_url_parses_with_its_port_and_host_header() {
        let target = Target::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(target.url, "http://127.0.0.1:8080");
        assert_eq!(target.host, "127.0.0.1");
        assert_eq!(target.port, 8080);
        assert_eq!(target.host_header(), "127.0.0.1:8080");
        assert_eq!(target.path("/healthz"), "/healthz");
    }

    #[test]
    fn a_url_without_port_uses_80_and_keeps_its_base_path() {
        let target = Target::parse("http://localhost/shop/").unwrap();
        assert_eq!(target.port, 80);
        assert_eq!(target.base_path(), "/shop");
        assert_eq!(target.path("/api/products/1"), "/shop/api/products/1");
    }

    #[test]
    fn an_ipv6_loopback_url_connects_to_the_bare_address() {
        let target = Target::parse("http://[::1]:9000").unwrap();
        assert_eq!(target.host, "::1");
        assert_eq!(target.host_header(), "[::1]:9000");
    }

    #[test]
    fn https_and_scheme_less_urls_are_refused_with_a_reason() {
        assert!(
            Target::parse("https://127.0.0.1")
                .unwrap_err()
                .contains("only http://")
        );
        assert!(Target::parse("127.0.0.1:8080").is_err());
        assert!(Target::parse("http://127.0.0.1:8080/?a=b").is_err());
    }

    #[test]
    fn io_errors_are_sorted_into_the_reported_kinds() {
        let kind = |k| classify_io(&io::Error::from(k));
        assert_eq!(
            kind(io::ErrorKind::ConnectionRefused),
            TransportError::Connect
        );
        assert_eq!(kind(io::ErrorKind::ConnectionReset), TransportError::Reset);
        assert_eq!(kind(io::ErrorKind::BrokenPipe), TransportError::Reset);
        assert_eq!(kind(io::ErrorKind::TimedOut), TransportError::Timeout);
        assert_eq!(kind(io::ErrorKind::InvalidData), TransportError::Other);
    }

    #[test]
    fn a_refused_connection_is_described_in_plain_words() {
        let err = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(describe_io(&err), "connection refused");
    }
}
