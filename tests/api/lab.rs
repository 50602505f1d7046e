//! The lock lab: the catalogue, one conformance test over every strategy
//! marked safe, and each broken strategy failing in its own scenario.

use reqwest::StatusCode;
use serde_json::Value;

use flashsale::lock::{Family, Strategy};

use crate::helpers::{
    assert_error, assert_no_damage, client, damage, flash_crowd, purchase, redis_get,
    redlock_nodes, redlock_urls, spawn_app, spawn_app_with, strategies,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_safe_strategy_sells_exactly_the_stock_over_two_instances() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;
    let peer = app.spawn_peer().await;
    let catalogue = strategies(&app).await;

    let safe: Vec<&Value> = catalogue.iter().filter(|s| s["safe"] == true).collect();
    assert!(safe.len() >= 10, "{catalogue:?}");
    for strategy in safe {
        let name = strategy["name"].as_str().unwrap();
        assert_eq!(strategy["available"], true, "{strategy}");
        app.restock(1, 20).await;

        let query = format!("lock={name}&work_ms=5&deadline_ms=20000");
        let crowd = flash_crowd(&[&app.address, &peer], 1, 200, &query).await;

        assert!(crowd.other.is_empty(), "{name}: {crowd:?}");
        let orders = assert_no_damage(&app, 1, 20).await;
        // `redis-stream` answers 202 and writes later: exact once drained
        // (`assert_no_damage` waits for that).
        assert_eq!(
            orders, crowd.sold as i64,
            "{name}: every 201/202 is an order"
        );
        if name == "redis-failfast" {
            // Safe, but a busy lock is a no at once: it may undersell.
            assert!(crowd.sold <= 20, "{name}: {crowd:?}");
            assert_eq!(
                crowd.sold + crowd.sold_out + crowd.busy,
                200,
                "{name}: {crowd:?}"
            );
        } else {
            assert_eq!(crowd.sold, 20, "{name}: {crowd:?}");
            assert_eq!(crowd.sold_out + crowd.busy, 180, "{name}: {crowd:?}");
        }
        assert_eq!(
            redis_get(&app, &app.lock_key(1)).await,
            None,
            "{name}: lock released"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_lists_every_strategy_with_what_it_teaches() {
    // No Redlock nodes run on the default ports here: redlock is unavailable.
    let app = spawn_app_with(|settings| {
        settings.redlock_urls = flashsale::configuration::RedlockNodes(vec![
            format!("redis://127.0.0.1:{}", flashsale::testing::free_port())
                .parse()
                .unwrap(),
        ])
    })
    .await;

    let catalogue = strategies(&app).await;

    let names: Vec<&str> = catalogue
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, expected);
    for name in [
        "none",
        "redis",
        "redis-failfast",
        "redis-watchdog",
        "redis-fenced",
        "redlock",
        "local",
        "pg-atomic",
        "pg-row-lock",
        "pg-advisory",
        "pg-optimistic",
        "pg-serializable",
        "broken-ignore-setnx",
        "broken-lua-nil",
        "broken-plain-del",
        "broken-get-del",
    ] {
        assert!(names.contains(&name), "{name} is in the catalogue");
    }
    for strategy in &catalogue {
        for field in ["name", "label", "family", "lesson", "breaks_when", "needs"] {
            assert!(
                strategy[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field}: {strategy}"
            );
        }
        assert!(
            strategy["safe"].is_boolean() && strategy["available"].is_boolean(),
            "{strategy}"
        );
        if strategy["family"] == "broken" {
            assert_eq!(strategy["safe"], false, "{strategy}");
        }
    }
    let by_name = |name: &str| catalogue.iter().find(|s| s["name"] == name).unwrap();
    assert_eq!(by_name("redis")["default"], true);
    assert_eq!(by_name("redis")["available"], true);
    assert_eq!(by_name("local")["safe"], false);
    let redlock = by_name("redlock");
    assert_eq!(redlock["available"], false);
    assert!(
        redlock["unavailable_reason"]
            .as_str()
            .unwrap()
            .contains("0 of 1"),
        "{redlock}"
    );
    assert_eq!(serde_json::to_value(Family::Broken).unwrap(), "broken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_that_is_not_configured_answers_503_and_sells_nothing() {
    let app = spawn_app_with(|settings| {
        settings.redlock_urls = flashsale::configuration::RedlockNodes::default()
    })
    .await;

    let response = purchase(&client(), &app.address, 1, "lock=redlock").await;

    let body = assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "strategy_unavailable",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("REDLOCK_URLS"),
        "{body}"
    );
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
    let catalogue = strategies(&app).await;
    let redlock = catalogue.iter().find(|s| s["name"] == "redlock").unwrap();
    assert_eq!(redlock["available"], false);
    assert!(
        redlock["unavailable_reason"]
            .as_str()
            .unwrap()
            .contains("REDLOCK_URLS")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_ignore_setnx_oversells_like_no_lock() {
    let app = spawn_app().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(
        &[&app.address],
        1,
        200,
        "lock=broken-ignore-setnx&work_ms=100",
    )
    .await;

    let (orders, oversold, lost) = damage(&app, 1).await;
    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_eq!(orders, crowd.sold as i64);
    assert!(
        oversold > 0 && lost > 0,
        "every buyer 'held' the lock: {crowd:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_lua_nil_never_locks_and_sells_nothing() {
    let app = spawn_app().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(
        &[&app.address],
        1,
        20,
        "lock=broken-lua-nil&deadline_ms=150",
    )
    .await;

    assert_eq!(crowd.busy, 20, "{crowd:?}");
    assert_eq!(crowd.sold, 0, "{crowd:?}");
    assert_eq!(assert_no_damage(&app, 1, 20).await, 0);
    assert_eq!(app.stock(1).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_plain_del_oversells_once_the_work_outlives_the_ttl() {
    let app = spawn_app().await;
    app.restock(1, 5).await;

    let query = "lock=broken-plain-del&ttl_ms=100&work_ms=250&deadline_ms=20000";
    let crowd = flash_crowd(&[&app.address], 1, 40, query).await;

    let (orders, oversold, _) = damage(&app, 1).await;
    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_eq!(orders, crowd.sold as i64);
    assert!(
        oversold > 0,
        "a slow holder's DEL let more buyers in: {crowd:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_get_del_oversells_when_the_holder_stalls_between_get_and_del() {
    let app = spawn_app().await;
    app.restock(1, 3).await;

    // Each holder writes at 200 ms, checks its token at 200 ms (still its
    // own), stalls 200 ms and deletes at 400 ms — the next holder's lock,
    // taken at ~300 ms, while that one is still working.
    let query = "lock=broken-get-del&ttl_ms=300&work_ms=200&pause_ms=200&deadline_ms=20000";
    let crowd = flash_crowd(&[&app.address], 1, 10, query).await;

    let (orders, oversold, lost) = damage(&app, 1).await;
    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_eq!(orders, crowd.sold as i64);
    assert!(
        lost > 0 && oversold > 0,
        "GET-then-DEL deleted a successor's lock: {crowd:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_mutex_is_exact_on_one_instance_and_oversells_on_two() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;

    app.restock(1, 20).await;
    let alone = flash_crowd(&[&app.address], 1, 200, "lock=local&work_ms=5").await;
    assert_eq!(alone.sold, 20, "{alone:?}");
    assert_eq!(assert_no_damage(&app, 1, 20).await, 20);

    app.restock(1, 20).await;
    let two = flash_crowd(&[&app.address, &peer], 1, 200, "lock=local&work_ms=100").await;
    let (orders, oversold, lost) = damage(&app, 1).await;
    assert_eq!(orders, two.sold as i64);
    assert!(
        oversold > 0 && lost > 0,
        "two processes, two mutexes: {two:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_past_the_ttl_oversells_with_redis_but_not_with_the_watchdog() {
    let app = spawn_app().await;
    let knobs = "ttl_ms=100&work_ms=300&deadline_ms=30000";

    app.restock(1, 5).await;
    let spin = flash_crowd(&[&app.address], 1, 30, &format!("lock=redis&{knobs}")).await;
    let (orders, oversold, _) = damage(&app, 1).await;
    assert_eq!(orders, spin.sold as i64);
    assert!(oversold > 0, "the lock expired under its holders: {spin:?}");

    app.restock(1, 5).await;
    let watched = flash_crowd(
        &[&app.address],
        1,
        30,
        &format!("lock=redis-watchdog&{knobs}"),
    )
    .await;
    assert_eq!(watched.sold, 5, "{watched:?}");
    assert_eq!(watched.sold_out, 25, "{watched:?}");
    assert_eq!(assert_no_damage(&app, 1, 5).await, 5);
    assert_eq!(
        redis_get(&app, &app.lock_key(1)).await,
        None,
        "renewal stopped, lock released"
    );
}
