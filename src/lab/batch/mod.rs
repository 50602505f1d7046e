//! `pg-batch` — many buyers, one transaction.
//!
//! Every other safe strategy is a critical section per buyer: lock, read,
//! write, commit, next. The section is the ceiling — a hot product sells at
//! most one buyer per hold, whatever the hardware. Here the buyers of one
//! product on one instance form a line instead: while a batch is being
//! written, the buyers who arrive wait; when it commits, all of them (up to
//! `PG_BATCH_MAX`) go into the next batch, and one transaction sells them
//! all — one row lock, one read, one business step, one decrement, one
//! multi-row insert, one commit (see [`write`]).
//!
//! **The wait costs latency and buys throughput.** A buyer who arrives just
//! after a batch started waits for that batch to commit and then for its
//! own: up to two batches' time, where alone it would have taken one sale's.
//! But the cost of a batch hardly depends on its size (the round trips and
//! the commit's flush are the same for 1 buyer or 200), so the more buyers
//! arrive per batch, the more each batch sells: the line grows with the
//! crowd, and throughput with it. Under light load a batch holds one buyer
//! and costs what one sale costs. `PG_BATCH_MAX` bounds how long one
//! transaction holds the row (and how large its statement is).
//!
//! Across instances each keeps its own line; the row's own lock
//! (`SELECT … FOR UPDATE`) orders their batches, and the stock is read under
//! it, so no instance sells a unit another already sold.
//!
//! The deadline holds: a buyer still in line at its deadline leaves with 429
//! `lock_timeout`. A buyer taken into a batch waits for its answer — the
//! order may be written — and that answer is never a 429 for a written order.
//! `work_ms` runs once per batch, with the row held (the batch's business
//! step); `pause_ms` is not used. The batch writer needs one Postgres
//! connection per hot product, not one per buyer, so this strategy does not
//! go through the Postgres bulkhead.

mod allocate;
mod write;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};

use crate::domain::{DuplicateCheck, ProductId};
use crate::lock::info::{Family, Needs, StrategyInfo};
use crate::lock::{GiveUp, LockError, LockTiming};
use crate::metrics::Metrics;
use crate::sale::{Order, PurchaseError, PurchaseRequest};
use write::Seat;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Postgres batch",
    family: Family::Fast,
    safe: true,
    lesson: "Buyers who arrive while a batch is written wait for the next one; one transaction sells the whole batch: one row lock, one decrement, one insert of every order. work_ms runs once per batch; pause_ms is not used.",
    breaks_when: "never oversells: the row's lock orders the batches",
    needs: Needs::Nothing,
    uses_ttl: false,
};

/// Sells in batches, per product, on this instance.
pub struct Batcher {
    lines: Arc<Lines>,
    metrics: Arc<Metrics>,
    statement_timeout: Duration,
}

struct Lines {
    by_product: Mutex<HashMap<ProductId, Line>>,
    /// Most buyers in one batch.
    max: usize,
}

/// The buyers of one product waiting for the next batch.
#[derive(Default)]
struct Line {
    waiting: VecDeque<Ticket>,
    /// A writer task is taking batches from this line.
    writing: bool,
    /// Batches written so far, to number them on the timeline.
    batches: u64,
    /// Numbers the tickets, so that a buyer leaving at its deadline finds its own.
    tickets: u64,
}

struct Ticket {
    id: u64,
    arrived: Instant,
    seat: Seat,
    answer: oneshot::Sender<Result<Order, PurchaseError>>,
}

impl Batcher {
    /// `max` buyers at most per batch (`PG_BATCH_MAX`).
    pub fn new(max: usize, metrics: Arc<Metrics>, statement_timeout: Duration) -> Self {
        Self {
            lines: Arc::new(Lines {
                by_product: Mutex::new(HashMap::new()),
                max: max.max(1),
            }),
            metrics,
            statement_timeout,
        }
    }

    pub async fn sell(
        &self,
        db: &PgPool,
        request: &PurchaseRequest,
        timing: &LockTiming,
    ) -> Result<Order, PurchaseError> {
        let product = request.product;
        let arrived = Instant::now();
        let give_up_at = arrived + timing.deadline;
        let seat = Seat {
            buyer: request.buyer.clone(),
            counted: request.duplicate_check == DuplicateCheck::Key,
            work: request.knobs.work.duration(),
            give_up_at,
            trace: request.trace.clone(),
        };
        let (id, mut answer) = self.join(db, product, arrived, seat);
        let crashed = |_| Err(PurchaseError::Database(sqlx::Error::WorkerCrashed));

        // In line: the answer, or the deadline, or Postgres known down.
        let why = tokio::select! {
            answer = &mut answer => return answer.unwrap_or_else(crashed),
            () = sleep_until(give_up_at) => LockError::Busy { waited: arrived.elapsed() },
            () = down(timing.give_up.as_ref()) => LockError::StoreUnavailable,
        };
        if self.lines.withdraw(product, id) {
            return Err(PurchaseError::lock(product, why));
        }
        // Taken into a batch already: its answer, whatever it is.
        answer.await.unwrap_or_else(crashed)
    }

