//! The one error type at the HTTP edge, and how each case maps to a status.
//!
//! Every error answers `{"error": "<code>", "message": "<text>"}`. Causes of
//! 5xx answers are logged with their whole chain and never sent to the client.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::{InvalidInput, ProductId};
use crate::lock::{LockError, Strategy};
use crate::purchase::PurchaseError;

/// Seconds a client told "busy" should wait before trying again.
const RETRY_AFTER_SECONDS: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    #[error("product {0} does not exist")]
    ProductNotFound(ProductId),
    #[error("product {0} is sold out")]
    SoldOut(ProductId),
    #[error("the lock on product {product} stayed busy past the deadline; try again")]
    LockTimeout { product: ProductId },
    #[error("the lock on product {product} was lost before the sale could write; nothing was sold")]
    LockLost { product: ProductId },
    #[error("product {0} was restocked during the sale; nothing was sold")]
    Restocked(ProductId),
    #[error("strategy `{strategy}` is not available ({reason}); nothing was sold")]
    StrategyUnavailable { strategy: Strategy, reason: String },
    #[error("{dependency} is unavailable; nothing was sold")]
    Unavailable {
        dependency: Dependency,
        #[source]
        source: anyhow::Error,
    },
    #[error("an unexpected error occurred")]
    Internal(#[source] anyhow::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Postgres,
    Redis,
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dependency::Postgres => "Postgres",
            Dependency::Redis => "Redis",
        })
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: String,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidInput(input) => input.code,
            ApiError::ProductNotFound(_) => "product_not_found",
            ApiError::SoldOut(_) => "sold_out",
            ApiError::LockTimeout { .. } => "lock_timeout",
            ApiError::LockLost { .. } => "lock_lost",
            ApiError::Restocked(_) => "restocked",
            ApiError::StrategyUnavailable { .. } => "strategy_unavailable",
            ApiError::Unavailable { .. } => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::InvalidInput(InvalidInput {
            code,
            message: message.into(),
        })
    }

    /// Sorts a database failure: the server being unreachable or timing out
    /// is a 503; anything else is a bug of ours and a 500.
    pub fn from_database(error: sqlx::Error) -> Self {
        if database_unavailable(&error) {
            ApiError::Unavailable {
                dependency: Dependency::Postgres,
                source: error.into(),
            }
        } else {
            ApiError::Internal(error.into())
        }
    }
}

fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57: operator intervention (shutdown,
            // statement_timeout); 53: insufficient resources (too many connections).
            code.starts_with("08") || code.starts_with("57") || code.starts_with("53")
        }),
        _ => false,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from_database(error)
    }
}

impl From<PurchaseError> for ApiError {
    fn from(error: PurchaseError) -> Self {
        match error {
            PurchaseError::ProductNotFound(id) => ApiError::ProductNotFound(id),
            PurchaseError::SoldOut(id) => ApiError::SoldOut(id),
            PurchaseError::Lock { product, source } => match source {
                LockError::Busy { .. } => ApiError::LockTimeout { product },
                LockError::Lost => ApiError::LockLost { product },
                LockError::NoQuorum { .. } => ApiError::StrategyUnavailable {
                    strategy: Strategy::Redlock,
                    reason: source.to_string(),
                },
                LockError::Store(error) => ApiError::from_database(error),
                LockError::TimedOut(_) | LockError::Redis(_) => ApiError::Unavailable {
                    dependency: Dependency::Redis,
                    source: source.into(),
                },
            },
            PurchaseError::StrategyUnavailable { strategy, reason } => {
                ApiError::StrategyUnavailable { strategy, reason }
            }
            PurchaseError::Restocked(id) => ApiError::Restocked(id),
            // Retried inside pg-optimistic until its deadline; never answered.
            PurchaseError::VersionConflict(_) => ApiError::Internal(error.into()),
            PurchaseError::Database(error) => ApiError::from_database(error),
            PurchaseError::Aborted(error) => ApiError::Internal(error.into()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            ApiError::ProductNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::SoldOut(_) | ApiError::LockLost { .. } | ApiError::Restocked(_) => {
                StatusCode::CONFLICT
            }
            ApiError::LockTimeout { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } | ApiError::StrategyUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            // `{:#}` on anyhow prints the cause chain on one line.
            let cause = match self {
                ApiError::Unavailable { source, .. } | ApiError::Internal(source) => {
                    format!("{source:#}")
                }
                _ => String::new(),
            };
            tracing::error!(code = self.code(), %cause, "{self}");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::LockTimeout { .. } = self {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
        }
        response.json(ErrorBody {
            error: self.code(),
            message: self.to_string(),
        })
    }
}
