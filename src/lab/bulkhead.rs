//! The bulkhead: how many of the instance's Postgres connections the sales
//! may hold, per product and in all.
//!
//! Why: the Postgres guards (`pg-row-lock`, `pg-advisory`, `pg-atomic`,
//! `pg-serializable`, `pg-optimistic`) hold a pooled connection per *waiter*
//! — a buyer queued for a row lock waits inside a transaction. Left alone,
//! one hot product (a crowd, or a few buyers pausing with the row locked)
//! takes the whole pool, and every read, `/readyz` and every other product's
//! sale waits out the pool's timeout and answers 503. So each product's
//! sales get a share of the connections, the sales together get the pool
//! less a reserve kept for reads, and the waiters beyond that queue here, in
//! the process (first come, first served), within their own deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

use crate::domain::ProductId;

/// The connection shares of the sales. Cheap to clone.
#[derive(Clone)]
pub struct Bulkhead {
    per_product: usize,
    /// Every sale's connection, whatever its product.
    sales: Arc<Semaphore>,
    /// Only products with a sale in flight or queued have an entry.
    products: Arc<Mutex<HashMap<ProductId, Arc<Semaphore>>>>,
}

/// Leave to hold one connection for one sale; dropped, it lets the next in.
#[must_use = "the connection share is given back when the pass is dropped"]
pub struct Pass {
    // Dropped in this order: the sales' share, then the product's.
    _sales: OwnedSemaphorePermit,
    _product: ProductShare,
}

impl Bulkhead {
    /// `sales` connections for all sales, at most `per_product` of them for
    /// one product's (each at least 1).
    pub fn new(sales: usize, per_product: usize) -> Self {
        let sales = sales.max(1);
        Self {
            per_product: per_product.clamp(1, sales),
            sales: Arc::new(Semaphore::new(sales)),
            products: Arc::default(),
        }
    }

    /// Wait for a connection share for a sale of `product`, at most `wait`;
    /// `None` when the wait ran out.
    pub async fn enter(&self, product: ProductId, wait: Duration) -> Option<Pass> {
        let mut share = self.share(product);
        let semaphore = share.semaphore.clone();
        let both = async {
            let product = semaphore.acquire_owned().await.ok()?;
            let sales = self.sales.clone().acquire_owned().await.ok()?;
            Some((product, sales))
        };
        let (product, sales) = timeout(wait, both).await.ok()??;
        share.permit = Some(product);
        Some(Pass {
            _sales: sales,
            _product: share,
        })
    }

    /// The product's semaphore, made when it has none.
    fn share(&self, product: ProductId) -> ProductShare {
        let mut products = self.products.lock().expect("not poisoned");
        let semaphore = products
            .entry(product)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_product)))
            .clone();
        ProductShare {
            product,
            semaphore,
            permit: None,
            products: self.products.clone(),
        }
    }

    /// Products with a sale in flight or queued (for tests).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.products.lock().expect("not poisoned").len()
    }
}

/// One sale's claim on its product's semaphore; the last one gone removes
/// the product's entry, so that made-up product ids leave nothing behind.
struct ProductShare {
    product: ProductId,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
    products: Arc<Mutex<HashMap<ProductId, Arc<Semaphore>>>>,
}

impl Drop for ProductShare {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut products = self.products.lock().expect("not poisoned");
        // Ours and the map's: nobody else holds or waits for it. New
        // claims are made under the same mutex.
        if Arc::strong_count(&self.semaphore) == 2 {
            products.remove(&self.product);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(5);
    const SHORT: Duration = Duration::from_millis(20);

    #[tokio::test]
    async fn one_product_gets_its_share_and_no_more() {
        let bulkhead = Bulkhead::new(10, 3);
        let hot = ProductId::from(1);
        let mut passes = Vec::new();
        for _ in 0..3 {
            passes.push(bulkhead.enter(hot, LONG).await.expect("within the share"));
        }
        assert!(
            bulkhead.enter(hot, SHORT).await.is_none(),
            "beyond it waits"
        );
        let other = bulkhead.enter(ProductId::from(2), SHORT).await;
        assert!(other.is_some(), "another product still gets in");

        passes.pop();
        assert!(
            bulkhead.enter(hot, SHORT).await.is_some(),
            "one out, one in"
        );
    }

    #[tokio::test]
    async fn all_products_together_get_the_sales_share_and_no_more() {
        let bulkhead = Bulkhead::new(4, 2);
        let passes = [1, 1, 2, 2].map(|id| bulkhead.enter(ProductId::from(id), LONG));
        let passes: Vec<_> = futures::future::join_all(passes).await;
        assert!(passes.iter().all(Option::is_some));
        assert!(bulkhead.enter(ProductId::from(3), SHORT).await.is_none());
    }

    #[tokio::test]
    async fn a_product_nobody_buys_any_more_is_forgotten() {
        let bulkhead = Bulkhead::new(4, 1);
        let held = bulkhead.enter(ProductId::from(1), LONG).await;
        // A waiter that gives up, and made-up products.
        assert!(bulkhead.enter(ProductId::from(1), SHORT).await.is_none());
        for id in 100..200 {
            drop(bulkhead.enter(ProductId::from(id), LONG).await);
        }
        assert_eq!(bulkhead.tracked(), 1);
        drop(held);
        assert_eq!(bulkhead.tracked(), 0);
    }
}
