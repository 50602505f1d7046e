use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use tokio::time::Instant;

use crate::state::AppState;

/// The lock's numbers in the Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.shop.metrics.render())
}

/// Middleware: the duration of every request, by route pattern (not path:
/// `/api/products/{id}/purchase`, so ids do not explode the label set).
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let method = request.method().clone();
    let response = next.call(request).await?;
    if let Some(state) = state {
        let route = response.request().match_pattern();
        state.shop.metrics.http_request(
            // No route: one label for every such path, never the path itself.
            route.as_deref().unwrap_or("unmatched"),
            method.as_str(),
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}
