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

use std::sync::LazyLock;

use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::BuyerName;
use crate::lock::RedisNode;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::sale::{Order, OrderStatus, PurchaseError, PurchaseRequest};

mod keys;
mod lookup;
mod seed;
pub mod writer;

pub use keys::{GROUP, Keys, Queue, QueuedEntry};
pub use lookup::{FindError, OrderLookup, QueuedNow};

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
}
