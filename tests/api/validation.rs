//! Bad input gets a 4xx with a JSON body naming the problem, and writes nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, client, purchase, spawn_app};

async fn assert_nothing_written(app: &TestApp) {
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_purchases_answer_400_and_write_nothing() {
    let app = spawn_app().await;
    let client = client();
    let cases = [
        ("abc", "lock=redis", "invalid_product_id"),
        ("0", "lock=redis", "invalid_product_id"),
        ("-3", "lock=none", "invalid_product_id"),
        ("1", "lock=mutex", "invalid_lock_mode"),
        ("1", "lock=", "invalid_lock_mode"),
        ("1", "lock=none&work_ms=2001", "invalid_work_ms"),
        ("1", "lock=none&work_ms=-1", "invalid_work_ms"),
        ("1", "lock=none&work_ms=soon", "invalid_work_ms"),
        ("1", "lock=none&user=ann%0Aevil", "invalid_user"),
        ("1", "lock=none&lock=redis", "invalid_query"),
    ];
    for (id, query, code) in cases {
        let response = client
            .post(app.url(&format!("/api/products/{id}/purchase?{query}")))
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, code).await;
    }
    let long_user = format!("lock=none&user={}", "x".repeat(65));
    let response = purchase(&client, &app.address, 1, &long_user).await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_user").await;

    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_products_answer_404() {
    let app = spawn_app().await;
    let client = client();

    for mode in ["none", "redis"] {
        let response = purchase(&client, &app.address, 999, &format!("lock={mode}")).await;
        assert_error(response, StatusCode::NOT_FOUND, "product_not_found").await;
    }
    let response = client
        .get(app.url("/api/products/999"))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "product_not_found").await;
    let response = client
        .post(app.url("/api/products/999/reset"))
        .json(&json!({ "stock": 5 }))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, "product_not_found").await;

    assert_nothing_written(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_restocks_answer_400_and_change_nothing() {
    let app = spawn_app().await;
    let client = client();
    let reset = |body: String| {
        client
            .post(app.url("/api/products/1/reset"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    for (body, code) in [
        (r#"{"stock": -1}"#, "invalid_stock"),
        (r#"{"stock": 1000001}"#, "invalid_stock"),
        (r#"{"stock": "ten"}"#, "invalid_body"),
        (r#"{"stock": 1.5}"#, "invalid_body"),
        (r#"{}"#, "invalid_body"),
        (r#"{"stock": 5, "extra": true}"#, "invalid_body"),
        ("not json", "invalid_body"),
    ] {
        let response = reset(body.to_owned()).await.unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, code).await;
    }
    let response = client
        .post(app.url("/api/products/x/reset"))
        .json(&json!({ "stock": 5 }))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_product_id").await;

    assert_nothing_written(&app).await;
    let initial: i64 = sqlx::query_scalar("SELECT initial_stock FROM products WHERE id = 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(initial, 100);
}
