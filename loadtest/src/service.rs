//! The few calls to the service outside the crowd: is it there, which lock
//! strategies does it have, reset the product, does it accept this lock mode,
//! what did it really sell, and what do its metrics say.
//! The service's own numbers are the truth, not the client's count of 2xx.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};

use crate::catalogue::{Catalogue, Strategy};
use crate::http::{self, CallError, Target};
use crate::metrics::{self, Exposition};
use crate::request::Knobs;

/// A product as `GET /api/products/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub initial_stock: i64,
    pub stock: i64,
    pub orders: i64,
    pub oversold: i64,
    pub lost_updates: i64,
    /// Orders beyond a buyer's limit (older services: absent, 0).
    #[serde(default)]
    pub duplicates: i64,
    /// Orders accepted (202) and not yet written: `None` when the service
    /// has no such field (an older one: it has no queue), `Some(None)` when
    /// it could not ask Redis (`"queued": null`), `Some(Some(n))` else.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub queued: Option<Option<i64>>,
}

/// A field that is there, `null` or not: absent stays `None` (`default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

impl Product {
    /// Orders still queued, as far as this reading tells: 0 from a service
    /// without a queue, `None` when it could not say.
    pub fn queued_now(&self) -> Option<i64> {
        match self.queued {
            None => Some(0),
            Some(queued) => queued,
        }
    }
}

/// The service's error body: `{"error": "<code>", "message": "<text>"}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: String,
}

/// `"404 product_not_found: no product 7"`, or the raw body if it is not the
/// service's error shape.
fn describe_answer(status: StatusCode, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) if e.message.is_empty() => format!("{} {}", status.as_u16(), e.error),
        Ok(e) => format!("{} {}: {}", status.as_u16(), e.error, e.message),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.to_string()
            } else {
                format!(
                    "{} {}",
                    status.as_u16(),
                    text.chars().take(200).collect::<String>()
                )
            }
        }
    }
}

/// How long an out-of-band call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

fn unreachable(target: &Target, err: CallError) -> anyhow::Error {
    anyhow!("cannot reach {target}: {err}")
}

/// `GET /healthz` on every target: one clear error for the first that does not
/// answer 200.
pub async fn check_reachable(targets: &[Target]) -> anyhow::Result<()> {
    for target in targets {
        let (status, body) = http::call(
            target,
            Method::GET,
            &target.path("/healthz"),
            None,
            CALL_TIMEOUT,
        )
        .await
        .map_err(|e| unreachable(target, e))?;
        if status != StatusCode::OK {
            bail!(
                "{target} is not healthy: GET /healthz answered {}",
                describe_answer(status, &body)
            );
        }
    }
    Ok(())
}

/// `POST /api/products/{id}/reset` with `{"stock": N}`: stock and initial
/// stock become N and the product's orders are deleted.
pub async fn reset(
    target: &Target,
    product: u64,
    stock: u64,
    per_buyer: Option<u64>,
) -> anyhow::Result<Product> {
    let body = match per_buyer {
        Some(limit) => format!("{{\"stock\":{stock},\"per_buyer\":{limit}}}"),
        None => format!("{{\"stock\":{stock}}}"),
    };
    let (status, body) = http::call(
        target,
        Method::POST,
        &target.path(&format!("/api/products/{product}/reset")),
        Some(body),
        CALL_TIMEOUT,
    )
    .await
    .map_err(|e| unreachable(target, e))?;
    match status {
        StatusCode::OK => serde_json::from_slice(&body)
            .with_context(|| format!("{target}: the reset answered a body that is not a product")),
        StatusCode::NOT_FOUND => bail!(
            "product {product} does not exist at {target} ({})",
            describe_answer(status, &body)
        ),
        _ => bail!(
            "{target} refused to reset product {product} to stock {stock}: {}",
            describe_answer(status, &body)
        ),
    }
}

