//! The lab's knobs are the teacher's: with `ADMIN_TOKEN` set, a purchase
//! that asks for a pause, a TTL, a deadline or a business step over 100 ms
//! needs the token (401 `admin_token_required` without it, nothing sold or
//! held). Without a token, as before.

use std::time::Duration;

use reqwest::{Client, StatusCode, header};

use crate::helpers::{TestApp, assert_error, client, purchase, spawn_app, spawn_app_with};

const ADMIN_TOKEN: &str = "classroom-secret";

async fn spawn_guarded_app() -> TestApp {
    spawn_app_with(|settings| {
        settings.admin_token = Some(ADMIN_TOKEN.parse().unwrap());
        settings.rate_limit_rps = 5;
    })
    .await
}

/// A client that shows redirects instead of following them.
fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn admin_cookie(app: &TestApp) -> String {
    let login = browser()
        .post(app.url("/admin/token"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let set_cookie = login.headers()[header::SET_COOKIE].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_set_24_paused_row_lock_purchases_without_it_are_refused_401() {
    let app = spawn_guarded_app().await;
    let client = client();

    // The probe's load: 24 purchases 0.21 s apart, under RATE_LIMIT_RPS=5.
    let mut refused = 0;
    for _ in 0..24 {
        let answer = purchase(&client, &app.address, 1, "lock=pg-row-lock&pause_ms=30000").await;
        assert_eq!(answer.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let error = assert_error(answer, StatusCode::UNAUTHORIZED, "admin_token_required").await;
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("pause_ms needs the admin token"),
            "{error}"
        );
        refused += 1;
        tokio::time::sleep(Duration::from_millis(210)).await;
    }

    assert_eq!(refused, 24);
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
    // Nothing was held: the product and the service answer as usual.
    let bought = purchase(&client, &app.address, 1, "lock=pg-row-lock").await;
    assert_eq!(bought.status(), StatusCode::CREATED);
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_set_every_teachers_knob_needs_it_and_the_others_do_not() {
    let app = spawn_guarded_app().await;
    let client = client();

    for (query, knob) in [
        ("lock=redis&pause_ms=1", "pause_ms"),
        ("lock=redis&ttl_ms=60000", "ttl_ms"),
        ("lock=redis&deadline_ms=30000", "deadline_ms"),
        ("lock=redis&work_ms=101", "work_ms above 100"),
        ("lock=redis&work_ms=0&pause_ms=0&ttl_ms=5000", "ttl_ms"),
    ] {
        let answer = purchase(&client, &app.address, 2, query).await;
        let error = assert_error(answer, StatusCode::UNAUTHORIZED, "admin_token_required").await;
        assert!(
            error["message"].as_str().unwrap().starts_with(knob),
            "{query}: {error}"
        );
        tokio::time::sleep(Duration::from_millis(210)).await;
    }
    assert_eq!(app.order_count(2).await, 0);

    // A bad value is still a 400 first: the knob is read before it is judged.
    let bad = purchase(&client, &app.address, 2, "lock=redis&ttl_ms=5").await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_ttl_ms").await;

    // The page's defaults and a business step up to 100 ms need no token.
    for query in ["lock=redis&work_ms=100&pause_ms=0", "lock=none&work_ms=20"] {
        tokio::time::sleep(Duration::from_millis(210)).await;
        let answer = purchase(&client, &app.address, 2, query).await;
        assert_eq!(answer.status(), StatusCode::CREATED, "{query}");
    }
    assert_eq!(app.order_count(2).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_token_as_header_or_cookie_the_same_knobs_are_accepted() {
    let app = spawn_guarded_app().await;
    let cookie = admin_cookie(&app).await;
    // The probe's knobs, shortened so that the test does not wait 30 s.
    let knobs = "lock=pg-row-lock&pause_ms=50&ttl_ms=1000&deadline_ms=2000&work_ms=150";

    let with_header = client()
        .post(app.url(&format!("/api/products/1/purchase?{knobs}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(210)).await;
    let with_cookie = client()
        .post(app.url(&format!("/api/products/1/purchase?{knobs}")))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::CREATED);

    // The page's plain form, which carries the cookie, works too.
    tokio::time::sleep(Duration::from_millis(210)).await;
    let form = [
        ("lock", "pg-row-lock"),
        ("work_ms", "150"),
        ("pause_ms", "50"),
        ("ttl_ms", "1000"),
        ("deadline_ms", "2000"),
    ];
    let page = browser()
        .post(app.url("/products/1/buy"))
        .header(header::COOKIE, &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.order_count(1).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_set_the_plain_form_without_the_cookie_shows_why_and_sells_nothing() {
    let app = spawn_guarded_app().await;

    let answer = browser()
        .post(app.url("/products/1/buy"))
        .form(&[
            ("lock", "pg-row-lock"),
            ("work_ms", "0"),
            ("pause_ms", "30000"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let html = answer.text().await.unwrap();
    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains("pause_ms needs the admin token"), "no reason");
    assert!(
        html.contains(r#"action="/admin/token""#),
        "no way to unlock"
    );
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_knobs_are_anybodys_as_before() {
    let app = spawn_app().await;

    let answer = purchase(
        &client(),
        &app.address,
        1,
        "lock=redis&pause_ms=50&ttl_ms=1000&deadline_ms=2000&work_ms=150",
    )
    .await;

    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(app.order_count(1).await, 1);
}
