//! Wrong admin tokens, counted per client: [`BURST`] at once, then one per
//! [`REFILL`]. A client over that is refused 429 `rate_limited` — and no
//! token it offers meanwhile is even compared, the right one neither, or a
//! guesser would still learn the answer at full speed from the 429s.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Wrong tokens a client may offer at once: a teacher's typos.
pub const BURST: u32 = 5;
/// And then one per this.
pub const REFILL: Duration = Duration::from_secs(1);

/// Beyond this many clients, the ones no longer counted are forgotten.
const TABLE_SIZE: usize = 10_000;

pub struct FailedAttempts {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// Clients over their allowance, and until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl Default for FailedAttempts {
    fn default() -> Self {
        let burst = NonZeroU32::new(BURST).expect("a positive burst");
        let quota = Quota::with_period(REFILL)
            .expect("a positive period")
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            blocked: Mutex::default(),
        }
    }
}

impl FailedAttempts {
    /// Whether `client` may have a token compared now.
    pub fn allows(&self, client: IpAddr) -> bool {
        let blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        blocked
            .get(&client)
            .is_none_or(|until| Instant::now() >= *until)
    }

    /// Count a wrong token from `client`; `false` when it was one too many
    /// (the client is refused until its allowance grows back).
    pub fn fail(&self, client: IpAddr) -> bool {
        if self.limiter.len() > TABLE_SIZE {
            self.limiter.retain_recent();
        }
        let Err(not_until) = self.limiter.check_key(&client) else {
            return true;
        };
        let wait = not_until.wait_time_from(self.limiter.clock().now());
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        if blocked.len() > TABLE_SIZE {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(client, now + wait);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_wrong_tokens_then_every_token_is_refused_for_a_while() {
        let attempts = FailedAttempts::default();
        let (guesser, teacher) = (
            "198.51.100.9".parse().unwrap(),
            "192.0.2.1".parse().unwrap(),
        );

        for n in 1..=BURST {
            assert!(attempts.allows(guesser), "attempt {n}");
            assert!(attempts.fail(guesser), "attempt {n}");
        }
        assert!(!attempts.fail(guesser), "one too many");
        assert!(!attempts.allows(guesser));
        assert!(attempts.allows(teacher), "counted per client");
    }
}