/// `GET /api/strategies`: the service's catalogue of lock strategies, or
/// `None` from an older service that has none (404).
pub async fn catalogue(target: &Target) -> anyhow::Result<Option<Catalogue>> {
    let (status, body) = http::call(
        target,
        Method::GET,
        &target.path("/api/strategies"),
        None,
        CALL_TIMEOUT,
    )
    .await
    .map_err(|e| unreachable(target, e))?;
    match status {
        StatusCode::OK => {
            let strategies: Vec<Strategy> = serde_json::from_slice(&body).with_context(|| {
                format!(
                    "{target}: GET /api/strategies answered a body that is not a list of strategies"
                )
            })?;
            Ok(Some(Catalogue {
                url: target.url.clone(),
                strategies,
            }))
        }
        StatusCode::NOT_FOUND => Ok(None),
        _ => bail!(
            "{target}: GET /api/strategies answered {}",
            describe_answer(status, &body)
        ),
    }
}

/// Asks the service whether it accepts a purchase with this lock mode and
/// these knobs, before any crowd runs: with the product reset to stock 0, an
/// accepted purchase answers 409 sold out (before any pause or business step)
/// and creates no order, while an unknown mode or an out-of-range knob
/// answers 400.
pub async fn probe_mode(
    target: &Target,
    product: u64,
    mode: &str,
    knobs: &Knobs,
    run_id: &str,
) -> anyhow::Result<()> {
    let query = knobs.query();
    let path = target.path(&format!(
        "/api/products/{product}/purchase?lock={mode}&{query}&user=lt-{run_id}-probe"
    ));
    let timeout = CALL_TIMEOUT + Duration::from_millis(knobs.slowest_ms());
    let (status, body) = http::call(target, Method::POST, &path, None, timeout)
        .await
        .map_err(|e| unreachable(target, e))?;
    match status.as_u16() {
        409 | 201 | 429 => Ok(()),
        400 => bail!(
            "the service does not accept lock={mode} with {}: {}",
            query.replace('&', ", "),
            describe_answer(status, &body)
        ),
        _ => bail!(
            "a test purchase with lock={mode} at {target} answered {}",
            describe_answer(status, &body)
        ),
    }
}

/// `GET /api/products/{id}`: what the service really sold.
pub async fn product(target: &Target, product: u64) -> anyhow::Result<Product> {
    let (status, body) = http::call(
        target,
        Method::GET,
        &target.path(&format!("/api/products/{product}")),
        None,
        CALL_TIMEOUT,
    )
    .await
    .map_err(|e| unreachable(target, e))?;
    if status != StatusCode::OK {
        bail!(
            "{target}: reading product {product} back answered {}",
            describe_answer(status, &body)
        );
    }
    serde_json::from_slice(&body)
        .with_context(|| format!("{target}: product {product} came back in an unexpected shape"))
}

