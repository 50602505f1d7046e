//! The browser demo, seen as a browser without JavaScript sees it: the page,
//! its lock switch, its assets and the plain-form fallbacks.

use std::time::Duration;

use flashsale::configuration::RedlockNodes;
use flashsale::lock::{Family, Strategy};
use reqwest::{Client, StatusCode, header};
use serde_json::Value;

use crate::helpers::{client, crowd_reports, product, redis_get, spawn_app, spawn_app_with};

/// A client that shows redirects instead of following them.
fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

async fn page(address: &str, path_and_query: &str) -> String {
    let response = client()
        .get(format!("{address}{path_and_query}"))
        .send()
        .await
        .expect("page request");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("page body")
}

/// POST the page's form to `path`; answers the `Location` of the 303.
async fn submit(address: &str, path: &str, form: &[(&str, &str)]) -> String {
    let response = browser()
        .post(format!("{address}{path}"))
        .form(form)
        .send()
        .await
        .expect("form request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii location")
        .to_owned();
    assert!(location.starts_with("/?"), "{location}");
    location
}

/// POST the page's form to `path` and load the page it comes back to, as a
/// browser does: with the one-time cookie that carries the form's outcome.
/// Answers the `Location` of the 303 and the page.
async fn submit_told(address: &str, path: &str, form: &[(&str, &str)]) -> (String, String) {
    let response = browser()
        .post(format!("{address}{path}"))
        .form(form)
        .send()
        .await
        .expect("form request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii location")
        .to_owned();
    let told = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii cookie")
        .split(';')
        .next()
        .expect("a cookie")
        .to_owned();
    let page = client()
        .get(format!("{address}{location}"))
        .header(header::COOKIE, told)
        .send()
        .await
        .expect("page request");
    assert_eq!(page.status(), StatusCode::OK);
    (location, page.text().await.expect("page body"))
}

