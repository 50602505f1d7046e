//! What every request passes before its route, and the checks a route can
//! ask for by taking an extractor:
//!
//! * [`check`] (middleware, every request): the Host header must be one this
//!   service answers to (DNS rebinding), and a state-changing request from a
//!   browser must come from this site (`Sec-Fetch-Site`, else `Origin`) — a
//!   form on another site cannot buy, restock or start a crowd here.
//!   Clients that send neither header (curl, the load generator) pass.
//! * [`AdminOnly`] (restock and crowds): the admin token, when one is set;
//!   wrong tokens are counted per client ([`FailedAttempts`]).
//! * [`PurchaseQuota`] (purchases): the per-client rate limit, when one is set.
//! * [`AdminAccess::allows_knobs`] (purchases): the lab's knobs that can hold
//!   a product or the database for long are the teacher's, when a token is set.
//!
//! The client is the peer, or who a trusted proxy says it is ([`client`]).

use std::future::{Ready, ready};
use std::net::IpAddr;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures::future::{Either, LocalBoxFuture};
use serde::Deserialize;

use crate::configuration::{AdminToken, AllowedHosts, TrustedProxies};
use crate::domain::{Knobs, LockDeadline, LockTtl, PauseDelay};
use crate::error::ApiError;
use crate::routes::attempts::FailedAttempts;
use crate::routes::client;
use crate::routes::rate_limit::PurchaseRateLimit;

/// The cookie the page's admin form sets.
pub const ADMIN_COOKIE: &str = "flashsale_admin";

/// The longest business step anybody may ask for when an admin token is set;
/// a longer one, like any pause, TTL or deadline, is the teacher's.
pub const OPEN_WORK_MS: u64 = 100;

/// How long the admin cookie unlocks the page: a school day.
pub const ADMIN_COOKIE_MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// The gate's settings, shared by every worker.
pub struct Gate {
    pub hosts: AllowedHosts,
    pub admin: Option<AdminToken>,
    /// RATE_LIMIT_RPS, held in Redis for every instance at once.
    pub rate_limit: Option<PurchaseRateLimit>,
    /// Whose X-Forwarded-For and X-Forwarded-Proto are believed.
    pub proxies: TrustedProxies,
    /// Wrong admin tokens, per client.
    pub attempts: FailedAttempts,
}

impl Gate {
    pub fn new(
        hosts: AllowedHosts,
        admin: Option<AdminToken>,
        rate_limit: Option<PurchaseRateLimit>,
        proxies: TrustedProxies,
    ) -> Self {
        Self {
            hosts,
            admin,
            rate_limit,
            proxies,
            attempts: FailedAttempts::default(),
        }
    }

    /// The client's address: the peer, or who a trusted proxy says it is.
    pub fn client(&self, request: &HttpRequest) -> Option<IpAddr> {
        client::address(request, &self.proxies)
    }

    /// Compare `offered` with the token, unless this client offered too many
    /// wrong ones of late: then `Throttled`, without comparing.
    fn judge(&self, token: &AdminToken, request: &HttpRequest, offered: &str) -> AdminAccess {
        let client = self.client(request);
        if client.is_some_and(|client| !self.attempts.allows(client)) {
            return AdminAccess::Throttled;
        }
        if token.matches(offered) {
            return AdminAccess::Granted;
        }
        match client {
            Some(client) if !self.attempts.fail(client) => AdminAccess::Throttled,
            _ => AdminAccess::Locked,
        }
    }
}

/// A cookie of this site's: for its pages only (HttpOnly, SameSite Strict,
/// path `/`), and `Secure` when the page came over TLS (this server's, or a
/// trusted proxy's word).
pub fn site_cookie(request: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    let https = request
        .app_data::<web::Data<Gate>>()
        .is_some_and(|gate| client::is_https(request, &gate.proxies));
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .finish()
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
/// page's admin cookie (`Granted`) or not (`Locked`), or whether its client
/// offered too many wrong tokens of late (`Throttled`: nothing it offers is
/// compared). The page asks for the token unless it is `Granted`; the cookie
/// is HttpOnly, so only the server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAccess {
    Open,
    Granted,
    Locked,
    Throttled,
}