/// `GET /metrics`, parsed. An instance without it (an older flashsale) or
/// with a page that is not Prometheus text is not an error of the run: the
/// `Err` is the reason, for a note.
pub async fn metrics(target: &Target) -> Result<Exposition, String> {
    let (status, body) = http::call(
        target,
        Method::GET,
        &target.path("/metrics"),
        None,
        CALL_TIMEOUT,
    )
    .await
    .map_err(|e| format!("cannot read {target}/metrics: {e}"))?;
    match status {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Err(format!("{target} has no GET /metrics (404)")),
        _ => {
            return Err(format!(
                "{target}: GET /metrics answered {}",
                describe_answer(status, &body)
            ));
        }
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| format!("{target}: GET /metrics is not text"))?;
    metrics::parse(text).map_err(|e| format!("{target}: GET /metrics is not Prometheus text ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_described_by_status_code_and_message() {
        let body = br#"{"error":"bad_request","message":"unknown lock mode `zk`"}"#;
        assert_eq!(
            describe_answer(StatusCode::BAD_REQUEST, body),
            "400 bad_request: unknown lock mode `zk`"
        );
        assert_eq!(
            describe_answer(StatusCode::BAD_GATEWAY, b""),
            "502 Bad Gateway"
        );
        assert_eq!(
            describe_answer(StatusCode::SERVICE_UNAVAILABLE, b"down"),
            "503 down"
        );
    }

    #[test]
    fn a_product_parses_from_the_service_json() {
        let json = r#"{"id":1,"name":"Phone","initial_stock":100,"stock":0,"orders":137,"oversold":37,"lost_updates":37}"#;
        let product: Product = serde_json::from_str(json).unwrap();
        assert_eq!(product.orders, 137);
        assert_eq!(product.oversold, 37);
    }

    #[test]
    fn queued_tells_an_older_service_from_one_that_cannot_ask_redis() {
        let older =
            r#"{"id":1,"initial_stock":5,"stock":5,"orders":0,"oversold":0,"lost_updates":0}"#;
        let product: Product = serde_json::from_str(older).unwrap();
        assert_eq!((product.queued, product.queued_now()), (None, Some(0)));

        let unknown = r#"{"id":1,"initial_stock":5,"stock":5,"orders":0,"oversold":0,"lost_updates":0,"queued":null}"#;
        let product: Product = serde_json::from_str(unknown).unwrap();
        assert_eq!((product.queued, product.queued_now()), (Some(None), None));

        let queued = r#"{"id":1,"initial_stock":5,"stock":5,"orders":0,"oversold":0,"lost_updates":0,"queued":3}"#;
        let product: Product = serde_json::from_str(queued).unwrap();
        assert_eq!(product.queued_now(), Some(3));
        // And it reads back as written.
        let again: Product =
            serde_json::from_str(&serde_json::to_string(&product).unwrap()).unwrap();
        assert_eq!(again, product);
    }

    /// A server that answers every request with `answer` (a whole HTTP/1.1
    /// response) and closes.
    async fn answering(answer: &'static str) -> Target {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        target
    }

    #[tokio::test]
    async fn an_older_service_without_a_catalogue_has_none() {
        let target = answering("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await;

        assert_eq!(catalogue(&target).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_catalogue_is_read_in_the_services_order() {
        let target = answering(concat!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 104\r\n\r\n",
            r#"[{"name":"none","safe":false},{"name":"redlock","safe":true,"available":false,"unavailable_reason":"x"}]"#
        ))
        .await;

        let catalogue = catalogue(&target).await.unwrap().unwrap();

        let names: Vec<_> = catalogue
            .strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["none", "redlock"]);
        assert!(!catalogue.get("redlock").unwrap().available);
        assert_eq!(catalogue.url, target.url);
    }

    #[tokio::test]
    async fn a_catalogue_that_fails_is_a_clear_error() {
        let target = answering(concat!(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 52\r\n\r\n",
            r#"{"error":"internal_error","message":"it went wrong"}"#
        ))
        .await;

        let error = catalogue(&target).await.unwrap_err();

        assert_eq!(
            error.to_string(),
            format!("{target}: GET /api/strategies answered 500 internal_error: it went wrong")
        );
    }

    #[tokio::test]
    async fn metrics_are_read_or_the_reason_they_are_not_is_given() {
        let page = "# TYPE flashsale_locks_expired_total counter\nflashsale_locks_expired_total{strategy=\"redis\"} 3\n";
        let answer: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\n\r\n{page}",
                page.len()
            )
            .into_boxed_str(),
        );
        let target = answering(answer).await;
        let exposition = metrics(&target).await.unwrap();
        assert_eq!(exposition.samples[0].value, 3.0);

        let target = answering("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await;
        assert_eq!(
            metrics(&target).await.unwrap_err(),
            format!("{target} has no GET /metrics (404)")
        );

        let target =
            answering("HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n<html>hi</html>").await;
        assert_eq!(
            metrics(&target).await.unwrap_err(),
            format!(
                "{target}: GET /metrics is not Prometheus text (line 1: no metric name at the start of `<html>hi</html>`)"
            )
        );
    }

    #[tokio::test]
    async fn an_unreachable_service_gives_one_clear_line() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let target = Target::parse(&url).unwrap();

        let err = check_reachable(&[target]).await.unwrap_err();

        assert_eq!(
            err.to_string(),
            format!("cannot reach {url}: connection refused")
        );
    }
}
