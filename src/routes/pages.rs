//! The browser demo: one page at `/` with the products' live numbers, a Buy
//! button, the lock switch, the flash crowd and restocking; its assets, built
//! into the binary; and the plain-form fallbacks that work without
//! JavaScript — a POST that answers `303` back to the page with the outcome
//! in the query string.
//!
//! With JavaScript (`static/app.js`) the page calls the JSON API instead and
//! updates itself in place; both go through the same purchase path.

use std::fmt;

use actix_web::http::{StatusCode, header};
use actix_web::{CustomizeResponder, Either, HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;
use uuid::Uuid;

use crate::crowd::{self, CrowdReport, CrowdRequest, CrowdSize};
use crate::domain::{InvalidInput, ProductId, RawKnobs, StockLevel, WorkDelay};
use crate::error::ApiError;
use crate::lock::Strategy as LockMode;
use crate::products::{self, ProductStats};
use crate::purchase::purchase;
use crate::routes::PurchaseQuery;
use crate::state::AppState;

/// The page's settings when the address names none: a 20 ms business step
/// makes `lock=none` oversell every time, and 500 buyers against a stock of
/// 100 oversell by hundreds — plain to see from the back of a classroom.
pub const DEFAULT_WORK_MS: u64 = 20;
pub const DEFAULT_BUYERS: u32 = 500;
pub const DEFAULT_STOCK: i64 = 100;

/// Name recorded on the orders of the Buy button.
const BROWSER_BUYER: &str = "browser";

/// Everything comes from the service itself: no CDN, no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(asset)
        .service(buy_form)
        .service(restock_form)
        .service(crowd_form);
}

// ---------------------------------------------------------------- the page --

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub products: Vec<ProductCard>,
    /// The lock switch, one option per [`LockMode::ALL`].
    pub locks: Vec<LockOption>,
    pub settings: PageSettings,
    pub crowd: Option<CrowdVerdict>,
    /// Why the last form was rejected, if it was.
    pub alert: Option<String>,
    pub max_buyers: u32,
    pub max_work_ms: u64,
    pub max_stock: i64,
}

pub struct ProductCard {
    pub stats: ProductStats,
    /// The outcome of the last action on this product.
    pub notice: Option<Notice>,
}

pub struct Notice {
    pub tone: Tone,
    pub text: String,
}

/// Green, red, or neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Info,
}

impl fmt::Display for Tone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Info => "info",
        })
    }
}

pub struct LockOption {
    pub value: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub checked: bool,
}

impl LockOption {
    fn new(mode: LockMode, selected: LockMode) -> Self {
        // A new strategy added to LockMode::ALL shows up in the switch; the
        // compiler asks for its words here.
        let info = mode.info();
        let (label, hint) = (info.label, info.lesson);
        Self {
            value: mode.as_str(),
            label,
            hint,
            checked: mode == selected,
        }
    }
}

/// The knobs, as the page shows them and as every form sends them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSettings {
    pub lock: LockMode,
    pub work: WorkDelay,
    pub buyers: CrowdSize,
    pub stock: StockLevel,
    pub restock_first: bool,
}

impl PageSettings {
    pub fn defaults(lock: LockMode) -> Self {
        Self {
            lock,
            work: WorkDelay::from_millis(DEFAULT_WORK_MS).expect("a valid default"),
            buyers: CrowdSize::new(DEFAULT_BUYERS.into()).expect("a valid default"),
            stock: StockLevel::new(DEFAULT_STOCK).expect("a valid default"),
            restock_first: true,
        }
    }

    /// The settings as a query string; every value is URL-safe.
    fn query(&self) -> String {
        format!(
            "lock={}&work_ms={}&buyers={}&stock={}&restock_first={}",
            self.lock,
            self.work.millis(),
            self.buyers.get(),
            self.stock.get(),
            u8::from(self.restock_first)
        )
    }
}

