//! Seeding: the product's stock put into Redis for a generation — at a
//! restock, or when Redis has none (from Postgres minus what is queued).

use std::collections::{HashMap, HashSet};

use redis::streams::StreamRangeReply;
use sqlx::PgPool;
use uuid::Uuid;

use super::{OrderStream, Queue, QueuedEntry, SEED};
use crate::domain::ProductId;
use crate::lock::LockError;
use crate::products::ProductStats;
use crate::sale::PurchaseError;

impl OrderStream {
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
}
