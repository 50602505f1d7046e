//! The watchdog's clock: the lock counts as lost one TTL after the `SET`
//! that took it was *sent*, not after its reply came back (Redis may have run
//! it anywhere within that round trip).

use std::time::{Duration, Instant};

use flashsale::lock::watchdog::WatchdogLock;
use flashsale::lock::{Guard, Ledger, Lock, LockTiming, RedisBase, RedisNode};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::helpers::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_counts_the_ttl_from_the_send_of_the_set() {
    let mut redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let slow = Duration::from_secs(3);
    let config = ConnectionManagerConfig::new().set_response_timeout(Some(slow));
    let manager = ConnectionManager::new_with_config(client, config)
        .await
        .unwrap();
    let lock = WatchdogLock(RedisBase {
        node: RedisNode::new(manager, slow),
        ledger: Ledger::default(),
        prefix: format!("watchdog-clock-{}", std::process::id()),
    });
    let timing = LockTiming {
        ttl: Duration::from_millis(1500),
        deadline: Duration::from_secs(5),
        retry: Duration::from_millis(20),
        pause: Duration::ZERO,
        give_up: None,
    };

    // A reply that takes a second: Redis holds writes back for 1 s.
    let mut admin = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1000)
        .arg("WRITE")
        .query_async(&mut admin)
        .await
        .unwrap();
    let asked = Instant::now();
    let guard = lock.acquire(1.into(), &timing).await.unwrap();
    let answered = Instant::now();
    assert!(
        answered - asked >= Duration::from_millis(900),
        "the SET was held back"
    );
    assert!(!guard.is_lost(), "a lock just taken");

    // No renewal can succeed from now on.
    tokio::task::block_in_place(|| redis.kill());
    tokio::time::sleep_until((answered + Duration::from_millis(1000)).into()).await;

    // 2 s after the send, 1 s after the reply: past the TTL counted from
    // the send (lost), not from the reply (0.5 s left).
    assert!(guard.is_lost(), "the TTL counts from the send");
    drop(guard);
}
