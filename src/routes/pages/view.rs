//! The page itself: what `templates/index.html` is given to show.

use askama::Template;
use askama_web::WebTemplate;

use super::notice::Notice;
use super::settings::PageSettings;
use super::switch::LockSwitch;
use super::verdict::{CrowdNumbers, CrowdVerdict};
use crate::crowd::{CrowdReport, CrowdSize};
use crate::domain::{LockDeadline, LockTtl, PauseDelay, ProductId, StockLevel, WorkDelay};
use crate::products::ProductStats;
use crate::routes::gate::AdminAccess;

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub products: Vec<ProductCard>,
    /// The lock switch: the whole catalogue, grouped.
    pub switch: LockSwitch,
    pub settings: PageSettings,
    /// What an empty TTL or deadline field stands for.
    pub service: ServiceTiming,
    pub crowd: Option<CrowdVerdict>,
    /// Why the last form was rejected, if it was.
    pub alert: Option<String>,
    pub bounds: Bounds,
    /// Whether to ask for the admin token (the service has one and this
    /// browser has not given it), or to say it was given.
    pub admin: AdminAccess,
}

/// The service's own lock timing, used when a purchase names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceTiming {
    pub ttl_ms: u128,
    pub deadline_ms: u128,
}

/// The fields' limits, as the API checks them.
pub struct Bounds {
    pub max_buyers: u32,
    pub max_work_ms: u64,
    pub max_pause_ms: u64,
    pub min_ttl_ms: u64,
    pub max_ttl_ms: u64,
    pub max_deadline_ms: u64,
    pub max_stock: i64,
}

impl Bounds {
    const API: Bounds = Bounds {
        max_buyers: CrowdSize::MAX,
        max_work_ms: WorkDelay::MAX_MS,
        max_pause_ms: PauseDelay::MAX_MS,
        min_ttl_ms: LockTtl::MIN_MS,
        max_ttl_ms: LockTtl::MAX_MS,
        max_deadline_ms: LockDeadline::MAX_MS,
        max_stock: StockLevel::MAX,
    };
}

pub struct ProductCard {
    pub stats: ProductStats,
    /// The outcome of the last action on this product.
    pub notice: Option<Notice>,
}

impl IndexPage {
    pub fn new(
        products: Vec<ProductStats>,
        settings: PageSettings,
        switch: LockSwitch,
        service: ServiceTiming,
        admin: AdminAccess,
    ) -> Self {
        Self {
            products: products
                .into_iter()
                .map(|stats| ProductCard {
                    stats,
                    notice: None,
                })
                .collect(),
            switch,
            settings,
            service,
            crowd: None,
            alert: None,
            bounds: Bounds::API,
            admin,
        }
    }

    /// Show `notice` on the card of `product`.
    pub fn with_notice(mut self, product: ProductId, notice: Notice) -> Self {
        if let Some(card) = self.products.iter_mut().find(|c| c.stats.id == product) {
            card.notice = Some(notice);
        }
        self
    }

