//! The one error type at the HTTP edge, and how each case maps to a status.
//!
//! Every error answers `{"error": "<code>", "message": "<text>"}`. Causes of
//! 5xx answers are logged with their whole chain and never sent to the client.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::crowd::CrowdError;
use crate::domain::{InvalidInput, ProductId};
use crate::lock::{LockError, Strategy};
use crate::sale::PurchaseError;

/// Seconds a client told "busy" should wait before trying again.
const RETRY_AFTER_SECONDS: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    #[error("product {0} does not exist")]
    ProductNotFound(ProductId),
    #[error("no order {0}: never accepted, or accepted and lost before it was written")]
    OrderNotFound(uuid::Uuid),
    #[error("product {0} is sold out")]
    SoldOut(ProductId),
    #[error("the lock on product {product} stayed busy past the deadline; try again")]
    LockTimeout { product: ProductId },
    #[error("the lock on product {product} was lost before the sale could write; nothing was sold")]
    LockLost { product: ProductId },
    #[error("product {0} was restocked during the sale; nothing was sold")]
    Restocked(ProductId),
    #[error(
        "product {0} stayed held by a sale in progress (a row lock) past the wait; nothing changed, try again"
    )]
    ProductBusy(ProductId),
    #[error("this buyer already has as many of product {0} as one buyer may get; nothing was sold")]
    LimitReached(ProductId),
    #[error("strategy `{strategy}` is not available ({reason}); nothing was sold")]
    StrategyUnavailable { strategy: Strategy, reason: String },
    #[error("a request with this Idempotency-Key is still running; retry when it is done")]
    IdempotencyKeyInUse,
    #[error("this Idempotency-Key was used for another product or other parameters")]
    IdempotencyKeyReused,
    #[error("a flash crowd is already running on product {0}; wait for it to finish")]
    CrowdRunning(ProductId),
    #[error("{0} flash crowds are already running on this instance; try again when one is done")]
    TooManyCrowds(usize),
    #[error("the service is shutting down; try another instance or again shortly")]
    ShuttingDown,
    #[error("no such resource: {0}")]
    NotFound(String),
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {millis} ms")]
    RequestTimeout { millis: u128 },
    #[error("the request target is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    #[error("the request headers are larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("cross-site request refused: {0}")]
    CrossSite(String),
    #[error("host `{0}` is not served here (see ALLOWED_HOSTS)")]
    HostNotAllowed(String),
    #[error("this action needs the admin token (header `Authorization: Bearer <ADMIN_TOKEN>`)")]
    AdminTokenRequired,
    #[error(
        "{0} needs the admin token on this service (header `Authorization: Bearer <ADMIN_TOKEN>`, or the page's admin cookie); nothing was sold"
    )]
    AdminKnob(&'static str),
    #[error("too many requests from this client; slow down")]
    RateLimited,
    #[error("too many wrong admin tokens from this client; wait a second and try again")]
    AdminAttemptsLimited,
    #[error("{dependency} is unavailable; nothing was sold")]
    Unavailable {
        dependency: Dependency,
        #[source]
        source: anyhow::Error,
    },
    #[error(
        "the API page's files (swagger-ui-dist) are not in {0}: run `npm ci --prefix api-docs` in the repository (./dev run does), or set API_DOCS_DIR"
    )]
    DocsAssetsMissing(String),
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

