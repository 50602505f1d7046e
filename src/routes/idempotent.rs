//! Idempotent purchases: the `Idempotency-Key` header, as payment APIs use
//! it. The first request with a key runs the purchase and keeps its answer
//! in Postgres for 24 h; a retry with the same key and the same request gets
//! that answer back (same status, same `order_id`) and buys nothing.
//!
//! Only *final* answers are kept: a sale (201), or a refusal a retry would
//! meet again (sold out, limit reached, no such product, a 400). An answer
//! that says "nothing happened, try again" — 429, 409 `lock_lost` or
//! `restocked`, any 5xx — releases the key, so a later retry runs for real.
//! A sale whose answer cannot be stored keeps the key "in use" (409) rather
//! than risk a second sale.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use sqlx::PgPool;

use crate::domain::{BuyerName, InvalidInput};
use crate::error::{ApiError, ErrorBody};
use crate::purchase::{Shop, purchase};
use crate::sale::{Order, PurchaseError, PurchaseRequest};

pub const HEADER: &str = "Idempotency-Key";

/// A client's key: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &[u8]) -> Result<Self, InvalidInput> {
        let printable = raw.iter().all(|byte| (0x20..=0x7e).contains(byte));
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !printable {
            return Err(InvalidInput::new(
                "invalid_idempotency_key",
                format!(
                    "the {HEADER} header must be 1 to {} printable ASCII characters",
                    Self::MAX_LEN
                ),
            ));
        }
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The request's key, if it sent one.
    pub fn of(http: &HttpRequest) -> Result<Option<Self>, InvalidInput> {
        http.headers()
            .get(HEADER)
            .map(|value| Self::parse(value.as_bytes()))
            .transpose()
    }
}

/// What makes two requests "the same": the product and every parameter.
fn fingerprint(request: &PurchaseRequest) -> String {
    let knobs = request.knobs;
    format!(
        "product={} lock={} user={:?} work={} pause={} ttl={:?} deadline={:?} check={}",
        request.product,
        request.strategy,
        request.buyer.as_ref().map(BuyerName::as_str),
        knobs.work.millis(),
        knobs.pause.millis(),
        knobs.ttl.map(|t| t.millis()),
        knobs.deadline.map(|d| d.millis()),
        request.duplicate_check.as_str(),
    )
}

/// Buy once per key, whatever the number of retries.
pub async fn purchase_once(
    shop: &Shop,
    key: IdempotencyKey,
    request: PurchaseRequest,
) -> Result<HttpResponse, ApiError> {
    let shop_for_task = shop.clone();
    // On a task of its own: a client that hangs up (the very case a retry is
    // for) must not leave its key "in use" with no answer.
    let answer = shop
        .sales
        .spawn(async move { run(&shop_for_task, key, request).await })
        .await
        .map_err(|error| ApiError::from(PurchaseError::Aborted(error)))??;
    Ok(match answer {
        Answer::Sold(order) => super::sold::sold(&order),
        Answer::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut replay = HttpResponse::build(status);
            replay.insert_header(("Idempotent-Replayed", "true"));
            let queued = body["order_id"].as_str().and_then(|id| id.parse().ok());
            if let (StatusCode::ACCEPTED, Some(id)) = (status, queued) {
                replay.insert_header((
                    actix_web::http::header::LOCATION,
                    super::sold::order_location(id),
                ));
            }
            replay.json(body)
        }
    })
}

/// What the task answers (a response is built on the request's own thread).
enum Answer {
    Sold(Order),
    Replay { status: u16, body: Value },
}

