//! After a crowd of a stream design: wait for the queue to drain, then count
//! which accepted orders were written, and when.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::time::{Instant, sleep};
use uuid::Uuid;

use crate::domain::ProductId;
use crate::purchase::Shop;
use crate::timeline::BuyerTimeline;

/// The longest a crowd waits for its queued orders to be written.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

pub struct Drain {
    pub waited: Duration,
    /// `false`: orders were still queued at the timeout.
    pub drained: bool,
}

/// Wait until the product has no order queued (at most [`DRAIN_TIMEOUT`]),
/// when the crowd queued any.
pub async fn wait(shop: &Shop, product: ProductId, queued: u32) -> Drain {
    let began = Instant::now();
    if queued == 0 {
        return Drain {
            waited: Duration::ZERO,
            drained: true,
        };
    }
    loop {
        if let Ok(Some(stats)) = shop.product(product).await
            && stats.queued == Some(0)
        {
            return Drain {
                waited: began.elapsed(),
                drained: true,
            };
        }
        if began.elapsed() >= DRAIN_TIMEOUT {
            return Drain {
                waited: began.elapsed(),
                drained: false,
            };
        }
        sleep(POLL).await;
    }
}

/// Which of the accepted orders (buyer, order id) are in Postgres, and when
/// each was written.
pub async fn written(
    db: &PgPool,
    accepted: &[(u32, Uuid)],
) -> Result<HashMap<u32, DateTime<Utc>>, sqlx::Error> {
    let ids: Vec<Uuid> = accepted.iter().map(|(_, id)| *id).collect();
    let rows: Vec<(Uuid, DateTime<Utc>)> =
        sqlx::query_as("SELECT id, created_at FROM orders WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(db)
            .await?;
    let at: HashMap<Uuid, DateTime<Utc>> = rows.into_iter().collect();
    Ok(accepted
        .iter()
        .filter_map(|(buyer, id)| at.get(id).map(|when| (*buyer, *when)))
        .collect())
}

/// Put each traced buyer's `written_at` on its lane: when the order writer
/// committed its order, in ms since the crowd began (the service's and
/// Postgres's clocks are one on one machine; across machines, roughly).
pub fn mark_written(
    timeline: &mut [BuyerTimeline],
    written: &HashMap<u32, DateTime<Utc>>,
    started: DateTime<Utc>,
) {
    for lane in timeline.iter_mut() {
        if lane.queued_at.is_none() {
            continue;
        }
        if let Some(when) = written.get(&lane.buyer) {
            let micros = (*when - started).num_microseconds().unwrap_or(0).max(0);
            lane.written_at = Some((micros as f64 / 10.0).round() / 100.0);
        }
    }
}
