//! Fault tests: real service processes (the built binary) against a Redis
//! or a Postgres that goes away mid-sale, instances killed or stopped
//! mid-sale, and a client that hangs up. After each fault the invariants
//! hold: no oversell, no lost update, every 201 has its order, no lock left
//! behind.
//!
//! Each test has a database of its own (dropped at the end) and a Redis key
//! prefix of its own; a test that stops Redis or Postgres stops its own
//! (`RedisServer`, `PostgresServer`), never the shared ones on 6379 and 5432.
//! `TEST_LOG=1` shows the services' logs; otherwise a failing test names the
//! log file of each service it started.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use flashsale::testing::{PostgresServer, RedisServer, free_port};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use tokio::time::sleep;
use uuid::Uuid;

const PRODUCT: i64 = 1;
const SHARED_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

// --- 1. Redis restarted mid-crowd -------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_crowd_with_fencing_neither_oversells_nor_loses_an_update() {
    let (_redis, shop, crowd) = redis_restarted_mid_crowd("redis-fenced").await;

    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    numbers.assert_no_oversell_and_no_lost_update();
    shop.assert_lock_gone_within(Duration::from_millis(1500 + 500))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_crowd_with_the_spin_lock_loses_no_order() {
    let (_redis, shop, crowd) = redis_restarted_mid_crowd("redis").await;

    // A Redis that forgets the lock may let two holders in (the fenced
    // strategy's reason to be): only the orders must all be there.
    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    shop.assert_lock_gone_within(Duration::from_millis(1500 + 500))
        .await;
}

/// 100 buyers (stock 20, 20 ms of work) on an instance whose Redis is killed
/// 200 ms in and back 300 ms later, while buyers still come. Postgres stays
/// up, so every order has its 201 too.
async fn redis_restarted_mid_crowd(strategy: &str) -> (RedisServer, Shop, Crowd) {
    let mut redis = RedisServer::start();
    let shop = Shop::on_shared_postgres(&redis.url());
    let service = shop.start(&[("LOCK_TTL_MS", "1500")]).await;
    service.restock(20).await;

    let started = Instant::now();
    let crowd = tokio::spawn(flash_crowd(
        vec![service.address.clone()],
        100,
        format!("lock={strategy}&work_ms=20"),
    ));
    sleep(Duration::from_millis(200)).await;
    redis.kill();
    sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| redis.restart());
    let back = started.elapsed();
    let crowd = crowd.await.unwrap();

    eprintln!("{strategy}: {crowd:?}; Redis back after {back:.2?}");
    crowd.assert_answers_allowed(&[201, 409, 429, 503]);
    assert!(
        crowd.answered_after(back) > 0,
        "the crowd was over before Redis came back: {crowd:?}"
    );
    drop(service);
    assert_eq!(
        shop.numbers().await.sold(),
        crowd.sold() as i64,
        "an order without its 201"
    );
    (redis, shop, crowd)
}

// --- 2. Postgres restarted mid-crowd ----------------------------------------

/// 100 buyers (stock 20, 20 ms of work) under the spin lock on an instance
/// whose Postgres (a cluster of the test's own) is killed 200 ms in and back
/// about a second later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_crowd_loses_nothing_and_the_service_recovers() {
    // Declared first, dropped last: the database goes while its server runs.
    let mut postgres = tokio::task::block_in_place(PostgresServer::start);
    let shop = Shop::on(&postgres.url(""), SHARED_REDIS);
    let mut service = shop.start(&[("DB_TIMEOUT_MS", "1000")]).await;
    service.restock(20).await;

    let started = Instant::now();
    let crowd = tokio::spawn(flash_crowd(
        vec![service.address.clone()],
        100,
        "lock=redis&work_ms=20".to_owned(),
    ));
    sleep(Duration::from_millis(200)).await;
    postgres.kill();
    sleep(Duration::from_millis(1000)).await;
    tokio::task::block_in_place(|| postgres.restart());
    let back = started.elapsed();
    let crowd = crowd.await.unwrap();

    eprintln!("{crowd:?}; Postgres back after {back:.2?}");
    // Buyers who arrive while Postgres is down get a 503 at once (they do
    // not queue for the lock behind a sale that cannot write), so the crowd
    // may well be over before Postgres is back: recovery is checked below.
    crowd.assert_answers_allowed(&[201, 409, 429, 503]);
    let numbers = shop.numbers().await;
    numbers.assert_every_201_has_its_order(&crowd);
    numbers.assert_no_oversell_and_no_lost_update();
    shop.assert_lock_gone_within(Duration::from_millis(500))
        .await;

    // The service recovers by itself: ready again, and it sells.
    if let Err(why) = service.wait_ready(Duration::from_secs(10)).await {
        panic!("the service did not recover: {why}");
    }
    service.restock(1).await;
    let (status, body) = service.purchase("lock=redis&user=after-restart").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

