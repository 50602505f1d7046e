//! The lock's side of a crowd, from the service's `GET /metrics` (Prometheus
//! text): read on every instance just before a mode's crowd and just after
//! it, summed over the instances, and the difference turned into the lock's
//! wait and hold percentiles, expired locks and purchase outcomes for that
//! mode's strategy ([`LockReading`]).
//!
//! The names are the service's contract:
//! - `flashsale_lock_wait_seconds` (histogram, `strategy`): from asking for
//!   the lock to holding it, or giving up;
//! - `flashsale_lock_hold_seconds` (histogram, `strategy`): holding it;
//! - `flashsale_purchases_total` (counter, `strategy`, `outcome`);
//! - `flashsale_locks_expired_total` (counter, `strategy`);
//! - `flashsale_purchases_in_flight` (gauge, `strategy`) and
//!   `flashsale_http_request_duration_seconds` (histogram, `route`, `method`,
//!   `status`), which the report does not use.
//!
//! A service without `/metrics` (an older flashsale) is not an error: the
//! report's `lock` is then `null`.

pub mod histogram;
pub mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use self::histogram::Buckets;
pub use self::text::{Exposition, ParseError, Sample, parse};

pub const LOCK_WAIT: &str = "flashsale_lock_wait_seconds";
pub const LOCK_HOLD: &str = "flashsale_lock_hold_seconds";
pub const PURCHASES: &str = "flashsale_purchases_total";
pub const LOCKS_EXPIRED: &str = "flashsale_locks_expired_total";
pub const IN_FLIGHT: &str = "flashsale_purchases_in_flight";
pub const HTTP_DURATION: &str = "flashsale_http_request_duration_seconds";

/// One strategy's counters and histograms, summed over the pages of every
/// instance at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockReading {
    pub instances: usize,
    pub wait: Buckets,
    pub hold: Buckets,
    pub expired: f64,
    /// `flashsale_purchases_total` by `outcome`.
    pub purchases: BTreeMap<String, f64>,
}

impl LockReading {
    /// Sums `strategy`'s series over `pages` (one per instance).
    pub fn of(pages: &[Exposition], strategy: &str) -> LockReading {
        let mut reading = LockReading {
            instances: pages.len(),
            ..LockReading::default()
        };
        let ours = [("strategy", strategy)];
        for page in pages {
            reading.wait = reading.wait.plus(&Buckets::read(page, LOCK_WAIT, &ours));
            reading.hold = reading.hold.plus(&Buckets::read(page, LOCK_HOLD, &ours));
            for sample in page.named(LOCKS_EXPIRED) {
                if sample.label("strategy") == Some(strategy) {
                    reading.expired += sample.value;
                }
            }
            for sample in page.named(PURCHASES) {
                if sample.label("strategy") == Some(strategy) {
                    let outcome = sample.label("outcome").unwrap_or("").to_string();
                    *reading.purchases.entry(outcome).or_default() += sample.value;
                }
            }
        }
        reading
    }

    /// What happened between `earlier` and this reading, as the report shows it.
    pub fn since(&self, earlier: &LockReading) -> LockMetrics {
        let wait = self.wait.since(&earlier.wait);
        let hold = self.hold.since(&earlier.hold);
        let ms = |buckets: &Buckets, q: f64| {
            buckets
                .quantile(q)
                .map(|seconds| (seconds * 1_000_000.0).round() / 1000.0)
        };
        let delta = |now: f64, then: f64| (now - then).max(0.0).round() as u64;
        LockMetrics {
            instances: self.instances,
            waits: delta(wait.count(), 0.0),
            wait_p50_ms: ms(&wait, 0.50),
            wait_p99_ms: ms(&wait, 0.99),
            holds: delta(hold.count(), 0.0),
            hold_p50_ms: ms(&hold, 0.50),
            hold_p99_ms: ms(&hold, 0.99),
            expired: delta(self.expired, earlier.expired),
            purchases: self
                .purchases
                .iter()
                .map(|(outcome, &now)| {
                    let then = earlier.purchases.get(outcome).copied().unwrap_or(0.0);
                    (outcome.clone(), delta(now, then))
                })
                .collect(),
        }
    }
}

