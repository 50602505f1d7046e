//! Black-box tests of `flashsale-loadtest` against the real service, spawned
//! per test on its own Postgres database and Redis key prefix.

mod helpers;

mod connecting;
mod drain;
mod errors;
mod lab;
mod metrics;
mod per_buyer;
mod repeat;
mod report;
mod sale;
mod shard;