/// The result of a flash crowd as one big line and a line of detail.
pub struct CrowdVerdict {
    pub tone: Tone,
    pub oversold: i64,
    /// "sold 137 / 100 · oversold by 37" or "sold 100 / 100 · no oversell".
    pub headline: String,
    pub detail: String,
}

/// The numbers of a finished crowd, as a report or as the query string the
/// no-JavaScript form comes back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrowdNumbers {
    pub lock: LockMode,
    pub buyers: u32,
    pub work_ms: u64,
    pub stock_before: i64,
    pub sold: u32,
    pub sold_out: u32,
    pub busy: u32,
    pub unavailable: u32,
    pub failed: u32,
    pub elapsed_ms: u64,
}

impl From<&CrowdReport> for CrowdNumbers {
    fn from(report: &CrowdReport) -> Self {
        Self {
            lock: report.lock,
            buyers: report.buyers,
            work_ms: report.work_ms,
            stock_before: report.stock_before,
            sold: report.sold,
            sold_out: report.sold_out,
            busy: report.busy,
            unavailable: report.unavailable,
            failed: report.failed,
            elapsed_ms: report.elapsed_ms,
        }
    }
}

impl CrowdNumbers {
    fn query(&self) -> String {
        format!(
            "outcome=crowd&crowd_lock={}&crowd_buyers={}&crowd_work_ms={}&stock_before={}\
             &sold={}&sold_out={}&busy={}&unavailable={}&failed={}&elapsed_ms={}",
            self.lock,
            self.buyers,
            self.work_ms,
            self.stock_before,
            self.sold,
            self.sold_out,
            self.busy,
            self.unavailable,
            self.failed,
            self.elapsed_ms
        )
    }
}

impl From<CrowdNumbers> for CrowdVerdict {
    fn from(n: CrowdNumbers) -> Self {
        let oversold = (i64::from(n.sold) - n.stock_before).max(0);
        let headline = if oversold > 0 {
            format!(
                "sold {} / {} · oversold by {oversold}",
                n.sold, n.stock_before
            )
        } else {
            format!("sold {} / {} · no oversell", n.sold, n.stock_before)
        };
        let mut detail = format!(
            "lock {} · {} buyers · {} ms business step · {} sold out · {} busy",
            n.lock, n.buyers, n.work_ms, n.sold_out, n.busy
        );
        if n.unavailable > 0 {
            detail.push_str(&format!(" · {} unavailable", n.unavailable));
        }
        if n.failed > 0 {
            detail.push_str(&format!(" · {} failed", n.failed));
        }
        detail.push_str(&format!(" · {:.1} s", n.elapsed_ms as f64 / 1000.0));
        Self {
            tone: if oversold > 0 { Tone::Bad } else { Tone::Good },
            oversold,
            headline,
            detail,
        }
    }
}

impl IndexPage {
    pub fn new(products: Vec<ProductStats>, settings: PageSettings) -> Self {
        Self {
            products: products
                .into_iter()
                .map(|stats| ProductCard {
                    stats,
                    notice: None,
                })
                .collect(),
            locks: LockMode::ALL
                .into_iter()
                .map(|mode| LockOption::new(mode, settings.lock))
                .collect(),
            settings,
            crowd: None,
            alert: None,
            max_buyers: CrowdSize::MAX,
            max_work_ms: WorkDelay::MAX_MS,
            max_stock: StockLevel::MAX,
        }
    }

    /// Show `notice` on the card of `product`.
    pub fn with_notice(mut self, product: ProductId, notice: Notice) -> Self {
        if let Some(card) = self.products.iter_mut().find(|c| c.stats.id == product) {
            card.notice = Some(notice);
        }
        self
    }
}