impl LockMetrics {
    /// The percentiles no higher than `slowest_ms`, the slowest answer the
    /// generator saw: a buyer's wait for the lock and its hold both happen
    /// inside its purchase, so neither can outlast it. Interpolating inside
    /// a wide bucket (1.6–3.3 s) can land above every real value; capped, a
    /// percentile never claims more than was observed.
    pub fn capped_at(mut self, slowest_ms: Option<f64>) -> Self {
        if let Some(slowest) = slowest_ms {
            for value in [
                &mut self.wait_p50_ms,
                &mut self.wait_p99_ms,
                &mut self.hold_p50_ms,
                &mut self.hold_p99_ms,
            ]
            .into_iter()
            .flatten()
            {
                *value = value.min(slowest);
            }
        }
        self
    }
}

/// The lock's wait and hold times during one mode's crowd, from the
/// service's histograms (`flashsale_lock_wait_seconds`,
/// `flashsale_lock_hold_seconds`) and counters for that mode's strategy:
/// the difference between `GET /metrics` read just before the crowd and just
/// after it, summed over every instance. Percentiles are estimated from the
/// buckets as Prometheus' `histogram_quantile` does (linear within a bucket),
/// so they are only as fine as the service's buckets; `null` when no lock
/// was waited for or held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockMetrics {
    /// Instances whose `/metrics` were summed.
    pub instances: usize,
    /// Waits for the lock (each ended holding it, or giving up).
    pub waits: u64,
    pub wait_p50_ms: Option<f64>,
    pub wait_p99_ms: Option<f64>,
    /// Locks held (and released, or lost).
    pub holds: u64,
    pub hold_p50_ms: Option<f64>,
    pub hold_p99_ms: Option<f64>,
    /// Locks that expired before their holder released them.
    pub expired: u64,
    /// `flashsale_purchases_total` by `outcome`, as the service counted them.
    pub purchases: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page in the shape of the service's contract (names, labels,
    /// cumulative buckets, `_sum` and `_count`), written the way the
    /// `prometheus` crate's text encoder writes one: families sorted by name,
    /// `# HELP` and `# TYPE` before each.
    pub(crate) const SAMPLE: &str = include_str!("sample.prom");

    #[test]
    fn a_percentile_never_exceeds_the_slowest_answer_observed() {
        let metrics = LockMetrics {
            instances: 1,
            waits: 10,
            wait_p50_ms: Some(1200.0),
            wait_p99_ms: Some(3182.09),
            holds: 10,
            hold_p50_ms: Some(24.3),
            hold_p99_ms: Some(24.3),
            expired: 0,
            purchases: BTreeMap::new(),
        };
        let capped = metrics.clone().capped_at(Some(2707.0));
        assert_eq!(capped.wait_p99_ms, Some(2707.0));
        assert_eq!(capped.wait_p50_ms, Some(1200.0));
        assert_eq!(capped.hold_p99_ms, Some(24.3));
        assert_eq!(metrics.clone().capped_at(None), metrics);
    }

    /// The service's own `GET /metrics` (issue 9), captured after crowds of
    /// 100 with lock=none, redis and redis-failfast, stock 20, work 2 ms (each
    /// mode also had one probe purchase on an empty shelf).
    const CAPTURED: &str = include_str!("captured.prom");

    #[test]
    fn the_services_page_parses_and_each_histogram_is_whole() {
        let page = parse(CAPTURED).unwrap();

        for family in [LOCK_WAIT, LOCK_HOLD, HTTP_DURATION] {
            assert_eq!(page.types[family], "histogram");
            let name = format!("{family}_count");
            let counts: Vec<_> = page.named(&name).collect();
            assert!(!counts.is_empty(), "{family}");
            for count in counts {
                let labels: Vec<(&str, &str)> = count
                    .labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let buckets = Buckets::read(&page, family, &labels);
                assert_eq!(buckets.count(), count.value, "{family} {labels:?}");
            }
        }
        // Families without a series yet (no lock expired) are simply absent.
        assert!(page.named("flashsale_locks_expired_total").next().is_none());
    }

    #[test]
    fn the_services_page_tells_the_crowds_story() {
        let page = parse(CAPTURED).unwrap();

        let redis = LockReading::of(std::slice::from_ref(&page), "redis");
        let failfast = LockReading::of(std::slice::from_ref(&page), "redis-failfast");
        let none = LockReading::of(&[page], "none");

        assert_eq!(redis.purchases["sold"], 20.0);
        assert_eq!(redis.purchases["sold_out"], 81.0, "80 and the probe");
        assert_eq!((redis.wait.count(), redis.hold.count()), (101.0, 101.0));
        assert_eq!(failfast.purchases["busy"], 97.0);
        assert_eq!(
            failfast.hold.count(),
            4.0,
            "only those who got the lock held it"
        );
        assert_eq!(none.wait.count(), 0.0, "no lock, no wait");
        assert_eq!(redis.expired, 0.0);
        // The 50.5th of 101 waits is the 46.5th of the 48 in (0.1 ms, 0.2 ms];
        // the 99.99th the 2.99th of the 4 in (204.8 ms, 409.6 ms].
        let lock = redis.since(&LockReading::default());
        assert_eq!(lock.wait_p50_ms, Some(0.197));
        assert_eq!(lock.wait_p99_ms, Some(357.888));
    }

    #[test]
    fn the_contract_sample_parses_with_every_family() {
        let page = parse(SAMPLE).unwrap();

        for (family, kind) in [
            (LOCK_WAIT, "histogram"),
            (LOCK_HOLD, "histogram"),
            (PURCHASES, "counter"),
            (LOCKS_EXPIRED, "counter"),
            (IN_FLIGHT, "gauge"),
            (HTTP_DURATION, "histogram"),
        ] {
            assert_eq!(
                page.types.get(family).map(String::as_str),
                Some(kind),
                "{family}"
            );
        }
        let route = page
            .named("flashsale_http_request_duration_seconds_count")
            .find(|s| s.label("status") == Some("201"))
            .unwrap();
        assert_eq!(route.label("route"), Some("/api/products/{id}/purchase"));
        assert_eq!(route.label("method"), Some("POST"));
        assert_eq!(route.value, 100.0);
    }

    #[test]
    fn one_strategys_reading_sums_two_instances_and_leaves_the_others_out() {
        let page = parse(SAMPLE).unwrap();

        let reading = LockReading::of(&[page.clone(), page], "redis");

        assert_eq!(reading.instances, 2);
        assert_eq!(reading.wait.count(), 2000.0);
        assert_eq!(reading.hold.count(), 200.0);
        assert_eq!(reading.expired, 2.0);
        assert_eq!(reading.purchases["sold"], 200.0);
        assert_eq!(reading.purchases["sold_out"], 1800.0);
        assert!(
            !reading.purchases.contains_key("busy"),
            "redis-failfast's, not redis's"
        );
    }

    #[test]
    fn the_difference_of_two_readings_gives_the_crowds_percentiles_in_ms() {
        let before = LockReading::of(&[parse(SAMPLE).unwrap()], "redis");
        // The same page with the crowd's observations added: 100 more waits,
        // all in (0.25 s, 0.5 s], and 10 more holds in (5 ms, 10 ms].
        let after_page = SAMPLE
            .replace(
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"0.5\"} 900",
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"0.5\"} 1000",
            )
            .replace(
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"1\"} 950",
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"1\"} 1050",
            )
            .replace(
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"2.5\"} 1000",
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"2.5\"} 1100",
            )
            .replace(
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"+Inf\"} 1000",
                "flashsale_lock_wait_seconds_bucket{strategy=\"redis\",le=\"+Inf\"} 1100",
            )
            .replace(
                "flashsale_purchases_total{outcome=\"sold\",strategy=\"redis\"} 100",
                "flashsale_purchases_total{outcome=\"sold\",strategy=\"redis\"} 110",
            );
        let after = LockReading::of(&[parse(&after_page).unwrap()], "redis");

        let lock = after.since(&before);

        assert_eq!(lock.waits, 100);
        // The 50th of 100 in (250 ms, 500 ms], and the 99th.
        assert_eq!(lock.wait_p50_ms, Some(375.0));
        assert_eq!(lock.wait_p99_ms, Some(497.5));
        assert_eq!(
            (lock.holds, lock.hold_p50_ms, lock.hold_p99_ms),
            (0, None, None)
        );
        assert_eq!(lock.expired, 0);
        assert_eq!(lock.purchases["sold"], 10);
        assert_eq!(lock.purchases["sold_out"], 0);
    }

    #[test]
    fn a_strategy_the_page_does_not_mention_reads_as_nothing() {
        let reading = LockReading::of(&[parse(SAMPLE).unwrap()], "pg-atomic");

        let lock = reading.since(&reading);

        assert_eq!((lock.waits, lock.wait_p50_ms, lock.holds), (0, None, 0));
        assert!(lock.purchases.is_empty());
    }
}
