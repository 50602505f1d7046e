//! `redis-fair` — first come, first served, across every instance, and woken
//! by the release rather than by a timer. The spin lock (`redis`) lets a buyer
//! who arrives as the lock frees take it at once while the ones asleep in
//! their 50 ms retry wait on: its p99 is tens of times the FIFO wait. This
//! one keeps a line.
//!
//! In Redis, per product (as Redisson's `RedissonFairLock`): the lock key
//! itself (shared with the other Redis strategies, so they exclude one
//! another), a queue (ZSET token → ticket from a counter: arrival order), a
//! liveness set (ZSET token → expiry) and each waiter's TTL (HASH). Three
//! scripts, each one atomic step:
//! * `scripts/fair_acquire.lua` — forget waiters whose liveness ran out; take
//!   the lock if it is free and we are first in line (or the line is empty),
//!   or claim it if it was handed to us; else join the line once and renew
//!   our liveness, answering the holder's remaining TTL.
//! * `scripts/fair_release.lua` — if the lock is still ours, *hand it over*:
//!   set it to the oldest waiter still alive (skipping, and forgetting, the
//!   ones whose liveness ran out) and publish that token; with nobody alive
//!   waiting, delete it.
//! * `scripts/fair_leave.lua` — a waiter at its deadline leaves the line; if
//!   the lock was handed to it meanwhile, it releases it on to the next.
//!
//! Waking: one pub/sub subscription per instance (not a connection per
//! waiter) carries the tokens the lock was handed to; the instance wakes
//! just that waiter through an in-process map. When the next waiter is on the
//! same instance, the release's own answer wakes it at once.
//!
//! A waiter keeps its place only while it is alive: a short lease ([`LEASE`],
//! a second) that it renews every third of it while it waits. A hand-over
//! skips a waiter whose lease ran out, and hands the lock for no longer than
//! the chosen waiter's lease has left; the woken waiter claims it for its
//! TTL at once (one round trip). So when an instance dies with buyers in
//! line, the line stalls for at most a lease — not a whole TTL, which is what
//! a hand-over at the full TTL to a dead waiter cost.
//!
//! Redisson's known failures, avoided: a waiter that crashes or gives up
//! leaves the line within its lease — never a queue blocked for good; a
//! waiter is never evicted while it is alive; a holder that crashes still
//! frees the lock at its TTL, and the first waiter, which sleeps no longer
//! than the holder's remaining TTL, then takes it. If the subscription is
//! down, waiters still come back by themselves (lease/3, or the TTL) — slower,
//! never stuck.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep};

use super::info::{Family, Needs, StrategyInfo};
use super::{Lock, LockError, LockTiming, RedisBase, TokenGuard, new_token, ttl_millis};
use crate::domain::ProductId;

pub const INFO: StrategyInfo = StrategyInfo {
    label: "Redis fair lock (FIFO)",
    family: Family::Redis,
    safe: true,
    lesson: "Buyers wait in a line in Redis and the release hands the lock to the oldest one: first come, first served, no polling.",
    breaks_when: "like every TTL lock, work or a pause past the TTL lets the next buyer in (no fencing); waits are fair, not shorter",
    needs: Needs::Redis,
    uses_ttl: true,
};

static ACQUIRE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/fair_acquire.lua")));
static RELEASE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/fair_release.lua")));
static LEAVE_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/fair_leave.lua")));

/// How long a waiter's place in line outlives its last sign of life; it
/// renews it every third of that while it waits.
pub const LEASE: Duration = Duration::from_secs(1);

/// The waiters of this instance, by token: who to wake when a hand-over names it.
type Waiters = Mutex<HashMap<String, oneshot::Sender<()>>>;

pub struct FairLock {
    base: RedisBase,
    channel: String,
    waiters: Arc<Waiters>,
}

impl FairLock {
    /// Starts this instance's one subscription, which reconnects by itself.
    pub fn new(base: RedisBase, redis: redis::ConnectionInfo) -> Self {
        let channel = format!("{}:fair:handed", base.prefix);
        let waiters = Arc::new(Waiters::default());
        if let Ok(client) = redis::Client::open(redis) {
            tokio::spawn(listen(client, channel.clone(), Arc::downgrade(&waiters)));
        }
        Self {
            base,
            channel,
            waiters,
        }
    }

    /// Be woken when a hand-over names `token` (replacing any earlier wish).
    fn listen_for(&self, token: &str) -> oneshot::Receiver<()> {
        let (handed_tx, handed) = oneshot::channel();
        self.waiters
            .lock()
            .expect("not poisoned")
            .insert(token.to_owned(), handed_tx);
        handed
    }

