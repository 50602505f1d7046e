//! The browser demo's plain-form fallbacks, posted as a browser without
//! JavaScript posts them: buy, restock and flash crowd, what they sell and
//! what they refuse, and the page they come back to. The page itself is in
//! `pages_view`.

use std::time::Duration;

use flashsale::configuration::RedlockNodes;
use reqwest::StatusCode;

use crate::helpers::{
    browser, crowd_reports, page, product, redis_get, refused, spawn_app, spawn_app_with, submit,
    submit_told,
};

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
