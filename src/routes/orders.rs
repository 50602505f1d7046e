//! `GET /api/orders/{id}`: where an order is — queued in Redis (the stream
//! designs answer 202 before the order is written), written in Postgres, or
//! unknown (404; also an accepted order that was lost).

use actix_web::{HttpResponse, web};
use uuid::Uuid;

use crate::domain::InvalidInput;
use crate::error::{ApiError, Dependency};
use crate::lab::stream::FindError;
use crate::state::AppState;

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
