//! The order writer: takes the queued orders from a stream, in a consumer
//! group shared by every instance, and writes them to Postgres in batches.
//!
//! `redis-stream`'s writer writes, commits, and only then acknowledges: a
//! writer that dies in between leaves its batch pending, and a writer
//! (another instance's, or this one after a restart) claims it once it has
//! been idle for `ORDER_WRITER_CLAIM_IDLE_MS` and writes it again. The insert
//! is by order id, so a batch written twice is written once.
//! `broken-ack-first`'s writer acknowledges first, as the copied demo does:
//! killed between the two, its batch is gone from Redis and never reaches
//! Postgres.
//!
//! It runs on a Redis connection of its own: its blocking read must not
//! stall the purchases' connection. Postgres down: it keeps the batch and
//! tries again until it is written; the queue grows meanwhile and nothing
//! is lost.

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use sqlx::PgPool;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{ACK, FORGET, GROUP, Keys, Queue, QueuedEntry};
use crate::domain::ProductId;

/// How a writer works: the service's `ORDER_WRITER_*` settings.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    /// Most entries in one batch (one transaction).
    pub batch: usize,
    /// An entry pending this long with a writer is claimed by another.
    pub claim_idle: Duration,
    /// A pause between the batch's two steps, to widen the crash window.
    pub gap: Duration,
    /// The longest wait of one call to Redis (the blocking read adds its own).
    pub redis_timeout: Duration,
}

/// How long a read waits for new entries before it looks at other work
/// (claims, the shutdown).
const BLOCK: Duration = Duration::from_millis(500);

/// One writer of one stream.
pub struct OrderWriter {
    queue: Queue,
    keys: Keys,
    redis_info: redis::ConnectionInfo,
    db: PgPool,
    /// This writer's name in the group: unique per process start, so a
    /// restarted instance claims its former self's entries like anyone's.
    consumer: String,
    settings: WriterSettings,
    connection: Option<ConnectionManager>,
    group_ready: bool,
    next_claim: Instant,
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer in time")]
    TimedOut,
}

impl OrderWriter {
    pub fn new(
        queue: Queue,
        prefix: &str,
        redis_info: redis::ConnectionInfo,
        db: PgPool,
        settings: WriterSettings,
    ) -> Self {
        Self {
            queue,
            keys: Keys::new(prefix),
            redis_info,
            db,
            consumer: format!("writer-{}", Uuid::new_v4()),
            settings,
            connection: None,
            group_ready: false,
            next_claim: Instant::now(),
        }
    }

