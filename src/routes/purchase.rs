use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::domain::{BuyerName, DuplicateCheck, InvalidInput, Knobs, ProductId, RawKnobs};
use crate::error::ApiError;
use crate::lock::Strategy;
use crate::purchase::purchase;
use crate::routes::gate::{AdminAccess, PurchaseQuota};
use crate::sale::PurchaseRequest;
use crate::state::AppState;

/// The purchase options as they arrive: `lock`, `user` and the lab's knobs
/// (`work_ms`, `pause_ms`, `ttl_ms`, `deadline_ms`).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PurchaseQuery {
    pub lock: Option<String>,
    pub user: Option<String>,
    /// `key` (default) or `count`: how the limit per buyer is checked.
    pub duplicate_check: Option<String>,
    #[serde(flatten)]
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
