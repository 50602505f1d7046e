//! The page without JavaScript: each button is a plain form POST that does
//! what the JSON API does and answers `303` back to the page with the
//! settings in the query string, and the outcome in a one-time cookie
//! ([`super::outcome`]; a crowd by its id in the address) — or, when the
//! service refuses the form (a bad value, no such product, a strategy that
//! cannot run), the page again with the reason on top and the API's status.

use actix_web::http::header;
use actix_web::{Either, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use uuid::Uuid;

use super::outcome::{FormOutcome, NOTICE_COOKIE, NOTICE_MAX_AGE, Outcome};
use super::settings::{PageQuery, PageSettings};
use super::{PageResponse, html, load_page};
use crate::crowd::{self, CrowdRequest, CrowdSize};
use crate::domain::{InvalidInput, PerBuyer, ProductId, RawKnobs, StockLevel};
use crate::error::ApiError;
use crate::lock::Strategy;
use crate::purchase::purchase;
use crate::routes::PurchaseQuery;
use crate::routes::gate::{self, AdminAccess, AdminOnly, PurchaseQuota};
use crate::state::AppState;

/// Name recorded on the orders of the Buy button.
const BROWSER_BUYER: &str = "browser";

type FormResponse = Result<Either<PageResponse, HttpResponse>, ApiError>;

/// What the page's form sends, whichever button was pressed.
#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    pub lock: Option<String>,
    pub work_ms: Option<String>,
    pub pause_ms: Option<String>,
    pub ttl_ms: Option<String>,
    pub deadline_ms: Option<String>,
    pub buyers: Option<String>,
    pub stock: Option<String>,
    /// A checkbox: present when ticked.
    pub restock_first: Option<String>,
    /// A checkbox: the restock sets a limit of one per buyer.
    pub one_per_buyer: Option<String>,
    /// Purchases each crowd buyer sends at once (the bots' case).
    pub clicks_per_buyer: Option<String>,
    /// `key` or `count`.
    pub duplicate_check: Option<String>,
}

/// A form's empty field is a knob left unset (the API, which has no empty
/// fields, would refuse it).
fn filled(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

impl PageForm {
    /// The settings to come back with; values that do not parse fall back to
    /// the defaults (the action itself parses strictly).
    fn settings(&self, default_strategy: Strategy) -> PageSettings {
        PageQuery {
            lock: self.lock.clone(),
            work_ms: self.work_ms.clone(),
            pause_ms: self.pause_ms.clone(),
            ttl_ms: self.ttl_ms.clone(),
            deadline_ms: self.deadline_ms.clone(),
            buyers: self.buyers.clone(),
            stock: self.stock.clone(),
            restock_first: Some(
                if self.restock_first.is_some() {
                    "1"
                } else {
                    "0"
                }
                .into(),
            ),
            ..PageQuery::default()
        }
        .settings(default_strategy)
    }

    fn knobs(&self) -> RawKnobs {
        RawKnobs {
            work_ms: filled(&self.work_ms),
            pause_ms: filled(&self.pause_ms),
            ttl_ms: filled(&self.ttl_ms),
            deadline_ms: filled(&self.deadline_ms),
        }
    }

    fn purchase_query(&self, user: Option<&str>) -> PurchaseQuery {
        PurchaseQuery {
            lock: filled(&self.lock),
            user: user.map(str::to_owned),
            duplicate_check: filled(&self.duplicate_check),
            knobs: self.knobs(),
        }
    }

    /// One per buyer when ticked, else no limit.
    fn per_buyer(&self) -> Option<PerBuyer> {
        self.one_per_buyer
            .as_ref()
            .and_then(|_| PerBuyer::new(1).ok())
    }

    fn clicks_per_buyer(&self) -> Result<u32, InvalidInput> {
        match filled(&self.clicks_per_buyer) {
            None => Ok(1),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n @ 1..=1000) => Ok(n),
                _ => Err(InvalidInput::new(
                    "invalid_clicks_per_buyer",
                    format!("clicks_per_buyer must be a whole number from 1 to 1000, got `{raw}`"),
                )),
            },
        }
    }

    fn stock_level(&self) -> Result<StockLevel, InvalidInput> {
        let raw = self.stock.as_deref().unwrap_or("").trim();
        match raw.parse::<i64>() {
            Ok(level) => StockLevel::new(level),
            Err(_) => Err(InvalidInput::new(
                "invalid_stock",
                format!(
                    "stock must be a whole number from 0 to {}, got `{raw}`",
                    StockLevel::MAX
                ),
            )),
        }
    }

    fn crowd_request(
        &self,
        product: ProductId,
        default_strategy: Strategy,
    ) -> Result<CrowdRequest, InvalidInput> {
        let guard = self
            .purchase_query(None)
            .into_request(product, default_strategy)?;
        Ok(CrowdRequest {
            product,
            strategy: guard.strategy,
            knobs: guard.knobs,
            // Buyers × clicks purchases in all, as the API's crowd counts them.
            buyers: CrowdSize::new(
                i64::from(CrowdSize::parse(self.buyers.as_deref().unwrap_or(""))?.get())
                    * i64::from(self.clicks_per_buyer()?),
            )?,
            restock: match self.restock_first {
                Some(_) => Some(self.stock_level()?),
                None => None,
            },
            per_buyer: self.per_buyer().filter(|_| self.restock_first.is_some()),
            duplicate_check: guard.duplicate_check,
            clicks_per_buyer: self.clicks_per_buyer()?,
            trace: false,
        })
    }
}

