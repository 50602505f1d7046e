//! `redis-fair` when an instance dies with buyers in line: its waiters stop
//! renewing their place, and the survivor's next hand-over must not give the
//! lock to one of them for a whole TTL.
//!
//! The instance that dies is the service binary in a child process, killed
//! with SIGKILL: nothing of it runs any more (an in-process instance cannot
//! be stopped that honestly: its HTTP workers run threads of their own).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{TestApp, assert_no_damage, client, purchase, redis_get, spawn_app};

/// Lock TTL of every buyer: what a hand-over to a dead waiter used to cost.
const TTL: &str = "ttl_ms=10000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fair_lock_sells_again_within_2_s_when_an_instance_dies_with_buyers_in_line() {
    let app = spawn_app().await;
    let mut doomed = ChildInstance::start(&app).await;
    let prefix = &app.settings.lock_key_prefix;
    let queue = format!("{prefix}:fair:queue:{{product:1}}");

    // The survivor's holder works 1.5 s; three buyers queue on the doomed
    // instance, then one on the survivor, behind them.
    let started = Instant::now();
    let holder = tokio::spawn({
        let base = app.address.clone();
        async move {
            let query = format!("lock=redis-fair&{TTL}&work_ms=1500&user=holder");
            let answer = purchase(&client(), &base, 1, &query).await.status();
            (answer, Instant::now())
        }
    });
    wait_for(|| async { redis_get(&app, &app.lock_key(1)).await.is_some() }).await;
    for n in 0..3 {
        let base = doomed.address.clone();
        tokio::spawn(async move {
            let query = format!("lock=redis-fair&{TTL}&deadline_ms=30000&user=doomed-{n}");
            // Never answered: the instance dies first.
            let url = format!("{base}/api/products/1/purchase?{query}");
            let _ = client().post(url).send().await;
        });
    }
    wait_for(|| async { queued(&app, &queue).await == 3 }).await;
    let survivor = tokio::spawn({
        let base = app.address.clone();
        async move {
            let query = format!("lock=redis-fair&{TTL}&deadline_ms=30000&user=survivor");
            let answer = purchase(&client(), &base, 1, &query).await.status();
            (answer, Instant::now())
        }
    });
    wait_for(|| async { queued(&app, &queue).await == 4 }).await;

    // Killed some 300 ms before the holder's release, so that the dead
    // waiters' places have not lapsed yet when the lock is handed on.
    tokio::time::sleep_until((started + Duration::from_millis(1200)).into()).await;
    doomed.kill();
    let (held, released) = holder.await.unwrap();
    let handed_to = redis_get(&app, &app.lock_key(1)).await;
    eprintln!("just after the holder's release the lock is held by {handed_to:?}");
    let (sold, sold_at) = survivor.await.unwrap();

    assert_eq!(held, StatusCode::CREATED);
    assert_eq!(sold, StatusCode::CREATED);
    let stall = sold_at - released;
    eprintln!("the survivor sold {stall:?} after its holder's release");
    // At most the dead waiters' lease (1 s) plus a round trip or two; a
    // hand-over to a dead waiter at the full TTL stalled 10 s here.
    assert!(
        stall < Duration::from_secs(2),
        "stalled {stall:?} after the hand-over"
    );
    let served: Vec<String> =
        sqlx::query_scalar("SELECT user_name FROM orders ORDER BY created_at, id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(served, ["holder", "survivor"]);
    assert_eq!(assert_no_damage(&app, 1, 100).await, 2);
    assert_eq!(redis_get(&app, &app.lock_key(1)).await, None);
}

async fn queued(app: &TestApp, queue: &str) -> i64 {
    let mut redis = app.redis.clone();
    redis::cmd("ZCARD")
        .arg(queue)
        .query_async(&mut redis)
        .await
        .expect("ZCARD")
}

/// Polls `condition` every 10 ms, for 10 s at most.
async fn wait_for<F, Fut>(condition: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The service binary as another instance on `app`'s database and Redis
/// prefix, in a child process; killed (SIGKILL) when dropped.
struct ChildInstance {
    child: Child,
    address: String,
}

impl ChildInstance {
    async fn start(app: &TestApp) -> Self {
        let db = &app.settings.database_url;
        let database_url = format!(
            "postgres://{}@{}:{}/{}",
            db.get_username(),
            db.get_host(),
            db.get_port(),
            db.get_database().expect("the test's database")
        );
        let redis = &app.settings.redis_url;
        let redis_url = format!("redis://{}/{}", redis.addr(), redis.redis_settings().db());
        for _ in 0..3 {
            let port = flashsale::testing::free_port();
            let child = Command::new(env!("CARGO_BIN_EXE_flashsale"))
                .env_clear()
                .env("DATABASE_URL", &database_url)
                .env("REDIS_URL", &redis_url)
                .env("LOCK_KEY_PREFIX", &app.settings.lock_key_prefix)
                .env("REDLOCK_URLS", "")
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("WORKERS", "1")
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start flashsale");
            let mut instance = Self {
                child,
                address: format!("http://127.0.0.1:{port}"),
            };
            if instance.ready().await {
                return instance;
            }
            instance.kill(); // most likely the port was taken meanwhile
        }
        panic!("the child instance did not become ready")
    }

    /// Until `GET /readyz` answers 200 (false if the process exits or 20 s pass).
    async fn ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let ready = client()
                .get(format!("{}/readyz", self.address))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildInstance {
    fn drop(&mut self) {
        self.kill();
    }
}
