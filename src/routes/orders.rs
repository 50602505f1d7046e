//! `GET /api/orders/{id}`: where an order is — queued in Redis (the stream
//! designs answer 202 before the order is written), written in Postgres, or
//! unknown (404; also an accepted order that was lost).

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use crate::domain::InvalidInput;
use crate::error::{ApiError, Dependency, ErrorBody};
use crate::lab::stream::{FindError, OrderLookup};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    tag = "purchases",
    params(("id" = uuid::Uuid, Path, description = "An `order_id`, as a purchase answered it.")),
    responses(
        (status = 200, description = "Where the order is: `queued` in Redis or `written` in Postgres.", body = OrderLookup,
            example = json!({"order_id": "0b7e5d8e-5f7a-4c1e-9d7e-2f1f4a6b8c90", "product_id": 1, "status": "written", "lock": "redis-stream"})),
        (status = 400, description = "`invalid_order_id`: not a UUID.", body = ErrorBody),
        (status = 404, description = "`order_not_found`: never accepted, or accepted and lost.", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: Postgres or Redis did not answer.", body = ErrorBody),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: Uuid = id.trim().parse().map_err(|_| {
        InvalidInput::new(
            "invalid_order_id",
            format!("an order id is a UUID, got `{id}`"),
        )
    })?;
    let shop = &state.shop;
    match shop.lab.stream().find_order(&shop.db, id).await {
        Ok(Some(order)) => Ok(HttpResponse::Ok().json(order)),
        Ok(None) => Err(ApiError::OrderNotFound(id)),
        Err(FindError::Database(error)) => Err(error.into()),
        Err(FindError::Redis(error)) => Err(ApiError::Unavailable {
            dependency: Dependency::Redis,
            source: error.into(),
        }),
    }
}
