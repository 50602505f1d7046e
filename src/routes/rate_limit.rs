//! The purchase rate limit (RATE_LIMIT_RPS per client), held in Redis so it
//! holds across instances: behind a load balancer, N instances must not
//! allow N times the rate. One script call per purchase, only when a limit
//! is set (`scripts/rate_limit.lua`: GCRA on Redis's clock).
//!
//! When Redis does not answer, the purchase goes on unlimited (and the log
//! says so): the limit guards the service, it must not take the Postgres
//! strategies down with Redis.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::LazyLock;

use crate::lock::RedisNode;

static RATE_LIMIT_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("scripts/rate_limit.lua")));

/// A rate per client, with a burst of one second's worth (as
/// `governor::Quota::per_second`).
#[derive(Clone)]
pub struct PurchaseRateLimit {
    redis: RedisNode,
    key_prefix: String,
    per_second: NonZeroU32,
}

impl PurchaseRateLimit {
    /// `None` for `RATE_LIMIT_RPS=0`: no limit.
    pub fn new(redis: RedisNode, key_prefix: &str, per_second: u32) -> Option<Self> {
        NonZeroU32::new(per_second).map(|per_second| Self {
            redis,
            key_prefix: key_prefix.to_owned(),
            per_second,
        })
    }

    /// The client's key; the braces keep it in one Redis Cluster slot.
    fn key(&self, client: IpAddr) -> String {
        format!("{}:ratelimit:{{{client}}}", self.key_prefix)
    }

    /// Whether a purchase from `client` is within the rate. (The script
    /// also says how long to wait; the 429 answers the one-second
    /// `Retry-After` every 429 carries.)
    pub async fn allows(&self, client: IpAddr) -> bool {
        let interval = 1_000_000 / u64::from(self.per_second.get());
        let tolerance = interval * u64::from(self.per_second.get() - 1);
        let mut connection = self.redis.connection();
        let reply = self
            .redis
            .call(
                RATE_LIMIT_SCRIPT
                    .key(self.key(client))
                    .arg(interval)
                    .arg(tolerance)
                    .invoke_async::<u64>(&mut connection),
            )
            .await;
        match reply {
            Ok(wait_us) => wait_us == 0,
            Err(error) => {
                tracing::warn!(%error, "rate limit unchecked: Redis did not answer");
                true
            }
        }
    }
}