    /// Write queued orders until `stop` is cancelled.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut failures: u32 = 0;
        while !stop.is_cancelled() {
            match self.step(&stop).await {
                Ok(()) => failures = 0,
                Err(error) => {
                    if let StepError::Redis(error) = &error
                        && error.code() == Some("NOGROUP")
                    {
                        // Redis lost the group (restarted, flushed).
                        self.group_ready = false;
                    }
                    if failures == 0 {
                        tracing::warn!(stream = %self.keys.stream(self.queue), error = %error, "the order writer cannot reach Redis; retrying");
                    }
                    failures = failures.saturating_add(1);
                    let pause = Duration::from_millis(100 * u64::from(failures.min(10)));
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = sleep(pause) => {}
                    }
                }
            }
        }
    }

    async fn connection(&mut self) -> Result<ConnectionManager, StepError> {
        if let Some(connection) = &self.connection {
            return Ok(connection.clone());
        }
        let client = redis::Client::open(crate::lock::with_resp3(self.redis_info.clone()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.settings.redis_timeout))
            .set_response_timeout(Some(BLOCK + self.settings.redis_timeout))
            .set_number_of_retries(1);
        let connection = tokio::time::timeout(
            self.settings.redis_timeout * 2,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| StepError::TimedOut)??;
        self.connection = Some(connection.clone());
        Ok(connection)
    }

    /// One batch: claimed from a dead writer when it is time to look, else
    /// read from the stream; then written and acknowledged.
    async fn step(&mut self, stop: &CancellationToken) -> Result<(), StepError> {
        let mut connection = self.connection().await?;
        let stream = self.keys.stream(self.queue);
        if !self.group_ready {
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&stream)
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut connection)
                .await;
            match created {
                Ok(()) => {}
                Err(error) if error.code() == Some("BUSYGROUP") => {}
                Err(error) => return Err(error.into()),
            }
            self.group_ready = true;
        }
        let mut entries = Vec::new();
        if Instant::now() >= self.next_claim {
            entries = self.claim(&mut connection, &stream).await?;
            if entries.is_empty() {
                self.next_claim = Instant::now() + self.settings.claim_idle / 2;
            }
        }
        if entries.is_empty() {
            let mut command = redis::cmd("XREADGROUP");
            command
                .arg("GROUP")
                .arg(GROUP)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(self.settings.batch)
                .arg("BLOCK")
                .arg(BLOCK.as_millis() as u64)
                .arg("STREAMS")
                .arg(&stream)
                .arg(">");
            let read = command.query_async::<Option<StreamReadReply>>(&mut connection);
            let reply = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                reply = read => reply?,
            };
            entries = reply
                .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
                .unwrap_or_default();
        }
        if entries.is_empty() {
            return Ok(());
        }
        self.handle(&mut connection, &stream, entries, stop).await
    }

    /// Entries pending with a writer for longer than the claim idle time:
    /// that writer died (or is stuck); they are ours now.
    async fn claim(
        &self,
        connection: &mut ConnectionManager,
        stream: &str,
    ) -> Result<Vec<StreamId>, StepError> {
        let mut claimed = Vec::new();
        let mut cursor = "0-0".to_owned();
        loop {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(stream)
                .arg(GROUP)
                .arg(&self.consumer)
                .arg(self.settings.claim_idle.as_millis() as u64)
                .arg(&cursor)
                .arg("COUNT")
                .arg(self.settings.batch)
                .query_async(connection)
                .await?;
            claimed.extend(reply.claimed);
            cursor = reply.next_stream_id;
            if cursor == "0-0" || claimed.len() >= self.settings.batch {
                break;
            }
        }
        if !claimed.is_empty() {
            tracing::warn!(
                stream,
                claimed = claimed.len(),
                "claimed orders a writer left pending (it died or stalled)"
            );
        }
        Ok(claimed)
    }

    async fn handle(
        &mut self,
        connection: &mut ConnectionManager,
        stream: &str,
        entries: Vec<StreamId>,
        stop: &CancellationToken,
    ) -> Result<(), StepError> {
        let (orders, malformed): (Vec<_>, Vec<_>) = entries
            .iter()
            .map(|entry| (QueuedEntry::parse(entry), entry.id.clone()))
            .partition(|(order, _)| order.is_some());
        if !malformed.is_empty() {
            let ids: Vec<String> = malformed.into_iter().map(|(_, id)| id).collect();
            tracing::error!(stream, entries = ?ids, "dropped stream entries that are not orders");
            redis::pipe()
                .cmd("XACK")
                .arg(stream)
                .arg(GROUP)
                .arg(&ids)
                .cmd("XDEL")
                .arg(stream)
                .arg(&ids)
                .query_async::<()>(connection)
                .await?;
        }
        let orders: Vec<QueuedEntry> = orders.into_iter().filter_map(|(order, _)| order).collect();
        if orders.is_empty() {
            return Ok(());
        }
        match self.queue {
            Queue::Safe => {
                if !self.write_until_written(&orders, stop).await {
                    // Shutting down: the batch stays pending; a writer claims it.
                    return Ok(());
                }
                self.pause(stop).await;
                self.acknowledge(connection, stream, &orders).await
            }
            Queue::AckFirst => {
                // THE BUG: the entries leave Redis before they are in Postgres.
                self.acknowledge(connection, stream, &orders).await?;
                self.pause(stop).await;
                if !self.write_until_written(&orders, stop).await {
                    tracing::error!(
                        lost = orders.len(),
                        "broken-ack-first: shut down with a batch acknowledged and not written; these orders are lost"
                    );
                }
                Ok(())
            }
        }
    }

    async fn pause(&self, stop: &CancellationToken) {
        if !self.settings.gap.is_zero() {
            tokio::select! {
                () = stop.cancelled() => {}
                () = sleep(self.settings.gap) => {}
            }
        }
    }

    /// Write the batch, trying again while Postgres fails. `false`: the
    /// service is shutting down and the batch was not written.
    async fn write_until_written(
        &mut self,
        orders: &[QueuedEntry],
        stop: &CancellationToken,
    ) -> bool {
        let mut failures: u32 = 0;
        loop {
            match write_batch(&self.db, self.queue, orders).await {
                Ok(written) => {
                    if failures > 0 {
                        tracing::info!(
                            orders = orders.len(),
                            "Postgres is back: the order writer wrote its batch"
                        );
                    }
                    for (product, generation) in written.stale {
                        self.forget_stale(product, generation).await;
                    }
                    return true;
                }
                Err(error) => {
                    if failures == 0 {
                        tracing::warn!(error = %error, orders = orders.len(), "the order writer cannot write to Postgres; the orders stay queued and it tries again");
                    }
                    failures = failures.saturating_add(1);
                    let pause = Duration::from_millis(100 * u64::from(failures.min(10)));
                    tokio::select! {
                        () = stop.cancelled() => return false,
                        () = sleep(pause) => {}
                    }
                }
            }
        }
    }

    /// Orders sold from a generation Postgres has left behind: the restock's
    /// write to Redis failed. Make Redis forget that stock so that the gate
    /// stops selling it and seeds the new one.
    async fn forget_stale(&mut self, product: ProductId, generation: i64) {
        let Ok(mut connection) = self.connection().await else {
            return;
        };
        let forgot: redis::RedisResult<i64> = FORGET
            .key(self.keys.stock(product))
            .arg(generation)
            .invoke_async(&mut connection)
            .await;
        if let Ok(1) = forgot {
            tracing::warn!(%product, generation, "Redis sold from a stock older than Postgres's; forgot it, to seed it again");
        }
    }

    async fn acknowledge(
        &self,
        connection: &mut ConnectionManager,
        stream: &str,
        orders: &[QueuedEntry],
    ) -> Result<(), StepError> {
        let mut products: BTreeMap<ProductId, usize> = BTreeMap::new();
        let mut invocation = ACK.key(stream);
        invocation.key(self.keys.queued_ids()).arg(GROUP);
        for order in orders {
            let next = products.len() + 3;
            let index = *products.entry(order.product).or_insert(next);
            if index == next {
                invocation.key(self.keys.stock(order.product));
            }
            invocation
                .arg(&order.entry_id)
                .arg(order.order_id.to_string())
                .arg(index)
                .arg(order.generation);
        }
        let _acked: i64 = tokio::time::timeout(
            self.settings.redis_timeout,
            invocation.invoke_async(connection),
        )
        .await
        .map_err(|_| StepError::TimedOut)??;
        Ok(())
    }
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct Written {
    /// Orders inserted now (an order already written is not counted).
    pub inserted: u64,
    /// Products some of whose orders came from an older generation than
    /// Postgres's, with Postgres's generation.
    pub stale: Vec<(ProductId, i64)>,
}

