//! What the page tells on a product's card comes from the service only: a
//! plain form's outcome travels to the next page load in a one-time cookie,
//! never in the address, where anybody could write one into a link.

use reqwest::{Client, Response, StatusCode, header};

use crate::helpers::{TestApp, client, spawn_app};

/// A client that shows redirects instead of following them.
fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(app: &TestApp, path_and_query: &str, cookie: Option<&str>) -> Response {
    let mut request = client().get(app.url(path_and_query));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
}

/// The notice lines of the page's product cards, as `tone: text`.
fn notices(html: &str) -> Vec<String> {
    html.match_indices(r#"<p class="outcome"#)
        .map(|(at, _)| {
            let tag = &html[at..];
            let (open, rest) = tag.split_once('>').unwrap();
            let text = rest.split_once("</p>").unwrap().0.trim();
            let tone = open
                .trim_start_matches(r#"<p class="outcome"#)
                .split('"')
                .next()
                .unwrap()
                .trim();
            format!("{tone}: {text}")
        })
        .filter(|notice| notice != ": ")
        .collect()
}

/// POST a plain form; answers the 303's `Location` and its notice cookie.
async fn submit(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (String, String) {
    let answer = browser()
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
    let location = answer.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let set_cookie = answer.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.starts_with("flashsale_notice="), "{set_cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
        assert!(set_cookie.contains(flag), "{flag}: {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    (location, cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_written_into_the_address_shows_no_notice() {
    let app = spawn_app().await;

    for address in [
        "/?product=1&outcome=restock&level=999999",
        "/?product=1&outcome=sold&order=0b7c9d2e-5a8f-4f43-9d3c-6a0f1e2b3c4d&remaining=5",
        "/?product=1&outcome=sold_out",
        "/?product=2&outcome=lock_lost#product-2",
    ] {
        let html = page(&app, address, None).await.text().await.unwrap();
        assert_eq!(notices(&html), Vec::<String>::new(), "{address}");
        assert!(!html.contains("999999"), "{address}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_buy_is_told_once_from_its_cookie_and_not_from_its_address() {
    let app = spawn_app().await;

    let (location, cookie) = submit(
        &app,
        "/products/1/buy",
        &[("lock", "redis"), ("work_ms", "0")],
    )
    .await;

    assert!(!location.contains("outcome"), "{location}");
    assert!(
        location.contains("product=1") && location.contains("lock=redis"),
        "{location}"
    );
    let shown = page(&app, &location, Some(&cookie)).await;
    let cleared = shown.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with("flashsale_notice=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let html = shown.text().await.unwrap();
    let told = notices(&html);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].starts_with("good: Order ") && told[0].ends_with(" placed · 99 left"));
    // A reload, without the cookie now cleared, tells nothing.
    let again = page(&app, &location, None).await.text().await.unwrap();
    assert_eq!(notices(&again), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restock_and_a_refusal_through_the_plain_form_are_told_from_the_cookie() {
    let app = spawn_app().await;

    let (location, cookie) = submit(&app, "/products/2/restock", &[("stock", "0")]).await;
    assert!(!location.contains("level="), "{location}");
    let html = page(&app, &location, Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(notices(&html), ["info: Restocked to 0 · orders cleared"]);

    let (location, cookie) = submit(&app, "/products/2/buy", &[("lock", "redis")]).await;
    let html = page(&app, &location, Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(notices(&html), ["bad: Sold out · nothing sold"]);
    assert_eq!(app.order_count(2).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_cookie_that_names_no_outcome_shows_nothing() {
    let app = spawn_app().await;

    for cookie in [
        "flashsale_notice=1.restock.9999999",
        "flashsale_notice=1.mystery",
        "flashsale_notice=%3Cscript%3E",
        "flashsale_notice=",
    ] {
        let html = page(&app, "/", Some(cookie)).await.text().await.unwrap();
        assert_eq!(notices(&html), Vec::<String>::new(), "{cookie}");
    }
}