/// Back to the page with the settings (and the crowd that ran, if any) in
/// the address.
fn back_to_page(
    settings: &PageSettings,
    product: ProductId,
    crowd: Option<Uuid>,
    anchor: &str,
) -> HttpResponseBuilder {
    let crowd = crowd.map(|id| format!("&crowd={id}")).unwrap_or_default();
    let location = format!("/?{}&product={product}{crowd}#{anchor}", settings.query());
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, location));
    response
}

/// Back to the page, showing `outcome` on its product's card: the next page
/// load reads it from a one-time cookie, and clears it.
fn back_with(request: &HttpRequest, settings: &PageSettings, outcome: FormOutcome) -> HttpResponse {
    let mut told = gate::site_cookie(request, NOTICE_COOKIE, outcome.encode());
    told.set_max_age(gate::max_age(NOTICE_MAX_AGE));
    let product = outcome.product;
    back_to_page(settings, product, None, &format!("product-{product}"))
        .cookie(told)
        .finish()
}

/// A form the service refused: the page again, with the reason on top and
/// the status of the JSON API's answer.
async fn refused(
    state: &AppState,
    settings: PageSettings,
    admin: AdminAccess,
    error: ApiError,
) -> FormResponse {
    let status = actix_web::ResponseError::status_code(&error);
    let mut page = load_page(state, settings, admin).await?;
    page.alert = Some(error.to_string());
    Ok(Either::Left(html(page, status)))
}

/// Errors a form shows as the page with an alert: bad input, no such
/// product, a product held by a sale (restock), and a strategy that cannot
/// run (its reason is worth a sentence).
/// The others are outcomes (sold out, busy, lock lost, …) or the service's
/// own failures (500).
fn is_refusal(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::InvalidInput(_)
            | ApiError::ProductNotFound(_)
            | ApiError::ProductBusy(_)
            | ApiError::StrategyUnavailable { .. }
            | ApiError::CrowdRunning(_)
            | ApiError::TooManyCrowds(_)
            | ApiError::ShuttingDown
    )
}

/// Buy one unit, like `POST /api/products/{id}/purchase`.
pub async fn buy_form(
    _quota: PurchaseQuota,
    admin: AdminAccess,
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<PageForm>,
) -> FormResponse {
    let settings = form.settings(state.default_lock_mode);
    let product = ProductId::parse(&id)?;
    let sale = match form
        .purchase_query(Some(BROWSER_BUYER))
        .into_request(product, state.default_lock_mode)
    {
        Ok(sale) => sale,
        Err(invalid) => return refused(&state, settings, admin, invalid.into()).await,
    };
    if let Err(knob) = admin.allows_knobs(&sale.knobs) {
        return refused(&state, settings, admin, knob).await;
    }
    let what = match purchase(&state.shop, sale).await.map_err(ApiError::from) {
        Ok(order) => Outcome::Sold {
            order: order.order_id,
            remaining: order.remaining_stock,
        },
        Err(error) if is_refusal(&error) => return refused(&state, settings, admin, error).await,
        Err(error) => match error {
            ApiError::SoldOut(_)
            | ApiError::LockTimeout { .. }
            | ApiError::LockLost { .. }
            | ApiError::Restocked(_) => Outcome::Refused(error.code()),
            ApiError::Unavailable { .. } => {
                tracing::warn!(error = %error, "a purchase from the page found the service unavailable");
                Outcome::Refused(error.code())
            }
            other => return Err(other),
        },
    };
    Ok(Either::Right(back_with(
        &request,
        &settings,
        FormOutcome { product, what },
    )))
}