    /// Lock, queue, liveness, ticket counter, TTLs.
    fn keys(&self, product: ProductId) -> [String; 5] {
        let tag = super::product_tag(product);
        let fair = |what: &str| format!("{}:fair:{what}:{tag}", self.base.prefix);
        [
            self.base.key(product),
            fair("queue"),
            fair("alive"),
            fair("ticket"),
            fair("ttl"),
        ]
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[String; 5],
        args: &[&str],
    ) -> Result<T, LockError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let mut connection = self.base.node.connection();
        self.base
            .node
            .call(invocation.invoke_async(&mut connection))
            .await
    }

    /// Leave the line at the deadline; hand the lock on if it reached us.
    async fn leave(&self, keys: &[String; 5], token: &str) -> Result<(), LockError> {
        let handed: i64 = self.run(&LEAVE_SCRIPT, keys, &[token]).await?;
        if handed == 1 {
            self.hand_on(keys, token).await?;
        }
        Ok(())
    }

    /// The release: hand the lock to the next in line. `Ok(false)`: it was
    /// no longer ours.
    async fn hand_on(&self, keys: &[String; 5], token: &str) -> Result<bool, LockError> {
        let handed: Option<String> = self
            .run(&RELEASE_SCRIPT, keys, &[token, &self.channel])
            .await?;
        match handed {
            None => Ok(false),
            Some(next) => {
                if !next.is_empty() {
                    wake(&self.waiters, &next);
                }
                Ok(true)
            }
        }
    }
}

/// Wake the waiter `token` if it waits on this instance.
fn wake(waiters: &Waiters, token: &str) {
    if let Some(waiter) = waiters.lock().expect("not poisoned").remove(token) {
        let _ = waiter.send(());
    }
}

/// This instance's subscription to hand-overs, for as long as the lock lives.
async fn listen(client: redis::Client, channel: String, waiters: Weak<Waiters>) {
    while waiters.strong_count() > 0 {
        if let Ok(mut pubsub) = client.get_async_pubsub().await
            && pubsub.subscribe(&channel).await.is_ok()
        {
            let mut handed = pubsub.into_on_message();
            while let Some(message) = handed.next().await {
                let Some(waiters) = waiters.upgrade() else {
                    return;
                };
                if let Ok(token) = message.get_payload::<String>() {
                    wake(&waiters, &token);
                }
            }
        }
        // Disconnected: waiters come back by themselves meanwhile.
        sleep(Duration::from_millis(200)).await;
    }
}

/// Takes the waiter out of the wake-up map however `acquire` ends.
struct Registered<'a> {
    waiters: &'a Waiters,
    token: &'a str,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.waiters
            .lock()
            .expect("not poisoned")
            .remove(self.token);
    }
}

/// The fair lock held: released by handing it on.
pub struct FairGuard {
    inner: TokenGuard,
    product: ProductId,
}

impl super::Guard for FairGuard {}

impl Lock for FairLock {
    type Guard = FairGuard;

    async fn acquire(
        &self,
        product: ProductId,
        timing: &LockTiming,
    ) -> Result<FairGuard, LockError> {
        let keys = self.keys(product);
        let token = new_token();
        let mut handed = self.listen_for(&token);
        let _registered = Registered {
            waiters: &self.waiters,
            token: &token,
        };
        let ttl_ms = ttl_millis(timing.ttl).to_string();
        let lease_ms = LEASE.as_millis().to_string();
        let started = Instant::now();
        let give_up_at = started + timing.deadline;
        let held = |token: &str| FairGuard {
            inner: self
                .base
                .guard(keys[0].clone(), token.to_owned(), timing.ttl),
            product,
        };

        loop {
            if let Err(error) = timing.check_give_up() {
                let _ = self.leave(&keys, &token).await;
                return Err(error);
            }
            let turn: (i64, i64) = match self
                .run(&ACQUIRE_SCRIPT, &keys, &[&token, &ttl_ms, &lease_ms])
                .await
            {
                Ok(turn) => turn,
                Err(error) => {
                    // The script may have run: a lock that reached us is
                    // deleted in the background; our place in line lapses
                    // with its lease.
                    self.base
                        .node
                        .clean_up_failed_acquire(&error, keys[0].clone(), token.clone());
                    return Err(error);
                }
            };
            if let (1, _) = turn {
                return Ok(held(&token));
            }
            let now = Instant::now();
            if now >= give_up_at {
                self.leave(&keys, &token).await?;
                return Err(LockError::Busy {
                    waited: started.elapsed(),
                });
            }
            // Sleep until handed the lock, or until the holder's TTL runs
            // out (it may have crashed), renewing our place every lease/3.
            let holder_ttl = u64::try_from(turn.1).map_or(timing.retry, Duration::from_millis);
            let nap = (give_up_at - now)
                .min(LEASE / 3)
                .min(holder_ttl.max(Duration::from_millis(1)));
            tokio::select! {
                _ = &mut handed => {
                    // Handed the lock for as long as our lease had left: the
                    // next turn of the loop claims it for our TTL. Listen
                    // again, in case the claim came too late and we wait on.
                    handed = self.listen_for(&token);
                }
                () = sleep(nap) => {}
            }
        }
    }

    async fn release(&self, guard: FairGuard) -> Result<bool, LockError> {
        let FairGuard { mut inner, product } = guard;
        inner.disarm();
        let handed = self.hand_on(&self.keys(product), &inner.token).await;
        inner.settle(&handed);
        handed
    }
}