/// The page's query string: the settings to show, and the outcome of the
/// form that redirected here. Anything malformed is ignored.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    lock: Option<String>,
    work_ms: Option<String>,
    buyers: Option<String>,
    stock: Option<String>,
    restock_first: Option<String>,

    product: Option<String>,
    outcome: Option<String>,
    order: Option<String>,
    remaining: Option<String>,
    level: Option<String>,

    crowd_lock: Option<String>,
    crowd_buyers: Option<String>,
    crowd_work_ms: Option<String>,
    stock_before: Option<String>,
    sold: Option<String>,
    sold_out: Option<String>,
    busy: Option<String>,
    unavailable: Option<String>,
    failed: Option<String>,
    elapsed_ms: Option<String>,
}

fn parsed<T: std::str::FromStr>(raw: &Option<String>) -> Option<T> {
    raw.as_deref().and_then(|raw| raw.trim().parse().ok())
}

impl PageQuery {
    fn settings(&self, default_lock: LockMode) -> PageSettings {
        let defaults = PageSettings::defaults(default_lock);
        PageSettings {
            lock: self
                .lock
                .as_deref()
                .and_then(|raw| LockMode::parse(raw).ok())
                .unwrap_or(defaults.lock),
            work: parsed(&self.work_ms)
                .and_then(|ms| WorkDelay::from_millis(ms).ok())
                .unwrap_or(defaults.work),
            buyers: parsed(&self.buyers)
                .and_then(|n| CrowdSize::new(n).ok())
                .unwrap_or(defaults.buyers),
            stock: parsed(&self.stock)
                .and_then(|n| StockLevel::new(n).ok())
                .unwrap_or(defaults.stock),
            // A ticked checkbox sends "on", a redirect "1" or "0"; a form sends
            // nothing for an unticked box, so absent means ticked only on a
            // bare address.
            restock_first: match self.restock_first.as_deref() {
                Some(value) => value != "0",
                None => self.lock.is_none(),
            },
        }
    }

    /// The outcome to show on a product's card.
    fn notice(&self) -> Option<(ProductId, Notice)> {
        let product = ProductId::parse(self.product.as_deref()?).ok()?;
        let (tone, text) = match self.outcome.as_deref()? {
            "sold" => {
                let order: Uuid = parsed(&self.order)?;
                let remaining: i64 = parsed(&self.remaining)?;
                (Tone::Good, sold_text(order, remaining))
            }
            "restocked" => {
                let level: i64 = parsed(&self.level)?;
                (Tone::Info, format!("Restocked to {level} · orders cleared"))
            }
            "crowd" => {
                let verdict = self.crowd()?;
                (verdict.tone, format!("Last crowd: {}", verdict.headline))
            }
            other => (Tone::Bad, refusal_text(other)?.to_owned()),
        };
        Some((product, Notice { tone, text }))
    }

    fn crowd(&self) -> Option<CrowdVerdict> {
        if self.outcome.as_deref()? != "crowd" {
            return None;
        }
        let numbers = CrowdNumbers {
            lock: LockMode::parse(self.crowd_lock.as_deref()?).ok()?,
            buyers: parsed(&self.crowd_buyers)?,
            work_ms: parsed(&self.crowd_work_ms)?,
            stock_before: parsed(&self.stock_before)?,
            sold: parsed(&self.sold)?,
            sold_out: parsed(&self.sold_out)?,
            busy: parsed(&self.busy)?,
            unavailable: parsed(&self.unavailable)?,
            failed: parsed(&self.failed)?,
            elapsed_ms: parsed(&self.elapsed_ms)?,
        };
        Some(numbers.into())
    }
}

/// What the Buy button says when it sold (the JavaScript says the same).
fn sold_text(order: Uuid, remaining: i64) -> String {
    let short = order.simple().to_string();
    format!("Order {} placed · {remaining} left", &short[..8])
}

/// What the Buy button says when nothing was sold, by error code.
fn refusal_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "sold_out" => "Sold out · nothing sold",
        "lock_timeout" => "Busy · the lock stayed taken, try again",
        "service_unavailable" => "Unavailable · nothing sold, try again",
        _ => return None,
    })
}

type PageResponse = CustomizeResponder<IndexPage>;

fn html(page: IndexPage, status: StatusCode) -> PageResponse {
    page.customize()
        .with_status(status)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
}