async fn run(
    shop: &Shop,
    key: IdempotencyKey,
    request: PurchaseRequest,
) -> Result<Answer, ApiError> {
    let db = &shop.db;
    let fingerprint = fingerprint(&request);
    match claim(db, &key, &fingerprint).await? {
        Claim::Replay { status, body } => return Ok(Answer::Replay { status, body }),
        Claim::InUse => return Err(ApiError::IdempotencyKeyInUse),
        Claim::Reused => return Err(ApiError::IdempotencyKeyReused),
        Claim::Fresh => {}
    }

    let answer = purchase(shop, request).await.map_err(ApiError::from);
    let kept = match &answer {
        Ok(order) => Some((super::sold::sold_status(order), serde_json::to_value(order))),
        Err(error) if is_final(error) => Some((
            actix_web::ResponseError::status_code(error),
            serde_json::to_value(ErrorBody {
                error: error.code(),
                message: error.to_string(),
            }),
        )),
        Err(_) => None,
    };
    let stored = match kept {
        Some((status, Ok(body))) => finish(db, &key, status.as_u16(), &body).await,
        Some((_, Err(error))) => {
            tracing::error!(%error, "could not serialise an answer to keep");
            Ok(())
        }
        None => release(db, &key).await,
    };
    if let Err(error) = stored {
        // The key stays "in use" until it expires: better than a second sale.
        tracing::error!(%error, "could not store the answer of an idempotent purchase");
    }
    answer.map(Answer::Sold)
}

/// A refusal that a retry would meet again.
fn is_final(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::SoldOut(_)
            | ApiError::LimitReached(_)
            | ApiError::ProductNotFound(_)
            | ApiError::InvalidInput(_)
    )
}

enum Claim {
    /// This request owns the key: run the purchase.
    Fresh,
    /// The key's first answer, to give back.
    Replay { status: u16, body: Value },
    /// The first request with this key is still running.
    InUse,
    /// The key was used for another request.
    Reused,
}

async fn claim(db: &PgPool, key: &IdempotencyKey, fingerprint: &str) -> Result<Claim, sqlx::Error> {
    // A key released between our insert and our read: claim again.
    for _ in 0..3 {
        // A key older than 24 h is forgotten: taken over as new.
        let fresh: Option<i32> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (key, fingerprint) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE
             SET fingerprint = EXCLUDED.fingerprint, status = NULL, body = NULL, created_at = now()
             WHERE idempotency_keys.created_at < now() - interval '24 hours'
             RETURNING 1",
        )
        .bind(&key.0)
        .bind(fingerprint)
        .fetch_optional(db)
        .await?;
        if fresh.is_some() {
            sweep_now_and_then(db).await;
            return Ok(Claim::Fresh);
        }
        let kept: Option<(String, Option<i16>, Option<Value>)> =
            sqlx::query_as("SELECT fingerprint, status, body FROM idempotency_keys WHERE key = $1")
                .bind(&key.0)
                .fetch_optional(db)
                .await?;
        match kept {
            None => continue,
            Some((kept, _, _)) if kept != fingerprint => return Ok(Claim::Reused),
            Some((_, Some(status), Some(body))) => {
                return Ok(Claim::Replay {
                    status: u16::try_from(status).unwrap_or(200),
                    body,
                });
            }
            Some(_) => return Ok(Claim::InUse),
        }
    }
    Ok(Claim::InUse)
}

async fn finish(
    db: &PgPool,
    key: &IdempotencyKey,
    status: u16,
    body: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1")
        .bind(&key.0)
        .bind(i16::try_from(status).unwrap_or(500))
        .bind(body)
        .execute(db)
        .await
        .map(drop)
}

async fn release(db: &PgPool, key: &IdempotencyKey) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL")
        .bind(&key.0)
        .execute(db)
        .await
        .map(drop)
}

/// Forget expired keys, on about one claim in 256: cheap, and enough to keep
/// the table to a day of keys.
async fn sweep_now_and_then(db: &PgPool) {
    if uuid::Uuid::new_v4().as_bytes()[0] != 0 {
        return;
    }
    if let Err(error) =
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
            .execute(db)
            .await
    {
        tracing::warn!(%error, "could not sweep expired idempotency keys");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_printable_ascii() {
        assert!(IdempotencyKey::parse(b"order-7f3c").is_ok());
        assert!(IdempotencyKey::parse("x".repeat(255).as_bytes()).is_ok());
        for bad in [
            &b""[..],
            "x".repeat(256).as_bytes(),
            b"a\tb",
            "caf\u{e9}".as_bytes(),
        ] {
            assert_eq!(
                IdempotencyKey::parse(bad).unwrap_err().code,
                "invalid_idempotency_key"
            );
        }
    }
}
