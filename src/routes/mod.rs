//! HTTP routes: the route table, and what every answer has in common — the
//! API's JSON error shape for whatever goes wrong, a route's own refusals and
//! the extractors' ([`limits`]), a path no route has and a method a path does
//! not take ([`endpoint`]).

mod attempts;
mod client;
mod crowd;
mod docs;
mod endpoint;
mod examples;
pub mod gate;
mod health;
mod idempotent;
pub mod limits;
pub mod metrics;
pub mod openapi;
mod orders;
mod pages;
mod products;
mod purchase;
pub mod rate_limit;
mod sold;
mod strategies;

use actix_web::http::Method;
use actix_web::web;

use endpoint::Endpoint;

pub use purchase::PurchaseQuery;

/// The route table, less the page's (`pages::configure`). Every `/api` path
/// here is in the OpenAPI document (`routes::openapi`; tests/api/openapi.rs
/// checks it from [`route_table`]).
fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("/healthz").get(health::healthz),
        Endpoint::new("/readyz").get(health::readyz),
        Endpoint::new("/api/strategies").get(strategies::list),
        Endpoint::new("/api/products").get(products::list),
        Endpoint::new("/api/products/{id}").get(products::get),
        Endpoint::new("/api/products/{id}/reset").post(products::reset),
        Endpoint::new("/api/products/{id}/purchase").post(purchase::buy),
        Endpoint::new("/api/products/{id}/flash-crowd").post(crowd::flash_crowd),
        Endpoint::new("/api/crowds/{id}").get(crowd::crowd_report),
        Endpoint::new("/api/orders/{id}").get(orders::get),
        Endpoint::new("/api/openapi.json").get(openapi::document),
        Endpoint::new("/api/docs").get(docs::page),
        Endpoint::new("/api/docs/{asset}").get(docs::asset),
        Endpoint::new("/admin/token").post(gate::admin_login),
        Endpoint::new("/metrics").get(metrics::metrics),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(limits::extractor_errors);
    for endpoint in endpoints() {
        cfg.service(endpoint);
    }
    cfg.configure(pages::configure)
        .default_service(web::to(endpoint::not_found));
}

/// Each path of [`endpoints`] with its methods (HEAD beside every GET).
pub fn route_table() -> Vec<(String, Vec<Method>)> {
    endpoints()
        .iter()
        .map(|endpoint| (endpoint.path().to_owned(), endpoint.methods().to_vec()))
        .collect()
}
