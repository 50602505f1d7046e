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
mod lab;
mod lock;
mod lost_lock;
mod metrics;
mod pages;
mod products;
mod purchase;
mod redlock;
mod redlock_frozen;
mod restock;
mod timeline;
mod validation;
