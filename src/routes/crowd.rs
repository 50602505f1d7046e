use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::crowd::{self, CrowdReport, CrowdRequest, CrowdSize};
use crate::domain::{DuplicateCheck, InvalidInput, PerBuyer, ProductId, RawKnobs, StockLevel};
use crate::error::{ApiError, ErrorBody};
use crate::lock::Strategy;
use crate::routes::PurchaseQuery;
use crate::routes::gate::AdminOnly;
use crate::routes::limits::JsonObject;
use crate::routes::products::ProductPath;
use crate::state::AppState;

/// `{"buyers": 500, "lock": "none", "work_ms": 20, "restock": 100}`; only
/// `buyers` is required. The lab's knobs (`ttl_ms`, `deadline_ms`,
/// `pause_ms`, `duplicate_check`) apply to every buyer. With
/// `clicks_per_buyer: N` each buyer sends N purchases at once (`buyers × N`
/// in all); `per_buyer` is the limit the restock sets.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"buyers": 20, "lock": "none", "work_ms": 5, "restock": 10}))]
pub struct CrowdBody {
    /// Buyers (times `clicks_per_buyer`: at most 10,000 purchases in all).
    #[schema(minimum = 1, maximum = 10000)]
    pub buyers: i64,
    #[schema(value_type = Option<Strategy>)]
    pub lock: Option<String>,
    #[schema(minimum = 0, maximum = 2000)]
    pub work_ms: Option<i64>,
    #[schema(minimum = 0, maximum = 30000)]
    pub pause_ms: Option<i64>,
    #[schema(minimum = 100, maximum = 60000)]
    pub ttl_ms: Option<i64>,
    #[schema(minimum = 0, maximum = 30000)]
    pub deadline_ms: Option<i64>,
    /// Restock the product to this level before the crowd arrives.
    #[schema(minimum = 0, maximum = 1000000)]
    pub restock: Option<i64>,
    /// The limit per buyer, set with `restock`.
    #[schema(minimum = 1, maximum = 10000)]
    pub per_buyer: Option<i64>,
    #[schema(value_type = Option<DuplicateCheck>)]
    pub duplicate_check: Option<String>,
    #[schema(minimum = 1, maximum = 1000)]
    pub clicks_per_buyer: Option<i64>,
    /// Answer every buyer's timeline too (at most 50 buyers).
    #[serde(default)]
    pub trace: bool,
}

impl CrowdBody {
    pub fn into_request(
        self,
        product: ProductId,
        default_mode: Strategy,
    ) -> Result<CrowdRequest, InvalidInput> {
        // The lock and the business step parse exactly as a purchase's do.
        let number = |value: Option<i64>| value.map(|ms| ms.to_string());
        let purchase = PurchaseQuery {
            lock: self.lock,
            user: None,
            duplicate_check: self.duplicate_check,
            knobs: RawKnobs {
                work_ms: number(self.work_ms),
                pause_ms: number(self.pause_ms),
                ttl_ms: number(self.ttl_ms),
                deadline_ms: number(self.deadline_ms),
            },
        }
        .into_request(product, default_mode)?;
        let clicks = match self.clicks_per_buyer {
            None => 1,
            Some(n @ 1..=1000) => n,
            Some(n) => {
                return Err(InvalidInput::new(
                    "invalid_clicks_per_buyer",
                    format!("clicks_per_buyer must be a whole number from 1 to 1000, got {n}"),
                ));
            }
        };
        if self.per_buyer.is_some() && self.restock.is_none() {
            return Err(InvalidInput::new(
                "invalid_per_buyer",
                "per_buyer is set with the stock: give `restock` too",
            ));
        }
        let crowd = CrowdRequest {
            product,
            strategy: purchase.strategy,
            knobs: purchase.knobs,
            buyers: CrowdSize::new(self.buyers.saturating_mul(clicks))?,
            restock: self.restock.map(StockLevel::new).transpose()?,
            per_buyer: self.per_buyer.map(PerBuyer::new).transpose()?,
            duplicate_check: purchase.duplicate_check,
            clicks_per_buyer: u32::try_from(clicks).unwrap_or(1),
            trace: self.trace,
        };
        crowd.check_trace()?;
        Ok(crowd)
    }
}

/// Run a flash crowd in the server, through the same purchase path as
/// `POST /api/products/{id}/purchase`, and answer what it did.
#[utoipa::path(
    post,
    path = "/api/products/{id}/flash-crowd",
    tag = "crowds",
    params(ProductPath),
    request_body = CrowdBody,
    security((), ("admin_token" = [])),
    responses(
        (status = 200, description = "What the crowd did; kept for `GET /api/crowds/{id}`.", body = CrowdReport,
            example = json!(crate::routes::examples::crowd_report())),
        (status = 400, description = "`invalid_product_id`, `invalid_buyers`, `invalid_lock_mode`, `invalid_work_ms`, `invalid_pause_ms`, `invalid_ttl_ms`, `invalid_deadline_ms`, `invalid_stock`, `invalid_per_buyer`, `invalid_duplicate_check`, `invalid_clicks_per_buyer`, `invalid_trace` or `invalid_body`.", body = ErrorBody),
        (status = 401, description = "`admin_token_required`.", body = ErrorBody),
        (status = 404, description = "`product_not_found`.", body = ErrorBody),
        (status = 409, description = "`crowd_running`: a crowd is already running on this product.", body = ErrorBody),
        (status = 429, description = "`too_many_crowds` on this instance, or `rate_limited` (wrong admin tokens).", body = ErrorBody),
        (status = 503, description = "`service_unavailable` or `shutting_down`.", body = ErrorBody),
    )
)]
pub async fn flash_crowd(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<JsonObject<CrowdBody>>,
) -> Result<HttpResponse, ApiError> {
    let product = ProductId::parse(&id)?;
    let request = body
        .into_inner()
        .0
        .into_request(product, state.default_lock_mode)?;
    let report = crowd::run(&state.shop, &state.crowds, request).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// A crowd's report again, by its id, while it is kept.
#[utoipa::path(
    get,
    path = "/api/crowds/{id}",
    tag = "crowds",
    params(("id" = uuid::Uuid, Path, description = "The `crowd_id` of a crowd's report.")),
    responses(
        (status = 200, description = "The crowd's report.", body = CrowdReport,
            example = json!(crate::routes::examples::crowd_report())),
        (status = 400, description = "`invalid_crowd_id`: not a UUID.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such crowd kept.", body = ErrorBody),
        (status = 503, description = "`service_unavailable`.", body = ErrorBody),
    )
)]
pub async fn crowd_report(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: Uuid = id.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_crowd_id",
            format!("crowd id must be a UUID, got `{id}`"),
        )
    })?;
    let report = crowd::find_report(&state.shop.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("crowd {id}")))?;
    Ok(HttpResponse::Ok().json(report))
}
