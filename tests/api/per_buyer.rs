//! One per buyer: the limit set with the stock, enforced by Postgres in the
//! same statement or transaction as the decrement, whatever the strategy —
//! and the tutorials' `count(*)` check, which a burst of clicks gets past.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use flashsale::testing::TestApp;

use crate::helpers::{
    assert_error, client, product, purchase, redlock_nodes, redlock_urls, spawn_app,
    spawn_app_with, strategies,
};

pub async fn restock_limited(base: &str, id: i64, stock: i64, per_buyer: Value) -> Value {
    let response = client()
        .post(format!("{base}/api/products/{id}/reset"))
        .json(&json!({ "stock": stock, "per_buyer": per_buyer }))
        .send()
        .await
        .expect("restock request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("product JSON")
}

/// What a burst of clicks got.
#[derive(Debug, Default)]
pub struct Burst {
    pub sold: usize,
    pub limit_reached: usize,
    pub sold_out: usize,
    pub busy: usize,
    pub other: Vec<(StatusCode, Value)>,
}

/// `buyers` buyers each clicking `clicks` times, all at once, spread
/// round-robin over `bases`.
pub async fn burst(bases: &[&str], id: i64, buyers: usize, clicks: usize, query: &str) -> Burst {
    let client = client();
    let requests = (0..buyers * clicks).map(|n| {
        let client = client.clone();
        let base = bases[n % bases.len()].to_owned();
        let query = format!("{query}&user=buyer-{}", n % buyers);
        tokio::spawn(async move {
            let response = purchase(&client, &base, id, &query).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body)
        })
    });
    let mut burst = Burst::default();
    for answer in join_all(requests).await {
        match answer.expect("request task") {
            (StatusCode::CREATED | StatusCode::ACCEPTED, _) => burst.sold += 1,
            (StatusCode::CONFLICT, body) if body["error"] == "limit_reached" => {
                burst.limit_reached += 1
            }
            (StatusCode::CONFLICT, body) if body["error"] == "sold_out" => burst.sold_out += 1,
            (StatusCode::TOO_MANY_REQUESTS, _) => burst.busy += 1,
            other => burst.other.push(other),
        }
    }
    burst
}

