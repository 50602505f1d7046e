//! The first purchase after Redis comes back sells, however long Redis was
//! down and however long the instances then sat idle.
//!
//! The condition, found with a Redis of the test's own on the code before
//! the fix: a restart that keeps Redis down for longer than the connection
//! manager's own reconnect tries (about a second: 3 tries, 100 to 500 ms
//! apart). A quick restart (down 0 or 0.5 s, then 3 s idle) never failed;
//! down 3 s, the first purchase answered 503 whether it came 3 s or 20 s
//! after the restart, and the next ones sold. Idle time and the number of
//! instances do not matter (each instance's manager fails the same way);
//! the time Redis stays down does. The manager keeps its failed reconnect
//! until the next command, which fails on it without reaching Redis.
//! (Only SIGKILL was run: SHUTDOWN closes the connection the same way, so
//! redis-rs takes the same path.)

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{RedisServer, client, purchase, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_purchase_of_each_instance_after_redis_was_down_3_s_sells() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;
    let peer = app.spawn_peer().await;
    app.restock(1, 10).await;
    let client = client();
    for base in [&app.address, &peer] {
        let answer = purchase(&client, base, 1, "lock=redis").await;
        assert_eq!(answer.status(), StatusCode::CREATED);
    }

    down_for_3_s_then_idle(&mut redis).await;

    for (name, base) in [("first", &app.address), ("second", &peer)] {
        let answer = purchase(&client, base, 1, "lock=redis").await;
        assert_eq!(answer.status(), StatusCode::CREATED, "{name} instance");
    }
    assert_eq!(app.order_count(1).await, 4);
    assert_eq!(app.stock(1).await, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_readiness_check_after_redis_was_down_3_s_says_ready() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;
    let client = client();
    let ready = |client: reqwest::Client| {
        let url = format!("{}/readyz", app.address);
        async move { client.get(url).send().await.unwrap().status() }
    };
    assert_eq!(ready(client.clone()).await, StatusCode::OK);

    down_for_3_s_then_idle(&mut redis).await;

    assert_eq!(
        ready(client.clone()).await,
        StatusCode::OK,
        "the first check"
    );
}

/// The restart that used to cost the first command a 503: Redis down longer
/// than the connection manager's own reconnect tries, then a few idle seconds.
async fn down_for_3_s_then_idle(redis: &mut RedisServer) {
    tokio::task::block_in_place(|| redis.kill());
    tokio::time::sleep(Duration::from_secs(3)).await;
    tokio::task::block_in_place(|| redis.restart());
    tokio::time::sleep(Duration::from_secs(3)).await;
}
