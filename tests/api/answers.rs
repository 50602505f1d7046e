//! Every answer is the API's JSON `{"error", "message"}`, whatever went
//! wrong: no such path, a method the path does not take, a body that does
//! not parse, is too large or stalls. HEAD works wherever GET does, and every
//! answer carries `nosniff` and a referrer policy.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::Value;

use crate::helpers::{assert_error, client, raw_http, spawn_app, spawn_app_with};

/// Every GET route, with a path that exists.
const GET_ROUTES: [&str; 9] = [
    "/",
    "/healthz",
    "/readyz",
    "/api/products",
    "/api/products/1",
    "/api/strategies",
    "/static/app.css",
    "/static/app.js",
    "/static/icon.svg",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_answer_404_not_found_in_json() {
    let app = spawn_app().await;

    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/api"),
        (Method::GET, "/api/products/1/"),
        (Method::POST, "/api/products/1/refund"),
        (Method::GET, "/static/nope.js"),
        (Method::DELETE, "/nope"),
        (Method::OPTIONS, "/nope"),
    ] {
        let response = client()
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json",
            "{method} {path}"
        );
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_path_does_not_take_answers_405_with_allow() {
    let app = spawn_app().await;

    for (method, path, allow) in [
        (Method::DELETE, "/api/products/1", "GET, HEAD, OPTIONS"),
        (Method::POST, "/api/products", "GET, HEAD, OPTIONS"),
        (Method::PUT, "/", "GET, HEAD, OPTIONS"),
        (Method::POST, "/healthz", "GET, HEAD, OPTIONS"),
        (Method::POST, "/static/app.js", "GET, HEAD, OPTIONS"),
        (Method::GET, "/api/products/1/purchase", "POST, OPTIONS"),
        (Method::HEAD, "/api/products/1/purchase", "POST, OPTIONS"),
        (Method::PATCH, "/api/products/1/reset", "POST, OPTIONS"),
        (Method::GET, "/api/products/1/flash-crowd", "POST, OPTIONS"),
        (Method::GET, "/products/1/buy", "POST, OPTIONS"),
        (Method::GET, "/admin/token", "POST, OPTIONS"),
    ] {
        let response = client()
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.headers()[header::ALLOW], allow, "{method} {path}");
        if method != Method::HEAD {
            assert_error(
                response,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            )
            .await;
        }
    }
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_answers_204_with_the_methods_the_path_allows() {
    let app = spawn_app().await;

    for (path, allow) in [
        ("/api/products/1", "GET, HEAD, OPTIONS"),
        ("/", "GET, HEAD, OPTIONS"),
        ("/api/products/1/purchase", "POST, OPTIONS"),
        ("/products/1/flash-crowd", "POST, OPTIONS"),
    ] {
        let response = client()
            .request(Method::OPTIONS, app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(response.headers()[header::ALLOW], allow, "{path}");
    }
    assert_eq!(app.order_count(1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_works_on_every_get_route_and_sends_no_body() {
    let app = spawn_app().await;
    let report: Value = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&serde_json::json!({"buyers": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let crowd = format!("/api/crowds/{}", report["crowd_id"].as_str().unwrap());

    for path in GET_ROUTES.iter().copied().chain([crowd.as_str()]) {
        let get = client().get(app.url(path)).send().await.unwrap();
        let head = client().head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert_eq!(
            head.headers().get(header::CONTENT_TYPE),
            get.headers().get(header::CONTENT_TYPE),
            "HEAD {path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }

    // On the wire: the head, and nothing after it.
    let request = format!(
        "HEAD /api/products HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        app.port
    );
    let answer = raw_http(app.port, request.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(answer.status(), Some(200), "{answer:?}");
    assert!(answer.closed, "{answer:?}");
    assert_eq!(answer.body(), "", "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_queries_json_and_form_bodies_answer_400_in_json() {
    let app = spawn_app().await;
    let send = |method: Method, path: &str, content_type: &str, body: &str| {
        client()
            .request(method, app.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(body.to_owned())
            .send()
    };
    let form = "application/x-www-form-urlencoded";
    let json = "application/json";

    for (path, content_type, body, code) in [
        (
            "/api/products/1/purchase?lock=none&lock=redis",
            form,
            "",
            "invalid_query",
        ),
        (
            "/api/products/1/reset",
            json,
            "{\"stock\": ",
            "invalid_body",
        ),
        (
            "/api/products/1/reset",
            "text/plain",
            "{\"stock\": 5}",
            "invalid_body",
        ),
        (
            "/api/products/1/flash-crowd",
            json,
            "[1, 2]",
            "invalid_body",
        ),
        // The page's forms: a field twice, or not a form at all.
        (
            "/products/1/buy",
            form,
            "lock=none&lock=redis",
            "invalid_body",
        ),
        (
            "/products/1/restock",
            json,
            "{\"stock\": 5}",
            "invalid_body",
        ),
        (
            "/products/1/flash-crowd",
            form,
            "buyers=1&buyers=2",
            "invalid_body",
        ),
        ("/admin/token", form, "nothing=here", "invalid_body"),
    ] {
        let response = send(Method::POST, path, content_type, body).await.unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json",
            "{path} {body}"
        );
        assert_error(response, StatusCode::BAD_REQUEST, code).await;
    }
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_too_large_answers_413_payload_too_large_in_json() {
    let app = spawn_app().await;
    let padding = " ".repeat(16 * 1024);

    for (path, content_type, body) in [
        (
            "/api/products/1/reset",
            "application/json",
            format!("{{\"stock\": 5{padding}}}"),
        ),
        (
            "/api/products/1/flash-crowd",
            "application/json",
            format!("{{\"buyers\": 5{padding}}}"),
        ),
        (
            "/products/1/restock",
            "application/x-www-form-urlencoded",
            format!("stock=5&pad={}", "x".repeat(16 * 1024)),
        ),
    ] {
        let response = client()
            .post(app.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_mid_way_is_timed_out() {
    let app = spawn_app_with(|settings| settings.request_timeout = Duration::from_secs(1)).await;

    for (path, content_type, first_bytes) in [
        ("/api/products/1/reset", "application/json", "{\"stock\": "),
        (
            "/products/1/restock",
            "application/x-www-form-urlencoded",
            "stock=5&bu",
        ),
    ] {
        // Says 100 bytes, sends 10, then waits.
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: {content_type}\r\n\
             Content-Length: 100\r\n\r\n{first_bytes}",
            app.port
        );
        let answer = raw_http(app.port, request.as_bytes(), Duration::from_secs(5)).await;

        assert!(
            answer.closed || answer.status().is_some(),
            "{path}: no answer and still open after {:?}",
            answer.elapsed
        );
        assert!(
            answer.elapsed < Duration::from_secs(3),
            "{path}: {answer:?}"
        );
        assert_eq!(answer.status(), Some(408), "{path}: {answer:?}");
        let body: Value = serde_json::from_str(answer.body()).expect("a JSON body");
        assert_eq!(body["error"], "request_timeout", "{body}");
    }
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uri_or_headers_too_long_answer_414_or_431_in_json() {
    let app = spawn_app().await;

    let long_query = format!("/api/products?pad={}", "x".repeat(10 * 1024));
    let response = client().get(app.url(&long_query)).send().await.unwrap();
    assert_error(response, StatusCode::URI_TOO_LONG, "uri_too_long").await;

    let response = client()
        .get(app.url("/healthz"))
        .header("x-padding", "x".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_nosniff_and_a_referrer_policy() {
    let app = spawn_app().await;

    for (what, method, path) in [
        ("a page", Method::GET, "/"),
        ("an asset", Method::GET, "/static/app.js"),
        ("an API answer", Method::GET, "/api/products/1"),
        ("a 404", Method::GET, "/nope"),
        ("a 400", Method::POST, "/api/products/1/purchase?lock=mutex"),
        ("a 405", Method::DELETE, "/api/products/1"),
    ] {
        let response = client()
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{what}");
    }
    let refused = client()
        .get(app.url("/"))
        .header(header::HOST, "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(refused.headers()[header::REFERRER_POLICY], "same-origin");
}
