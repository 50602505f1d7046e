use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{client, product, purchase, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_seeds_the_demo_products() {
    let app = spawn_app().await;

    let response = client().get(app.url("/api/products")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let products: Vec<Value> = response.json().await.unwrap();
    assert_eq!(products.len(), 3);
    assert_eq!(products[0]["id"], 1);
    assert_eq!(products[0]["stock"], 100);
    assert_eq!(products[0]["initial_stock"], 100);
    for product in &products {
        assert_eq!(product["orders"], 0);
        assert_eq!(product["oversold"], 0);
        assert_eq!(product["lost_updates"], 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_the_same_database_does_not_seed_again() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;

    let products: Vec<Value> = client()
        .get(format!("{peer}/api/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(products.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_numbers_follow_the_sales() {
    let app = spawn_app().await;
    app.restock(1, 3).await;
    for _ in 0..2 {
        let response = purchase(&client(), &app.address, 1, "lock=redis").await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    let stats = product(&app, 1).await;

    assert_eq!(
        stats,
        json!({
            "id": 1, "name": "Flash-sale phone", "initial_stock": 3, "stock": 1,
            "orders": 2, "oversold": 0, "lost_updates": 0,
            "per_buyer": null, "duplicates": 0, "queued": 0
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_restocks_and_forgets_the_orders() {
    let app = spawn_app().await;
    for _ in 0..3 {
        purchase(&client(), &app.address, 1, "lock=none").await;
    }
    // Orders of another product are kept.
    purchase(&client(), &app.address, 2, "lock=none").await;

    let response = client()
        .post(app.url("/api/products/1/reset"))
        .json(&json!({ "stock": 42 }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let stats: Value = response.json().await.unwrap();
    assert_eq!(stats["stock"], 42);
    assert_eq!(stats["initial_stock"], 42);
    assert_eq!(stats["orders"], 0);
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.order_count(2).await, 1);
}