impl AdminAccess {
    pub fn of(request: &HttpRequest) -> Self {
        let Some(gate) = request.app_data::<web::Data<Gate>>() else {
            return AdminAccess::Open;
        };
        let Some(token) = gate.admin.as_ref() else {
            return AdminAccess::Open;
        };
        let bearer = header_str(request, header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let cookie = request.cookie(ADMIN_COOKIE);
        match bearer.or(cookie.as_ref().map(|c| c.value())) {
            // Offering nothing is no guess: it is not counted.
            None => AdminAccess::Locked,
            Some(offered) => gate.judge(token, request, offered),
        }
    }

    /// `Ok` when the request may do what needs the token.
    pub fn require(self) -> Result<(), ApiError> {
        match self {
            AdminAccess::Open | AdminAccess::Granted => Ok(()),
            AdminAccess::Locked => Err(ApiError::AdminTokenRequired),
            AdminAccess::Throttled => Err(ApiError::AdminAttemptsLimited),
        }
    }

    /// `Ok` unless the purchase turns a knob that needs the token and does
    /// not have it: a pause, a TTL or a deadline hold a lock, a row or a
    /// connection for up to 30–60 s (one request could freeze a product or
    /// take the pool), and so does a long business step.
    pub fn allows_knobs(self, knobs: &Knobs) -> Result<(), ApiError> {
        let Some(knob) = teachers_knob(knobs) else {
            return Ok(());
        };
        match self {
            AdminAccess::Open | AdminAccess::Granted => Ok(()),
            AdminAccess::Locked => Err(ApiError::AdminKnob(knob)),
            AdminAccess::Throttled => Err(ApiError::AdminAttemptsLimited),
        }
    }
}

/// The first knob of `knobs` that needs the token, in words. A pause of 0
/// and an unset TTL or deadline are no knob turned (the page sends those).
fn teachers_knob(knobs: &Knobs) -> Option<&'static str> {
    if knobs.pause.millis() > 0 {
        Some(PauseDelay::FIELD)
    } else if knobs.ttl.is_some() {
        Some(LockTtl::FIELD)
    } else if knobs.deadline.is_some() {
        Some(LockDeadline::FIELD)
    } else if knobs.work.millis() > OPEN_WORK_MS {
        Some("work_ms above 100")
    } else {
        None
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
/// ADMIN_TOKEN is set; else the token as a Bearer header or the admin cookie
/// (401 `admin_token_required` without; 429 `rate_limited` after too many
/// wrong ones).
pub struct AdminOnly(pub AdminAccess);

impl FromRequest for AdminOnly {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let access = AdminAccess::of(request);
        ready(access.require().map(|()| AdminOnly(access)))
    }
}

/// A purchase within the client's rate limit (RATE_LIMIT_RPS), if any:
/// one Redis call ([`PurchaseRateLimit`]), shared by every instance.
pub struct PurchaseQuota;

impl FromRequest for PurchaseQuota {
    type Error = ApiError;
    // No limit set (the default, a benchmark target): answered at once,
    // without a boxed future on every purchase.
    type Future =
        Either<Ready<Result<Self, ApiError>>, LocalBoxFuture<'static, Result<Self, ApiError>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let gate = request.app_data::<web::Data<Gate>>();
        let Some((limit, client)) =
            gate.and_then(|gate| Some((gate.rate_limit.clone()?, gate.client(request)?)))
        else {
            return Either::Left(ready(Ok(PurchaseQuota)));
        };
        Either::Right(Box::pin(async move {
            if limit.allows(client).await {
                Ok(PurchaseQuota)
            } else {
                Err(ApiError::RateLimited)
            }
        }))
    }
}

