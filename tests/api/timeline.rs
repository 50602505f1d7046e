//! Traced crowds: every buyer's moments, recorded by the purchase path; and
//! the page's "Watch N buyers" control that draws them.

use flashsale::timeline::MAX_TRACED_BUYERS;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_error, client, spawn_app};

async fn traced_crowd(app: &crate::helpers::TestApp, lock: &str) -> Value {
    let response = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&json!({"buyers": 8, "lock": lock, "work_ms": 50, "restock": 2, "trace": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn sellers(report: &Value) -> Vec<&Value> {
    let mut sellers: Vec<&Value> = report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|lane| lane["outcome"] == "sold")
        .collect();
    sellers.sort_by(|a, b| {
        a["read_at"]
            .as_f64()
            .partial_cmp(&b["read_at"].as_f64())
            .unwrap()
    });
    sellers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lock_the_timeline_shows_buyers_reading_the_same_stock() {
    let app = spawn_app().await;

    let report = traced_crowd(&app, "none").await;

    let lanes = report["timeline"].as_array().unwrap();
    assert_eq!(lanes.len(), 8, "{report}");
    let buyers: Vec<i64> = lanes
        .iter()
        .map(|lane| lane["buyer"].as_i64().unwrap())
        .collect();
    assert_eq!(buyers, (1..=8).collect::<Vec<_>>());
    for lane in lanes {
        assert_eq!(lane["lock_acquired"], Value::Null, "{lane}");
        assert!(
            lane["arrived"].as_f64().unwrap() <= lane["read_at"].as_f64().unwrap(),
            "{lane}"
        );
        assert!(
            lane["read_at"].as_f64().unwrap() <= lane["done"].as_f64().unwrap(),
            "{lane}"
        );
    }
    let reads: Vec<i64> = lanes
        .iter()
        .filter_map(|lane| lane["read_stock"].as_i64())
        .collect();
    let most_common = reads
        .iter()
        .map(|r| reads.iter().filter(|x| *x == r).count())
        .max()
        .unwrap();
    assert!(
        most_common >= 2,
        "at least two buyers read the same stock: {reads:?}"
    );
    assert!(
        report["sold"].as_i64().unwrap() > 2,
        "sold more than the stock of 2: {report}"
    );
    let writers = sellers(&report);
    assert_eq!(writers.len() as i64, report["sold"].as_i64().unwrap());
    for lane in writers {
        assert_eq!(
            lane["wrote_stock"].as_i64().unwrap(),
            lane["read_stock"].as_i64().unwrap() - 1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_lock_the_sellers_go_one_at_a_time_and_each_reads_what_the_last_wrote() {
    let app = spawn_app().await;

    let report = traced_crowd(&app, "redis").await;

    assert_eq!(report["sold"], 2, "{report}");
    let sellers = sellers(&report);
    assert_eq!(sellers.len(), 2);
    for pair in sellers.windows(2) {
        let (first, next) = (pair[0], pair[1]);
        assert!(
            first["done"].as_f64().unwrap() <= next["lock_acquired"].as_f64().unwrap(),
            "holders overlap: {first} {next}"
        );
        assert_eq!(
            next["read_stock"].as_i64().unwrap(),
            first["read_stock"].as_i64().unwrap() - 1
        );
    }
    assert_eq!(sellers[0]["read_stock"], 2);
    for lane in report["timeline"].as_array().unwrap() {
        assert!(lane["lock_acquired"].as_f64().is_some(), "{lane}");
        if lane["outcome"] == "sold_out" {
            assert_eq!(lane["read_stock"], 0, "{lane}");
            assert_eq!(lane["wrote_at"], Value::Null, "{lane}");
        }
    }
}

async fn traced_crowd_with(app: &crate::helpers::TestApp, knobs: Value) -> Value {
    let mut body = json!({"buyers": 4, "restock": 2, "trace": true});
    body.as_object_mut()
        .unwrap()
        .extend(knobs.as_object().unwrap().clone());
    let response = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn ms(lane: &Value, field: &str) -> f64 {
    lane[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no {field}: {lane}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_whose_ttl_is_shorter_than_the_work_expires_under_its_holder_on_the_timeline() {
    let app = spawn_app().await;

    // A 100 ms lock around 300 ms of work: it runs out mid-hold.
    let report = traced_crowd_with(
        &app,
        json!({"lock": "redis", "ttl_ms": 100, "work_ms": 300}),
    )
    .await;

    let lanes = report["timeline"].as_array().unwrap();
    assert_eq!(lanes.len(), 4, "{report}");
    let holders: Vec<&Value> = lanes
        .iter()
        .filter(|lane| lane["lock_acquired"].is_number())
        .collect();
    assert!(!holders.is_empty(), "{report}");
    for lane in &holders {
        assert_eq!(lane["lock_ttl_ms"], 100, "{lane}");
        let expiry = ms(lane, "lock_expires_at") - ms(lane, "lock_acquired");
        assert!((expiry - 100.0).abs() < 0.011, "{lane}");
    }
    // The first holder read 2, worked 300 ms and wrote 1: after its lock
    // had expired, and after it was done holding it per the TTL.
    let first = holders
        .iter()
        .min_by(|a, b| ms(a, "lock_acquired").total_cmp(&ms(b, "lock_acquired")))
        .unwrap();
    assert_eq!(first["outcome"], "sold", "{first}");
    assert_eq!(first["read_stock"], 2, "{first}");
    assert!(
        ms(first, "lock_expires_at") < ms(first, "wrote_at"),
        "{first}"
    );
    assert!(ms(first, "lock_expires_at") < ms(first, "done"), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_without_a_ttl_or_kept_alive_by_renewals_has_no_expiry_on_the_timeline() {
    let app = spawn_app().await;

    let none = traced_crowd_with(&app, json!({"lock": "none"})).await;
    let local = traced_crowd_with(&app, json!({"lock": "local"})).await;
    let watchdog = traced_crowd_with(&app, json!({"lock": "redis-watchdog", "ttl_ms": 300})).await;

    for report in [&none, &local] {
        for lane in report["timeline"].as_array().unwrap() {
            assert!(lane.get("lock_ttl_ms").is_none(), "{lane}");
            assert!(lane.get("lock_expires_at").is_none(), "{lane}");
        }
    }
    // The watchdog renews its lock while held: a TTL, but no expiry.
    let holders: Vec<&Value> = watchdog["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|lane| lane["lock_acquired"].is_number())
        .collect();
    assert!(!holders.is_empty(), "{watchdog}");
    for lane in holders {
        assert_eq!(lane["lock_ttl_ms"], 300, "{lane}");
        assert!(lane.get("lock_expires_at").is_none(), "{lane}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_crowd_has_at_most_fifty_buyers() {
    let app = spawn_app().await;

    let response = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&json!({"buyers": 51, "trace": true}))
        .send()
        .await
        .unwrap();

    let body = assert_error(response, StatusCode::BAD_REQUEST, "invalid_trace").await;
    assert!(
        body["message"].as_str().unwrap().contains("at most 50"),
        "{body}"
    );
    assert_eq!(app.order_count(1).await, 0);
    let untraced: Value = client()
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&json!({"buyers": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(untraced.get("timeline").is_none(), "{untraced}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_offers_to_watch_a_few_buyers_and_says_that_it_needs_the_script() {
    let app = spawn_app().await;

    let html = client()
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // The control: 2 to 50 buyers, 8 to start with, on any product; hidden
    // until the script shows it, and a note for a browser without one.
    let bounds = format!(r#"min="2" max="{MAX_TRACED_BUYERS}" step="1""#);
    for expected in [
        r#"<section class="panel timeline" id="timeline" aria-labelledby="timeline-title" hidden>"#,
        r#"<input id="watch-buyers" type="number""#,
        &bounds,
        r#"value="8""#,
        r#"<option value="1">Flash-sale phone</option>"#,
        r#"<option value="3">Last concert ticket</option>"#,
        r#"Watch <span id="watch-count">8</span> buyers"#,
        r#"restocks the product to <strong id="watch-stock">2</strong> units"#,
        "<noscript>",
        "turn JavaScript on to see it",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    // None of its fields has a name: no plain form ever sends them.
    let start = html.find(r#"id="timeline""#).unwrap();
    let end = html.find("<noscript>").unwrap();
    assert!(
        !html[start..end].contains(" name="),
        "{}",
        &html[start..end]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_colour_the_timeline_script_draws_with_is_in_the_stylesheet() {
    let app = spawn_app().await;
    let get = |path: &'static str| {
        let url = app.url(path);
        async move {
            let response = client().get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.text().await.unwrap()
        }
    };
    // The page's script is ES modules: the layout names the colours, the
    // drawing makes the SVG, the Watch button asks for the trace.
    let (layout, drawing, watch, css) = (
        get("/static/timeline-layout.js").await,
        get("/static/timeline.js").await,
        get("/static/watch.js").await,
        get("/static/app.css").await,
    );

    let colours: usize = layout
        .split_once("const READ_COLOURS = ")
        .and_then(|(_, rest)| rest.split_once(';'))
        .and_then(|(n, _)| n.parse().ok())
        .expect("timeline-layout.js names how many colours it cycles through");
    assert!(colours >= 4, "{colours}");
    for class in (0..colours)
        .map(|i| format!(".tl-v{i} {{"))
        .chain([".tl-vzero".to_owned(), ".tl-vnone".to_owned()])
    {
        assert!(css.contains(&class), "app.css has no {class}");
    }
    // Drawn with classes and SVG attributes only: the CSP blocks inline style.
    assert!(!drawing.contains(r#"setAttribute("style""#));
    assert!(watch.contains("trace: true"));
}