    /// Take a place in the product's line, and start its writer if none runs.
    fn join(
        &self,
        db: &PgPool,
        product: ProductId,
        arrived: Instant,
        seat: Seat,
    ) -> (u64, oneshot::Receiver<Result<Order, PurchaseError>>) {
        let (sender, receiver) = oneshot::channel();
        let mut lines = self.lines.by_product.lock().expect("not poisoned");
        let line = lines.entry(product).or_default();
        line.tickets += 1;
        let id = line.tickets;
        line.waiting.push_back(Ticket {
            id,
            arrived,
            seat,
            answer: sender,
        });
        if !line.writing {
            line.writing = true;
            let writer = Writer {
                lines: self.lines.clone(),
                db: db.clone(),
                metrics: self.metrics.clone(),
                statement_timeout: self.statement_timeout,
                product,
            };
            tokio::spawn(writer.run());
        }
        (id, receiver)
    }
}

/// Resolves when Postgres is known down (never, without a flag).
async fn down(flag: Option<&GiveUp>) {
    match flag {
        Some(flag) => flag.wait().await,
        None => std::future::pending().await,
    }
}

impl Lines {
    /// Take ticket `id` out of the product's line: `false` if a batch took it.
    fn withdraw(&self, product: ProductId, id: u64) -> bool {
        let mut lines = self.by_product.lock().expect("not poisoned");
        let Some(line) = lines.get_mut(&product) else {
            return false;
        };
        match line.waiting.iter().position(|ticket| ticket.id == id) {
            Some(at) => {
                line.waiting.remove(at);
                true
            }
            None => false,
        }
    }

    /// The next batch, numbered, or `None` (and the writer stops) when the
    /// line is empty. Buyers past their deadline leave with 429 here.
    fn next_batch(&self, product: ProductId) -> Option<(u64, Vec<Ticket>)> {
        let mut lines = self.by_product.lock().expect("not poisoned");
        let line = lines.get_mut(&product)?;
        let now = Instant::now();
        let mut batch = Vec::new();
        while batch.len() < self.max {
            let Some(ticket) = line.waiting.pop_front() else {
                break;
            };
            if ticket.seat.give_up_at <= now {
                let waited = LockError::Busy {
                    waited: ticket.arrived.elapsed(),
                };
                let _ = ticket
                    .answer
                    .send(Err(PurchaseError::lock(product, waited)));
                continue;
            }
            batch.push(ticket);
        }
        if batch.is_empty() {
            line.writing = false;
            return None;
        }
        line.batches += 1;
        Some((line.batches, batch))
    }

    /// The writer ended without emptying the line (it panicked): the buyers
    /// still waiting get an error at once rather than a wait to their deadline.
    fn abandon(&self, product: ProductId) {
        // Runs while unwinding: a poisoned lock must not panic again.
        let mut lines = self
            .by_product
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(line) = lines.get_mut(&product) {
            line.writing = false;
            line.waiting.clear();
        }
    }

    /// Forget the line of a product that does not exist, if nobody waits.
    fn forget(&self, product: ProductId) {
        let mut lines = self.by_product.lock().expect("not poisoned");
        if lines
            .get(&product)
            .is_some_and(|line| line.waiting.is_empty() && !line.writing)
        {
            lines.remove(&product);
        }
    }
}

/// Takes batches from one product's line until it is empty.
struct Writer {
    lines: Arc<Lines>,
    db: PgPool,
    metrics: Arc<Metrics>,
    statement_timeout: Duration,
    product: ProductId,
}

impl Writer {
    async fn run(self) {
        let product = self.product;
        let mut missing = false;
        // Dropped tickets answer their buyers with an error: a panic here
        // leaves nobody waiting for their deadline.
        let abandon = Abandon(&self.lines, product);
        while let Some((number, batch)) = self.lines.next_batch(product) {
            let (seats, answers): (Vec<Seat>, Vec<_>) = batch
                .into_iter()
                .map(|ticket| (ticket.seat, ticket.answer))
                .unzip();
            let sold = write::sell_batch(
                &self.db,
                product,
                number,
                &seats,
                self.statement_timeout,
                &self.metrics,
            )
            .await;
            match sold {
                Ok(outcomes) => {
                    for (answer, outcome) in answers.into_iter().zip(outcomes) {
                        let _ = answer.send(outcome);
                    }
                }
                Err(error) => {
                    missing = matches!(error, PurchaseError::ProductNotFound(_));
                    if !missing {
                        tracing::warn!(%product, number, buyers = seats.len(), error = %error,
                            "a pg-batch batch failed; none of it was written");
                    }
                    let mut answers = answers.into_iter();
                    let first = answers.next();
                    for answer in answers {
                        let _ = answer.send(Err(write::relay(&error, product)));
                    }
                    if let Some(first) = first {
                        let _ = first.send(Err(error));
                    }
                }
            }
        }
        std::mem::forget(abandon);
        if missing {
            self.lines.forget(product);
        }
    }
}

struct Abandon<'a>(&'a Lines, ProductId);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        self.0.abandon(self.1);
    }
}
