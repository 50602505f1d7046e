//! A restock that overtakes a sale or a crowd in flight: the sale says
//! `restocked` whatever its guard, and the crowd's report says so instead of
//! counting the new stock's sales as an oversell of the old one.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, client, product, purchase, redis_get, spawn_app};

async fn restock(base: &str, product: i64, stock: i64) {
    let response = client()
        .post(format!("{base}/api/products/{product}/reset"))
        .json(&json!({ "stock": stock }))
        .send()
        .await
        .expect("restock request");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fenced_sale_overtaken_by_a_restock_answers_restocked_and_writes_nothing() {
    let app = spawn_app().await;
    restock(&app.address, 3, 5).await;

    let sale = tokio::spawn({
        let base = app.address.clone();
        async move { purchase(&client(), &base, 3, "lock=redis-fenced&work_ms=1000").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    restock(&app.address, 3, 7).await;

    // Its fence is still the row's: only the restock stopped it.
    assert_error(sale.await.unwrap(), StatusCode::CONFLICT, "restocked").await;
    let stats = product(&app, 3).await;
    assert_eq!(
        (&stats["initial_stock"], &stats["stock"], &stats["orders"]),
        (&json!(7), &json!(7), &json!(0)),
        "{stats}"
    );
    assert_eq!(app.order_count(3).await, 0);
    assert_eq!(
        redis_get(&app, &app.lock_key(3)).await,
        None,
        "lock released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_overtaken_by_a_restock_says_so_and_oversells_nothing() {
    let app = spawn_app().await;

    // 20 units, then 300 buyers one at a time under the Redis lock, 20 ms
    // each: the crowd is still selling its 20 when the test restocks to 100
    // (400 ms at least), and its buyers that are left then sell from the new
    // stock.
    let crowd = tokio::spawn({
        let url = app.url("/api/products/1/flash-crowd");
        async move {
            client()
                .post(url)
                .json(&json!({"buyers": 300, "lock": "redis", "work_ms": 20, "restock": 20}))
                .send()
                .await
                .unwrap()
        }
    });
    // Restock once the crowd has restocked to 20 and sold its first unit.
    let mut polls = 0;
    loop {
        let stats = product(&app, 1).await;
        if stats["initial_stock"] == 20 && stats["orders"].as_i64() > Some(0) {
            break;
        }
        polls += 1;
        assert!(polls < 500, "the crowd never started selling: {stats}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    restock(&app.address, 1, 100).await;
    let response = crowd.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();

    assert_eq!(report["stock_before"], 20, "{report}");
    assert_eq!(report["restocked_during"], true, "{report}");
    assert_eq!(report["oversold"], 0, "{report}");
    let sold = report["sold"].as_i64().unwrap();
    let after = report["sold_after_restock"].as_i64().unwrap();
    assert!(
        after > 0 && sold - after <= 20,
        "sold {sold}, of which {after} after the restock: {report}"
    );
    // The database agrees: the new stock's orders are those sold after the
    // restock, none oversold.
    let stats = product(&app, 1).await;
    assert_eq!(stats["initial_stock"], 100, "{stats}");
    assert_eq!(stats["orders"], after, "{stats}");
    assert_eq!(stats["oversold"], 0, "{stats}");
    assert_eq!(stats["lost_updates"], 0, "{stats}");
    assert_eq!(report["product"], stats, "{report}");

    // The kept report says the same.
    let id = report["crowd_id"].as_str().unwrap();
    let kept: Value = client()
        .get(app.url(&format!("/api/crowds/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept, report);

    // And the page's verdict says it too.
    let page = client()
        .get(app.url(&format!("/?crowd={id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("no oversell"), "{page}");
    assert!(page.contains("Restocked during the crowd"), "{page}");
}
