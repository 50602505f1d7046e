use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use crate::crowd::{self, CrowdRequest, CrowdSize};
use crate::domain::{InvalidInput, PerBuyer, ProductId, RawKnobs, StockLevel};
use crate::error::ApiError;
use crate::lock::Strategy;
use crate::routes::PurchaseQuery;
use crate::routes::gate::AdminOnly;
use crate::routes::limits::JsonObject;
use crate::state::AppState;

/// `{"buyers": 500, "lock": "none", "work_ms": 20, "restock": 100}`; only
/// `buyers` is required. The lab's knobs (`ttl_ms`, `deadline_ms`,
/// `pause_ms`, `duplicate_check`) apply to every buyer. With
/// `clicks_per_buyer: N` each buyer sends N purchases at once (`buyers × N`
/// in all); `per_buyer` is the limit the restock sets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrowdBody {
    pub buyers: i64,
    pub lock: Option<String>,
    pub work_ms: Option<i64>,
    pub pause_ms: Option<i64>,
    pub ttl_ms: Option<i64>,
    pub deadline_ms: Option<i64>,
    /// Restock the product to this level before the crowd arrives.
    pub restock: Option<i64>,
    /// The limit per buyer, set with `restock`.
    pub per_buyer: Option<i64>,
    pub duplicate_check: Option<String>,
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
