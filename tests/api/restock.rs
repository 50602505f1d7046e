//! Restocking while a sale is in flight: the sale must never write its old
//! stock back over the restock, whatever its strategy.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, client, product, purchase, spawn_app};

async fn restock(base: &str, product: i64, stock: i64) -> StatusCode {
    client()
        .post(format!("{base}/api/products/{product}/reset"))
        .json(&json!({ "stock": stock }))
        .send()
        .await
        .expect("restock request")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restock_during_a_sale_is_never_overwritten_whatever_the_strategy() {
    let app = spawn_app().await;

    for strategy in [
        "redis",
        "redis-watchdog",
        "redis-fenced",
        "redis-failfast",
        "local",
        "none",
        "pg-atomic",
        "pg-row-lock",
        "pg-advisory",
        "pg-optimistic",
        "pg-serializable",
    ] {
        assert_eq!(restock(&app.address, 3, 5).await, StatusCode::OK);
        let sale = tokio::spawn({
            let base = app.address.clone();
            let query = format!("lock={strategy}&work_ms=1200");
            async move { purchase(&client(), &base, 3, &query).await.status() }
        });
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            restock(&app.address, 3, 0).await,
            StatusCode::OK,
            "{strategy}"
        );
        let answered = sale.await.unwrap();

        let stats = product(&app, 3).await;
        assert_eq!(
            (
                stats["initial_stock"].as_i64(),
                stats["stock"].as_i64(),
                stats["orders"].as_i64()
            ),
            (Some(0), Some(0), Some(0)),
            "{strategy} answered {answered}: {stats}"
        );
        assert_eq!(stats["oversold"], 0, "{strategy}: {stats}");
        let next = purchase(&client(), &app.address, 3, &format!("lock={strategy}")).await;
        assert_error(next, StatusCode::CONFLICT, "sold_out").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_overtaken_by_a_restock_answers_409_restocked_and_writes_nothing() {
    let app = spawn_app().await;
    assert_eq!(restock(&app.address, 3, 5).await, StatusCode::OK);

    let sale = tokio::spawn({
        let base = app.address.clone();
        async move { purchase(&client(), &base, 3, "lock=redis&work_ms=1000").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(restock(&app.address, 3, 7).await, StatusCode::OK);

    assert_error(sale.await.unwrap(), StatusCode::CONFLICT, "restocked").await;
    let stats = product(&app, 3).await;
    assert_eq!(
        (stats["stock"].as_i64(), stats["orders"].as_i64()),
        (Some(7), Some(0)),
        "{stats}"
    );
}
