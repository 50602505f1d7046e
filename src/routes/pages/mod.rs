//! The browser demo: one page at `/` with the products' live numbers, a Buy
//! button, the lock lab's switch, the flash crowd and restocking; its assets,
//! built into the binary; and the plain-form fallbacks that work without
//! JavaScript — a POST that answers `303` back to the page with the outcome
//! in a one-time cookie (a crowd by its id in the address, its verdict read
//! back from the database): nothing the page tells comes from its address.
//!
//! With JavaScript (`static/app.js` and the ES modules it imports) the page
//! calls the JSON API instead and updates itself in place; both go through
//! the same purchase path.
//!
//! * [`view`] — the page's template and what it shows;
//! * [`switch`] — the lock switch and the lesson box, built from the catalogue;
//! * [`settings`] — the knobs, and the query string the page is opened with;
//! * [`verdict`] — the words for an outcome: a sale, a refusal, a crowd;
//! * [`forms`] — the forms without JavaScript;
//! * [`outcome`] — what a form came to, carried to the next page load;
//! * [`assets`] — the stylesheet, script modules and icon;
//! * [`watch`] — the bounds of "Watch N buyers", the timeline the script draws.

mod assets;
mod forms;
mod notice;
mod outcome;
mod settings;
mod switch;
mod verdict;
mod view;
mod watch;

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{CustomizeResponder, HttpRequest, Responder, web};
use uuid::Uuid;

use crate::crowd::{self, CrowdReport};
use crate::domain::Knobs;
use crate::error::ApiError;
use crate::routes::endpoint::Endpoint;
use crate::routes::gate::AdminAccess;
use crate::state::AppState;

use outcome::{FormOutcome, NOTICE_COOKIE};
use settings::{PageQuery, PageSettings};
use switch::LockSwitch;
use view::{IndexPage, ServiceTiming};

/// The page's settings when the address names none: a 20 ms business step
/// makes `lock=none` oversell every time, and 500 buyers against a stock of
/// 100 oversell by hundreds — plain to see from the back of a classroom.
pub const DEFAULT_WORK_MS: u64 = 20;
pub const DEFAULT_BUYERS: u32 = 500;
pub const DEFAULT_STOCK: i64 = 100;

/// Everything comes from the service itself: no CDN, no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(Endpoint::new("/").get(index))
        .service(Endpoint::new("/static/{name}").get(assets::asset))
        .service(Endpoint::new("/products/{id}/buy").post(forms::buy_form))
        .service(Endpoint::new("/products/{id}/restock").post(forms::restock_form))
        .service(Endpoint::new("/products/{id}/flash-crowd").post(forms::crowd_form));
}

type PageResponse = CustomizeResponder<IndexPage>;

fn html(page: IndexPage, status: StatusCode) -> PageResponse {
    page.customize()
        .with_status(status)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
}

/// The page with `settings`: the products as they are now, and the lock
/// switch with what each strategy can do right now.
async fn load_page(
    state: &AppState,
    settings: PageSettings,
    admin: AdminAccess,
) -> Result<IndexPage, ApiError> {
    let products = state.shop.products().await;
    let availability = state.shop.lab.availability();
    let service = state.shop.lab.timing(&Knobs::default());
    Ok(IndexPage::new(
        products?,
        settings,
        LockSwitch::new(&availability, settings.strategy),
        ServiceTiming {
            ttl_ms: service.ttl.as_millis(),
            deadline_ms: service.deadline.as_millis(),
        },
        admin,
    ))
}

async fn index(
    state: web::Data<AppState>,
    admin: AdminAccess,
    request: HttpRequest,
) -> Result<PageResponse, ApiError> {
    let query = web::Query::<PageQuery>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    // An address that names no strategy starts on the default, if it can run.
    let (default, instead) = match query.lock {
        Some(_) => (state.default_lock_mode, None),
        None => switch::starting_strategy(&state.shop.lab.availability(), state.default_lock_mode),
    };
    let mut page = load_page(&state, query.settings(default), admin).await?;
    page.alert = instead;
    // What a plain form came to, from its one-time cookie: never from the
    // address, which anybody can write into a link.
    let told = request.cookie(NOTICE_COOKIE);
    if let Some(outcome) = told.as_ref().and_then(|c| FormOutcome::decode(c.value()))
        && let Some(notice) = outcome.notice()
    {
        page = page.with_notice(outcome.product, notice);
    }
    if let Some(crowd) = query.crowd.as_deref() {
        match kept_crowd(&state, crowd).await {
            Ok(report) => page = page.with_crowd(&report),
            Err(reason) => page.alert = Some(reason),
        }
    }
    let mut response = html(page, StatusCode::OK);
    if told.is_some() {
        // Told once: a reload shows no notice.
        let mut gone = Cookie::build(NOTICE_COOKIE, "").path("/").finish();
        gone.make_removal();
        response = response.add_cookie(&gone);
    }
    Ok(response)
}

/// The report of the crowd the address names, from the database; else why
/// there is no verdict to show.
async fn kept_crowd(state: &AppState, raw: &str) -> Result<CrowdReport, String> {
    let id: Uuid = raw
        .trim()
        .parse()
        .map_err(|_| "The address names no crowd: no verdict to show.".to_owned())?;
    match crowd::find_report(&state.shop.db, id).await {
        Ok(Some(report)) => Ok(report),
        Ok(None) => Err(format!(
            "Crowd {id} is not kept here (only the latest are): no verdict to show."
        )),
        Err(error) => {
            tracing::warn!(%error, %id, "could not read a crowd's report for the page");
            Err(format!(
                "Crowd {id} could not be read just now: no verdict to show."
            ))
        }
    }
}
