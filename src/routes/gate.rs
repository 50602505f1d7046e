//! What every request passes before its route, and the checks a route can
//! ask for by taking an extractor:
//!
//! * [`check`] (middleware, every request): the Host header must be one this
//!   service answers to (DNS rebinding), and a state-changing request from a
//!   browser must come from this site (`Sec-Fetch-Site`, else `Origin`) — a
//!   form on another site cannot buy, restock or start a crowd here.
//!   Clients that send neither header (curl, the load generator) pass.
//! * [`AdminOnly`] (restock and crowds): the admin token, when one is set.
//! * [`PurchaseQuota`] (purchases): the per-client rate limit, when one is set.

use std::future::{Ready, ready};
use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use crate::configuration::{AdminToken, AllowedHosts};
use crate::error::ApiError;

/// The cookie the page's admin form sets.
pub const ADMIN_COOKIE: &str = "flashsale_admin";

/// The gate's settings, shared by every worker.
pub struct Gate {
    pub hosts: AllowedHosts,
    pub admin: Option<AdminToken>,
    pub limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Gate {
    pub fn new(hosts: AllowedHosts, admin: Option<AdminToken>, rate_limit_rps: u32) -> Self {
        Self {
            hosts,
            admin,
            limiter: NonZeroU32::new(rate_limit_rps)
                .map(|rps| RateLimiter::keyed(Quota::per_second(rps))),
        }
    }
}

/// Host and cross-site checks; refusals answer the API's JSON.
pub async fn check(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = request
        .app_data::<web::Data<Gate>>()
        .and_then(|gate| refuse(gate, request.request()));
    match refusal {
        Some(error) => {
            let response = actix_web::ResponseError::error_response(&error);
            Ok(request.into_response(response).map_into_right_body())
        }
        None => next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

fn refuse(gate: &Gate, request: &HttpRequest) -> Option<ApiError> {
    let host = header_str(request, header::HOST).unwrap_or_default();
    if !gate.hosts.allows(host) {
        return Some(ApiError::HostNotAllowed(host.to_owned()));
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe {
        return None;
    }
    // Browsers say where a request comes from; only same-origin (or typed
    // in / bookmarked: `none`) may change anything.
    if let Some(site) = header_str(request, header::HeaderName::from_static("sec-fetch-site")) {
        return match site {
            "same-origin" | "none" => None,
            other => Some(ApiError::CrossSite(format!("Sec-Fetch-Site is `{other}`"))),
        };
    }
    if let Some(origin) = header_str(request, header::ORIGIN) {
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        if !origin_host.eq_ignore_ascii_case(host) {
            return Some(ApiError::CrossSite(format!(
                "Origin `{origin}` is not this site"
            )));
        }
    }
    None
}

fn header_str(request: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// What a request may do as admin: anything when no ADMIN_TOKEN is set
/// (`Open`); else whether it offers the token, as a Bearer header or as the
/// page's admin cookie (`Granted`) or not (`Locked`). The page asks for the
/// token when it is `Locked`; the cookie is HttpOnly, so only the server can
/// tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAccess {
    Open,
    Granted,
    Locked,
}

impl AdminAccess {
    pub fn of(request: &HttpRequest) -> Self {
        let Some(token) = request
            .app_data::<web::Data<Gate>>()
            .and_then(|gate| gate.admin.as_ref())
        else {
            return AdminAccess::Open;
        };
        let bearer = header_str(request, header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let cookie = request.cookie(ADMIN_COOKIE);
        match bearer.or(cookie.as_ref().map(|c| c.value())) {
            Some(offered) if token.matches(offered) => AdminAccess::Granted,
            _ => AdminAccess::Locked,
        }
    }
}

impl FromRequest for AdminAccess {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(AdminAccess::of(request)))
    }
}

/// Proof that the request may restock or start a crowd: always, when no
/// ADMIN_TOKEN is set; else the token as a Bearer header or the admin cookie.
pub struct AdminOnly(pub AdminAccess);

impl FromRequest for AdminOnly {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match AdminAccess::of(request) {
            AdminAccess::Locked => Err(ApiError::AdminTokenRequired),
            access => Ok(AdminOnly(access)),
        })
    }
}

/// A purchase within the client's rate limit (RATE_LIMIT_RPS), if any.
pub struct PurchaseQuota;

impl FromRequest for PurchaseQuota {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(limiter) = request
            .app_data::<web::Data<Gate>>()
            .and_then(|gate| gate.limiter.as_ref())
        else {
            return ready(Ok(PurchaseQuota));
        };
        let Some(client) = request.peer_addr().map(|address| address.ip()) else {
            return ready(Ok(PurchaseQuota));
        };
        // Forget idle clients now and then, so the table stays small.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        ready(match limiter.check_key(&client) {
            Ok(()) => Ok(PurchaseQuota),
            Err(_) => Err(ApiError::RateLimited),
        })
    }
}

#[derive(Deserialize)]
pub struct AdminForm {
    token: String,
}

/// The page's admin form: a right token sets the admin cookie (HttpOnly,
/// same-site only) and goes back to the page; a wrong one is a 401.
pub async fn admin_login(
    gate: web::Data<Gate>,
    form: web::Form<AdminForm>,
) -> Result<HttpResponse, ApiError> {
    match &gate.admin {
        Some(token) if token.matches(form.token.trim()) => {
            let cookie =
                actix_web::cookie::Cookie::build(ADMIN_COOKIE, form.token.trim().to_owned())
                    .path("/")
                    .http_only(true)
                    .same_site(actix_web::cookie::SameSite::Strict)
                    .finish();
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .cookie(cookie)
                .finish())
        }
        Some(_) => Err(ApiError::AdminTokenRequired),
        None => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .finish()),
    }
}
