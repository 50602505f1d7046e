//! The browser demo's page, seen as a browser without JavaScript sees it:
//! the page, its lock switch, its assets, and what its address may and may
//! not make it show. Its forms are in `pages_forms`.

use flashsale::configuration::RedlockNodes;
use flashsale::lock::{Family, Strategy};
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::helpers::{browser, client, escaped, page, spawn_app, spawn_app_with};

/// The group a strategy belongs under on the switch.
fn group_of(strategy: Strategy) -> &'static str {
    let info = strategy.info();
    if !info.safe || info.family == Family::Broken {
        "unsafe"
    } else if info.family == Family::Postgres {
        "safe-database"
    } else if info.family == Family::Fast {
        "fast-and-safe"
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
            format!(r#"data-uses-deadline="{}""#, strategy.uses_deadline()),
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
async fn an_unavailable_default_strategy_is_not_pre_selected() {
    // Redlock as the default, with no nodes: unavailable from the start.
    let app = spawn_app_with(|settings| {
        settings.default_lock_mode = Strategy::Redlock;
        settings.redlock_urls = RedlockNodes(vec![]);
    })
    .await;

    let html = page(&app.address, "/").await;

    assert!(
        !html.contains(r#"value="redlock" checked"#),
        "redlock pre-selected"
    );
    assert!(html.contains(r#"name="lock" value="redlock" disabled"#));
    // The first safe strategy that can run instead, and a line saying why.
    assert!(html.contains(r#"name="lock" value="redis" checked"#));
    assert!(html.contains("The default strategy, redlock, is unavailable"));

    // Named in the address, it stays chosen: the service says why it cannot sell.
    let chosen = page(&app.address, "/?lock=redlock").await;
    assert!(chosen.contains(r#"name="lock" value="redlock" checked"#));
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
