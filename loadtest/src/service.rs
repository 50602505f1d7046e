//! The few calls to the service outside the crowd: is it there, reset the
//! product, does it accept this lock mode, and what did it really sell.
//! The service's own numbers are the truth, not the client's count of 2xx.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::http::{self, CallError, Target};

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
pub async fn reset(target: &Target, product: u64, stock: u64) -> anyhow::Result<Product> {
    let (status, body) = http::call(
        target,
        Method::POST,
        &target.path(&format!("/api/products/{product}/reset")),
        Some(format!("{{\"stock\":{stock}}}")),
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

/// Asks the service whether it accepts a purchase with this lock mode and
/// business step, before any crowd runs: with the product reset to stock 0, an
/// accepted purchase answers 409 sold out and creates no order, while an
/// unknown mode or an out-of-range `work_ms` answers 400.
pub async fn probe_mode(
    target: &Target,
    product: u64,
    mode: &str,
    work_ms: u64,
    run_id: &str,
) -> anyhow::Result<()> {
    let path = target.path(&format!(
        "/api/products/{product}/purchase?lock={mode}&work_ms={work_ms}&user=lt-{run_id}-probe"
    ));
    let timeout = CALL_TIMEOUT + Duration::from_millis(work_ms);
    let (status, body) = http::call(target, Method::POST, &path, None, timeout)
        .await
        .map_err(|e| unreachable(target, e))?;
    match status.as_u16() {
        409 | 201 | 429 => Ok(()),
        400 => bail!(
            "the service does not accept lock={mode} with work_ms={work_ms}: {}",
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
