use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::domain::{BuyerName, InvalidInput, LockMode, ProductId, WorkDelay};
use crate::error::ApiError;
use crate::purchase::{PurchaseRequest, purchase};
use crate::state::AppState;

/// The purchase options as they arrive, parsed into a [`PurchaseRequest`].
#[derive(Debug, Default, Deserialize)]
pub struct PurchaseQuery {
    pub lock: Option<String>,
    pub work_ms: Option<String>,
    pub user: Option<String>,
}

impl PurchaseQuery {
    pub fn into_request(
        self,
        product: ProductId,
        default_mode: LockMode,
    ) -> Result<PurchaseRequest, InvalidInput> {
        let mode = match self.lock.as_deref() {
            Some(raw) => LockMode::parse(raw)?,
            None => default_mode,
        };
        let work = match self.work_ms.as_deref() {
            Some(raw) => WorkDelay::parse(raw)?,
            None => WorkDelay::default(),
        };
        let buyer = match self.user.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(BuyerName::parse(raw)?),
            _ => None,
        };
        Ok(PurchaseRequest {
            product,
            mode,
            work,
            buyer,
        })
    }
}

#[post("/api/products/{id}/purchase")]
pub async fn buy(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<PurchaseQuery>,
) -> Result<HttpResponse, ApiError> {
    let product = ProductId::parse(&id)?;
    let request = query
        .into_inner()
        .into_request(product, state.default_lock_mode)?;
    let order = purchase(&state.shop, request).await?;
    Ok(HttpResponse::Created().json(order))
}
