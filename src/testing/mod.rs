//! Test support (feature `testing`): the real service on a random port, with
//! a database and a Redis key prefix of its own, so tests run in parallel and
//! never touch the demo's data. Shared by this crate's and the load
//! generator's tests.

use redis::aio::ConnectionManager;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

use crate::configuration::Settings;
use crate::lock::lock_key;
use crate::startup::{Application, quote_identifier};
use crate::state::AppState;
use crate::telemetry;

mod servers;

pub use servers::{Frozen, PostgresServer, RedisServer, free_port};

fn flashsale_lock_key(prefix: &str, product: i64) -> String {
    lock_key(prefix, product.into())
}

/// A running service and handles on what it uses.
pub struct TestApp {
    /// `http://127.0.0.1:{port}`
    pub address: String,
    pub port: u16,
    pub settings: Settings,
    pub state: AppState,
    /// The test's own database.
    pub db: PgPool,
    pub redis: ConnectionManager,
    _database: TestDatabase,
}

/// The service with default settings; product 1 is seeded with stock 100.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The service with settings adjusted by `configure` after the test's own
/// database, key prefix and port 0 are set.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    telemetry::init(if std::env::var_os("TEST_LOG").is_some() {
        "info,sqlx=warn"
    } else {
        "off"
    });
    let id = Uuid::new_v4().simple().to_string();
    let mut settings = Settings::defaults();
    settings.database_url = base_database_options().database(&format!("flashsale_test_{id}"));
    settings.lock_key_prefix = format!("flashsale_test_{id}");
    settings.port = 0;
    settings.workers = Some(2);
    configure(&mut settings);

    // Dropped through the base server even if the test routed the service
    // through a proxy that is gone by then.
    let database = TestDatabase {
        options: base_database_options(),
        name: settings.database_name().to_owned(),
    };
    let (address, port, state) = start(&settings).await;
    TestApp {
        address,
        port,
        db: state.shop.db.clone(),
        redis: state.redis.clone(),
        state,
        settings,
        _database: database,
    }
}

/// Tests use the local server unless `TEST_DATABASE_URL` names another.
fn base_database_options() -> PgConnectOptions {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => url
            .parse()
            .expect("TEST_DATABASE_URL is a valid Postgres URL"),
        Err(_) => Settings::defaults().database_url,
    }
}

async fn start(settings: &Settings) -> (String, u16, AppState) {
    let application = Application::build(settings)
        .await
        .unwrap_or_else(|error| panic!("the test service failed to start: {error:#}"));
    let port = application.port();
    let state = application.state().clone();
    tokio::spawn(application.run_until_stopped());
    (format!("http://127.0.0.1:{port}"), port, state)
}

impl TestApp {
    /// Another instance of the service on the same database and Redis prefix:
    /// the distributed case the lock exists for. Returns its address.
    pub async fn spawn_peer(&self) -> String {
        self.spawn_peer_with(|_| {}).await
    }

    /// Another instance with some settings of its own (same database and
    /// Redis prefix).
    pub async fn spawn_peer_with(&self, configure: impl FnOnce(&mut Settings)) -> String {
        let mut settings = self.settings.clone();
        settings.port = 0;
        configure(&mut settings);
        start(&settings).await.0
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The Redis key of the lock on `product`.
    pub fn lock_key(&self, product: i64) -> String {
        flashsale_lock_key(&self.settings.lock_key_prefix, product)
    }

    /// Restock `product` as the API does (a new generation, its orders
    /// deleted, the limit per buyer lifted, the gate in Redis told).
    pub async fn restock(&self, product: i64, stock: i64) {
        let level = crate::domain::StockLevel::new(stock).expect("a valid stock");
        self.state
            .shop
            .restock(product.into(), level, None)
            .await
            .expect("restock")
            .expect("the product exists");
    }

    pub async fn order_count(&self, product: i64) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE product_id = $1")
            .bind(product)
            .fetch_one(&self.db)
            .await
            .expect("count orders")
    }

    /// (orders, distinct buyers, orders beyond one per buyer) of `product`,
    /// counted from the orders table.
    pub async fn orders_per_buyer(&self, product: i64) -> (i64, i64, i64) {
        sqlx::query_as(
            "SELECT COALESCE(sum(n), 0)::bigint, count(*), COALESCE(sum(n - 1), 0)::bigint
             FROM (SELECT count(*) AS n FROM orders WHERE product_id = $1 GROUP BY user_name) b",
        )
        .bind(product)
        .fetch_one(&self.db)
        .await
        .expect("orders per buyer")
    }

    pub async fn stock(&self, product: i64) -> i64 {
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
            .bind(product)
            .fetch_one(&self.db)
            .await
            .expect("read stock")
    }
}

/// Drops the test's database when the test ends (passed or failed).
struct TestDatabase {
    options: PgConnectOptions,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let maintenance = self.options.clone().database("postgres");
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(&self.name)
        );
        // Drop runs outside async: use a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut connection = sqlx::PgConnection::connect_with(&maintenance).await?;
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&mut connection)
                    .await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}
