//! HTTP routes: the route table, and what every answer has in common — the
//! API's JSON error shape for whatever goes wrong, a route's own refusals and
//! the extractors' ([`limits`]), a path no route has and a method a path does
//! not take ([`endpoint`]).

mod attempts;
mod client;
mod crowd;
mod endpoint;
pub mod gate;
mod health;
mod idempotent;
pub mod limits;
pub mod metrics;
mod orders;
mod pages;
mod products;
mod purchase;
pub mod rate_limit;
mod sold;
mod strategies;

use actix_web::web;

use endpoint::Endpoint;

pub use purchase::PurchaseQuery;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(limits::extractor_errors)
        .service(Endpoint::new("/healthz").get(health::healthz))
        .service(Endpoint::new("/readyz").get(health::readyz))
        .service(Endpoint::new("/api/strategies").get(strategies::list))
        .service(Endpoint::new("/api/products").get(products::list))
        .service(Endpoint::new("/api/products/{id}").get(products::get))
        .service(Endpoint::new("/api/products/{id}/reset").post(products::reset))
        .service(Endpoint::new("/api/products/{id}/purchase").post(purchase::buy))
        .service(Endpoint::new("/api/products/{id}/flash-crowd").post(crowd::flash_crowd))
        .service(Endpoint::new("/api/crowds/{id}").get(crowd::crowd_report))
        .service(Endpoint::new("/api/orders/{id}").get(orders::get))
        .service(Endpoint::new("/admin/token").post(gate::admin_login))
        .service(Endpoint::new("/metrics").get(metrics::metrics))
        .configure(pages::configure)
        .default_service(web::to(endpoint::not_found));
}
