//! `redis-stream` — the gate in Redis, the order written later, nothing lost;
//! and `broken-ack-first`, the copied demo's bug.
//!
//! The designs real flash sales use take the stock out of the one-buyer
//! critical section: a Lua script in Redis checks the stock, takes a unit
//! and appends the order to a Redis Stream, atomically (`scripts/gate.lua`),
//! and the buyer gets 202 at once. An order writer in every instance
//! ([`writer`]) takes the stream's entries in batches, in a consumer group,
//! and writes them to Postgres in one transaction; it acknowledges them only
//! after the commit, so a writer that dies mid-batch leaves them pending, and
//! another writer claims them (`XAUTOCLAIM`) and writes them again — by id,
//! so never twice.
//!
//! What it can lose, counted by the load generator and the crowd report as
//! *lost orders* (accepted − written once the queue drained): the queue
//! itself, when Redis restarts without persistence. `appendonly yes` with
//! `appendfsync always` keeps it on Redis 7.0, and `WAITAOF` from 7.2.
//!
//! Redis owns the stock while it sells: when it has none for the product's
//! generation (restarted, flushed), nothing sells until it is seeded again
//! from Postgres *minus the orders still queued* ([`OrderStream::seed`]).
//! Selling from a guess is how these designs oversell. Selling the same
//! product through another strategy at the same time bypasses the gate, and
//! the two oversell each other.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use redis::streams::StreamRangeReply;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{BuyerName, ProductId};
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{LockError, RedisNode, Strategy};
use crate::products::ProductStats;
use crate::sale::{Order, OrderStatus, PurchaseError, PurchaseRequest};

pub mod writer;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redis gate + order stream",
    family: Family::Fast,
    safe: true,
    lesson: "A Lua script checks and decrements the stock in Redis and queues the order in a stream (202); a writer inserts the orders in batches and acknowledges them only after the commit.",
    breaks_when: "Redis restarts without persistence: the queued orders are lost (counted as lost orders)",
    needs: Needs::Redis,
    uses_ttl: false,
};

pub const ACK_FIRST_INFO: StrategyInfo = StrategyInfo {
    label: "Stream, acknowledged before written",
    family: Family::Broken,
    safe: false,
    lesson: "The copied demo acknowledges the stream entry before it writes the order: a writer killed between the two loses the order for good.",
    breaks_when: "the writer dies between the acknowledgement and the commit",
    needs: Needs::Redis,
    uses_ttl: false,
};

static GATE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/gate.lua")));
static SEED: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/seed.lua")));
pub(crate) static ACK: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/ack.lua")));
pub(crate) static FORGET: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/forget.lua")));

/// The consumer group of the order writers.
pub const GROUP: &str = "order-writers";

/// Which stream an order goes to: the safe one, or the one whose writer
/// acknowledges first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    Safe,
    AckFirst,
}

impl Queue {
    pub const ALL: [Queue; 2] = [Queue::Safe, Queue::AckFirst];

    pub fn of(strategy: Strategy) -> Option<Self> {
        match strategy {
            Strategy::RedisStream => Some(Queue::Safe),
            Strategy::BrokenAckFirst => Some(Queue::AckFirst),
            _ => None,
        }
    }

    pub fn strategy(self) -> Strategy {
        match self {
            Queue::Safe => Strategy::RedisStream,
            Queue::AckFirst => Strategy::BrokenAckFirst,
        }
    }
}

/// The Redis keys of the stream designs under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The product's stock in Redis: `generation`, `stock`, `queued`,
    /// `per_buyer`.
    pub fn stock(&self, product: ProductId) -> String {
        format!("{}:stock:product:{product}", self.prefix)
    }

    /// Units per buyer of the product's current generation.
    pub fn buyers(&self, product: ProductId) -> String {
        format!("{}:buyers:product:{product}", self.prefix)
    }

    pub fn stream(&self, queue: Queue) -> String {
        match queue {
            Queue::Safe => format!("{}:orders:stream", self.prefix),
            Queue::AckFirst => format!("{}:orders:stream-ack-first", self.prefix),
        }
    }

    /// The ids of the orders queued and not yet written (-> product id).
    pub fn queued_ids(&self) -> String {
        format!("{}:orders:queued", self.prefix)
    }
}

