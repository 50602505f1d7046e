//! The critique of Redis locks in one step: a failover to a replica that
//! never received the lock. A buyer takes the lock on the master and pauses
//! between its read and its write; the master dies before its replica got the
//! lock (the replication link was held up), the replica is promoted, and a
//! second buyer asks the new master — which has no lock to refuse it.
//!
//! With `redis` both write: the stock of 1 sells twice. With `redis-fenced`
//! the second buyer's token moves the fence in Postgres, which Redis's
//! failover cannot take back: the stale holder's write is refused (409
//! `lock_lost`) and the stock sells once.

use std::time::Duration;

use flashsale::testing::RedisServer;
use redis::aio::MultiplexedConnection;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::time::{Instant, sleep};

use crate::helpers::{TcpProxy, client, damage, purchase, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_that_lost_the_lock_the_spin_lock_sells_the_last_unit_twice() {
    let (first, second, app) = failover_mid_sale("redis").await;

    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    assert_eq!(second.0, StatusCode::CREATED, "{}", second.1);
    let (orders, oversold, lost_updates) = damage(&app, 1).await;
    assert_eq!((orders, oversold, lost_updates), (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_that_lost_the_lock_fencing_refuses_the_stale_holder() {
    let (first, second, app) = failover_mid_sale("redis-fenced").await;

    assert_eq!(second.0, StatusCode::CREATED, "{}", second.1);
    assert_eq!(first.0, StatusCode::CONFLICT, "{}", first.1);
    assert_eq!(first.1["error"], "lock_lost", "{}", first.1);
    let (orders, oversold, lost_updates) = damage(&app, 1).await;
    assert_eq!((orders, oversold, lost_updates), (1, 0, 0));
}

/// The scenario, on a master and a replica of the test's own behind a proxy
/// the service talks to. Returns the answers of the first buyer (the stale
/// holder) and of the second, and the app.
async fn failover_mid_sale(
    strategy: &str,
) -> (
    (StatusCode, Value),
    (StatusCode, Value),
    flashsale::testing::TestApp,
) {
    let mut master = RedisServer::start();
    // The replication link goes through a proxy that can hold it up: a
    // frozen replica (SIGSTOP) would not do, its kernel still takes in the
    // master's stream and hands it over when the replica resumes.
    let link = TcpProxy::start(&format!("127.0.0.1:{}", master.port)).await;
    let replica = RedisServer::start_replica_of(link.port);
    let mut to_master = connect(&master).await;
    let mut to_replica = connect(&replica).await;
    wait_in_sync(&mut to_master, &mut to_replica).await;
    let proxy = TcpProxy::start(&format!("127.0.0.1:{}", master.port)).await;
    let url = format!("redis://127.0.0.1:{}", proxy.port);
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;
    app.restock(1, 1).await;

    // The replica's link is held up: what the master acknowledges now never
    // reaches it.
    link.stall();
    let first = tokio::spawn({
        let address = app.address.clone();
        let query = format!("lock={strategy}&pause_ms=2000&user=stale");
        async move { answer(purchase(&client(), &address, 1, &query).await).await }
    });
    let key = app.lock_key(1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(&mut to_master, &key).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "the first buyer never took the lock"
        );
        sleep(Duration::from_millis(10)).await;
    }
    master.kill();
    link.cut();
    let promoted: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query_async(&mut to_replica)
        .await
        .unwrap();
    assert_eq!(promoted, "OK");
    assert_eq!(
        get(&mut to_replica, &key).await,
        None,
        "the lock never reached the replica"
    );
    proxy.switch_to(&format!("127.0.0.1:{}", replica.port));

    // The stale holder is still paused (2 s) when the second buyer asks.
    let second = answer(
        purchase(
            &client(),
            &app.address,
            1,
            &format!("lock={strategy}&user=second"),
        )
        .await,
    )
    .await;
    let first = first.await.unwrap();
    drop(replica);
    (first, second, app)
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn connect(server: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn get(connection: &mut MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
}

/// Until a write on the master is on the replica.
async fn wait_in_sync(master: &mut MultiplexedConnection, replica: &mut MultiplexedConnection) {
    let marker = uuid::Uuid::new_v4().to_string();
    let _: () = redis::cmd("SET")
        .arg("failover:marker")
        .arg(&marker)
        .query_async(master)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(replica, "failover:marker").await.as_deref() != Some(marker.as_str()) {
        assert!(Instant::now() < deadline, "the replica never caught up");
        sleep(Duration::from_millis(20)).await;
    }
}
