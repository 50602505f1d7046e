//! How far the slowest purchases are from first come, first served.

use serde::{Deserialize, Serialize};

use super::latency::round3;
use super::{FRONT_DOOR, ModeReport, Requests};

/// The p99 of sold purchases against the wait of a first-come, first-served
/// queue: with `in_flight` buyers in flight at once and purchases leaving at
/// `purchases_per_s`, a FIFO queue makes each wait `in_flight /
/// purchases_per_s`. A fair lock keeps `ratio` near 1; a spin lock, where a
/// buyer arriving just as the lock frees takes it before those asleep in
/// their retry, can be tens of times over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fairness {
    pub fifo_wait_ms: f64,
    pub sold_p99_ms: f64,
    /// `sold_p99_ms / fifo_wait_ms`.
    pub ratio: f64,
    /// The buyers in flight at once that the FIFO wait is computed with (0
    /// in reports older than version 5, which used `--concurrency`).
    #[serde(default)]
    pub in_flight: u64,
}

impl Fairness {
    /// At least this share of the answers must be sales for the purchases
    /// per second to measure the queue.
    pub const MIN_SOLD_SHARE: f64 = 0.9;

    /// Only where a FIFO wait means something: a closed-model crowd (every
    /// worker sends again as soon as it is answered) of purchases behind a
    /// lock or guard (not `lock=none`, nor the front door: nobody waits for
    /// anybody there) where at least 90 % of the answers were sales (the
    /// stock did not run out, few gave up).
    pub fn of(mode: &ModeReport, concurrency: usize, closed_model: bool) -> Option<Fairness> {
        let sold = mode.latency_ms.sold.as_ref()?;
        let per_s = mode.throughput.purchases_per_s;
        let sales = mode.requests.sold_201 + mode.requests.accepted_202;
        let share = sales as f64 / mode.requests.completed.max(1) as f64;
        let unguarded = mode.mode == "none" || mode.mode == FRONT_DOOR;
        if !closed_model
            || unguarded
            || mode.verdict.is_none()
            || share < Self::MIN_SOLD_SHARE
            || per_s <= 0.0
        {
            return None;
        }
        let in_flight = Self::in_flight(concurrency, &mode.requests);
        let fifo_wait_ms = in_flight as f64 / per_s * 1000.0;
        Some(Fairness {
            fifo_wait_ms: round3(fifo_wait_ms),
            sold_p99_ms: sold.p99,
            ratio: (sold.p99 / fifo_wait_ms * 100.0).round() / 100.0,
            in_flight,
        })
    }

    /// The buyers that actually ran at once: the measured peak of requests
    /// in flight, never more than the workers or the requests sent (a report
    /// without the peak falls back on those two).
    pub fn in_flight(concurrency: usize, requests: &Requests) -> u64 {
        let bound = (concurrency as u64).min(requests.sent).max(1);
        match requests.peak_in_flight {
            0 => bound,
            peak => peak.min(bound),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::service::Product;
    use crate::stats::{Answer, Stats};

    fn endless_stock() -> Product {
        Product {
            id: 1,
            name: "p".into(),
            initial_stock: 1_000_000,
            stock: 999_000,
            orders: 1000,
            oversold: 0,
            lost_updates: 0,
            duplicates: 0,
            queued: None,
        }
    }

    /// `sales` purchases in 2 s, the slowest 2 % at 1.28 s, with at most
    /// `peak` requests in flight.
    fn sold(mode: &str, sales: u64, peak: u64) -> ModeReport {
        let mut stats = Stats::new();
        for i in 0..sales {
            stats.record(
                Answer::Sold,
                if i < sales * 98 / 100 {
                    2_000
                } else {
                    1_280_000
                },
            );
        }
        stats.sent = sales;
        stats.peak_in_flight = peak;
        stats.elapsed = Duration::from_secs(2);
        ModeReport::new(mode, &stats, Some(&endless_stock()))
    }

    #[test]
    fn fairness_compares_the_sold_p99_with_the_wait_of_a_fifo_queue() {
        // 64 buyers in flight, 1000 purchases in 2 s (500/s): a FIFO queue
        // makes each wait 64 / 500 s = 128 ms.
        let mode = sold("redis", 1000, 64);

        let fairness = Fairness::of(&mode, 64, true).unwrap();

        assert_eq!(fairness.in_flight, 64);
        assert_eq!(fairness.fifo_wait_ms, 128.0);
        assert!(
            (1279.0..1282.0).contains(&fairness.sold_p99_ms),
            "{fairness:?}"
        );
        // 1280 ms as the histogram keeps it (3 significant digits).
        assert!((10.0..=10.01).contains(&fairness.ratio), "{fairness:?}");
        assert_eq!(Fairness::of(&mode, 64, false), None, "open model");
    }

    #[test]
    fn fairness_divides_by_the_buyers_that_ran_at_once_not_by_the_concurrency() {
        // --requests 10 --concurrency 200: at most 10 buyers ever in
        // flight, 5 per second.
        let mode = sold("redis", 10, 10);

        let fairness = Fairness::of(&mode, 200, true).unwrap();

        assert_eq!(fairness.in_flight, 10);
        assert_eq!(fairness.fifo_wait_ms, 2000.0);
        // Fewer in flight than requests: the measured peak.
        assert_eq!(
            Fairness::of(&sold("redis", 10, 4), 200, true)
                .unwrap()
                .in_flight,
            4
        );
    }

    #[test]
    fn the_buyers_in_flight_are_the_peak_bounded_by_workers_and_requests() {
        let requests = |sent, peak_in_flight| Requests {
            sent,
            peak_in_flight,
            ..sold("redis", 0, 0).requests
        };
        assert_eq!(Fairness::in_flight(200, &requests(10, 10)), 10);
        assert_eq!(
            Fairness::in_flight(200, &requests(10, 0)),
            10,
            "an older report"
        );
        assert_eq!(Fairness::in_flight(64, &requests(20_000, 0)), 64);
        assert_eq!(Fairness::in_flight(64, &requests(20_000, 51)), 51);
        assert_eq!(Fairness::in_flight(64, &requests(0, 0)), 1);
    }

    #[test]
    fn fairness_is_left_out_for_the_lock_off_and_the_front_door() {
        assert_eq!(Fairness::of(&sold("none", 1000, 64), 64, true), None);
        assert_eq!(Fairness::of(&sold(FRONT_DOOR, 1000, 64), 64, true), None);
        assert!(Fairness::of(&sold("pg-atomic", 1000, 64), 64, true).is_some());
    }

    #[test]
    fn fairness_is_left_out_when_most_buyers_did_not_buy() {
        let mut stats = Stats::new();
        stats.record(Answer::Sold, 1_000);
        for _ in 0..9 {
            stats.record(Answer::Busy, 5_000);
        }
        stats.elapsed = Duration::from_secs(1);
        let failfast = ModeReport::new("redis-failfast", &stats, Some(&endless_stock()));
        assert_eq!(Fairness::of(&failfast, 10, true), None);

        let mut stats = Stats::new();
        stats.elapsed = Duration::from_secs(1);
        let nothing = ModeReport::new("broken-lua-nil", &stats, Some(&endless_stock()));
        assert_eq!(Fairness::of(&nothing, 10, true), None);
    }
}