/// A cookie's Max-Age from a std duration.
pub fn max_age(duration: Duration) -> actix_web::cookie::time::Duration {
    actix_web::cookie::time::Duration::try_from(duration)
        .unwrap_or(actix_web::cookie::time::Duration::ZERO)
}

#[derive(Deserialize)]
pub struct AdminForm {
    token: String,
}

/// The page's admin form: a right token sets the admin cookie (HttpOnly,
/// same-site only, `Secure` over TLS, for [`ADMIN_COOKIE_MAX_AGE`]) and goes
/// back to the page; a wrong one is a 401, too many a 429.
pub async fn admin_login(
    gate: web::Data<Gate>,
    request: HttpRequest,
    form: web::Form<AdminForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(token) = &gate.admin else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .finish());
    };
    let offered = form.token.trim();
    gate.judge(token, &request, offered).require()?;
    let mut cookie = site_cookie(&request, ADMIN_COOKIE, offered.to_owned());
    cookie.set_max_age(max_age(ADMIN_COOKIE_MAX_AGE));
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(cookie)
        .finish())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::domain::RawKnobs;
    use crate::routes::attempts::BURST;

    fn knobs(work: &str, pause: &str, ttl: Option<&str>, deadline: Option<&str>) -> Knobs {
        Knobs::parse(&RawKnobs {
            work_ms: Some(work.into()),
            pause_ms: Some(pause.into()),
            ttl_ms: ttl.map(Into::into),
            deadline_ms: deadline.map(Into::into),
        })
        .unwrap()
    }

    #[test]
    fn a_pause_a_ttl_a_deadline_or_a_long_business_step_are_the_teachers() {
        for (turned, word) in [
            (knobs("0", "1", None, None), "pause_ms"),
            (knobs("0", "0", Some("5000"), None), "ttl_ms"),
            (knobs("0", "0", None, Some("0")), "deadline_ms"),
            (knobs("101", "0", None, None), "work_ms above 100"),
        ] {
            assert_eq!(teachers_knob(&turned), Some(word));
            let refused = AdminAccess::Locked.allows_knobs(&turned).unwrap_err();
            assert_eq!(refused.code(), "admin_token_required");
            assert!(refused.to_string().starts_with(word), "{refused}");
            assert_eq!(
                AdminAccess::Throttled
                    .allows_knobs(&turned)
                    .unwrap_err()
                    .code(),
                "rate_limited"
            );
            assert!(AdminAccess::Granted.allows_knobs(&turned).is_ok());
            assert!(AdminAccess::Open.allows_knobs(&turned).is_ok());
        }
        // What the page sends by default, and a business step up to 100 ms.
        for free in [knobs("20", "0", None, None), knobs("100", "0", None, None)] {
            assert_eq!(teachers_knob(&free), None);
            assert!(AdminAccess::Locked.allows_knobs(&free).is_ok());
        }
    }

    fn from(peer: &str) -> HttpRequest {
        TestRequest::default()
            .peer_addr(peer.parse().unwrap())
            .to_http_request()
    }

    #[test]
    fn a_client_over_its_wrong_tokens_has_no_token_compared_not_even_the_right_one() {
        let token: AdminToken = "classroom-secret".parse().unwrap();
        let gate = Gate::new(
            AllowedHosts::loopback(),
            Some(token.clone()),
            None,
            TrustedProxies::default(),
        );
        let guesser = from("198.51.100.9:4711");

        for _ in 0..BURST {
            assert_eq!(gate.judge(&token, &guesser, "guess"), AdminAccess::Locked);
        }
        assert_eq!(
            gate.judge(&token, &guesser, "guess"),
            AdminAccess::Throttled
        );
        assert_eq!(
            gate.judge(&token, &guesser, "classroom-secret"),
            AdminAccess::Throttled,
            "the 429 would tell a guesser it had the token"
        );
        let teacher = from("192.0.2.1:4711");
        assert_eq!(
            gate.judge(&token, &teacher, "classroom-secret"),
            AdminAccess::Granted
        );
    }
}