/// Write a batch in one transaction: the products' rows locked first (so
/// that no restock moves the generation under the insert), the orders
/// inserted by id (one already there is skipped), each product's stock
/// decremented by the orders inserted for it, within their generation.
pub async fn write_batch(
    db: &PgPool,
    queue: Queue,
    orders: &[QueuedEntry],
) -> Result<Written, sqlx::Error> {
    let mut ids = Vec::with_capacity(orders.len());
    let mut products = Vec::with_capacity(orders.len());
    let mut buyers: Vec<Option<String>> = Vec::with_capacity(orders.len());
    let mut generations = Vec::with_capacity(orders.len());
    for order in orders {
        ids.push(order.order_id);
        products.push(order.product.get());
        buyers.push(order.buyer.clone());
        generations.push(order.generation);
    }
    let mut tx = db.begin().await?;
    let current: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, generation FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&products)
    .fetch_all(&mut *tx)
    .await?;
    let inserted: Vec<(i64, i64)> = sqlx::query_as(
        "WITH batch AS (
             SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bigint[])
                 AS b(id, product_id, user_name, generation)
         ),
         inserted AS (
             INSERT INTO orders (id, product_id, lock_mode, user_name)
             SELECT b.id, b.product_id, $5, b.user_name
             FROM batch b JOIN products p ON p.id = b.product_id AND p.generation = b.generation
             ON CONFLICT (id) DO NOTHING
             RETURNING product_id
         ),
         counted AS (
             SELECT product_id, count(*) AS n FROM inserted GROUP BY product_id
         )
         UPDATE products p
         SET stock = GREATEST(p.stock - c.n, 0), version = p.version + 1, updated_at = now()
         FROM counted c WHERE p.id = c.product_id
         RETURNING p.id, c.n",
    )
    .bind(&ids)
    .bind(&products)
    .bind(&buyers)
    .bind(&generations)
    .bind(queue.strategy().as_str())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let current: BTreeMap<i64, i64> = current.into_iter().collect();
    let mut stale: Vec<(ProductId, i64)> = orders
        .iter()
        .filter_map(|order| {
            let now = *current.get(&order.product.get())?;
            (order.generation < now).then_some((order.product, now))
        })
        .collect();
    stale.sort();
    stale.dedup();
    Ok(Written {
        inserted: inserted.iter().map(|(_, n)| *n as u64).sum(),
        stale,
    })
}
