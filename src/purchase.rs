//! The purchase: one buyer's way in. [`purchase`] picks the strategy from
//! the lab and runs the sale ([`crate::sale`]) on its own task, so that a
//! client hanging up can neither abandon a held lock nor leave a sale half
//! done.

use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::{PerBuyer, ProductId, StockLevel};
use crate::lab::Lab;
use crate::metrics::Metrics;
use crate::products::{self, ProductStats};
use crate::sale::{Order, PurchaseError, PurchaseRequest};

/// What a purchase needs: the stock, the lock lab, and the bookkeeping of a
/// clean shutdown. Cheap to clone.
#[derive(Clone)]
pub struct Shop {
    pub db: PgPool,
    pub lab: Arc<Lab>,
    /// Every sale in flight, so that a shutdown can wait for them.
    pub sales: TaskTracker,
    /// Cancelled when the service starts shutting down: no new sale starts.
    pub shutdown: CancellationToken,
    /// The lock's numbers, for `GET /metrics`.
    pub metrics: Arc<Metrics>,
}

impl Shop {
    pub fn new(db: PgPool, lab: Lab) -> Self {
        Self {
            db,
            metrics: lab.metrics().clone(),
            lab: Arc::new(lab),
            sales: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Every product with its numbers, `queued` included (read from Redis
    /// before the rows: see `OrderStream::queued_now`).
    pub async fn products(&self) -> Result<Vec<ProductStats>, sqlx::Error> {
        let ids = products::ids(&self.db).await?;
        let queued = self.lab.stream().queued_now(&ids).await;
        let mut list = products::list(&self.db).await?;
        if let Some(queued) = queued {
            queued.fill(&mut list);
        }
        Ok(list)
    }

    /// One product with its numbers, `queued` included (read from Redis
    /// before the row: see `OrderStream::queued_now`).
    pub async fn product(&self, id: ProductId) -> Result<Option<ProductStats>, sqlx::Error> {
        let queued = self.lab.stream().queued_now(&[id]).await;
        let Some(product) = products::find(&self.db, id).await? else {
            return Ok(None);
        };
        let mut one = [product];
        if let Some(queued) = queued {
            queued.fill(&mut one);
        }
        let [product] = one;
        Ok(Some(product))
    }

    /// Restock in Postgres (see [`products::restock`]), then give the gate in
    /// Redis the new generation's stock.
    pub async fn restock(
        &self,
        id: ProductId,
        level: StockLevel,
        per_buyer: Option<PerBuyer>,
    ) -> Result<Option<ProductStats>, sqlx::Error> {
        let Some(mut product) = products::restock(&self.db, id, level, per_buyer).await? else {
            return Ok(None);
        };
        self.lab.stream().restocked(&product).await;
        product.queued = Some(0);
        Ok(Some(product))
    }
}

/// Buy one unit under `request.strategy`.
///
/// The work runs on a task of its own and always finishes (lock released,
/// order written or not at all), even if the caller's future is dropped — as
/// actix does when a client disconnects mid-request.
pub async fn purchase(shop: &Shop, request: PurchaseRequest) -> Result<Order, PurchaseError> {
    if shop.shutdown.is_cancelled() {
        return Err(PurchaseError::ShuttingDown);
    }
    let sale = shop.clone();
    shop.sales
        .spawn(async move {
            let strategy = request.strategy;
            let _running = sale.metrics.in_flight(strategy);
            if let Some(lane) = &request.trace {
                lane.arrived();
            }
            let outcome = guarded_sale(&sale, &request).await;
            if let Some(lane) = &request.trace {
                lane.done();
            }
            let refusal = outcome.as_ref().err().map(PurchaseError::refusal);
            sale.metrics.purchased(strategy, refusal);
            outcome
        })
        .await?
}

#[tracing::instrument(name = "purchase", skip_all, fields(product = %request.product, lock = %request.strategy))]
async fn guarded_sale(shop: &Shop, request: &PurchaseRequest) -> Result<Order, PurchaseError> {
    shop.lab.sell(&shop.db, request).await
}