#[get("/")]
async fn index(state: web::Data<AppState>, request: HttpRequest) -> Result<PageResponse, ApiError> {
    let query = web::Query::<PageQuery>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let products = products::list(&state.shop.db).await?;
    let mut page = IndexPage::new(products, query.settings(state.default_lock_mode));
    if let Some((product, notice)) = query.notice() {
        page = page.with_notice(product, notice);
    }
    page.crowd = query.crowd();
    Ok(html(page, StatusCode::OK))
}

// ------------------------------------------------------------------ assets --

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/icon.svg"),
    },
];

/// The page's stylesheet, script and icon, built into the binary.
#[get("/static/{name}")]
async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|asset| asset.name == name.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.body),
        None => HttpResponse::NotFound().finish(),
    }
}

// ------------------------------------------------- forms without JavaScript --

/// What the page's form sends, whichever button was pressed.
#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    pub lock: Option<String>,
    pub work_ms: Option<String>,
    pub buyers: Option<String>,
    pub stock: Option<String>,
    /// A checkbox: present when ticked.
    pub restock_first: Option<String>,
}

impl PageForm {
    /// The settings to come back with; values that do not parse fall back to
    /// the defaults (the action itself parses strictly).
    fn settings(&self, default_lock: LockMode) -> PageSettings {
        PageQuery {
            lock: self.lock.clone(),
            work_ms: self.work_ms.clone(),
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
        .settings(default_lock)
    }

    fn purchase_query(&self, user: Option<&str>) -> PurchaseQuery {
        PurchaseQuery {
            lock: self.lock.clone(),
            user: user.map(str::to_owned),
            knobs: RawKnobs {
                work_ms: self.work_ms.clone(),
                ..RawKnobs::default()
            },
        }
    }

    fn stock_level(&self) -> Result<StockLevel, InvalidInput> {
        let raw = self.stock.as_deref().unwrap_or("").trim();
        match raw.parse::<i64>() {
            Ok(level) => StockLevel::new(level),
            Err(_) => Err(InvalidInput {
                code: "invalid_stock",
                message: format!(
                    "stock must be a whole number from 0 to {}, got `{raw}`",
                    StockLevel::MAX
                ),
            }),
        }
    }

    fn crowd_request(
        &self,
        product: ProductId,
        default_lock: LockMode,
    ) -> Result<CrowdRequest, InvalidInput> {
        let guard = self
            .purchase_query(None)
            .into_request(product, default_lock)?;
        Ok(CrowdRequest {
            product,
            strategy: guard.strategy,
            knobs: guard.knobs,
            buyers: CrowdSize::parse(self.buyers.as_deref().unwrap_or(""))?,
            restock: match self.restock_first {
                Some(_) => Some(self.stock_level()?),
                None => None,
            },
        })
    }
}

/// Back to the page, showing `outcome` on the card of `product`.
fn back_to_page(
    settings: &PageSettings,
    product: ProductId,
    outcome: &str,
    anchor: &str,
) -> HttpResponse {
    let location = format!(
        "/?{}&product={product}&{outcome}#{anchor}",
        settings.query()
    );
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A form the service refused (bad input, no such product): the page again,
/// with the reason on top and the status of the JSON API's answer.
async fn refused(
    state: &AppState,
    settings: PageSettings,
    error: ApiError,
) -> Result<Either<PageResponse, HttpResponse>, ApiError> {
    let status = actix_web::ResponseError::status_code(&error);
    let products = products::list(&state.shop.db).await?;
    let mut page = IndexPage::new(products, settings);
    page.alert = Some(error.to_string());
    Ok(Either::Left(html(page, status)))
}

/// Errors a form shows as the page with an alert; the others are outcomes
/// (sold out, busy, unavailable) or the service's own failures (500).
fn is_refusal(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::InvalidInput(_) | ApiError::ProductNotFound(_)
    )
}

/// Buy one unit, like `POST /api/products/{id}/purchase`.
#[post("/products/{id}/buy")]
async fn buy_form(
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<PageForm>,
) -> Result<Either<PageResponse, HttpResponse>, ApiError> {
    let settings = form.settings(state.default_lock_mode);
    let product = ProductId::parse(&id)?;
    let request = match form
        .purchase_query(Some(BROWSER_BUYER))
        .into_request(product, state.default_lock_mode)
    {
        Ok(request) => request,
        Err(invalid) => return refused(&state, settings, invalid.into()).await,
    };
    let outcome = match purchase(&state.shop, request).await.map_err(ApiError::from) {
        Ok(order) => format!(
            "outcome=sold&order={}&remaining={}",
            order.order_id, order.remaining_stock
        ),
        Err(error) if is_refusal(&error) => return refused(&state, settings, error).await,
        Err(error) => match error {
            ApiError::SoldOut(_) | ApiError::LockTimeout { .. } => {
                format!("outcome={}", error.code())
            }
            ApiError::Unavailable { .. } => {
                tracing::warn!(error = %error, "a purchase from the page found the service unavailable");
                format!("outcome={}", error.code())
            }
            other => return Err(other),
        },
    };
    Ok(Either::Right(back_to_page(
        &settings,
        product,
        &outcome,
        &format!("product-{product}"),
    )))
}

/// Restock, like `POST /api/products/{id}/reset`.
#[post("/products/{id}/restock")]
async fn restock_form(
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<PageForm>,
) -> Result<Either<PageResponse, HttpResponse>, ApiError> {
    let settings = form.settings(state.default_lock_mode);
    let product = ProductId::parse(&id)?;
    let level = match form.stock_level() {
        Ok(level) => level,
        Err(invalid) => return refused(&state, settings, invalid.into()).await,
    };
    let Some(stats) = products::restock(&state.shop.db, product, level).await? else {
        return refused(&state, settings, ApiError::ProductNotFound(product)).await;
    };
    Ok(Either::Right(back_to_page(
        &settings,
        product,
        &format!("outcome=restocked&level={}", stats.stock),
        &format!("product-{product}"),
    )))
}

/// Run a flash crowd, like `POST /api/products/{id}/flash-crowd`.
#[post("/products/{id}/flash-crowd")]
async fn crowd_form(
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<PageForm>,
) -> Result<Either<PageResponse, HttpResponse>, ApiError> {
    let settings = form.settings(state.default_lock_mode);
    let product = ProductId::parse(&id)?;
    let request = match form.crowd_request(product, state.default_lock_mode) {
        Ok(request) => request,
        Err(invalid) => return refused(&state, settings, invalid.into()).await,
    };
    let report = match crowd::run(&state.shop, request).await {
        Ok(report) => report,
        Err(error) if is_refusal(&error) => return refused(&state, settings, error).await,
        Err(error) => return Err(error),
    };
    Ok(Either::Right(back_to_page(
        &settings,
        product,
        &CrowdNumbers::from(&report).query(),
        "crowd",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(id: i64, name: &str, stock: i64, orders: i64) -> ProductStats {
        ProductStats {
            id: ProductId::from(id),
            name: name.to_owned(),
            initial_stock: 100,
            stock,
            orders,
            oversold: (orders - 100).max(0),
            lost_updates: orders - (100 - stock),
        }
    }

    fn render(page: &IndexPage) -> String {
        page.render().expect("the page renders")
    }

    #[test]
    fn the_page_shows_each_products_numbers_and_controls() {
        let page = IndexPage::new(
            vec![stats(1, "Phone", 99, 137), stats(2, "Sneakers", 20, 0)],
            PageSettings::defaults(LockMode::Redis),
        );
        let html = render(&page);

        for expected in [
            r#"data-product="1""#,
            r#"<dd data-field="stock">99</dd>"#,
            r#"<dd data-field="initial_stock">100</dd>"#,
            r#"<dd data-field="orders">137</dd>"#,
            r#"<dd data-field="oversold">37</dd>"#,
            r#"<dd data-field="lost_updates">136</dd>"#,
            r#"formmethod="post" formaction="/products/1/buy""#,
            r#"formaction="/products/2/flash-crowd""#,
            r#"formaction="/products/2/restock""#,
            r#"name="work_ms""#,
            r#"value="20""#,
            r#"max="10000""#,
            r#"value="500""#,
            "What the lock changes",
        ] {
            assert!(html.contains(expected), "missing {expected}");
        }
        assert!(html.contains(r#"class="product is-oversold""#));
    }

    #[test]
    fn the_lock_switch_offers_every_lock_mode_with_the_chosen_one_checked() {
        let html = render(&IndexPage::new(
            vec![],
            PageSettings::defaults(LockMode::None),
        ));

        for mode in LockMode::ALL {
            assert!(
                html.contains(&format!(r#"name="lock" value="{mode}""#)),
                "no option for {mode}"
            );
        }
        assert!(html.contains(r#"name="lock" value="none" checked"#));
        assert!(!html.contains(r#"name="lock" value="redis" checked"#));
    }

    #[test]
    fn names_and_messages_are_escaped() {
        let mut page = IndexPage::new(
            vec![stats(1, r#"<script>alert("x")</script>"#, 1, 0)],
            PageSettings::defaults(LockMode::Redis),
        );
        page.alert = Some("<b>bold</b>".into());
        let html = render(&page);

        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;"));
        assert!(!html.contains("<b>bold</b>"));
    }

    #[test]
    fn a_crowd_verdict_says_how_much_was_oversold() {
        let numbers = CrowdNumbers {
            lock: LockMode::None,
            buyers: 500,
            work_ms: 20,
            stock_before: 100,
            sold: 137,
            sold_out: 363,
            busy: 0,
            unavailable: 0,
            failed: 0,
            elapsed_ms: 1234,
        };
        let verdict = CrowdVerdict::from(numbers);
        assert_eq!(verdict.headline, "sold 137 / 100 · oversold by 37");
        assert_eq!(verdict.tone, Tone::Bad);
        assert_eq!(
            verdict.detail,
            "lock none · 500 buyers · 20 ms business step · 363 sold out · 0 busy · 1.2 s"
        );

        let locked = CrowdVerdict::from(CrowdNumbers {
            lock: LockMode::Redis,
            sold: 100,
            sold_out: 390,
            busy: 10,
            ..numbers
        });
        assert_eq!(locked.headline, "sold 100 / 100 · no oversell");
        assert_eq!(locked.tone, Tone::Good);
        assert_eq!(locked.oversold, 0);
    }

    #[test]
    fn a_crowd_comes_back_from_its_query_string() {
        let numbers = CrowdNumbers {
            lock: LockMode::Redis,
            buyers: 50,
            work_ms: 5,
            stock_before: 10,
            sold: 10,
            sold_out: 38,
            busy: 2,
            unavailable: 0,
            failed: 0,
            elapsed_ms: 800,
        };
        let query: PageQuery =
            web::Query::<PageQuery>::from_query(&format!("product=1&{}", numbers.query()))
                .unwrap()
                .into_inner();
        let verdict = query.crowd().expect("a verdict");
        assert_eq!(verdict.headline, "sold 10 / 10 · no oversell");
        assert!(verdict.detail.contains("2 busy"), "{}", verdict.detail);
    }

    #[test]
    fn a_malformed_query_string_shows_the_defaults() {
        let query: PageQuery = web::Query::<PageQuery>::from_query(
            "lock=mutex&work_ms=-3&buyers=99999&stock=x&restock_first=1&outcome=sold&order=x",
        )
        .unwrap()
        .into_inner();
        assert_eq!(
            query.settings(LockMode::Redis),
            PageSettings::defaults(LockMode::Redis)
        );
        assert!(query.notice().is_none());
        assert!(query.crowd().is_none());
    }
}
