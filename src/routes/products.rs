use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::{PerBuyer, ProductId, StockLevel};
use crate::error::{ApiError, ErrorBody};
use crate::products::ProductStats;
use crate::routes::gate::AdminOnly;
use crate::routes::limits::JsonObject;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/products",
    tag = "products",
    responses(
        (status = 200, description = "Every product with its live numbers.", body = [ProductStats],
            example = json!([crate::routes::examples::product()])),
        (status = 503, description = "`service_unavailable`: Postgres did not answer.", body = ErrorBody),
    )
)]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let products = state.shop.products().await?;
    Ok(HttpResponse::Ok().json(products))
}

#[utoipa::path(
    get,
    path = "/api/products/{id}",
    tag = "products",
    params(ProductPath),
    responses(
        (status = 200, description = "The product with its live numbers.", body = ProductStats,
            example = json!(crate::routes::examples::product())),
        (status = 400, description = "`invalid_product_id`: not a positive integer.", body = ErrorBody),
        (status = 404, description = "`product_not_found`.", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: Postgres did not answer.", body = ErrorBody),
    )
)]
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

/// The `{id}` of a product's routes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProductPath {
    /// The product's id.
    #[param(minimum = 1, example = 1)]
    #[allow(dead_code)] // Read by the document only: handlers parse the raw segment.
    id: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stock": 100, "per_buyer": null}))]
pub struct RestockBody {
    /// The new stock (and initial stock).
    #[schema(minimum = 0, maximum = 1000000)]
    stock: i64,
    /// Units one buyer may get; absent or null: no limit.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    per_buyer: Option<i64>,
}

/// Restock: stock and initial stock become N, the product's orders are deleted.
#[utoipa::path(
    post,
    path = "/api/products/{id}/reset",
    tag = "products",
    params(ProductPath),
    request_body = RestockBody,
    security((), ("admin_token" = [])),
    responses(
        (status = 200, description = "The product, restocked.", body = ProductStats,
            example = json!(crate::routes::examples::product())),
        (status = 400, description = "`invalid_product_id`, `invalid_stock`, `invalid_per_buyer` or `invalid_body`.", body = ErrorBody),
        (status = 401, description = "`admin_token_required`: an ADMIN_TOKEN is set and the request does not carry it.", body = ErrorBody),
        (status = 404, description = "`product_not_found`.", body = ErrorBody),
        (status = 409, description = "`product_busy`: a sale held the product's row past the wait.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many wrong admin tokens from this client.", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: Postgres did not answer.", body = ErrorBody),
    )
)]
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