    /// Show a finished crowd's verdict, and a line on its product's card.
    pub fn with_crowd(mut self, report: &CrowdReport) -> Self {
        let verdict = CrowdVerdict::from(CrowdNumbers::from(report));
        let notice = Notice {
            tone: verdict.tone,
            text: format!("Last crowd: {}", verdict.headline),
        };
        self.crowd = Some(verdict);
        self.with_notice(report.product.id, notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Availability;
    use crate::lock::Strategy;

    const SERVICE: ServiceTiming = ServiceTiming {
        ttl_ms: 5000,
        deadline_ms: 5000,
    };

    fn stats(id: i64, name: &str, stock: i64, orders: i64) -> ProductStats {
        ProductStats {
            id: ProductId::from(id),
            name: name.to_owned(),
            initial_stock: 100,
            stock,
            orders,
            oversold: (orders - 100).max(0),
            lost_updates: orders - (100 - stock),
            generation: 0,
            per_buyer: None,
            duplicates: 0,
            queued: Some(0),
        }
    }

    fn page_with(
        products: Vec<ProductStats>,
        chosen: Strategy,
        availability: &[(Strategy, Availability)],
    ) -> IndexPage {
        IndexPage::new(
            products,
            PageSettings::defaults(chosen),
            LockSwitch::new(availability, chosen),
            SERVICE,
            AdminAccess::Open,
        )
    }

    fn render(page: &IndexPage) -> String {
        page.render().expect("the page renders")
    }

    #[test]
    fn the_page_shows_each_products_numbers_and_controls() {
        let html = render(&page_with(
            vec![stats(1, "Phone", 99, 137), stats(2, "Sneakers", 20, 0)],
            Strategy::Redis,
            &[],
        ));

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
    fn the_lock_switch_offers_every_strategy_with_the_chosen_one_checked() {
        let html = render(&page_with(vec![], Strategy::None, &[]));

        for strategy in Strategy::ALL {
            let info = strategy.info();
            assert!(
                html.contains(&format!(r#"name="lock" value="{strategy}""#)),
                "no option for {strategy}"
            );
            assert!(html.contains(info.label), "no label for {strategy}");
        }
        assert!(html.contains(r#"name="lock" value="none" checked"#));
        assert!(!html.contains(r#"name="lock" value="redis" checked"#));
        for title in [
            "Unsafe or broken",
            "Safe · a lock in Redis",
            "Safe · Postgres alone",
        ] {
            assert!(html.contains(title), "no heading {title}");
        }
    }

    #[test]
    fn each_option_carries_its_lesson_and_the_chosen_one_is_shown() {
        let html = render(&page_with(vec![], Strategy::PgAtomic, &[]));

        // The script swaps these into the lesson box; escaped like any text.
        let fenced = Strategy::RedisFenced.info();
        assert!(html.contains(&format!(r#"data-lesson="{}""#, fenced.lesson)));
        let atomic = Strategy::PgAtomic.info();
        let escaped = atomic.lesson.replace('>', "&#62;");
        assert!(html.contains(&format!(r#"data-lesson="{escaped}""#)));
        assert!(html.contains(&format!(
            r#"<p class="lesson-text" id="lesson-text">{escaped}</p>"#
        )));
        assert!(html.contains(r#"data-uses-ttl="false""#));
        assert!(html.contains(r#"data-uses-ttl="true""#));
    }

    #[test]
    fn an_unavailable_strategy_is_greyed_out_with_its_reason() {
        let down = Availability {
            available: false,
            unavailable_reason: Some("0 of 3 Redlock nodes answer".into()),
        };
        let html = render(&page_with(
            vec![],
            Strategy::Redis,
            &[(Strategy::Redlock, down)],
        ));

        assert!(html.contains(r#"name="lock" value="redlock" disabled"#));
        assert!(html.contains("0 of 3 Redlock nodes answer"));
        assert!(!html.contains(r#"value="redis" disabled"#));
    }

    #[test]
    fn the_ttl_knob_is_empty_unless_set_and_names_the_services_setting() {
        let html = render(&page_with(vec![], Strategy::Redis, &[]));
        assert!(html.contains(r#"name="ttl_ms""#));
        assert!(html.contains(r#"min="100" max="60000" step="1" value="" placeholder="5000""#));
        assert!(html.contains(r#"name="pause_ms""#));
        assert!(html.contains(r#"name="deadline_ms""#));
    }

    #[test]
    fn names_and_messages_are_escaped() {
        let mut page = page_with(
            vec![stats(1, r#"<script>alert("x")</script>"#, 1, 0)],
            Strategy::Redis,
            &[],
        );
        page.alert = Some("<b>bold</b>".into());
        let html = render(&page);

        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;"));
        assert!(!html.contains("<b>bold</b>"));
    }
}
