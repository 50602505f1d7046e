//! The limit per buyer ("one per buyer"), as Postgres enforces it and as the
//! tutorials get it wrong.
//!
//! The right way lives in the sale's write-back (`sale::write_back`,
//! `pg-atomic`): the same statement or transaction that decrements the stock
//! counts the unit on the buyer's row of `buyer_counts`, whose CHECK
//! (`bought <= cap`) refuses a unit past the limit and so undoes the
//! decrement with it. [`classify`] turns that refusal into words.
//!
//! The wrong way is [`count_check`] (`duplicate_check=count`): a
//! `SELECT count(*)` of the buyer's orders before the sale, with the key out
//! of the way. Ten clicks at once all count zero, and all buy.

use sqlx::PgPool;

use crate::domain::{BuyerName, ProductId};
use crate::sale::{PurchaseError, PurchaseRequest};

/// The CHECK that refuses a unit past the buyer's limit.
const WITHIN_LIMIT: &str = "buyer_counts_within_limit";
/// `check_violation` and `not_null_violation`.
const CHECK_VIOLATION: &str = "23514";
const NOT_NULL_VIOLATION: &str = "23502";

/// Names the database's refusals of the limit: past it (409
/// `limit_reached`), or no buyer named (400 `user_required`). Any other
/// outcome passes through unchanged.
pub fn classify(error: PurchaseError, product: ProductId) -> PurchaseError {
    let PurchaseError::Database(sqlx::Error::Database(db)) = &error else {
        return error;
    };
    match db.code().as_deref() {
        Some(CHECK_VIOLATION) if db.constraint() == Some(WITHIN_LIMIT) => {
            PurchaseError::LimitReached(product)
        }
        Some(NOT_NULL_VIOLATION) if db.table() == Some("buyer_counts") => {
            PurchaseError::UserRequired(product)
        }
        _ => error,
    }
}

/// THE NAIVE CHECK: count the buyer's orders, refuse at the limit, and let
/// the sale go on without the key. Between this count and the sale's insert
/// another click of the same buyer counts the same number: both buy.
pub async fn count_check(db: &PgPool, request: &PurchaseRequest) -> Result<(), PurchaseError> {
    let product = request.product;
    let row: Option<(Option<i32>, i64)> = sqlx::query_as(
        "SELECT p.per_buyer,
                (SELECT count(*) FROM orders o
                 WHERE o.product_id = p.id AND o.user_name = $2)
         FROM products p WHERE p.id = $1",
    )
    .bind(product.get())
    .bind(request.buyer.as_ref().map(BuyerName::as_str))
    .fetch_optional(db)
    .await?;
    let (per_buyer, bought) = row.ok_or(PurchaseError::ProductNotFound(product))?;
    let Some(per_buyer) = per_buyer else {
        return Ok(());
    };
    if request.buyer.is_none() {
        return Err(PurchaseError::UserRequired(product));
    }
    if bought >= i64::from(per_buyer) {
        return Err(PurchaseError::LimitReached(product));
    }
    Ok(())
}
