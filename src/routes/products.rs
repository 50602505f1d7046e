use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::{PerBuyer, ProductId, StockLevel};
use crate::error::ApiError;
use crate::routes::gate::AdminOnly;
use crate::routes::limits::JsonObject;
use crate::state::AppState;

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let products = state.shop.products().await?;
    Ok(HttpResponse::Ok().json(products))
}

pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ProductId::parse(&id)?;
    let product = state
        .shop
        .product(id)
        .await?
        .ok_or(ApiError::ProductNotFound(id))?;
    Ok(HttpResponse::Ok().json(product))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestockBody {
    stock: i64,
    /// Units one buyer may get; absent or null: no limit.
    #[serde(default)]
    per_buyer: Option<i64>,
}

/// Restock: stock and initial stock become N, the product's orders are deleted.
pub async fn reset(
    _admin: AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<JsonObject<RestockBody>>,
) -> Result<HttpResponse, ApiError> {
    let id = ProductId::parse(&id)?;
    let body = body.into_inner().0;
    let level = StockLevel::new(body.stock)?;
    let per_buyer = body.per_buyer.map(PerBuyer::new).transpose()?;
    let product = state
        .shop
        .restock(id, level, per_buyer)
        .await
        .map_err(|error| ApiError::from_restock(id, error))?
        .ok_or(ApiError::ProductNotFound(id))?;
    Ok(HttpResponse::Ok().json(product))
}
