//! Every writer of a product must use the same guard: two different locks,
//! each safe on its own, do not exclude each other, and the product
//! oversells.

use flashsale::testing::TestApp;

use crate::helpers::{
    Crowd, assert_no_damage, damage, flash_crowd, redlock_nodes, redlock_urls, spawn_app_with,
};

const STOCK: i64 = 5;
/// Buyers under each strategy: two crowds of them together never need more
/// than the pool's 20 connections, so that `pg-row-lock`'s waiters (a
/// connection each) never keep the other strategy's holder from reading.
const BUYERS_EACH: usize = 10;

/// [`BUYERS_EACH`] buyers under each of two strategies at once, on product 1
/// restocked to [`STOCK`]. 200 ms of work each: either strategy alone takes
/// a second to sell out, so the two run side by side even when a busy
/// machine starts one crowd well after the other.
async fn two_crowds(app: &TestApp, first: &str, second: &str) -> Crowd {
    app.restock(1, STOCK).await;
    let query = |lock: &str| format!("lock={lock}&work_ms=200&deadline_ms=20000");
    let (first_query, second_query) = (query(first), query(second));
    let bases = [app.address.as_str()];
    let (one, two) = tokio::join!(
        flash_crowd(&bases, 1, BUYERS_EACH, &first_query),
        flash_crowd(&bases, 1, BUYERS_EACH, &second_query),
    );
    for (lock, crowd) in [(first, &one), (second, &two)] {
        assert!(crowd.other.is_empty(), "{lock}: {crowd:?}");
        assert_eq!(
            crowd.busy + crowd.lock_lost + crowd.restocked,
            0,
            "{lock}: {crowd:?}"
        );
    }
    Crowd {
        sold: one.sold + two.sold,
        sold_out: one.sold_out + two.sold_out,
        ..Crowd::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_locks_that_do_not_see_each_other_oversell_one_product() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;

    // `redis` holds a key on the lock Redis, `pg-row-lock` a row lock in
    // Postgres, `redlock` a key on three other Redis servers, `local` a mutex
    // in this process, `pg-advisory` an advisory lock: neither of a pair sees
    // the other's lock, so their holders read the same stock and both write
    // it back minus one.
    for (first, second) in [
        ("redis", "pg-row-lock"),
        ("redis", "redlock"),
        ("redis", "local"),
        ("pg-advisory", "pg-row-lock"),
    ] {
        // A race, not a certainty: a pair gets three sales to show it. Every
        // sale's numbers must add up all the same.
        let mut tries = Vec::new();
        let mut oversold_once = false;
        for _ in 0..3 {
            let mixed = two_crowds(&app, first, second).await;
            let (orders, oversold, lost_updates) = damage(&app, 1).await;
            let pair = format!("{first} with {second}: {mixed:?}");
            assert_eq!(orders, mixed.sold as i64, "every 201 is an order; {pair}");
            assert_eq!(oversold, orders - STOCK, "{pair}");
            tries.push(pair);
            if oversold > 0 {
                assert!(lost_updates > 0, "an oversell is a lost write; {tries:?}");
                oversold_once = true;
                break;
            }
        }
        assert!(oversold_once, "oversold nothing in three sales: {tries:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_load_with_one_guard_for_every_writer_sells_exactly() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;

    // Every `redis*` strategy takes the same key on the same Redis, so
    // `redis` and `redis-fenced` exclude each other as well.
    for (first, second) in [
        ("redis", "redis"),
        ("pg-row-lock", "pg-row-lock"),
        ("redlock", "redlock"),
        ("redis", "redis-fenced"),
    ] {
        let same = two_crowds(&app, first, second).await;
        assert_eq!(
            assert_no_damage(&app, 1, STOCK).await,
            STOCK,
            "{first} with {second}"
        );
        assert_eq!(same.sold as i64, STOCK, "{first} with {second}: {same:?}");
        assert_eq!(same.sold_out, 2 * BUYERS_EACH - STOCK as usize, "{same:?}");
    }
}
