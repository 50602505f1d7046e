//! Black-box tests of the service against the real local Postgres and Redis.
//! Each test spawns the service with a database and a Redis key prefix of its
//! own (see `flashsale::testing`), so they run in parallel.

mod answers;
mod bounds;
mod cross_site;
mod crowd;
mod fair;
mod fencing;
mod guards;
mod health;
mod helpers;
mod idempotency;
mod lab;
mod lock;
mod metrics;
mod pages_forms;
mod pages_view;
mod per_buyer;
mod per_buyer_page;
mod products;
mod purchase;
mod redlock;
mod restock;
mod timeline;
mod validation;