// --- 3. An instance killed while it holds the lock --------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_holding_the_lock_blocks_the_other_no_longer_than_the_ttl() {
    const TTL: Duration = Duration::from_millis(1500);
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let settings = [("LOCK_TTL_MS", &*TTL.as_millis().to_string())];
    let mut a = shop.start(&settings).await;
    let b = shop.start(&settings).await;
    b.restock(5).await;

    // A's work (2000 ms, the API's most) outlasts the TTL: without the TTL
    // a dead holder would block B for good.
    let held = tokio::spawn({
        let (client, address) = (a.client.clone(), a.address.clone());
        async move { send_purchase(&client, &address, "lock=redis&work_ms=2000&user=killed").await }
    });
    sleep(Duration::from_millis(300)).await;
    if !shop.locked_within(Duration::from_secs(1)).await {
        panic!("A does not hold the lock; its purchase: {:?}", held.await);
    }
    a.kill();
    let killed = Instant::now();
    let (status, body) = b.purchase("lock=redis&user=survivor").await;
    let waited = killed.elapsed();

    eprintln!("B sold {waited:?} after A was killed (TTL {TTL:?})");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        waited < TTL + Duration::from_secs(2),
        "B waited {waited:?} for a lock whose TTL is {TTL:?}"
    );
    assert!(held.await.unwrap().is_err(), "A died mid-sale");
    assert_eq!(body["remaining_stock"], 4, "{body}");
    let numbers = shop.numbers().await;
    assert_eq!((numbers.orders.len(), numbers.stock), (1, 4), "{numbers:?}");
    numbers.assert_has_order(&body);
    numbers.assert_no_oversell_and_no_lost_update();
    assert_eq!(shop.lock_value().await, None, "B released the lock");
}

