//! Requests from another site: a browser says where a request comes from
//! (`Origin`, `Sec-Fetch-Site`), and a form on another site must not buy,
//! restock or start a crowd here. The Host header must be one this service
//! answers to (DNS rebinding).

use reqwest::{RequestBuilder, StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, assert_error, client, crowd_reports, spawn_app, spawn_app_with};

/// Every state-changing request of the page and the API, as a browser would
/// send it: the page's forms and the API calls its script makes.
fn state_changing_requests(app: &TestApp) -> Vec<(&'static str, RequestBuilder)> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("stock", "7"),
        ("buyers", "3"),
        ("lock", "none"),
        ("work_ms", "0"),
        ("restock_first", "on"),
    ];
    vec![
        (
            "page buy",
            browser.post(app.url("/products/1/buy")).form(&form),
        ),
        (
            "page restock",
            browser.post(app.url("/products/1/restock")).form(&form),
        ),
        (
            "page crowd",
            browser.post(app.url("/products/1/flash-crowd")).form(&form),
        ),
        (
            "API purchase",
            browser.post(app.url("/api/products/1/purchase?lock=none")),
        ),
        (
            "API restock",
            browser
                .post(app.url("/api/products/1/reset"))
                .json(&json!({"stock": 7})),
        ),
        (
            "API crowd",
            browser
                .post(app.url("/api/products/1/flash-crowd"))
                .json(&json!({"buyers": 3, "restock": 7})),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_to_buy_restock_and_crowd_are_refused_403_and_change_nothing() {
    let app = spawn_app().await;

    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        for (action, request) in state_changing_requests(&app) {
            let response = request.header(name, value).send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{action} with {name}: {value}"
            );
            assert_error(response, StatusCode::FORBIDDEN, "cross_site_request").await;
        }
    }

    assert_eq!(app.stock(1).await, 100);
    assert_eq!(app.order_count(1).await, 0);
    assert!(crowd_reports(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_origin_requests_and_clients_that_say_nothing_pass() {
    let app = spawn_app().await;
    let own_origin = app.address.clone();

    for (name, value) in [
        Some(("origin", own_origin.as_str())),
        Some(("sec-fetch-site", "same-origin")),
        // Typed into the address bar, or a bookmark.
        Some(("sec-fetch-site", "none")),
        // curl, the load generator.
        None,
    ]
    .into_iter()
    .map(|header| header.unzip())
    {
        for (action, request) in state_changing_requests(&app) {
            let request = match (name, value) {
                (Some(name), Some(value)) => request.header(name, value),
                _ => request,
            };
            let status = request.send().await.unwrap().status();
            assert!(
                status.is_success() || status == StatusCode::SEE_OTHER,
                "{action} with {name:?}: {value:?} answered {status}"
            );
        }
    }
    assert_eq!(crowd_reports(&app).await.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_header_not_served_is_refused_400_host_not_allowed() {
    let app = spawn_app().await;

    for host in ["evil.example", "evil.example:8080", "127.0.0.2"] {
        for path in ["/", "/api/products", "/static/app.js"] {
            let response = client()
                .get(app.url(path))
                .header(header::HOST, host)
                .send()
                .await
                .unwrap();
            assert_error(response, StatusCode::BAD_REQUEST, "host_not_allowed").await;
        }
        let buy = client()
            .post(app.url("/api/products/1/purchase?lock=none"))
            .header(header::HOST, host)
            .send()
            .await
            .unwrap();
        assert_error(buy, StatusCode::BAD_REQUEST, "host_not_allowed").await;
    }
    assert_eq!(app.order_count(1).await, 0);

    for host in ["localhost", &format!("localhost:{}", app.port), "127.0.0.1"] {
        let response = client()
            .get(app.url("/api/products"))
            .header(header::HOST, host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "Host: {host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_hosts_names_the_hosts_served() {
    let app = spawn_app_with(|settings| {
        settings.allowed_hosts = Some(flashsale::configuration::AllowedHosts(Some(vec![
            "flashsale.example".into(),
        ])))
    })
    .await;

    let get = |host: &'static str| {
        client()
            .get(app.url("/api/products"))
            .header(header::HOST, host)
            .send()
    };

    assert_eq!(
        get("flashsale.example:8080").await.unwrap().status(),
        StatusCode::OK
    );
    let loopback = get("127.0.0.1").await.unwrap();
    assert_error(loopback, StatusCode::BAD_REQUEST, "host_not_allowed").await;
}
