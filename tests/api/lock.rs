//! The lock on its own, against the real Redis.

use std::time::Duration;

use flashsale::lock::{LockError, LockTimings, RedisLock};

use crate::helpers::{redis_get, spawn_app};

fn timings(deadline_ms: u64) -> LockTimings {
    LockTimings {
        ttl: Duration::from_secs(5),
        deadline: Duration::from_millis(deadline_ms),
        retry: Duration::from_millis(20),
        call_timeout: Duration::from_secs(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releasing_with_the_wrong_token_deletes_nothing() {
    let app = spawn_app().await;
    let lock = RedisLock::new(app.redis.clone(), &app.settings.lock_key_prefix, timings(0));
    let guard = lock.acquire("product:1").await.unwrap();
    let key = guard.key().to_owned();

    let released = lock.release(&key, "not-the-owner").await.unwrap();

    assert!(!released);
    assert_eq!(redis_get(&app, &key).await.as_deref(), Some(guard.token()));
    assert!(guard.release().await.unwrap(), "the owner's release works");
    assert_eq!(redis_get(&app, &key).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_is_taken_with_a_ttl_and_a_fresh_token() {
    let app = spawn_app().await;
    let lock = RedisLock::new(app.redis.clone(), &app.settings.lock_key_prefix, timings(0));

    let first = lock.acquire("product:7").await.unwrap();
    let mut redis = app.redis.clone();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(first.key())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((1..=5000).contains(&ttl_ms), "PTTL {ttl_ms}");
    assert_eq!(
        first.key(),
        format!("{}:lock:product:7", app.settings.lock_key_prefix)
    );
    let first_token = first.token().to_owned();
    first.release().await.unwrap();

    let second = lock.acquire("product:7").await.unwrap();
    assert_ne!(second.token(), first_token);
    second.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_lock_is_retried_until_the_holder_releases_it() {
    let app = spawn_app().await;
    let lock = RedisLock::new(
        app.redis.clone(),
        &app.settings.lock_key_prefix,
        timings(3000),
    );
    let holder = lock.acquire("product:1").await.unwrap();

    let waiter = tokio::spawn({
        let lock = lock.clone();
        async move { lock.acquire("product:1").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiter.is_finished(),
        "the waiter spins while the lock is held"
    );
    holder.release().await.unwrap();

    let second = waiter.await.unwrap().expect("acquired after the release");
    assert_eq!(
        redis_get(&app, second.key()).await.as_deref(),
        Some(second.token())
    );
    second.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_lock_gives_up_at_the_deadline() {
    let app = spawn_app().await;
    let lock = RedisLock::new(
        app.redis.clone(),
        &app.settings.lock_key_prefix,
        timings(300),
    );
    let holder = lock.acquire("product:1").await.unwrap();

    let error = lock.acquire("product:1").await.unwrap_err();

    assert!(matches!(error, LockError::Busy { .. }), "{error:?}");
    assert!(!error.is_unavailable());
    holder.release().await.unwrap();
}
