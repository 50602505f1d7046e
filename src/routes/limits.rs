//! What a request may be, and the API's JSON answer when it is not:
//!
//! * its target and its headers: at most [`MAX_URI_BYTES`] (414
//!   `uri_too_long`) and [`MAX_HEADER_BYTES`] (431 `headers_too_large`).
//!   Both sit far below what actix-http's parser itself refuses (a head over
//!   128 KiB or with more than 96 headers: a 431 with an empty body, like its
//!   400 for a request that is not HTTP and its 408 for a head that never
//!   ends — answers written before any of this code runs, and that actix-web
//!   offers no way to change);
//! * its body: at most [`MAX_BODY_BYTES`] (413 `payload_too_large`), whole
//!   within the request timeout (408 `request_timeout`: actix-http times out
//!   the head only), and one that parses (400 `invalid_body`, or
//!   `invalid_query` for the query string).

use std::io;
use std::pin::Pin;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PayloadError, UrlencodedError};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, HttpRequest, ResponseError};
use futures::{Stream, StreamExt};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::ApiError;

/// The longest request target (path and query) served.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) a request may carry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The largest JSON or form body read: the API's and the page's bodies are
/// a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 4096;

/// The limits' settings, shared by every worker.
pub struct RequestLimits {
    /// How long a request's head may take to arrive (actix-http's
    /// `client_request_timeout`), and then its body.
    pub timeout: Duration,
}

/// Middleware: refuse a target or headers too long, and give the body a
/// deadline.
pub async fn bound(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(error) = oversized(request.request()) {
        let response = error.error_response();
        return Ok(request.into_response(response).map_into_right_body());
    }
    let body_timeout = request
        .app_data::<web::Data<RequestLimits>>()
        .map(|limits| limits.timeout);
    if let Some(timeout) = body_timeout {
        let payload = request.take_payload();
        request.set_payload(with_deadline(payload, timeout));
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn oversized(request: &HttpRequest) -> Option<ApiError> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        });
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (headers > MAX_HEADER_BYTES).then_some(ApiError::HeadersTooLarge {
        limit: MAX_HEADER_BYTES,
    })
}

type BodyChunks = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// The body, failing with a timed-out I/O error once `timeout` has passed
/// without it all.
fn with_deadline(payload: Payload, timeout: Duration) -> Payload {
    if let Payload::None = payload {
        return payload;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let chunks = futures::stream::unfold(Some(payload), move |payload| async move {
        let mut payload = payload?;
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => {
                let late = io::Error::new(io::ErrorKind::TimedOut, "request body timed out");
                Some((Err(PayloadError::Io(late)), None))
            }
        }
    });
    let chunks: BodyChunks = Box::pin(chunks);
    Payload::Stream { payload: chunks }
}

/// A JSON body that must be an object. serde's derived structs also take a
/// sequence of their fields in order (`[5]` as `{"stock": 5}`), which no
/// client means; anything but an object is 400 `invalid_body`.
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let kind = match &value {
            Value::Object(_) => {
                return T::deserialize(value)
                    .map(JsonObject)
                    .map_err(D::Error::custom);
            }
            Value::Array(_) => "an array",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        };
        Err(D::Error::custom(format!(
            "expected a JSON object, got {kind}"
        )))
    }
}

/// The extractors' refusals, as the API's JSON.
pub fn extractor_errors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|error, _| {
        ApiError::bad_request("invalid_query", format!("malformed query string: {error}")).into()
    }))
    .app_data(
        web::JsonConfig::default()
            .limit(MAX_BODY_BYTES)
            .error_handler(|error, request| {
                match error {
                    JsonPayloadError::OverflowKnownLength { .. }
                    | JsonPayloadError::Overflow { .. } => too_large(),
                    JsonPayloadError::Payload(cause) => unreadable(cause, request, "JSON"),
                    other => malformed("JSON", other),
                }
                .into()
            }),
    )
    .app_data(
        web::FormConfig::default()
            .limit(MAX_BODY_BYTES)
            .error_handler(|error, request| {
                match error {
                    UrlencodedError::Overflow { .. } => too_large(),
                    UrlencodedError::Payload(cause) => unreadable(cause, request, "form"),
                    other => malformed("form", other),
                }
                .into()
            }),
    );
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge {
        limit: MAX_BODY_BYTES,
    }
}

fn malformed(kind: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_body", format!("malformed {kind} body: {error}"))
}

/// A body that could not be read: it stalled past its deadline, or the
/// client went away mid-way.
fn unreadable(cause: PayloadError, request: &HttpRequest, kind: &str) -> ApiError {
    let timed_out =
        matches!(&cause, PayloadError::Io(error) if error.kind() == io::ErrorKind::TimedOut);
    let timeout = request
        .app_data::<web::Data<RequestLimits>>()
        .map(|limits| limits.timeout);
    match timeout {
        Some(timeout) if timed_out => ApiError::RequestTimeout {
            millis: timeout.as_millis(),
        },
        _ => malformed(kind, cause),
    }
}
