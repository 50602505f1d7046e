use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::crowd::{self, CrowdRequest, CrowdSize};
use crate::domain::{InvalidInput, LockMode, ProductId, StockLevel};
use crate::error::ApiError;
use crate::routes::PurchaseQuery;
use crate::state::AppState;

/// `{"buyers": 500, "lock": "none", "work_ms": 20, "restock": 100}`; only
/// `buyers` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrowdBody {
    pub buyers: i64,
    pub lock: Option<String>,
    pub work_ms: Option<i64>,
    /// Restock the product to this level before the crowd arrives.
    pub restock: Option<i64>,
}

impl CrowdBody {
    pub fn into_request(
        self,
        product: ProductId,
        default_mode: LockMode,
    ) -> Result<CrowdRequest, InvalidInput> {
        // The lock and the business step parse exactly as a purchase's do.
        let purchase = PurchaseQuery {
            lock: self.lock,
            work_ms: self.work_ms.map(|ms| ms.to_string()),
            user: None,
        }
        .into_request(product, default_mode)?;
        Ok(CrowdRequest {
            product,
            mode: purchase.mode,
            work: purchase.work,
            buyers: CrowdSize::new(self.buyers)?,
            restock: self.restock.map(StockLevel::new).transpose()?,
        })
    }
}

/// Run a flash crowd in the server, through the same purchase path as
/// `POST /api/products/{id}/purchase`, and answer what it did.
#[post("/api/products/{id}/flash-crowd")]
pub async fn flash_crowd(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<CrowdBody>,
) -> Result<HttpResponse, ApiError> {
    let product = ProductId::parse(&id)?;
    let request = body
        .into_inner()
        .into_request(product, state.default_lock_mode)?;
    let report = crowd::run(&state.shop, request).await?;
    Ok(HttpResponse::Ok().json(report))
}
