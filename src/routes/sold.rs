//! How a sale is answered, with a purchase or a replay of one: 201 with the
//! order written, or 202 with the order queued and where to ask about it.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};

use crate::sale::{Order, OrderStatus};

/// How a sale is answered: 201 with the order written, or 202 with the order
/// queued (`redis-stream`) and where to ask about it.
pub fn sold(order: &Order) -> HttpResponse {
    match order.status {
        OrderStatus::Written => HttpResponse::Created().json(order),
        OrderStatus::Queued => HttpResponse::Accepted()
            .insert_header((header::LOCATION, order_location(order.order_id)))
            .json(order),
    }
}

/// The status a sale is answered with.
pub fn sold_status(order: &Order) -> StatusCode {
    match order.status {
        OrderStatus::Written => StatusCode::CREATED,
        OrderStatus::Queued => StatusCode::ACCEPTED,
    }
}

pub fn order_location(id: uuid::Uuid) -> String {
    format!("/api/orders/{id}")
}
