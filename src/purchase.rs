//! The purchase: the race, and the lock that closes it.
//!
//! [`sell_one`] is the tutorial's business logic, kept in its racy
//! read-check-write shape on purpose. [`purchase`] wraps it in the chosen
//! guard and runs it on its own task, so that a client hanging up can neither
//! abandon a held lock nor leave a sale half done.

use serde::Serialize;
use sqlx::PgPool;
use tokio::time::sleep;
use uuid::Uuid;

use crate::domain::{BuyerName, LockMode, ProductId, WorkDelay};
use crate::lock::{LockError, RedisLock};

/// What a buyer asks for.
#[derive(Debug, Clone)]
pub struct PurchaseRequest {
    pub product: ProductId,
    pub mode: LockMode,
    pub work: WorkDelay,
    pub buyer: Option<BuyerName>,
}

/// A unit sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub order_id: Uuid,
    pub product_id: ProductId,
    pub remaining_stock: i64,
    pub lock: LockMode,
}

#[derive(Debug, thiserror::Error)]
pub enum PurchaseError {
    #[error("product {0} does not exist")]
    ProductNotFound(ProductId),
    #[error("product {0} is sold out")]
    SoldOut(ProductId),
    #[error("could not lock product {product}")]
    Lock {
        product: ProductId,
        #[source]
        source: LockError,
    },
    #[error("database call failed")]
    Database(#[from] sqlx::Error),
    #[error("the purchase task died")]
    Aborted(#[from] tokio::task::JoinError),
}

/// What a purchase needs: the stock and the lock. Cheap to clone.
#[derive(Clone)]
pub struct Shop {
    pub db: PgPool,
    pub lock: RedisLock,
}

/// Buy one unit under `request.mode`.
///
/// The work runs on a task of its own and always finishes (lock released,
/// order written or not at all), even if the caller's future is dropped — as
/// actix does when a client disconnects mid-request.
pub async fn purchase(shop: &Shop, request: PurchaseRequest) -> Result<Order, PurchaseError> {
    let shop = shop.clone();
    tokio::spawn(async move { guarded_sale(&shop, &request).await }).await?
}

#[tracing::instrument(name = "purchase", skip_all, fields(product = %request.product, lock = %request.mode))]
async fn guarded_sale(shop: &Shop, request: &PurchaseRequest) -> Result<Order, PurchaseError> {
    match request.mode {
        LockMode::None => sell_one(&shop.db, request).await,
        LockMode::Redis => {
            let product = request.product;
            let guard = shop
                .lock
                .acquire(&format!("product:{product}"))
                .await
                .map_err(|source| PurchaseError::Lock { product, source })?;

            // Whatever the sale's outcome, release before answering.
            let outcome = sell_one(&shop.db, request).await;

            match guard.release().await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    "the lock expired before release: the critical section outlived LOCK_TTL_MS"
                ),
                Err(error) => {
                    tracing::warn!(error = %error, "lock release failed; the TTL will free it")
                }
            }
            outcome
        }
    }
}

/// THE RACE. Read the stock, check it, (do the business step,) write back the
/// value read minus one, record the order.
///
/// Between the read and the write another buyer can read the same value: both
/// write `stock - 1`, both get an order, one decrement is lost, and the sale
/// oversells. That is the bug the lock exists for, so it stays in this shape:
/// an atomic `UPDATE ... SET stock = stock - 1 WHERE stock > 0` would hide it.
async fn sell_one(db: &PgPool, request: &PurchaseRequest) -> Result<Order, PurchaseError> {
    let product = request.product;

    // 1. Read.
    let stock: Option<i64> = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
        .bind(product.get())
        .fetch_optional(db)
        .await?;
    let stock = stock.ok_or(PurchaseError::ProductNotFound(product))?;

    // 2. Check.
    if stock <= 0 {
        return Err(PurchaseError::SoldOut(product));
    }

    // 3. The business step ("此处省略" in the tutorial) widens the window.
    if request.work.millis() > 0 {
        sleep(request.work.duration()).await;
    }

    // 4. Write back what we read, minus one, and record the order. One
    //    statement, so a sale is never half written.
    let remaining = stock - 1;
    let order_id = Uuid::new_v4();
    let written: Option<Uuid> = sqlx::query_scalar(
        "WITH sold AS (
             UPDATE products SET stock = $2, updated_at = now() WHERE id = $1 RETURNING id
         )
         INSERT INTO orders (id, product_id, lock_mode, user_name)
         SELECT $3, sold.id, $4, $5 FROM sold
         RETURNING id",
    )
    .bind(product.get())
    .bind(remaining)
    .bind(order_id)
    .bind(request.mode.as_str())
    .bind(request.buyer.as_ref().map(BuyerName::as_str))
    .fetch_optional(db)
    .await?;
    // The product vanished between read and write.
    written.ok_or(PurchaseError::ProductNotFound(product))?;

    Ok(Order {
        order_id,
        product_id: product,
        remaining_stock: remaining,
        lock: request.mode,
    })
}
