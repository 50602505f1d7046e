//! Black-box tests of the service against the real local Postgres and Redis.
//! Each test spawns the service with a database and a Redis key prefix of its
//! own (see `flashsale::testing`), so they run in parallel.

mod admin;
mod answers;
mod batch;
mod bounds;
mod bulkheads;
mod cross_site;
mod crowd;
mod crowd_running;
mod failover;
mod fair;
mod fair_crash;
mod fencing;
mod guards;
mod health;
mod helpers;
mod idempotency;
mod lab;
mod ledger;
mod lock;
mod lock_wait;
mod lost_lock;
mod metric_labels;
mod metrics;
mod mixed_guards;
mod notices;
mod object_bodies;
mod openapi;
mod overtaken;
mod pages_forms;
mod pages_view;
mod per_buyer;
mod per_buyer_page;
mod products;
mod purchase;
mod reconnect;
mod redlock;
mod redlock_frozen;
mod restock;
mod retries;
mod stream;
mod teacher_knobs;
mod timeline;
mod validation;
mod watchdog;
