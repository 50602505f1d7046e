//! `pg-batch`: buyers who arrive while a batch is written share the next
//! one; a batch is written whole; the deadline still sends waiting buyers
//! away; the limit per buyer holds within a batch.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, client, purchase, spawn_app};
use crate::per_buyer::{burst, restock_limited};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyers_who_arrive_during_a_batch_share_the_next_one() {
    let app = spawn_app().await;

    let response = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(
            &json!({"buyers": 30, "lock": "pg-batch", "work_ms": 30, "restock": 20, "trace": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();

    let lanes = report["timeline"].as_array().unwrap();
    assert_eq!(lanes.len(), 30, "{report}");
    // Every buyer went through a batch; the batches' sizes add up to the crowd.
    let mut sizes = BTreeMap::new();
    for lane in lanes {
        let batch = lane["batch"].as_u64().unwrap_or_else(|| panic!("{lane}"));
        let size = lane["batch_size"].as_u64().unwrap();
        assert_eq!(*sizes.entry(batch).or_insert(size), size, "{lane}");
        assert!(lane["read_at"].is_number(), "{lane}");
    }
    assert_eq!(sizes.values().sum::<u64>(), 30, "{sizes:?}");
    assert!(
        sizes.len() < 30,
        "the buyers who arrived during a batch shared the next: {sizes:?}"
    );
    // One read per batch: its buyers all read the same stock, at once (the
    // lanes are marked one after the other, within a millisecond).
    for batch in sizes.keys() {
        let reads: Vec<(f64, i64)> = lanes
            .iter()
            .filter(|lane| lane["batch"].as_u64() == Some(*batch))
            .map(|lane| {
                let at = lane["read_at"].as_f64().unwrap();
                (at, lane["read_stock"].as_i64().unwrap())
            })
            .collect();
        let same = reads
            .windows(2)
            .all(|w| w[0].1 == w[1].1 && (w[0].0 - w[1].0).abs() < 1.0);
        assert!(same, "{reads:?}");
    }
    let sold = lanes
        .iter()
        .filter(|lane| lane["outcome"] == "sold")
        .count();
    assert_eq!(sold, 20, "{report}");
    assert_eq!(app.order_count(1).await, 20);
    assert_eq!(app.stock(1).await, 0);
    // Sellers' written stocks are each one of 19 … 0, once.
    let mut wrote: Vec<i64> = lanes
        .iter()
        .filter_map(|lane| lane["wrote_stock"].as_i64())
        .collect();
    wrote.sort_unstable();
    assert_eq!(wrote, (0..20).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyers_still_in_line_at_their_deadline_leave_with_429_and_the_batch_is_written_whole() {
    let app = spawn_app().await;
    app.restock(1, 100).await;
    let http = client();

    // The first buyer's batch holds the row for 1.5 s, past every deadline.
    let query = "lock=pg-batch&work_ms=1500&deadline_ms=400";
    let first = {
        let (http, base) = (http.clone(), app.address.clone());
        tokio::spawn(async move { purchase(&http, &base, 1, &format!("{query}&user=first")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let behind = join_all((0..9).map(|n| {
        let (http, base) = (http.clone(), app.address.clone());
        async move { purchase(&http, &base, 1, &format!("{query}&user=behind-{n}")).await }
    }))
    .await;

    for response in behind {
        assert_error(response, StatusCode::TOO_MANY_REQUESTS, "lock_timeout").await;
    }
    // Taken into its batch before its deadline: it waits for the answer,
    // and the answer is the order written, never a 429.
    let first = first.await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let order: Value = first.json().await.unwrap();
    assert_eq!(order["lock"], "pg-batch", "{order}");
    assert_eq!(order["status"], "written", "{order}");
    assert_eq!(order["remaining_stock"], 99, "{order}");
    assert_eq!(app.order_count(1).await, 1);
    assert_eq!(app.stock(1).await, 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_gives_a_buyer_no_more_than_its_limit() {
    let app = spawn_app().await;
    restock_limited(&app.address, 1, 10, json!(2)).await;

    // One buyer clicking 5 times at once, and two others 5 times each.
    let clicks = burst(&[&app.address], 1, 3, 5, "lock=pg-batch&work_ms=20").await;

    assert!(clicks.other.is_empty(), "{clicks:?}");
    assert_eq!(clicks.sold, 6, "{clicks:?}");
    assert_eq!(clicks.limit_reached, 9, "{clicks:?}");
    assert_eq!(app.order_count(1).await, 6);
    assert_eq!(app.stock(1).await, 4);
    // Orders, buyers, and orders beyond the first of each buyer.
    assert_eq!(app.orders_per_buyer(1).await, (6, 3, 3));

    let anonymous = purchase(&client(), &app.address, 1, "lock=pg-batch").await;
    assert_error(anonymous, StatusCode::BAD_REQUEST, "user_required").await;
    assert_eq!(app.stock(1).await, 4, "a refused buyer costs no stock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_an_unknown_product_is_a_404_and_a_sold_out_one_a_409() {
    let app = spawn_app().await;
    let http = client();

    let missing = purchase(&http, &app.address, 999_999, "lock=pg-batch").await;
    assert_error(missing, StatusCode::NOT_FOUND, "product_not_found").await;

    app.restock(1, 0).await;
    let sold_out = purchase(&http, &app.address, 1, "lock=pg-batch").await;
    assert_error(sold_out, StatusCode::CONFLICT, "sold_out").await;
}
