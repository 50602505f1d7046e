//! The harness: a shop (a database and a Redis key prefix of the test's
//! own), the service's instances on it, and crowds of buyers.

mod balancer;
mod crowd;
pub mod service;
mod shop;

pub use balancer::Balancer;
pub use crowd::{Crowd, flash_crowd};
pub use service::send_purchase;
pub use shop::Shop;

pub const PRODUCT: i64 = 1;
pub const SHARED_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379";
