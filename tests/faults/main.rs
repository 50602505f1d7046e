//! Fault tests: real service processes (the built binary) against a Redis
//! or a Postgres that goes away mid-sale, instances killed or stopped
//! mid-sale, and a client that hangs up. After each fault the invariants
//! hold: no oversell, no lost update, every 201 has its order, no lock left
//! behind.
//!
//! Each test has a database of its own (dropped at the end) and a Redis key
//! prefix of its own; a test that stops Redis or Postgres stops its own
//! (`RedisServer`, `PostgresServer`), never the shared ones on 6379 and 5432.
//! `TEST_LOG=1` shows the services' logs; otherwise a failing test names the
//! log file of each service it started.
//!
//! One file per thing that fails: `redis_restart`, `postgres_restart`,
//! `pg_batch` (Postgres killed mid-batch),
//! `instances` (an instance killed or stopped, a client hanging up),
//! `balancer` (an instance killed behind HAProxy), and `locust` (a crowd
//! from Locust's master and two workers on two instances); the harness they
//! share is in `helpers`.

mod balancer;
mod helpers;
mod instances;
mod locust;
mod pg_batch;
mod postgres_restart;
mod redis_restart;
mod stream;