/// Restock, like `POST /api/products/{id}/reset`.
pub async fn restock_form(
    AdminOnly(admin): AdminOnly,
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<PageForm>,
) -> FormResponse {
    let settings = form.settings(state.default_lock_mode);
    let product = ProductId::parse(&id)?;
    let level = match form.stock_level() {
        Ok(level) => level,
        Err(invalid) => return refused(&state, settings, admin, invalid.into()).await,
    };
    let restocked = state
        .shop
        .restock(product, level, form.per_buyer())
        .await
        .map_err(|error| ApiError::from_restock(product, error));
    let stats = match restocked {
        Ok(Some(stats)) => stats,
        Ok(None) => {
            return refused(&state, settings, admin, ApiError::ProductNotFound(product)).await;
        }
        Err(error) if is_refusal(&error) => return refused(&state, settings, admin, error).await,
        Err(error) => return Err(error),
    };
    let level = StockLevel::new(stats.stock).unwrap_or(level);
    Ok(Either::Right(back_with(
        &request,
        &settings,
        FormOutcome {
            product,
            what: Outcome::Restocked { level },
        },
    )))
}

/// Run a flash crowd, like `POST /api/products/{id}/flash-crowd`.
pub async fn crowd_form(
    AdminOnly(admin): AdminOnly,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<PageForm>,
) -> FormResponse {
    let settings = form.settings(state.default_lock_mode);
    let product = ProductId::parse(&id)?;
    let request = match form.crowd_request(product, state.default_lock_mode) {
        Ok(request) => request,
        Err(invalid) => return refused(&state, settings, admin, invalid.into()).await,
    };
    let report = match crowd::run(&state.shop, &state.crowds, request)
        .await
        .map_err(ApiError::from)
    {
        Ok(report) => report,
        Err(error) if is_refusal(&error) => return refused(&state, settings, admin, error).await,
        Err(error) => return Err(error),
    };
    // The page reads the verdict back by the crowd's id: numbers in its
    // address would be anybody's to write.
    Ok(Either::Right(
        back_to_page(&settings, product, Some(report.crowd_id), "crowd").finish(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> PageForm {
        let encoded: String = fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        // URL-encoded like a form body.
        web::Query::<PageForm>::from_query(&encoded)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn an_empty_knob_is_not_set_and_a_filled_one_is_parsed_strictly() {
        let request = form(&[
            ("lock", "redis"),
            ("work_ms", "5"),
            ("pause_ms", ""),
            ("ttl_ms", " "),
            ("deadline_ms", "250"),
        ])
        .purchase_query(None)
        .into_request(ProductId::from(1), Strategy::None)
        .unwrap();
        assert_eq!(request.strategy, Strategy::Redis);
        assert_eq!(request.knobs.work.millis(), 5);
        assert_eq!(request.knobs.pause.millis(), 0);
        assert_eq!(request.knobs.ttl, None);
        assert_eq!(request.knobs.deadline.map(|d| d.millis()), Some(250));

        let error = form(&[("lock", "redis"), ("ttl_ms", "50")])
            .purchase_query(None)
            .into_request(ProductId::from(1), Strategy::None)
            .unwrap_err();
        assert_eq!(error.code, "invalid_ttl_ms");
    }

    #[test]
    fn the_form_comes_back_with_its_knobs() {
        let settings = form(&[
            ("lock", "redis-watchdog"),
            ("work_ms", "30"),
            ("pause_ms", "700"),
            ("ttl_ms", "400"),
            ("deadline_ms", ""),
            ("buyers", "50"),
            ("stock", "5"),
        ])
        .settings(Strategy::Redis);

        let query = settings.query();
        assert!(
            query.contains(
                "lock=redis-watchdog&work_ms=30&pause_ms=700&ttl_ms=400&deadline_ms=&buyers=50"
            ),
            "{query}"
        );
        assert!(query.ends_with("restock_first=0"), "{query}");
    }
}
