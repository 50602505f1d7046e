//! The lock's numbers, at `GET /metrics` in the Prometheus text format: how
//! long buyers wait for the lock and hold it, what each purchase came to,
//! locks that expired under their holder, purchases in flight, and the HTTP
//! request duration. One registry per instance (not a global one), so that
//! tests running several instances in one process count apart.
//!
//! The names are a contract (the load generator reads them):
//! `flashsale_lock_wait_seconds{strategy}`, `flashsale_lock_hold_seconds{strategy}`,
//! `flashsale_purchases_total{strategy,outcome}`,
//! `flashsale_locks_expired_total{strategy}`,
//! `flashsale_purchases_in_flight{strategy}`,
//! `flashsale_http_request_duration_seconds{route,method,status}`.
//!
//! Every label has a fixed set of values, whatever the traffic: a strategy
//! and an outcome are ours; `route` is a registered pattern or `unmatched`,
//! never a path; `method` is one of HTTP's nine or `other`; `status` is a
//! three-digit code. A label fed from the request as sent (20,000 made-up
//! methods made a 49 MB scrape) would grow the registry without bound.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::lock::Strategy;
use crate::outcome::Refusal;

pub struct Metrics {
    registry: Registry,
    lock_wait: HistogramVec,
    lock_hold: HistogramVec,
    purchases: IntCounterVec,
    locks_expired: IntCounterVec,
    in_flight: IntGaugeVec,
    http_duration: HistogramVec,
}

/// An HTTP request: 50 µs to about 52 s, doubling.
fn request_buckets() -> Vec<f64> {
    prometheus::exponential_buckets(0.000_05, 2.0, 21).expect("valid buckets")
}

/// A lock's wait and hold: 10 µs to 31.5 s, ten a decade (the R10 preferred
/// numbers, about ×1.26 each). Holds bunch up just above the work (20 ms of
/// work holds 21–25 ms): doubling buckets put every strategy's in one bucket,
/// and interpolating in it gave all of them the same p99.
pub fn lock_buckets() -> Vec<f64> {
    const R10: [&str; 10] = ["1", "1.25", "1.6", "2", "2.5", "3.15", "4", "5", "6.3", "8"];
    (-5..=1)
        .flat_map(|decade| R10.map(|mantissa| format!("{mantissa}e{decade}")))
        // Parsed from the decimal, so `le` reads 0.0016, not 0.0016000000000000003.
        .map(|bound| bound.parse::<f64>().expect("a decimal"))
        .take_while(|&bound| bound <= 31.5)
        .collect()
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: Vec<f64>| {
            let vec = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
                .expect("valid histogram");
            registry
                .register(Box::new(vec.clone()))
                .expect("registered once");
            vec
        };
        let lock_wait = histogram(
            "flashsale_lock_wait_seconds",
            "Time from asking for the lock to holding it (or giving up)",
            &["strategy"],
            lock_buckets(),
        );
        let lock_hold = histogram(
            "flashsale_lock_hold_seconds",
            "Time the lock was held (the critical section)",
            &["strategy"],
            lock_buckets(),
        );
        let http_duration = histogram(
            "flashsale_http_request_duration_seconds",
            "HTTP request duration by route, method and status",
            &["route", "method", "status"],
            request_buckets(),
        );
        let purchases = IntCounterVec::new(
            Opts::new(
                "flashsale_purchases_total",
                "Purchases by strategy and outcome",
            ),
            &["strategy", "outcome"],
        )
        .expect("valid counter");
        let locks_expired = IntCounterVec::new(
            Opts::new(
                "flashsale_locks_expired_total",
                "Locks that had expired when their holder released them",
            ),
            &["strategy"],
        )
        .expect("valid counter");
        let in_flight = IntGaugeVec::new(
            Opts::new("flashsale_purchases_in_flight", "Purchases running now"),
            &["strategy"],
        )
        .expect("valid gauge");
        for collector in [
            Box::new(purchases.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(locks_expired.clone()),
            Box::new(in_flight.clone()),
        ] {
            registry.register(collector).expect("registered once");
        }
        Self {
            registry,
            lock_wait,
            lock_hold,
            purchases,
            locks_expired,
            in_flight,
            http_duration,
        }
    }
}

impl Metrics {
    pub fn lock_waited(&self, strategy: Strategy, waited: Duration) {
        self.lock_wait
            .with_label_values(&[strategy.as_str()])
            .observe(waited.as_secs_f64());
    }

    pub fn lock_held(&self, strategy: Strategy, held: Duration) {
        self.lock_hold
            .with_label_values(&[strategy.as_str()])
            .observe(held.as_secs_f64());
    }

    pub fn lock_expired(&self, strategy: Strategy) {
        self.locks_expired
            .with_label_values(&[strategy.as_str()])
            .inc();
    }

    /// One purchase finished: `None` when it sold.
    pub fn purchased(&self, strategy: Strategy, refusal: Option<Refusal>) {
        let outcome = match refusal {
            None => "sold",
            Some(Refusal::SoldOut) => "sold_out",
            Some(Refusal::Busy) => "busy",
            Some(Refusal::LockLost) => "lock_lost",
            Some(Refusal::Restocked) => "restocked",
            Some(Refusal::LimitReached) => "limit_reached",
            Some(Refusal::Unavailable) => "unavailable",
            Some(Refusal::Failed) => "failed",
        };
        self.purchases
            .with_label_values(&[strategy.as_str(), outcome])
            .inc();
    }

    /// A purchase is running until the returned guard is dropped.
    pub fn in_flight(&self, strategy: Strategy) -> InFlight {
        let gauge = self.in_flight.with_label_values(&[strategy.as_str()]);
        gauge.inc();
        InFlight(gauge)
    }

    /// One request answered. `route` must be a registered pattern (or
    /// `unmatched`); the method is named only when HTTP defines it.
    pub fn http_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.http_duration
            .with_label_values(&[route, method_label(method), &status.to_string()])
            .observe(took.as_secs_f64());
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("encoding to memory does not fail");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

/// The method as a label: HTTP's own nine by name, any other token `other`.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

pub struct InFlight(prometheus::IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_buckets_run_from_10_us_to_31_5_s_ten_a_decade() {
        let buckets = lock_buckets();

        assert_eq!(buckets.len(), 66);
        assert_eq!(buckets[..4], [0.000_01, 0.000_012_5, 0.000_016, 0.000_02]);
        assert_eq!(buckets[buckets.len() - 4..], [16.0, 20.0, 25.0, 31.5]);
        // The bounds around a 20 ms hold, as `le` shows them.
        let around: Vec<String> = buckets[32..36].iter().map(f64::to_string).collect();
        assert_eq!(around, ["0.016", "0.02", "0.025", "0.0315"]);
        for pair in buckets.windows(2) {
            let ratio = pair[1] / pair[0];
            assert!((1.2..=1.3).contains(&ratio), "{pair:?}");
        }
    }

    #[test]
    fn a_method_is_named_only_when_http_defines_it() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PATCH"), "PATCH");
        for made_up in ["get", "M0001", "PROPFIND", ""] {
            assert_eq!(method_label(made_up), "other", "{made_up}");
        }
    }
}