/// POST the page's form to `path` and expect it refused: the page again,
/// with the API's status. Answers the page.
async fn refused(address: &str, path: &str, form: &[(&str, &str)], status: StatusCode) -> String {
    let response = browser()
        .post(format!("{address}{path}"))
        .form(form)
        .send()
        .await
        .expect("form request");
    assert_eq!(response.status(), status, "{path}");
    let html = response.text().await.expect("page body");
    assert!(html.contains(r#"role="alert""#), "no alert on the page");
    html
}

/// Text as the page's templates escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The group a strategy belongs under on the switch.
fn group_of(strategy: Strategy) -> &'static str {
    let info = strategy.info();
    if !info.safe || info.family == Family::Broken {
        "unsafe"
    } else if info.family == Family::Postgres {
        "safe-database"
    } else {
        "safe-lock"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_lists_every_product_with_its_numbers_and_controls() {
    let app = spawn_app().await;

    let response = client().get(app.url("/")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = response.text().await.unwrap();
    for expected in [
        "Flash-sale phone",
        "Limited sneakers",
        "Last concert ticket",
        r#"<dd data-field="stock">100</dd>"#,
        r#"<dd data-field="initial_stock">20</dd>"#,
        r#"<dd data-field="orders">0</dd>"#,
        r#"<dd data-field="oversold">0</dd>"#,
        r#"<dd data-field="lost_updates">0</dd>"#,
        r#"formaction="/products/1/buy""#,
        r#"formaction="/products/1/flash-crowd""#,
        r#"formaction="/products/3/restock""#,
        r#"name="lock" value="none""#,
        r#"name="lock" value="redis" checked"#,
        r#"name="work_ms""#,
        r#"name="pause_ms""#,
        r#"name="ttl_ms""#,
        r#"name="deadline_ms""#,
        r#"name="buyers""#,
        "Both write <strong>0</strong>",
    ] {
        assert!(html.contains(expected), "the page lacks {expected}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_switch_lists_every_strategy_of_the_catalogue_in_its_group() {
    let app = spawn_app().await;

    let html = page(&app.address, "/?lock=pg-atomic").await;

    for (title, group) in [
        ("Unsafe or broken", "unsafe"),
        ("Safe · a lock in Redis", "safe-lock"),
        ("Safe · Postgres alone", "safe-database"),
    ] {
        assert!(
            html.contains(&format!(r#"id="lock-group-{group}">{title}</h3>"#)),
            "no heading {title}"
        );
    }
    for strategy in Strategy::ALL {
        let info = strategy.info();
        for expected in [
            format!(
                r#"data-lock="{strategy}" data-group="{}""#,
                group_of(strategy)
            ),
            format!(r#"name="lock" value="{strategy}""#),
            format!(r#"data-lesson="{}""#, escaped(info.lesson)),
            format!(r#"data-breaks="{}""#, escaped(info.breaks_when)),
            format!(r#"data-uses-ttl="{}""#, info.uses_ttl),
            format!(r#"<span class="lock-label">{}</span>"#, escaped(info.label)),
        ] {
            assert!(
                html.contains(&expected),
                "{strategy}: the page lacks {expected}"
            );
        }
    }
    // The chosen one is checked, and its lesson is in the lesson box.
    assert!(html.contains(r#"name="lock" value="pg-atomic" checked"#));
    assert!(html.contains(&format!(
        r#"id="lesson-text">{}</p>"#,
        escaped(Strategy::PgAtomic.info().lesson)
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_strategy_is_greyed_out_with_the_reason_the_api_gives() {
    let app = spawn_app_with(|settings| settings.redlock_urls = RedlockNodes(vec![])).await;
    let strategies: Vec<Value> = client()
        .get(app.url("/api/strategies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let html = page(&app.address, "/?lock=redis").await;

    let unavailable: Vec<_> = strategies
        .iter()
        .filter(|entry| entry["available"] == false)
        .collect();
    assert!(
        unavailable.iter().any(|entry| entry["name"] == "redlock"),
        "redlock without nodes is unavailable: {strategies:?}"
    );
    for entry in unavailable {
        let name = entry["name"].as_str().unwrap();
        let reason = entry["unavailable_reason"].as_str().unwrap();
        assert!(
            html.contains(&format!(r#"name="lock" value="{name}" disabled"#)),
            "{name} is not disabled"
        );
        assert!(
            html.contains(&format!("Unavailable: {}", escaped(reason))),
            "no reason for {name}"
        );
    }
    assert!(!html.contains(r#"value="redis" disabled"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_with_an_unavailable_strategy_through_the_plain_form_says_why_and_sells_nothing() {
    let app = spawn_app_with(|settings| settings.redlock_urls = RedlockNodes(vec![])).await;

    let html = refused(
        &app.address,
        "/products/1/buy",
        &[("lock", "redlock"), ("work_ms", "0")],
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;

    assert!(
        html.contains("strategy `redlock` is not available (no Redlock nodes are configured"),
        "no reason on the page"
    );
    // Still the chosen one, so the next press names it again.
    assert!(html.contains(r#"name="lock" value="redlock" checked"#));
    assert!(!html.contains(r#"value="redlock" checked disabled"#));
    assert!(html.contains(r#"id="lesson-unavailable">Unavailable: "#));
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_numbers_a_sale_left() {
    let app = spawn_app().await;
    app.restock(2, 3).await;
    for _ in 0..5 {
        sqlx::query("INSERT INTO orders (id, product_id, lock_mode) VALUES ($1, 2, 'none')")
            .bind(uuid::Uuid::new_v4())
            .execute(&app.db)
            .await
            .unwrap();
    }

    let html = page(&app.address, "/").await;

    assert!(html.contains(r#"<dd data-field="orders">5</dd>"#));
    assert!(html.contains(r#"<dd data-field="oversold">2</dd>"#));
    assert!(html.contains(r#"<dd data-field="lost_updates">5</dd>"#));
    assert!(html.contains(r#"class="product is-oversold" id="product-2""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_names_are_escaped_on_the_page() {
    let app = spawn_app().await;
    sqlx::query("UPDATE products SET name = $1 WHERE id = 1")
        .bind(r#"<script>alert("pwned")</script> & co"#)
        .execute(&app.db)
        .await
        .unwrap();

    let html = page(&app.address, "/").await;

    assert!(!html.contains("<script>alert"), "the name went out raw");
    assert!(html.contains("&#60;script&#62;alert(&#34;pwned&#34;)&#60;/script&#62; &#38; co"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_asset_of_the_page_comes_from_the_service_itself() {
    let app = spawn_app().await;

    let html = page(&app.address, "/").await;

    assert!(!html.contains("http://") && !html.contains("https://"));
    for (path, content_type) in [
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/icon.svg", "image/svg+xml"),
    ] {
        assert!(html.contains(path), "the page does not use {path}");
        let response = client().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let missing = client()
        .get(app.url("/static/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_through_the_plain_form_sells_one_unit_and_comes_back_with_the_order() {
    let app = spawn_app().await;

    let (location, html) = submit_told(
        &app.address,
        "/products/1/buy",
        &[
            ("lock", "none"),
            ("work_ms", "0"),
            ("buyers", "500"),
            ("stock", "100"),
        ],
    )
    .await;

    assert!(
        location.contains("lock=none"),
        "the settings come back: {location}"
    );
    assert_eq!(app.stock(1).await, 99);
    let buyer: Option<String> = sqlx::query_scalar("SELECT user_name FROM orders")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(buyer.as_deref(), Some("browser"));
    assert!(html.contains("placed · 99 left"), "no outcome on the page");
    assert!(html.contains(r#"<dd data-field="stock">99</dd>"#));
    assert!(html.contains(r#"name="lock" value="none" checked"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_a_sold_out_product_through_the_plain_form_says_sold_out() {
    let app = spawn_app().await;
    app.restock(3, 0).await;

    let (_, html) = submit_told(
        &app.address,
        "/products/3/buy",
        &[("lock", "redis"), ("work_ms", "0")],
    )
    .await;

    assert!(html.contains("Sold out · nothing sold"));
    assert_eq!(app.order_count(3).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_with_a_bad_setting_shows_the_page_with_the_reason() {
    let app = spawn_app().await;

    let response = browser()
        .post(app.url("/products/1/buy"))
        .form(&[("lock", "redis"), ("work_ms", "5000")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains("work_ms must be a whole number from 0 to 2000"));
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_knobs_round_trip_through_the_plain_form() {
    let app = spawn_app().await;

    let location = submit(
        &app.address,
        "/products/1/buy",
        &[
            ("lock", "redis"),
            ("work_ms", "0"),
            ("pause_ms", "5"),
            ("ttl_ms", "300"),
            ("deadline_ms", ""),
        ],
    )
    .await;

    assert!(
        location.contains("pause_ms=5&ttl_ms=300&deadline_ms=&"),
        "{location}"
    );
    let html = page(&app.address, &location).await;
    assert!(
        html.contains(r#"name="ttl_ms" type="number""#)
            && html.contains(r#"step="1" value="300" placeholder="5000""#),
        "the TTL field lost its value"
    );
    assert!(html.contains(r#"step="1" value="5" aria-describedby="pause_ms-hint""#));
    assert_eq!(app.order_count(1).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_through_the_plain_form_runs_with_the_ttl_it_was_given() {
    let app = spawn_app().await;

    let location = submit(
        &app.address,
        "/products/1/flash-crowd",
        &[
            ("lock", "redis"),
            ("work_ms", "0"),
            ("pause_ms", "0"),
            ("ttl_ms", "2000"),
            ("deadline_ms", "20000"),
            ("buyers", "20"),
            ("stock", "10"),
            ("restock_first", "on"),
        ],
    )
    .await;

    let html = page(&app.address, &location).await;
    assert!(
        html.contains(
            "lock redis · 20 buyers · 0 ms business step · TTL 2000 ms · deadline 20000 ms"
        ),
        "the verdict does not name the knobs"
    );
    assert!(html.contains("sold 10 / 10 · no oversell"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_lab_knobs_in_the_plain_form_mean_the_services_settings() {
    let app = spawn_app().await;

    submit(
        &app.address,
        "/products/1/buy",
        &[
            ("lock", "redis"),
            ("work_ms", "0"),
            ("pause_ms", ""),
            ("ttl_ms", ""),
            ("deadline_ms", ""),
        ],
    )
    .await;

    assert_eq!(app.stock(1).await, 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_ttl_in_the_plain_form_shows_the_reason_and_sells_nothing() {
    let app = spawn_app().await;

    let html = refused(
        &app.address,
        "/products/1/buy",
        &[("lock", "redis"), ("work_ms", "0"), ("ttl_ms", "50")],
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(html.contains("ttl_ms must be a whole number from 100 to 60000, got `50`"));

    let html = refused(
        &app.address,
        "/products/1/flash-crowd",
        &[
            ("lock", "none"),
            ("work_ms", "0"),
            ("ttl_ms", "60001"),
            ("buyers", "50"),
            ("stock", "5"),
            ("restock_first", "on"),
        ],
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(html.contains("ttl_ms must be a whole number from 100 to 60000, got `60001`"));
    assert!(html.contains(r#"name="lock" value="none" checked"#));

    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100, "the crowd restocked anyway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_pause_or_deadline_in_the_plain_form_is_refused_too() {
    let app = spawn_app().await;

    for (field, value, message) in [
        (
            "pause_ms",
            "30001",
            "pause_ms must be a whole number from 0 to 30000, got `30001`",
        ),
        (
            "deadline_ms",
            "-1",
            "deadline_ms must be a whole number from 0 to 30000, got `-1`",
        ),
    ] {
        let html = refused(
            &app.address,
            "/products/1/buy",
            &[("lock", "redis"), (field, value)],
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(html.contains(message), "no message for {field}");
    }
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_whose_lock_was_lost_is_told_so_on_the_plain_page() {
    let app = spawn_app().await;
    let key = app.lock_key(1);
    let address = app.address.clone();
    // The watchdog holds the lock through a long pause, renewing it…
    let buy = tokio::spawn(async move {
        submit_told(
            &address,
            "/products/1/buy",
            &[
                ("lock", "redis-watchdog"),
                ("work_ms", "0"),
                ("pause_ms", "1500"),
                ("ttl_ms", "300"),
            ],
        )
        .await
    });
    // …until somebody deletes it: the next renewal finds it gone.
    while redis_get(&app, &key).await.is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut app.redis.clone())
        .await
        .unwrap();

    let (_, html) = buy.await.unwrap();

    assert!(html.contains("Lock lost · it expired before the write, nothing sold"));
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restocking_through_the_plain_form_resets_the_product() {
    let app = spawn_app().await;
    submit(&app.address, "/products/2/buy", &[("lock", "redis")]).await;

    let (_, html) = submit_told(&app.address, "/products/2/restock", &[("stock", "7")]).await;

    let stats = product(&app, 2).await;
    assert_eq!(stats["stock"], 7);
    assert_eq!(stats["initial_stock"], 7);
    assert_eq!(stats["orders"], 0);
    assert!(html.contains("Restocked to 7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_crowd_through_the_plain_form_comes_back_by_its_id_with_the_verdict_from_the_database()
 {
    let app = spawn_app().await;

    let location = submit(
        &app.address,
        "/products/1/flash-crowd",
        &[
            ("lock", "none"),
            ("work_ms", "20"),
            ("buyers", "100"),
            ("stock", "10"),
            ("restock_first", "on"),
        ],
    )
    .await;

    // The address names the crowd, and none of its numbers.
    let reports = crowd_reports(&app).await;
    assert_eq!(reports.len(), 1);
    let crowd_id = reports[0]["crowd_id"].as_str().unwrap();
    assert!(
        location.contains(&format!("crowd={crowd_id}")),
        "{location}"
    );
    for number in [
        "sold=",
        "stock_before=",
        "sold_out=",
        "busy=",
        "elapsed_ms=",
    ] {
        assert!(!location.contains(number), "{location}");
    }
    let html = page(&app.address, &location).await;
    let orders = app.order_count(1).await;
    assert!(orders > 10, "sold {orders} of 10");
    assert_eq!(reports[0]["sold"], orders);
    assert!(
        html.contains(&format!("sold {orders} / 10 · oversold by {}", orders - 10)),
        "no verdict on the page"
    );
    assert!(html.contains(r#"class="verdict bad""#));
    assert!(
        html.contains(&format!("Last crowd: sold {orders} / 10")),
        "no notice on the product's card"
    );
}

/// The query string the page used to read a crowd's verdict from.
fn old_crowd_query(stock_before: &str, sold: &str) -> String {
    format!(
        "/?outcome=crowd&product=1&crowd_lock=none&crowd_buyers=500&crowd_work_ms=20\
         &stock_before={stock_before}&sold={sold}&sold_out=0&busy=0&unavailable=0&failed=0\
         &elapsed_ms=100"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_in_the_pages_address_never_make_a_verdict() {
    let app = spawn_app().await;

    for address in [
        // A verdict somebody would like to show.
        old_crowd_query("100", "100"),
        // One that overflowed `sold - stock_before` (a panic in debug builds).
        old_crowd_query("-9223372036854775808", "1"),
        "/?outcome=crowd&stock_before=-9223372036854775808&sold=1".to_owned(),
        "/?outcome=crowd&product=1&stock_before=9223372036854775807&sold=4294967295".to_owned(),
    ] {
        let html = page(&app.address, &address).await;
        assert!(html.contains(r#"class="verdict idle""#), "{address}");
        assert!(!html.contains("no oversell"), "{address}");
        assert!(!html.contains("Last crowd"), "{address}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_unknown_crowd_id_shows_an_alert_and_no_verdict() {
    let app = spawn_app().await;

    for crowd in [
        "not-a-uuid".to_owned(),
        "-1".to_owned(),
        uuid::Uuid::new_v4().to_string(),
    ] {
        let html = page(&app.address, &format!("/?crowd={crowd}")).await;
        assert!(html.contains(r#"role="alert""#), "{crowd}: no alert");
        assert!(html.contains(r#"class="verdict idle""#), "{crowd}");
    }
}

const ADMIN_TOKEN: &str = "classroom-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_asks_for_the_admin_token_only_when_the_service_needs_it() {
    let open = spawn_app().await;
    let html = page(&open.address, "/").await;
    assert!(!html.contains(r#"action="/admin/token""#));
    assert!(!html.contains("admin: unlocked"));

    let guarded =
        spawn_app_with(|settings| settings.admin_token = Some(ADMIN_TOKEN.parse().unwrap())).await;
    let with_cookie = |value: &str| {
        client()
            .get(guarded.url("/"))
            .header(header::COOKIE, format!("flashsale_admin={value}"))
            .send()
    };

    let html = page(&guarded.address, "/").await;
    assert!(html.contains(r#"method="post" action="/admin/token""#));
    assert!(html.contains(r#"type="password" name="token""#));
    assert!(!html.contains("admin: unlocked"));
    let html = with_cookie("not-the-token")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"action="/admin/token""#),
        "a wrong cookie unlocks nothing"
    );

    let login = browser()
        .post(guarded.url("/admin/token"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    let set_cookie = login.headers()[header::SET_COOKIE].to_str().unwrap();
    let token = set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("flashsale_admin="))
        .unwrap();
    let html = with_cookie(token).await.unwrap().text().await.unwrap();
    assert!(html.contains("admin: unlocked"));
    assert!(!html.contains(r#"action="/admin/token""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_crowd_beyond_the_bound_is_refused_with_the_reason() {
    let app = spawn_app().await;

    let response = browser()
        .post(app.url("/products/1/flash-crowd"))
        .form(&[("lock", "none"), ("work_ms", "0"), ("buyers", "20000")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(html.contains("a flash crowd has 1 to 10000 buyers, got `20000`"));
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_cut_off_by_a_restock_is_told_so_on_the_plain_page() {
    let app = spawn_app().await;
    let address = app.address.clone();
    // A buyer without a lock reads the stock, then freezes…
    let buy = tokio::spawn(async move {
        submit_told(
            &address,
            "/products/1/buy",
            &[("lock", "none"), ("work_ms", "0"), ("pause_ms", "1000")],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // …while the product is restocked under it.
    submit(&app.address, "/products/1/restock", &[("stock", "5")]).await;

    let (_, html) = buy.await.unwrap();

    assert!(html.contains("Restocked during the sale · nothing sold"));
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 5);
}