/// Every error's body: a stable code for programs, a sentence for people.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error, example = json!({"error": "sold_out", "message": "product 1 is sold out"}))]
pub struct ErrorBody<'a> {
    /// A stable code: each answer's description lists those it can carry.
    pub error: &'a str,
    pub message: String,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidInput(input) => input.code,
            ApiError::ProductNotFound(_) => "product_not_found",
            ApiError::OrderNotFound(_) => "order_not_found",
            ApiError::SoldOut(_) => "sold_out",
            ApiError::LockTimeout { .. } => "lock_timeout",
            ApiError::LockLost { .. } => "lock_lost",
            ApiError::Restocked(_) => "restocked",
            ApiError::ProductBusy(_) => "product_busy",
            ApiError::LimitReached(_) => "limit_reached",
            ApiError::IdempotencyKeyInUse => "idempotency_key_in_use",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::StrategyUnavailable { .. } => "strategy_unavailable",
            ApiError::CrowdRunning(_) => "crowd_running",
            ApiError::TooManyCrowds(_) => "too_many_crowds",
            ApiError::ShuttingDown => "shutting_down",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RequestTimeout { .. } => "request_timeout",
            ApiError::UriTooLong { .. } => "uri_too_long",
            ApiError::HeadersTooLarge { .. } => "headers_too_large",
            ApiError::CrossSite(_) => "cross_site_request",
            ApiError::HostNotAllowed(_) => "host_not_allowed",
            ApiError::AdminTokenRequired | ApiError::AdminKnob(_) => "admin_token_required",
            // One code for both: a client slows down the same way.
            ApiError::RateLimited | ApiError::AdminAttemptsLimited => "rate_limited",
            ApiError::Unavailable { .. } => "service_unavailable",
            ApiError::DocsAssetsMissing(_) => "docs_assets_missing",
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
        if crate::db::is_unavailable(&error) || crate::db::is_timeout(&error) {
            ApiError::Unavailable {
                dependency: Dependency::Postgres,
                source: error.into(),
            }
        } else {
            ApiError::Internal(error.into())
        }
    }

    /// A restock's failure: held up by a sale's row lock past its wait (the
    /// statement timeout) is a busy product, 409; the rest as any database
    /// failure.
    pub fn from_restock(product: ProductId, error: sqlx::Error) -> Self {
        if crate::db::is_timeout(&error) {
            ApiError::ProductBusy(product)
        } else {
            ApiError::from_database(error)
        }
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
                LockError::StoreUnavailable => ApiError::Unavailable {
                    dependency: Dependency::Postgres,
                    source: source.into(),
                },
                LockError::TimedOut(_) | LockError::Redis(_) => ApiError::Unavailable {
                    dependency: Dependency::Redis,
                    source: source.into(),
                },
            },
            PurchaseError::StrategyUnavailable { strategy, reason } => {
                ApiError::StrategyUnavailable { strategy, reason }
            }
            PurchaseError::Restocked(id) => ApiError::Restocked(id),
            PurchaseError::LimitReached(id) => ApiError::LimitReached(id),
            PurchaseError::UserRequired(id) => ApiError::bad_request(
                "user_required",
                format!("product {id} is limited per buyer: name the buyer with `user`"),
            ),
            PurchaseError::ShuttingDown => ApiError::ShuttingDown,
            // Retried inside pg-optimistic until its deadline; never answered.
            PurchaseError::VersionConflict(_) => ApiError::Internal(error.into()),
            PurchaseError::Database(error) => ApiError::from_database(error),
            PurchaseError::Aborted(error) => ApiError::Internal(error.into()),
        }
    }
}

impl From<CrowdError> for ApiError {
    fn from(error: CrowdError) -> Self {
        match error {
            CrowdError::ProductNotFound(id) => ApiError::ProductNotFound(id),
            CrowdError::AlreadyRunning(id) => ApiError::CrowdRunning(id),
            CrowdError::TooMany(max) => ApiError::TooManyCrowds(max),
            CrowdError::ShuttingDown => ApiError::ShuttingDown,
            CrowdError::Database(error) => ApiError::from_database(error),
            CrowdError::Aborted(error) => ApiError::Internal(error.into()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput(_) | ApiError::HostNotAllowed(_) => StatusCode::BAD_REQUEST,
            ApiError::ProductNotFound(_) | ApiError::OrderNotFound(_) | ApiError::NotFound(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::CrossSite(_) => StatusCode::FORBIDDEN,
            ApiError::AdminTokenRequired | ApiError::AdminKnob(_) => StatusCode::UNAUTHORIZED,
            ApiError::SoldOut(_)
            | ApiError::LockLost { .. }
            | ApiError::Restocked(_)
            | ApiError::ProductBusy(_)
            | ApiError::LimitReached(_)
            | ApiError::IdempotencyKeyInUse
            | ApiError::CrowdRunning(_) => StatusCode::CONFLICT,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::LockTimeout { .. }
            | ApiError::TooManyCrowds(_)
            | ApiError::RateLimited
            | ApiError::AdminAttemptsLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. }
            | ApiError::StrategyUnavailable { .. }
            | ApiError::ShuttingDown
            | ApiError::DocsAssetsMissing(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        match self {
            ApiError::LockTimeout { .. }
            | ApiError::ProductBusy(_)
            | ApiError::TooManyCrowds(_)
            | ApiError::RateLimited
            | ApiError::AdminAttemptsLimited
            | ApiError::ShuttingDown => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::AdminTokenRequired | ApiError::AdminKnob(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // The rest of the body is still on its way, or never comes: the
            // connection cannot carry another request.
            ApiError::PayloadTooLarge { .. } | ApiError::RequestTimeout { .. } => {
                response.force_close();
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: self.code(),
            message: self.to_string(),
        })
    }
}