// --- 4. SIGTERM mid-sale ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// The sale (6.5 s: 4.5 s of pause, 2 s of work) outlasts actix's own
/// 5 s shutdown timeout: the service must wait for it, not cut it short.
async fn sigterm_mid_sale_lets_the_sale_finish_then_exits_0_leaving_no_lock() {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let mut service = shop.start(&[]).await;
    service.restock(5).await;

    let sale = tokio::spawn({
        let (client, address) = (service.client.clone(), service.address.clone());
        async move {
            send_purchase(
                &client,
                &address,
                "lock=redis&work_ms=2000&pause_ms=4500&user=stopped",
            )
            .await
        }
    });
    sleep(Duration::from_millis(300)).await;
    assert!(
        shop.locked_within(Duration::from_secs(1)).await,
        "the sale holds the lock"
    );
    service.signal("TERM");
    let status = tokio::task::block_in_place(|| service.wait_exit(Duration::from_secs(15)));
    let answer = sale.await.unwrap();

    eprintln!("exit: {status:?}; the buyer's answer: {answer:?}");
    assert_eq!(
        shop.lock_value().await,
        None,
        "no lock left after the process exits"
    );
    let numbers = shop.numbers().await;
    numbers.assert_whole_or_absent(5);
    match &answer {
        Ok((StatusCode::CREATED, body)) => numbers.assert_has_order(body),
        other => panic!("the sale in flight was cut short by the shutdown: {other:?}"),
    }
    let status = status.expect("the service exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

// --- 5. A client hanging up mid-purchase ------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_mid_purchase_leaves_the_sale_whole_or_absent_and_no_lock() {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let service = shop.start(&[]).await;
    service.restock(5).await;

    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", service.port))
        .await
        .unwrap();
    let request = format!(
        "POST /api/products/{PRODUCT}/purchase?lock=redis&work_ms=500&user=gone HTTP/1.1\r\n\
         Host: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
        service.port
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    sleep(Duration::from_millis(100)).await;
    assert!(
        shop.locked_within(Duration::from_millis(300)).await,
        "the sale holds the lock"
    );
    drop(socket);

    // The lock's TTL is 5 s: gone sooner means released, not expired.
    shop.assert_lock_gone_within(Duration::from_secs(3)).await;
    shop.numbers().await.assert_whole_or_absent(5);
    let (status, body) = service.purchase("lock=redis&user=next").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

// --- 6. The first purchase after Redis comes back ---------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_comes_back_the_first_purchase_of_each_instance_succeeds() {
    let mut redis = RedisServer::start();
    let shop = Shop::on_shared_postgres(&redis.url());
    let a = shop.start(&[]).await;
    let b = shop.start(&[]).await;
    a.restock(10).await;
    for service in [&a, &b] {
        let (status, body) = service.purchase("lock=redis").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    tokio::task::block_in_place(|| redis.restart());
    sleep(Duration::from_secs(2)).await;

    for (name, service) in [("A", &a), ("B", &b)] {
        let (status, body) = service.purchase("lock=redis").await;
        assert_eq!(status, StatusCode::CREATED, "instance {name}: {body}");
    }
    let numbers = shop.numbers().await;
    assert_eq!((numbers.orders.len(), numbers.stock), (4, 6), "{numbers:?}");
}

// --- The harness ------------------------------------------------------------

/// What the instances of one test share: a database and a Redis key prefix
/// of its own. Drops the database when dropped.
struct Shop {
    /// The server's URL without a database: `postgres://…:port`.
    server: String,
    database: String,
    redis_url: String,
    prefix: String,
}

impl Shop {
    fn on_shared_postgres(redis_url: &str) -> Self {
        Self::on(SHARED_POSTGRES, redis_url)
    }

    /// `server` is a Postgres URL without a database.
    fn on(server: &str, redis_url: &str) -> Self {
        let id = Uuid::new_v4().simple().to_string();
        Self {
            server: server.trim_end_matches('/').to_owned(),
            database: format!("flashsale_fault_{id}"),
            redis_url: redis_url.to_owned(),
            prefix: format!("flashsale_fault_{id}"),
        }
    }

    fn database_url(&self) -> String {
        format!("{}/{}", self.server, self.database)
    }

    fn lock_key(&self) -> String {
        flashsale::lock::lock_key(&self.prefix, PRODUCT.into())
    }

    /// An instance of the service on a free port, ready. Start a shop's
    /// instances one after the other: the first creates the database.
    async fn start(&self, settings: &[(&str, &str)]) -> Service {
        let env = [
            ("DATABASE_URL", self.database_url()),
            ("REDIS_URL", self.redis_url.clone()),
            ("LOCK_KEY_PREFIX", self.prefix.clone()),
            ("REDLOCK_URLS", String::new()),
            ("HOST", "127.0.0.1".to_owned()),
            ("WORKERS", "1".to_owned()),
            ("RUST_LOG", "info,sqlx=warn".to_owned()),
        ];
        let env: Vec<(String, String)> = env
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .chain(settings.iter().map(|(n, v)| (n.to_string(), v.to_string())))
            .collect();
        Service::start(env).await
    }

    async fn pool(&self) -> PgPool {
        PgPool::connect(&self.database_url())
            .await
            .expect("connect to the test's database")
    }

    /// The product's numbers and orders, read from Postgres.
    async fn numbers(&self) -> Numbers {
        let db = self.pool().await;
        let (initial, stock): (i64, i64) =
            sqlx::query_as("SELECT initial_stock, stock FROM products WHERE id = $1")
                .bind(PRODUCT)
                .fetch_one(&db)
                .await
                .expect("read the product");
        let orders: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM orders WHERE product_id = $1")
            .bind(PRODUCT)
            .fetch_all(&db)
            .await
            .expect("read the orders");
        db.close().await;
        Numbers {
            initial,
            stock,
            orders: orders.into_iter().collect(),
        }
    }

    /// The value of the product's lock key in Redis, if any.
    async fn lock_value(&self) -> Option<String> {
        let client = redis::Client::open(self.redis_url.as_str()).expect("Redis URL");
        let mut redis = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to Redis");
        redis::cmd("GET")
            .arg(self.lock_key())
            .query_async(&mut redis)
            .await
            .expect("Redis GET")
    }

    /// Whether the lock is (or comes to be) held within `limit`.
    async fn locked_within(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.lock_value().await.is_none() {
            if Instant::now() > deadline {
                return false;
            }
            sleep(Duration::from_millis(10)).await;
        }
        true
    }

    async fn assert_lock_gone_within(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while let Some(holder) = self.lock_value().await {
            assert!(
                Instant::now() < deadline,
                "the lock is still held by {holder} after {limit:?}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let (url, database) = (format!("{}/postgres", self.server), self.database.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut connection = sqlx::PgConnection::connect(&url).await?;
                let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&mut connection)
                    .await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.database);
        }
    }
}

/// The product as Postgres has it.
#[derive(Debug)]
struct Numbers {
    initial: i64,
    stock: i64,
    orders: HashSet<Uuid>,
}

impl Numbers {
    fn sold(&self) -> i64 {
        self.orders.len() as i64
    }

    fn assert_no_oversell_and_no_lost_update(&self) {
        assert!(self.sold() <= self.initial, "oversold: {self:?}");
        assert_eq!(
            self.stock,
            self.initial - self.sold(),
            "lost updates: {self:?}"
        );
    }

    /// Nothing sold and the stock untouched, or one order and one decrement.
    fn assert_whole_or_absent(&self, initial: i64) {
        assert_eq!(self.initial, initial, "{self:?}");
        assert!(
            (self.sold(), self.stock) == (0, initial)
                || (self.sold(), self.stock) == (1, initial - 1),
            "half a sale: {self:?}"
        );
    }

    fn assert_has_order(&self, body: &Value) {
        let id = order_id(body).unwrap_or_else(|| panic!("a 201 without an order id: {body}"));
        assert!(self.orders.contains(&id), "the 201's order {id} is missing");
    }

    /// Every 201 names an order, its own, and Postgres has it.
    fn assert_every_201_has_its_order(&self, crowd: &Crowd) {
        let answered: HashSet<Uuid> = crowd.order_ids().collect();
        let missing: Vec<_> = answered.difference(&self.orders).collect();
        assert!(missing.is_empty(), "201s without an order: {missing:?}");
        assert_eq!(answered.len(), crowd.sold(), "one order id per 201");
    }
}

fn order_id(body: &Value) -> Option<Uuid> {
    body["order_id"].as_str()?.parse().ok()
}

/// One running instance of the service, killed when dropped.
struct Service {
    child: Child,
    port: u16,
    address: String,
    client: Client,
    log: Option<PathBuf>,
}

impl Service {
    async fn start(env: Vec<(String, String)>) -> Self {
        // A free port can be taken between the check and the bind: try again.
        for _ in 0..3 {
            let port = free_port();
            let log = (std::env::var_os("TEST_LOG").is_none()).then(|| {
                std::env::temp_dir()
                    .join(format!("flashsale-fault-{}.log", Uuid::new_v4().simple()))
            });
            let mut command = Command::new(env!("CARGO_BIN_EXE_flashsale"));
            command
                .env_clear()
                .envs(env.iter().map(|(n, v)| (n, v)))
                .env("PORT", port.to_string())
                .stdin(Stdio::null());
            if let Some(log) = &log {
                let file = std::fs::File::create(log).expect("create the service's log");
                command.stdout(file.try_clone().unwrap()).stderr(file);
            }
            let child = command.spawn().expect("start flashsale");
            let mut service = Self {
                child,
                port,
                address: format!("http://127.0.0.1:{port}"),
                client: Client::builder()
                    .pool_max_idle_per_host(256)
                    .build()
                    .unwrap(),
                log,
            };
            match service.wait_ready(Duration::from_secs(20)).await {
                Ok(()) => return service,
                Err(why) if why.contains("cannot listen") => continue,
                Err(why) => panic!("the service did not become ready: {why}"),
            }
        }
        panic!("no free port for the service after 3 tries")
    }

    /// Until `GET /readyz` answers 200; `Err` with the log's last line if the
    /// process exits or the limit passes.
    async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}): {}", self.log_tail()));
            }
            let ready = self
                .client
                .get(format!("{}/readyz", self.address))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {limit:?}: {}", self.log_tail()));
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    async fn restock(&self, stock: i64) {
        let answer = self
            .client
            .post(format!("{}/api/products/{PRODUCT}/reset", self.address))
            .json(&json!({ "stock": stock }))
            .send()
            .await
            .expect("restock request");
        assert_eq!(answer.status(), StatusCode::OK, "restock");
    }

    async fn purchase(&self, query: &str) -> (StatusCode, Value) {
        send_purchase(&self.client, &self.address, query)
            .await
            .expect("purchase request")
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill is installed");
        assert!(sent.success(), "kill -{signal}");
    }

    /// The exit status, or `None` if it is still running after `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn log_tail(&self) -> String {
        let Some(log) = &self.log else {
            return "(TEST_LOG is set: see above)".to_owned();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("(empty log)")
            .to_owned()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
        if let Some(log) = &self.log {
            if std::thread::panicking() {
                eprintln!("the service's log: {}", log.display());
            } else {
                let _ = std::fs::remove_file(log);
            }
        }
    }
}

