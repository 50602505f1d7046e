use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::domain::{BuyerName, DuplicateCheck, InvalidInput, Knobs, ProductId, RawKnobs};
use crate::error::{ApiError, ErrorBody};
use crate::lock::Strategy;
use crate::purchase::purchase;
use crate::routes::gate::{AdminAccess, PurchaseQuota};
use crate::routes::products::ProductPath;
use crate::sale::Order;
use crate::sale::PurchaseRequest;
use crate::state::AppState;

/// The purchase options as they arrive: `lock`, `user` and the lab's knobs
/// (`work_ms`, `pause_ms`, `ttl_ms`, `deadline_ms`).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurchaseQuery {
    /// The strategy; absent: the service's default (DEFAULT_LOCK_MODE).
    #[param(value_type = Option<Strategy>, example = "redis")]
    pub lock: Option<String>,
    /// The buyer's name, recorded on the order; needed when the product has
    /// a limit per buyer.
    #[param(min_length = 1, max_length = 64, example = "alice")]
    pub user: Option<String>,
    /// `key` (default) or `count`: how the limit per buyer is checked.
    #[param(value_type = Option<DuplicateCheck>)]
    pub duplicate_check: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub knobs: RawKnobs,
}

impl PurchaseQuery {
    pub fn into_request(
        self,
        product: ProductId,
        default_strategy: Strategy,
    ) -> Result<PurchaseRequest, InvalidInput> {
        let strategy = match self.lock.as_deref() {
            Some(raw) => Strategy::parse(raw)?,
            None => default_strategy,
        };
        let buyer = match self.user.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(BuyerName::parse(raw)?),
            _ => None,
        };
        Ok(PurchaseRequest {
            product,
            strategy,
            knobs: Knobs::parse(&self.knobs)?,
            buyer,
            duplicate_check: self
                .duplicate_check
                .as_deref()
                .map(DuplicateCheck::parse)
                .transpose()?
                .unwrap_or_default(),
            trace: None,
        })
    }
}

/// One buyer: the sale under the chosen strategy.
#[utoipa::path(
    post,
    path = "/api/products/{id}/purchase",
    tag = "purchases",
    params(
        ProductPath,
        PurchaseQuery,
        RawKnobs,
        ("Idempotency-Key" = Option<String>, Header,
            description = "1 to 255 printable ASCII characters: the first final answer to this key is answered again, for 24 h.",
            pattern = "^[ -~]{1,255}$"),
    ),
    security((), ("admin_token" = [])),
    responses(
        (status = 201, description = "Sold: the order is written.", body = Order,
            example = json!(crate::routes::examples::order("written"))),
        (status = 202, description = "Accepted: the order is queued in Redis (`redis-stream`, `broken-ack-first`); `Location` says where to ask about it.",
            body = Order, headers(("Location" = String, description = "`/api/orders/{order_id}`")),
            example = json!(crate::routes::examples::order("queued"))),
        (status = 400, description = "`invalid_product_id`, `invalid_lock_mode`, `invalid_user`, `user_required`, `invalid_duplicate_check`, `invalid_work_ms`, `invalid_pause_ms`, `invalid_ttl_ms`, `invalid_deadline_ms`, `invalid_idempotency_key` or `invalid_query`.", body = ErrorBody),
        (status = 401, description = "`admin_token_required`: a pause, a TTL, a deadline or `work_ms` above 100 need the admin token when one is set.", body = ErrorBody),
        (status = 404, description = "`product_not_found`.", body = ErrorBody),
        (status = 409, description = "`sold_out`, `lock_lost`, `restocked`, `product_busy`, `limit_reached` or `idempotency_key_in_use`.", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: the key was used for another product or other parameters.", body = ErrorBody),
        (status = 429, description = "`lock_timeout`: the lock stayed busy past the deadline; or `rate_limited` (RATE_LIMIT_RPS, or too many wrong admin tokens). `Retry-After` says when to try again.",
            body = ErrorBody, headers(("Retry-After" = String))),
        (status = 503, description = "`strategy_unavailable`, `service_unavailable` (Postgres or Redis did not answer) or `shutting_down`; nothing was sold.", body = ErrorBody),
    )
)]
pub async fn buy(
    _quota: PurchaseQuota,
    admin: AdminAccess,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<PurchaseQuery>,
    http: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let product = ProductId::parse(&id)?;
    let request = query
        .into_inner()
        .into_request(product, state.default_lock_mode)?;
    admin.allows_knobs(&request.knobs)?;
    if let Some(key) = super::idempotent::IdempotencyKey::of(&http)? {
        return super::idempotent::purchase_once(&state.shop, key, request).await;
    }
    let order = purchase(&state.shop, request).await?;
    Ok(super::sold::sold(&order))
}
