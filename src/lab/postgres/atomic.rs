//! `pg-atomic` — the database's own answer to the race: one conditional
//! decrement, `UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock >
//! 0 RETURNING stock`. Under READ COMMITTED, Postgres re-checks the WHERE
//! against the newest row version after waiting for a concurrent writer, so
//! two buyers can never both take the last unit. The order is written in the
//! same transaction, which holds the row (and so the business step) until it
//! commits. No read-then-write, so nothing to lose.

use std::time::Duration;

use sqlx::PgPool;
use tokio::time::sleep;
use uuid::Uuid;

use super::{Isolation, begin};
use crate::domain::{BuyerName, DuplicateCheck};
use crate::lock::LockTiming;
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::sale::{Order, OrderStatus, PurchaseError, PurchaseRequest};

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres atomic decrement",
    family: Family::Postgres,
    safe: true,
    lesson: "UPDATE … SET stock = stock - 1 WHERE stock > 0: no read-then-write at all, so there is no race to lock.",
    breaks_when: "never oversells: Postgres re-checks stock > 0 on the newest row",
    needs: Needs::Nothing,
    uses_ttl: false,
};

pub async fn sell(
    db: &PgPool,
    request: &PurchaseRequest,
    timing: &LockTiming,
    statement_timeout: Duration,
) -> Result<Order, PurchaseError> {
    let product = request.product;
    let sale = async {
        let mut tx = begin(
            db,
            Isolation::ReadCommitted,
            timing.deadline,
            statement_timeout,
        )
        .await?;
        // The buyer's count moves in the same statement as the stock: past the
        // limit its CHECK undoes both (see `crate::limit`).
        let sold: Option<(i64, i64)> = sqlx::query_as(
            "WITH sold AS (
                 UPDATE products SET stock = stock - 1, version = version + 1, updated_at = now()
                 WHERE id = $1 AND stock > 0
                 RETURNING id, stock, generation, per_buyer
             ),
             counted AS (
                 INSERT INTO buyer_counts (product_id, generation, user_name, cap, bought)
                 SELECT sold.id, sold.generation, $2, sold.per_buyer, 1 FROM sold
                 WHERE sold.per_buyer IS NOT NULL AND $3
                 ON CONFLICT (product_id, generation, user_name)
                 DO UPDATE SET bought = buyer_counts.bought + 1
             )
             SELECT stock, generation FROM sold",
        )
        .bind(product.get())
        .bind(request.buyer.as_ref().map(BuyerName::as_str))
        .bind(request.duplicate_check == DuplicateCheck::Key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((remaining, generation)) = sold else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)")
                    .bind(product.get())
                    .fetch_one(&mut *tx)
                    .await?;
            return Err(if exists {
                PurchaseError::SoldOut(product)
            } else {
                PurchaseError::ProductNotFound(product)
            });
        };

        if let Some(lane) = &request.trace {
            // One statement reads and writes: both moments are the same.
            lane.read(remaining + 1);
            lane.wrote(remaining);
        }

        // The row stays locked by this transaction through the pause and the
        // business step: the critical section, as in the other strategies.
        let stall = request.knobs.pause.duration() + request.knobs.work.duration();
        if !stall.is_zero() {
            sleep(stall).await;
        }

        let order_id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO orders (id, product_id, lock_mode, user_name) VALUES ($1, $2, $3, $4)",
        )
        .bind(order_id)
        .bind(product.get())
        .bind(request.strategy.as_str())
        .bind(request.buyer.as_ref().map(BuyerName::as_str))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Order {
            order_id,
            product_id: product,
            status: OrderStatus::Written,
            remaining_stock: remaining,
            lock: request.strategy,
            generation,
        })
    };
    sale.await
}
