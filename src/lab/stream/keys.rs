//! The names of the stream designs in Redis: which stream an order goes
//! to, the keys under one prefix, and an order as the gate queued it.

use uuid::Uuid;

use crate::domain::ProductId;
use crate::lock::Strategy;

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

/// The hash tag of every key of the stream designs: the gate takes a
/// product's stock and the shared stream in one script, so on Redis Cluster
/// they must share a slot — one shard holds the whole queue.
const ORDERS_TAG: &str = "{orders}";

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
        format!("{}:{ORDERS_TAG}:stock:product:{product}", self.prefix)
    }

    /// Units per buyer of the product's current generation.
    pub fn buyers(&self, product: ProductId) -> String {
        format!("{}:{ORDERS_TAG}:buyers:product:{product}", self.prefix)
    }

    pub fn stream(&self, queue: Queue) -> String {
        match queue {
            Queue::Safe => format!("{}:{ORDERS_TAG}:stream", self.prefix),
            Queue::AckFirst => format!("{}:{ORDERS_TAG}:stream-ack-first", self.prefix),
        }
    }

    /// The ids of the orders queued and not yet written (-> product id).
    pub fn queued_ids(&self) -> String {
        format!("{}:{ORDERS_TAG}:queued", self.prefix)
    }
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
