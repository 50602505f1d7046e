//! The spin lock on its own, against the real Redis.

use std::time::Duration;

use flashsale::lock::spin::SpinLock;
use flashsale::lock::{Ledger, Lock, LockError, LockTiming, RedisBase, RedisNode};

use crate::helpers::{TestApp, redis_get, spawn_app};

fn timing(deadline_ms: u64) -> LockTiming {
    LockTiming {
        ttl: Duration::from_secs(5),
        deadline: Duration::from_millis(deadline_ms),
        retry: Duration::from_millis(20),
        pause: Duration::ZERO,
        give_up: None,
    }
}

fn node(app: &TestApp) -> RedisNode {
    RedisNode::new(app.redis.clone(), Duration::from_secs(1))
}

fn spin_lock(app: &TestApp) -> SpinLock {
    SpinLock(RedisBase {
        node: node(app),
        ledger: Ledger::default(),
        prefix: app.settings.lock_key_prefix.clone(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releasing_with_the_wrong_token_deletes_nothing() {
    let app = spawn_app().await;
    let lock = spin_lock(&app);
    let guard = lock.acquire(1.into(), &timing(0)).await.unwrap();
    let key = guard.key.clone();

    let released = node(&app)
        .release_if_ours(&key, "not-the-owner")
        .await
        .unwrap();

    assert!(!released);
    assert_eq!(
        redis_get(&app, &key).await.as_deref(),
        Some(guard.token.as_str())
    );
    assert!(
        lock.release(guard).await.unwrap(),
        "the owner's release works"
    );
    assert_eq!(redis_get(&app, &key).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_is_taken_with_a_ttl_and_a_fresh_token() {
    let app = spawn_app().await;
    let lock = spin_lock(&app);

    let first = lock.acquire(7.into(), &timing(0)).await.unwrap();
    let mut redis = app.redis.clone();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&first.key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((1..=5000).contains(&ttl_ms), "PTTL {ttl_ms}");
    assert_eq!(
        first.key,
        format!("{}:lock:{{product:7}}", app.settings.lock_key_prefix)
    );
    let first_token = first.token.clone();
    lock.release(first).await.unwrap();

    let second = lock.acquire(7.into(), &timing(0)).await.unwrap();
    assert_ne!(second.token, first_token);
    lock.release(second).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_lock_is_retried_until_the_holder_releases_it() {
    let app = spawn_app().await;
    let lock = std::sync::Arc::new(spin_lock(&app));
    let holder = lock.acquire(1.into(), &timing(3000)).await.unwrap();

    let waiter = tokio::spawn({
        let lock = lock.clone();
        async move { lock.acquire(1.into(), &timing(3000)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiter.is_finished(),
        "the waiter spins while the lock is held"
    );
    lock.release(holder).await.unwrap();

    let second = waiter.await.unwrap().expect("acquired after the release");
    assert_eq!(
        redis_get(&app, &second.key).await.as_deref(),
        Some(second.token.as_str())
    );
    lock.release(second).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_lock_gives_up_at_the_deadline() {
    let app = spawn_app().await;
    let lock = spin_lock(&app);
    let holder = lock.acquire(1.into(), &timing(300)).await.unwrap();

    let error = lock.acquire(1.into(), &timing(300)).await.unwrap_err();

    assert!(matches!(error, LockError::Busy { .. }), "{error:?}");
    assert!(!error.is_unavailable());
    lock.release(holder).await.unwrap();
}