/// Where an order is, as `GET /api/orders/{id}` answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderLookup {
    pub order_id: Uuid,
    pub product_id: ProductId,
    pub status: OrderStatus,
    /// The strategy that sold it (null while queued: the stream knows only
    /// that it was one of the stream designs).
    pub lock: Option<Strategy>,
}

/// The gate and what surrounds it: seeding, the queued counts, lookups.
pub struct OrderStream {
    node: RedisNode,
    keys: Keys,
}

/// What the gate answered.
enum Gate {
    Queued { stock_left: i64, generation: i64 },
    SoldOut,
    Unseeded,
    LimitReached,
    UserRequired,
}

impl OrderStream {
    pub fn new(node: RedisNode, prefix: &str) -> Self {
        Self {
            node,
            keys: Keys::new(prefix),
        }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Sell one unit through the gate: 202 with the order queued, or the
    /// refusal. Postgres is read only to seed a product Redis has no stock
    /// for: while Postgres is down, the gate keeps selling and the queue grows.
    pub async fn sell(
        &self,
        db: &PgPool,
        request: &PurchaseRequest,
    ) -> Result<Order, PurchaseError> {
        let product = request.product;
        let queue = Queue::of(request.strategy).expect("a stream strategy");
        let order_id = Uuid::new_v4();
        for first_try in [true, false] {
            match self.gate(queue, request, order_id).await? {
                Gate::Queued {
                    stock_left,
                    generation,
                } => {
                    if let Some(lane) = &request.trace {
                        lane.read(stock_left + 1);
                        lane.queued();
                    }
                    return Ok(Order {
                        order_id,
                        product_id: product,
                        status: OrderStatus::Queued,
                        remaining_stock: stock_left,
                        lock: request.strategy,
                        generation,
                    });
                }
                Gate::SoldOut => return Err(PurchaseError::SoldOut(product)),
                Gate::LimitReached => return Err(PurchaseError::LimitReached(product)),
                Gate::UserRequired => return Err(PurchaseError::UserRequired(product)),
                Gate::Unseeded if first_try => self.seed(db, product).await?,
                Gate::Unseeded => break,
            }
        }
        Err(PurchaseError::StrategyUnavailable {
            strategy: request.strategy,
            reason: "Redis has no stock for this product and it could not be seeded".into(),
        })
    }

    async fn gate(
        &self,
        queue: Queue,
        request: &PurchaseRequest,
        order_id: Uuid,
    ) -> Result<Gate, PurchaseError> {
        let product = request.product;
        let mut connection = self.node.connection();
        let (code, stock_left, generation): (i64, i64, i64) = self
            .node
            .call(
                GATE.key(self.keys.stock(product))
                    .key(self.keys.buyers(product))
                    .key(self.keys.stream(queue))
                    .key(self.keys.queued_ids())
                    .arg(order_id.to_string())
                    .arg(product.get())
                    .arg(request.buyer.as_ref().map_or("", BuyerName::as_str))
                    .invoke_async(&mut connection),
            )
            .await
            .map_err(|error| PurchaseError::lock(product, error))?;
        Ok(match code {
            1 => Gate::Queued {
                stock_left,
                generation,
            },
            0 => Gate::SoldOut,
            -2 => Gate::LimitReached,
            -3 => Gate::UserRequired,
            _ => Gate::Unseeded,
        })
    }

    /// Give Redis the product's stock for its current generation: Postgres's
    /// stock minus the orders still queued, each buyer's units likewise.
    ///
    /// The order of the reads is what makes it exact. The streams are read
    /// first, then Postgres in one snapshot: an order written between the two
    /// is in Postgres's stock and among its orders, so it is not subtracted
    /// twice; and no order is queued meanwhile, since the gate sells nothing
    /// without a stock in Redis. Two instances seeding at once: the first
    /// wins, the second's script leaves the stock alone.
    pub async fn seed(&self, db: &PgPool, product: ProductId) -> Result<(), PurchaseError> {
        let queued = self
            .queued_entries(product)
            .await
            .map_err(|error| PurchaseError::lock(product, error))?;
        let ids: Vec<Uuid> = queued.iter().map(|entry| entry.order_id).collect();

        let mut tx = db.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let row: Option<(i64, i64, Option<i32>, Vec<Uuid>)> = sqlx::query_as(
            "SELECT p.stock, p.generation, p.per_buyer,
                    ARRAY(SELECT o.id FROM orders o WHERE o.id = ANY($2)) AS written
             FROM products p WHERE p.id = $1",
        )
        .bind(product.get())
        .bind(&ids)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((stock, generation, per_buyer, written)) = row else {
            return Err(PurchaseError::ProductNotFound(product));
        };
        let mut units: HashMap<String, i64> = if per_buyer.is_some() {
            sqlx::query_as(
                "SELECT user_name, count(*) FROM orders
                 WHERE product_id = $1 AND user_name IS NOT NULL GROUP BY user_name",
            )
            .bind(product.get())
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect()
        } else {
            HashMap::new()
        };
        tx.commit().await?;

        let written: HashSet<Uuid> = written.into_iter().collect();
        let still_queued: Vec<&QueuedEntry> = queued
            .iter()
            .filter(|entry| entry.generation == generation && !written.contains(&entry.order_id))
            .collect();
        if per_buyer.is_some() {
            for entry in &still_queued {
                if let Some(buyer) = &entry.buyer {
                    *units.entry(buyer.clone()).or_default() += 1;
                }
            }
        }
        let count = i64::try_from(still_queued.len()).unwrap_or(i64::MAX);
        let stock = (stock - count).max(0);
        let seeded = self
            .put_stock(product, generation, stock, count, per_buyer, units)
            .await
            .map_err(|error| PurchaseError::lock(product, error))?;
        if seeded {
            tracing::info!(%product, generation, stock, queued = count, "seeded the stock in Redis from Postgres");
        }
        Ok(())
    }

    /// A restock started a new generation: Redis sells from it at once (no
    /// order of it is queued yet). A failure is logged, not fatal: the
    /// writer notices orders sold from an older generation and makes Redis
    /// forget it, and the next sale seeds it again.
    pub async fn restocked(&self, product: &ProductStats) {
        let outcome = self
            .put_stock(
                product.id,
                product.generation,
                product.stock,
                0,
                product.per_buyer.and_then(|cap| i32::try_from(cap).ok()),
                HashMap::new(),
            )
            .await;
        if let Err(error) = outcome {
            tracing::warn!(product = %product.id, error = %error, "could not put the new stock into Redis; it is seeded again at the next sale");
        }
    }

    async fn put_stock(
        &self,
        product: ProductId,
        generation: i64,
        stock: i64,
        queued: i64,
        per_buyer: Option<i32>,
        units: HashMap<String, i64>,
    ) -> Result<bool, LockError> {
        let mut invocation = SEED.key(self.keys.stock(product));
        invocation
            .key(self.keys.buyers(product))
            .arg(generation)
            .arg(stock)
            .arg(queued)
            .arg(per_buyer.map(|cap| cap.to_string()).unwrap_or_default());
        for (buyer, count) in units {
            invocation.arg(buyer).arg(count);
        }
        let mut connection = self.node.connection();
        let seeded: i64 = self
            .node
            .call(invocation.invoke_async(&mut connection))
            .await?;
        Ok(seeded == 1)
    }

    /// Every entry of both streams for `product`, a page at a time. The
    /// streams hold only orders not yet acknowledged: the writer deletes an
    /// entry when it acknowledges it.
    async fn queued_entries(&self, product: ProductId) -> Result<Vec<QueuedEntry>, LockError> {
        const PAGE: usize = 1000;
        let mut entries = Vec::new();
        for queue in Queue::ALL {
            let stream = self.keys.stream(queue);
            let mut start = "-".to_owned();
            loop {
                let mut connection = self.node.connection();
                let page: StreamRangeReply = self
                    .node
                    .call(
                        redis::cmd("XRANGE")
                            .arg(&stream)
                            .arg(&start)
                            .arg("+")
                            .arg("COUNT")
                            .arg(PAGE)
                            .query_async(&mut connection),
                    )
                    .await?;
                let last = page.ids.last().map(|entry| entry.id.clone());
                entries.extend(
                    page.ids
                        .iter()
                        .filter_map(QueuedEntry::parse)
                        .filter(|entry| entry.product == product),
                );
                match last {
                    Some(id) if page.ids.len() == PAGE => start = format!("({id}"),
                    _ => break,
                }
            }
        }
        Ok(entries)
    }

    /// Each product's orders queued in Redis, as `(generation, queued)` of
    /// its stock there (`None` for all when Redis does not answer).
    ///
    /// Read it *before* the products' rows: an order is acknowledged (and
    /// leaves `queued`) only after its commit, so a `queued` of 0 read first
    /// means every order is in the rows read next. Read after, a batch
    /// committed in between would be missing from rows read too early while
    /// `queued` already says 0 — a drain that ends before it has.
    pub async fn queued_now(&self, ids: &[ProductId]) -> Option<QueuedNow> {
        if ids.is_empty() {
            return Some(QueuedNow::default());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("HMGET")
                .arg(self.keys.stock(*id))
                .arg("generation")
                .arg("queued");
        }
        let mut connection = self.node.connection();
        let replies: Result<Vec<(Option<i64>, Option<i64>)>, _> =
            self.node.call(pipe.query_async(&mut connection)).await;
        match replies {
            Ok(replies) => Some(QueuedNow(ids.iter().copied().zip(replies).collect())),
            Err(error) => {
                tracing::debug!(error = %error, "could not read the queued orders from Redis");
                None
            }
        }
    }

    /// Where order `id` is: queued (still in Redis), written (in Postgres),
    /// or unknown. Redis is asked first: an order written and acknowledged
    /// between the two questions is then found in Postgres.
    pub async fn find_order(
        &self,
        db: &PgPool,
        id: Uuid,
    ) -> Result<Option<OrderLookup>, FindError> {
        let mut connection = self.node.connection();
        let queued: Result<Option<i64>, LockError> = self
            .node
            .call(
                redis::cmd("HGET")
                    .arg(self.keys.queued_ids())
                    .arg(id.to_string())
                    .query_async(&mut connection),
            )
            .await;
        if let Ok(Some(product)) = queued {
            return Ok(Some(OrderLookup {
                order_id: id,
                product_id: ProductId::from(product),
                status: OrderStatus::Queued,
                lock: None,
            }));
        }
        let written: Option<(i64, String)> =
            sqlx::query_as("SELECT product_id, lock_mode FROM orders WHERE id = $1")
                .bind(id)
                .fetch_optional(db)
                .await?;
        match (written, queued) {
            (Some((product, lock)), _) => Ok(Some(OrderLookup {
                order_id: id,
                product_id: ProductId::from(product),
                status: OrderStatus::Written,
                lock: Strategy::parse(&lock).ok(),
            })),
            (None, Ok(_)) => Ok(None),
            // Not in Postgres, and Redis could not say whether it is queued.
            (None, Err(error)) => Err(FindError::Redis(error)),
        }
    }
}

/// What [`OrderStream::queued_now`] read: per product, the generation of
/// its stock in Redis and its orders queued.
#[derive(Debug, Default)]
pub struct QueuedNow(HashMap<ProductId, (Option<i64>, Option<i64>)>);

impl QueuedNow {
    /// Put each product's `queued` on it. A product whose stock in Redis is
    /// of another generation, or absent, has none queued that can still be
    /// written.
    pub fn fill(&self, products: &mut [ProductStats]) {
        for product in products {
            product.queued = Some(match self.0.get(&product.id) {
                Some((Some(generation), queued)) if *generation == product.generation => {
                    queued.unwrap_or(0).max(0)
                }
                _ => 0,
            });
        }
    }
}

/// Why an order could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("redis could not say whether the order is queued")]
    Redis(#[source] LockError),
    #[error("database call failed")]
    Database(#[from] sqlx::Error),
}

/// One queued order, as the gate appended it to the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEntry {
    /// The stream's id of the entry (to acknowledge it).
    pub entry_id: String,
    pub order_id: Uuid,
    pub product: ProductId,
    pub buyer: Option<String>,
    pub generation: i64,
}

impl QueuedEntry {
    /// `None` for an entry not of the gate's shape.
    pub fn parse(entry: &redis::streams::StreamId) -> Option<Self> {
        let text = |field: &str| entry.get::<String>(field);
        Some(Self {
            entry_id: entry.id.clone(),
            order_id: text("order")?.parse().ok()?,
            product: ProductId::from(text("product")?.parse::<i64>().ok()?),
            buyer: text("buyer").filter(|buyer| !buyer.is_empty()),
            generation: text("generation")?.parse().ok()?,
        })
    }
}
