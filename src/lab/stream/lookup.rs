//! What the stream designs know of an order and a product: where an order
//! is (`GET /api/orders/{id}`), and how many of a product's are queued.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::OrderStream;
use crate::domain::ProductId;
use crate::lock::{LockError, Strategy};
use crate::products::ProductStats;
use crate::sale::OrderStatus;

/// Where an order is, as `GET /api/orders/{id}` answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OrderLookup {
    pub order_id: Uuid,
    pub product_id: ProductId,
    pub status: OrderStatus,
    /// The strategy that sold it (null while queued: the stream knows only
    /// that it was one of the stream designs).
    pub lock: Option<Strategy>,
}

impl OrderStream {
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
