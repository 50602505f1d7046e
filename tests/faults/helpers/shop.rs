//! What the instances of one test share, and the product as Postgres has it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use tokio::time::sleep;
use uuid::Uuid;

use super::crowd::Crowd;
use super::service::{Service, order_id};
use super::{PRODUCT, SHARED_POSTGRES};

/// What the instances of one test share: a database and a Redis key prefix
/// of its own. Drops the database when dropped.
pub struct Shop {
    /// The server's URL without a database: `postgres://…:port`.
    server: String,
    database: String,
    redis_url: String,
    prefix: String,
}

impl Shop {
    pub fn on_shared_postgres(redis_url: &str) -> Self {
        Self::on(SHARED_POSTGRES, redis_url)
    }

    /// `server` is a Postgres URL without a database.
    pub fn on(server: &str, redis_url: &str) -> Self {
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
    pub async fn start(&self, settings: &[(&str, &str)]) -> Service {
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
    pub async fn numbers(&self) -> Numbers {
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
    pub async fn lock_value(&self) -> Option<String> {
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

    /// The product's orders queued in Redis (the stream designs), read from
    /// Redis itself: works while Postgres is down.
    pub async fn queued_in_redis(&self) -> i64 {
        let client = redis::Client::open(self.redis_url.as_str()).expect("Redis URL");
        let mut redis = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to Redis");
        let queued: Option<i64> = redis::cmd("HGET")
            .arg(format!(
                "{}:{{orders}}:stock:product:{PRODUCT}",
                self.prefix
            ))
            .arg("queued")
            .query_async(&mut redis)
            .await
            .expect("Redis HGET");
        queued.unwrap_or(0)
    }

    /// Wait until Redis says `queued` orders are queued, at most `limit`.
    pub async fn wait_queued(&self, queued: i64, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.queued_in_redis().await;
            if now == queued {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{now} orders still queued after {limit:?}, expected {queued}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until Postgres has `orders` orders of the product, at most `limit`.
    pub async fn wait_orders(&self, orders: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.numbers().await.orders.len();
            if now == orders {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{now} orders written after {limit:?}, expected {orders}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the lock is (or comes to be) held within `limit`.
    pub async fn locked_within(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.lock_value().await.is_none() {
            if Instant::now() > deadline {
                return false;
            }
            sleep(Duration::from_millis(10)).await;
        }
        true
    }

    pub async fn assert_lock_gone_within(&self, limit: Duration) {
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
pub struct Numbers {
    initial: i64,
    pub stock: i64,
    pub orders: HashSet<Uuid>,
}

impl Numbers {
    pub fn sold(&self) -> i64 {
        self.orders.len() as i64
    }

    pub fn assert_no_oversell_and_no_lost_update(&self) {
        assert!(self.sold() <= self.initial, "oversold: {self:?}");
        assert_eq!(
            self.stock,
            self.initial - self.sold(),
            "lost updates: {self:?}"
        );
    }

    /// Nothing sold and the stock untouched, or one order and one decrement.
    pub fn assert_whole_or_absent(&self, initial: i64) {
        assert_eq!(self.initial, initial, "{self:?}");
        assert!(
            (self.sold(), self.stock) == (0, initial)
                || (self.sold(), self.stock) == (1, initial - 1),
            "half a sale: {self:?}"
        );
    }

    pub fn assert_has_order(&self, body: &Value) {
        let id = order_id(body).unwrap_or_else(|| panic!("a 201 without an order id: {body}"));
        assert!(self.orders.contains(&id), "the 201's order {id} is missing");
    }

    /// Every 201 names an order, its own, and Postgres has it.
    pub fn assert_every_201_has_its_order(&self, crowd: &Crowd) {
        let answered: HashSet<Uuid> = crowd.order_ids().collect();
        let missing: Vec<_> = answered.difference(&self.orders).collect();
        assert!(missing.is_empty(), "201s without an order: {missing:?}");
        assert_eq!(answered.len(), crowd.sold(), "one order id per 201");
    }
}