/// (orders, distinct buyers, orders beyond one per buyer), from the table.
pub async fn orders_per_buyer(app: &TestApp, id: i64) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT COALESCE(sum(n), 0)::bigint, count(*), COALESCE(sum(n - 1), 0)::bigint
         FROM (SELECT count(*) AS n FROM orders WHERE product_id = $1 GROUP BY user_name) b",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .expect("orders per buyer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_safe_strategy_sells_one_per_buyer_over_two_instances() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;
    let peer = app.spawn_peer().await;
    let catalogue = strategies(&app).await;

    let safe: Vec<&Value> = catalogue.iter().filter(|s| s["safe"] == true).collect();
    assert!(safe.len() >= 10, "{catalogue:?}");
    for strategy in safe {
        let name = strategy["name"].as_str().unwrap();
        restock_limited(&app.address, 1, 100, json!(1)).await;

        let query = format!("lock={name}&work_ms=5&deadline_ms=20000");
        let burst = burst(&[&app.address, &peer], 1, 20, 10, &query).await;

        assert!(burst.other.is_empty(), "{name}: {burst:?}");
        crate::helpers::drained(&app, 1).await;
        let (orders, buyers, duplicates) = orders_per_buyer(&app, 1).await;
        assert_eq!(duplicates, 0, "{name}: one per buyer");
        assert_eq!(orders, buyers, "{name}");
        assert_eq!(orders, burst.sold as i64, "{name}: every 201 is an order");
        assert_eq!(
            app.stock(1).await,
            100 - orders,
            "{name}: stock moved once per order"
        );
        let stats = product(&app, 1).await;
        assert_eq!(stats["duplicates"], 0, "{name}: {stats}");
        assert_eq!(stats["per_buyer"], 1, "{name}: {stats}");
        assert_eq!(
            burst.sold + burst.limit_reached + burst.busy,
            200,
            "{name}: {burst:?}"
        );
        if name == "redis-failfast" {
            // A busy lock is a no at once: a buyer may get nothing at all.
            assert!(burst.sold <= 20, "{name}: {burst:?}");
        } else {
            assert_eq!(burst.sold, 20, "{name}: {burst:?}");
            assert_eq!(app.stock(1).await, 80, "{name}");
            assert_eq!(burst.limit_reached + burst.busy, 180, "{name}: {burst:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lock_a_refused_duplicate_still_never_sells_nor_costs_stock() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    restock_limited(&app.address, 1, 100, json!(1)).await;

    let burst = burst(&[&app.address, &peer], 1, 20, 10, "lock=none&work_ms=5").await;

    assert!(burst.other.is_empty(), "{burst:?}");
    assert_eq!(burst.sold, 20, "{burst:?}");
    assert_eq!(burst.limit_reached, 180, "{burst:?}");
    assert_eq!(orders_per_buyer(&app, 1).await, (20, 20, 0));
    // The 20 winners still race each other for the stock (no lock): their
    // lost updates can only leave *more* stock. A refused click that had
    // decremented would leave less than 100 - orders.
    let stock = app.stock(1).await;
    assert!((80..=99).contains(&stock), "stock {stock}");
    assert_eq!(product(&app, 1).await["duplicates"], 0);

    // Sequentially there is no race to hide anything: a refused duplicate
    // leaves the stock exactly where it was.
    restock_limited(&app.address, 1, 10, json!(1)).await;
    let http = client();
    let first = purchase(&http, &app.address, 1, "lock=none&user=ann").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(app.stock(1).await, 9);
    let again = purchase(&http, &peer, 1, "lock=none&user=ann").await;
    assert_error(again, StatusCode::CONFLICT, "limit_reached").await;
    assert_eq!(
        app.stock(1).await,
        9,
        "a refused duplicate decrements nothing"
    );
    assert_eq!(app.order_count(1).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_naive_count_check_lets_a_burst_buy_past_the_limit() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    restock_limited(&app.address, 1, 100, json!(1)).await;

    let query = "lock=redis&work_ms=5&deadline_ms=20000&duplicate_check=count";
    let burst = burst(&[&app.address, &peer], 1, 20, 10, query).await;

    assert!(burst.other.is_empty(), "{burst:?}");
    let (orders, buyers, duplicates) = orders_per_buyer(&app, 1).await;
    assert_eq!(buyers, 20);
    assert_eq!(orders, burst.sold as i64);
    assert_eq!(
        duplicates,
        orders - 20,
        "every order past the first is a duplicate"
    );
    assert!(
        duplicates > 0,
        "ten clicks at once all counted zero: {burst:?}"
    );
    assert_eq!(
        burst.sold + burst.sold_out + burst.limit_reached,
        200,
        "{burst:?}"
    );
    let stats = product(&app, 1).await;
    assert_eq!(stats["duplicates"], duplicates, "{stats}");
    // The stock lesson is separate: the lock still sold exactly.
    assert_eq!(app.stock(1).await, 100 - orders);
    assert_eq!(stats["oversold"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_product_needs_a_buyer_and_the_limit_is_validated() {
    let app = spawn_app().await;
    let http = client();
    let stats = restock_limited(&app.address, 1, 10, json!(2)).await;
    assert_eq!(stats["per_buyer"], 2, "{stats}");
    assert_eq!(stats["duplicates"], 0, "{stats}");

    for query in [
        "lock=none",
        "lock=pg-atomic",
        "lock=redis",
        "lock=redis&duplicate_check=count",
    ] {
        let response = purchase(&http, &app.address, 1, query).await;
        assert_error(response, StatusCode::BAD_REQUEST, "user_required").await;
    }
    for _ in 0..2 {
        let response = purchase(&http, &app.address, 1, "lock=pg-atomic&user=bob").await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let third = purchase(&http, &app.address, 1, "lock=pg-atomic&user=bob").await;
    assert_error(third, StatusCode::CONFLICT, "limit_reached").await;
    assert_eq!(app.stock(1).await, 8);
    assert_eq!(app.order_count(1).await, 2);

    let bad = purchase(&http, &app.address, 1, "user=bob&duplicate_check=maybe").await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_duplicate_check").await;
    for per_buyer in [json!(0), json!(-3), json!(10_001)] {
        let response = http
            .post(app.url("/api/products/1/reset"))
            .json(&json!({ "stock": 5, "per_buyer": per_buyer }))
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_per_buyer").await;
    }
    assert_eq!(app.stock(1).await, 8, "a refused restock changes nothing");

    // A restock without `per_buyer` (or with null) lifts the limit.
    let stats = restock_limited(&app.address, 1, 10, Value::Null).await;
    assert_eq!(stats["per_buyer"], Value::Null, "{stats}");
    let anonymous = purchase(&http, &app.address, 1, "lock=none").await;
    assert_eq!(anonymous.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_ten_buyers_clicking_five_times_reports_its_duplicates() {
    let app = spawn_app().await;
    let crowd = |duplicate_check: &'static str| {
        let url = app.url("/api/products/1/flash-crowd");
        async move {
            let response = client()
                .post(url)
                .json(&json!({
                    "buyers": 10, "clicks_per_buyer": 5, "restock": 100, "per_buyer": 1,
                    "lock": "redis", "work_ms": 5, "deadline_ms": 20000,
                    "duplicate_check": duplicate_check,
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    let keyed = crowd("key").await;
    assert_eq!(keyed["buyers"], 50, "{keyed}");
    assert_eq!(keyed["clicks_per_buyer"], 5, "{keyed}");
    assert_eq!(keyed["sold"], 10, "{keyed}");
    assert_eq!(keyed["limit_reached"], 40, "{keyed}");
    assert_eq!(keyed["duplicates"], 0, "{keyed}");
    assert_eq!(keyed["product"]["per_buyer"], 1, "{keyed}");
    assert_eq!(orders_per_buyer(&app, 1).await, (10, 10, 0));

    let counted = crowd("count").await;
    let (orders, buyers, duplicates) = orders_per_buyer(&app, 1).await;
    assert_eq!(buyers, 10);
    assert_eq!(counted["sold"], orders, "{counted}");
    assert_eq!(counted["duplicates"], duplicates, "{counted}");
    assert!(duplicates > 0, "{counted}");

    let response = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&json!({ "buyers": 10, "per_buyer": 1 }))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_per_buyer").await;
}
