//! flashsale: a flash sale that oversells without a lock and never with one.
//!
//! * [`sale`] — the race (read, check, write back), in [`sale::sell_one`];
//! * [`lock`] — the Redis spin-retry lock with a deadline, and the other locks;
//! * [`lab`] — every strategy: the catalogue, the Postgres guards, the dispatch;
//! * [`purchase`] — one buyer's way in: the strategy around the sale, on its own task;
//! * [`crowd`] — the flash crowd: N buyers at once, run by the server;
//! * [`startup`] — builds the service (database, Redis, HTTP server);
//! * [`routes`] — the JSON API and the pages.

pub mod configuration;
pub mod crowd;
pub mod db;
pub mod domain;
pub mod error;
pub mod lab;
pub mod limit;
pub mod lock;
pub mod metrics;
pub mod outcome;
pub mod products;
pub mod purchase;
pub mod routes;
pub mod sale;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod timeline;

#[cfg(feature = "testing")]
pub mod testing;