async fn send_purchase(
    client: &Client,
    address: &str,
    query: &str,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let answer = client
        .post(format!("{address}/api/products/{PRODUCT}/purchase?{query}"))
        .send()
        .await?;
    let status = answer.status();
    let body = answer.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Every answer of a crowd, with when it came.
struct Crowd {
    answers: Vec<(Duration, u16, Option<Uuid>)>,
}

/// `201×20 409×78 503×2 (0: no answer), the last after 1.52s`
impl std::fmt::Debug for Crowd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut counts = std::collections::BTreeMap::new();
        for (_, status, _) in &self.answers {
            *counts.entry(*status).or_insert(0) += 1;
        }
        for (status, count) in counts {
            write!(f, "{status}×{count} ")?;
        }
        let last = self.answers.iter().map(|(when, _, _)| *when).max();
        match last {
            Some(last) => write!(f, "(0: no answer), the last after {last:.2?}"),
            None => write!(f, "no answer"),
        }
    }
}

impl Crowd {
    fn sold(&self) -> usize {
        self.answers
            .iter()
            .filter(|(_, status, _)| *status == 201)
            .count()
    }

    fn order_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.answers.iter().filter_map(|(_, _, id)| *id)
    }

    /// Answers that came later than `at` after the crowd started.
    fn answered_after(&self, at: Duration) -> usize {
        self.answers
            .iter()
            .filter(|(when, _, _)| *when > at)
            .count()
    }

    /// Statuses other than `allowed` (0 for no HTTP answer at all) fail.
    fn assert_answers_allowed(&self, allowed: &[u16]) {
        let wrong: Vec<_> = self
            .answers
            .iter()
            .filter(|(_, status, _)| !allowed.contains(status))
            .collect();
        assert!(wrong.is_empty(), "answers outside {allowed:?}: {wrong:?}");
    }
}

/// `buyers` purchases at once on the instances at `addresses`, round-robin.
async fn flash_crowd(addresses: Vec<String>, buyers: usize, query: String) -> Crowd {
    let client = Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let started = Instant::now();
    let requests: Vec<_> = (0..buyers)
        .map(|n| {
            let client = client.clone();
            let address = addresses[n % addresses.len()].clone();
            let query = format!("{query}&user=buyer-{n}");
            tokio::spawn(async move {
                match send_purchase(&client, &address, &query).await {
                    Ok((status, body)) => (started.elapsed(), status.as_u16(), order_id(&body)),
                    Err(_) => (started.elapsed(), 0, None),
                }
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(buyers);
    for request in requests {
        answers.push(request.await.expect("buyer task"));
    }
    Crowd { answers }
}
