//! flashsale: a flash sale that oversells without a lock and never with one.
//!
//! * [`purchase`] — the race (read, check, write back) and the guard around it;
//! * [`lock`] — the Redis spin-retry lock with a deadline;
//! * [`crowd`] — the flash crowd: N buyers at once, run by the server;
//! * [`startup`] — builds the service (database, Redis, HTTP server);
//! * [`routes`] — the JSON API and the pages.

pub mod configuration;
pub mod crowd;
pub mod db;
pub mod domain;
pub mod error;
pub mod lock;
pub mod metrics;
pub mod products;
pub mod purchase;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod timeline;

#[cfg(feature = "testing")]
pub mod testing;
