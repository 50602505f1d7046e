//! `redis-stream`: the gate in Redis answers 202 with the order queued, the
//! order writer writes it later, `GET /api/orders/{id}` says where it is, and
//! a stock Redis lost is seeded again from Postgres minus what is queued.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    assert_error, assert_no_damage, client, drained, flash_crowd, product, purchase, spawn_app,
    spawn_app_with,
};

async fn order(app: &flashsale::testing::TestApp, id: &str) -> reqwest::Response {
    client()
        .get(app.url(&format!("/api/orders/{id}")))
        .send()
        .await
        .expect("order request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_purchase_is_accepted_queued_then_written() {
    // No writer on this instance: the order stays queued until one runs.
    let app = spawn_app_with(|settings| settings.order_writer = false).await;
    app.restock(1, 5).await;

    let response = purchase(&client(), &app.address, 1, "lock=redis-stream").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "queued", "{body}");
    assert_eq!(body["product_id"], 1, "{body}");
    assert_eq!(body["lock"], "redis-stream", "{body}");
    assert_eq!(body["remaining_stock"], 4, "{body}");
    let id = body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/orders/{id}"));

    let queued: Value = order(&app, &id).await.json().await.unwrap();
    assert_eq!(queued["status"], "queued", "{queued}");
    assert_eq!(queued["product_id"], 1, "{queued}");
    let stats = product(&app, 1).await;
    assert_eq!(stats["queued"], 1, "{stats}");
    assert_eq!(stats["orders"], 0, "{stats}");
    assert_eq!(stats["stock"], 5, "{stats}");

    // A writer starts (another instance): the order is written, once.
    app.spawn_peer_with(|settings| settings.order_writer = true)
        .await;
    let stats = drained(&app, 1).await;
    assert_eq!(stats["queued"], 0, "{stats}");
    assert_eq!(assert_no_damage(&app, 1, 5).await, 1);
    let written: Value = order(&app, &id).await.json().await.unwrap();
    assert_eq!(written["status"], "written", "{written}");
    assert_eq!(written["lock"], "redis-stream", "{written}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_of_another_strategy_is_written_and_an_unknown_one_is_404() {
    let app = spawn_app().await;
    let response = purchase(&client(), &app.address, 1, "lock=pg-atomic").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "written", "{body}");
    let id = body["order_id"].as_str().unwrap();
    let written: Value = order(&app, id).await.json().await.unwrap();
    assert_eq!(written["status"], "written", "{written}");
    assert_eq!(written["lock"], "pg-atomic", "{written}");

    let unknown = order(&app, "9a4f3c1e-0000-4000-8000-000000000000").await;
    assert_error(unknown, StatusCode::NOT_FOUND, "order_not_found").await;
    let bad = order(&app, "not-a-uuid").await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_order_id").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_sells_exactly_the_stock_and_a_restock_starts_a_new_one() {
    let app = spawn_app().await;
    app.restock(1, 3).await;
    let crowd = flash_crowd(&[&app.address], 1, 10, "lock=redis-stream").await;
    assert_eq!(
        (crowd.sold, crowd.queued, crowd.sold_out),
        (3, 3, 7),
        "{crowd:?}"
    );
    assert_eq!(assert_no_damage(&app, 1, 3).await, 3);

    app.restock(1, 2).await;
    let crowd = flash_crowd(&[&app.address], 1, 5, "lock=redis-stream").await;
    assert_eq!((crowd.sold, crowd.sold_out), (2, 3), "{crowd:?}");
    assert_eq!(assert_no_damage(&app, 1, 2).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_redis_lost_is_seeded_from_postgres_minus_the_orders_still_queued() {
    let app = spawn_app_with(|settings| settings.order_writer = false).await;
    app.restock(1, 10).await;
    let first = flash_crowd(&[&app.address], 1, 4, "lock=redis-stream").await;
    assert_eq!(first.queued, 4, "{first:?}");

    // Redis forgets the stock (a flush of that key): nothing may sell from a
    // guess. Postgres still says 10; four of them are queued.
    let stock_key = format!(
        "{}:{{orders}}:stock:product:1",
        app.settings.lock_key_prefix
    );
    let mut redis = app.redis.clone();
    let _: i64 = redis::cmd("DEL")
        .arg(&stock_key)
        .query_async(&mut redis)
        .await
        .unwrap();

    let rest = flash_crowd(&[&app.address], 1, 20, "lock=redis-stream").await;
    assert_eq!((rest.queued, rest.sold_out), (6, 14), "{rest:?}");
    assert_eq!(product(&app, 1).await["queued"], 10);

    app.spawn_peer_with(|settings| settings.order_writer = true)
        .await;
    assert_eq!(assert_no_damage(&app, 1, 10).await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_product_sells_one_per_buyer_through_the_gate() {
    let app = spawn_app().await;
    crate::per_buyer::restock_limited(&app.address, 1, 10, serde_json::json!(1)).await;
    let client = client();
    let mut answers = Vec::new();
    for query in [
        "lock=redis-stream&user=ann",
        "lock=redis-stream&user=ann",
        "lock=redis-stream&user=bob",
    ] {
        answers.push(purchase(&client, &app.address, 1, query).await.status());
    }
    assert_eq!(
        answers,
        [
            StatusCode::ACCEPTED,
            StatusCode::CONFLICT,
            StatusCode::ACCEPTED
        ]
    );
    let anonymous = purchase(&client, &app.address, 1, "lock=redis-stream").await;
    assert_error(anonymous, StatusCode::BAD_REQUEST, "user_required").await;
    assert_eq!(assert_no_damage(&app, 1, 10).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_crowd_counts_accepted_written_and_lost_orders() {
    let app = spawn_app().await;
    let report: Value = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&serde_json::json!({"buyers": 30, "lock": "redis-stream", "restock": 20}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["accepted"], 20, "{report}");
    assert_eq!(report["queued"], 20, "{report}");
    assert_eq!(report["written"], 20, "{report}");
    assert_eq!(report["lost_orders"], 0, "{report}");
    assert_eq!(report["sold_out"], 10, "{report}");
    assert_eq!(report["oversold"], 0, "{report}");
    assert_eq!(report["product"]["queued"], 0, "{report}");
    assert!(
        report["durable_orders_per_s"].as_f64().unwrap() > 0.0,
        "{report}"
    );
}
