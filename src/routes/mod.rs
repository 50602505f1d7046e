//! HTTP routes. Extractor failures answer in the same JSON error shape as
//! everything else.

mod crowd;
pub mod gate;
mod health;
pub mod metrics;
mod pages;
mod products;
mod purchase;
mod strategies;

use actix_web::{error::InternalError, web};

use crate::error::ApiError;

pub use purchase::PurchaseQuery;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|error, _| {
        let message = format!("malformed query string: {error}");
        InternalError::from_response(
            error,
            web_error(ApiError::bad_request("invalid_query", message)),
        )
        .into()
    }))
    .app_data(
        web::JsonConfig::default()
            .limit(4096)
            .error_handler(|error, _| {
                let message = format!("malformed JSON body: {error}");
                InternalError::from_response(
                    error,
                    web_error(ApiError::bad_request("invalid_body", message)),
                )
                .into()
            }),
    )
    .service(health::healthz)
    .service(health::readyz)
    .service(products::list)
    .service(products::get)
    .service(products::reset)
    .service(purchase::buy)
    .service(gate::admin_login)
    .service(strategies::list)
    .service(metrics::metrics)
    .service(crowd::flash_crowd)
    .service(crowd::crowd_report)
    .configure(pages::configure);
}

fn web_error(error: ApiError) -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&error)
}
