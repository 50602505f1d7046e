//! Products, their live numbers, and restocking.

use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool};

use crate::domain::{PerBuyer, ProductId, StockLevel};

/// A product with the damage a sale did to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Product)]
pub struct ProductStats {
    pub id: ProductId,
    pub name: String,
    pub initial_stock: i64,
    pub stock: i64,
    /// Orders recorded since the last restock.
    pub orders: i64,
    /// Units sold that did not exist: `max(0, orders - initial_stock)`.
    pub oversold: i64,
    /// Sales whose decrement was overwritten: `orders - (initial_stock - stock)`.
    pub lost_updates: i64,
    /// Bumped by every restock (see [`restock`]): a crowd compares it before
    /// and after to know whether it was overtaken. Not part of the API.
    #[serde(skip)]
    pub generation: i64,
    /// Units one buyer may get (null: no limit), set at restock.
    #[serde(default)]
    pub per_buyer: Option<i64>,
    /// Orders beyond a buyer's limit, counted from the orders table.
    #[serde(default)]
    pub duplicates: i64,
    /// `redis-stream`: orders accepted by the gate in Redis (202) and not
    /// yet written by the order writer; null when Redis could not be asked.
    #[serde(default)]
    pub queued: Option<i64>,
}

#[derive(FromRow)]
struct ProductRow {
    id: i64,
    name: String,
    initial_stock: i64,
    stock: i64,
    orders: i64,
    generation: i64,
    per_buyer: Option<i32>,
    duplicates: i64,
}

impl From<ProductRow> for ProductStats {
    fn from(row: ProductRow) -> Self {
        Self {
            id: ProductId::from(row.id),
            oversold: (row.orders - row.initial_stock).max(0),
            lost_updates: row.orders - (row.initial_stock - row.stock),
            name: row.name,
            initial_stock: row.initial_stock,
            stock: row.stock,
            orders: row.orders,
            generation: row.generation,
            per_buyer: row.per_buyer.map(i64::from),
            duplicates: row.duplicates,
            queued: None,
        }
    }
}

const SELECT_STATS: &str = "
    SELECT p.id, p.name, p.initial_stock, p.stock, p.generation,
           (SELECT count(*) FROM orders o WHERE o.product_id = p.id) AS orders,
           p.per_buyer,
           (SELECT COALESCE(sum(GREATEST(b.bought - p.per_buyer, 0)), 0)::bigint
            FROM (SELECT count(*) AS bought FROM orders o
                  WHERE o.product_id = p.id AND o.user_name IS NOT NULL
                  GROUP BY o.user_name) b) AS duplicates
    FROM products p";

#[tracing::instrument(skip(db))]
pub async fn list(db: &PgPool) -> Result<Vec<ProductStats>, sqlx::Error> {
    let rows: Vec<ProductRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_STATS} ORDER BY p.id")))
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(ProductStats::from).collect())
}

/// The products' ids, in order.
pub async fn ids(db: &PgPool) -> Result<Vec<ProductId>, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM products ORDER BY id")
        .fetch_all(db)
        .await?;
    Ok(ids.into_iter().map(ProductId::from).collect())
}

#[tracing::instrument(skip(db))]
pub async fn find(
    db: impl sqlx::PgExecutor<'_>,
    id: ProductId,
) -> Result<Option<ProductStats>, sqlx::Error> {
    let row: Option<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_STATS} WHERE p.id = $1"
    )))
    .bind(id.get())
    .fetch_optional(db)
    .await?;
    Ok(row.map(ProductStats::from))
}

/// Set the stock and the initial stock to `level`, the limit per buyer to
/// `per_buyer` (`None`: no limit), and forget the product's orders, in one
/// transaction. `None` when there is no such product.
///
/// A restock starts a new *generation* of the product: a sale still in
/// flight read the old one, and its write-back (conditional on the
/// generation it read, see `sale::sell_one`) writes nothing, so it can
/// never put its old stock back over the new — whatever its strategy.
///
/// A sale holding the row (a Postgres guard's transaction, perhaps paused)
/// makes the restock wait, at most the statement timeout (`DB_TIMEOUT_MS`):
/// then Postgres cancels it and nothing changed — a busy product
/// (`ApiError::from_restock`: 409 `product_busy`), not an outage.
#[tracing::instrument(skip(db))]
pub async fn restock(
    db: &PgPool,
    id: ProductId,
    level: StockLevel,
    per_buyer: Option<PerBuyer>,
) -> Result<Option<ProductStats>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE products
         SET stock = $2, initial_stock = $2, generation = generation + 1,
             version = version + 1, per_buyer = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id.get())
    .bind(level.get())
    .bind(per_buyer.map(PerBuyer::get))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    sqlx::query("DELETE FROM orders WHERE product_id = $1")
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
    // The old generation's counts per buyer (the new one's start empty).
    sqlx::query("DELETE FROM buyer_counts WHERE product_id = $1")
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
    // The numbers as this restock left them, read before anyone else can
    // buy: a crowd's `stock_before` is exactly the level it restocked to.
    let restocked = find(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(restocked)
}

/// Demo products, inserted at start-up when the table is empty.
const DEMO_PRODUCTS: [(i64, &str, i64); 3] = [
    (1, "Flash-sale phone", 100),
    (2, "Limited sneakers", 20),
    (3, "Last concert ticket", 1),
];

pub async fn seed_demo_products(db: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    // Two instances starting at once must not both seed.
    sqlx::query("LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM products)")
        .fetch_one(&mut *tx)
        .await?;
    if empty {
        for (id, name, stock) in DEMO_PRODUCTS {
            sqlx::query(
                "INSERT INTO products (id, name, initial_stock, stock) VALUES ($1, $2, $3, $3)",
            )
            .bind(id)
            .bind(name)
            .bind(stock)
            .execute(&mut *tx)
            .await?;
        }
        // Keep the identity ahead of the explicit ids.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))",
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
