//! `--repeat N`: one mode run N times. A single run varies a lot (a sold p99
//! of 35 ms, then 1 s, for the same command), so the report keeps every
//! run's throughput, p99 and verdict, and the median and the spread
//! (min–max) of both. The mode's other fields are those of one run: the
//! first that failed its verdict, else the median run by throughput.

use serde::{Deserialize, Serialize};

use super::latency::round3;
use super::{FRONT_DOOR, ModeReport, Verdict};

/// Every run of a mode, and the spread of its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    /// Which run (from 1) the mode's other fields come from.
    pub shown_run: usize,
    /// Runs whose verdict was not safe: any fails the mode.
    pub failed: usize,
    pub purchases_per_s: Spread,
    pub requests_per_s: Spread,
    /// The sold purchases' p99 (`null` when no run sold anything).
    pub sold_p99_ms: Option<Spread>,
    /// Every answer's p99 (`null` when no run got an answer).
    pub p99_ms: Option<Spread>,
    /// In the order they ran.
    pub runs: Vec<Run>,
}

/// One run's numbers, as its own mode report has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub elapsed_s: f64,
    pub requests_per_s: f64,
    pub purchases_per_s: f64,
    pub sold_p99_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// `null` for `--get`.
    pub verdict: Option<Verdict>,
}

/// The median of the runs, and the lowest and highest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no values. The median of an even count is the mean of the
    /// two in the middle.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[middle]
        } else {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        };
        Some(Spread {
            median: round3(median),
            min,
            max,
        })
    }
}

impl Run {
    fn of(mode: &ModeReport) -> Run {
        Run {
            elapsed_s: mode.elapsed_s,
            requests_per_s: mode.throughput.requests_per_s,
            purchases_per_s: mode.throughput.purchases_per_s,
            sold_p99_ms: mode.latency_ms.sold.as_ref().map(|l| l.p99),
            p99_ms: mode.latency_ms.all.as_ref().map(|l| l.p99),
            verdict: mode.verdict.clone(),
        }
    }

    fn failed(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| !v.safe)
    }
}

/// Whether a mode is measured by its answers (the front door, `--get`)
/// rather than by its sales.
pub fn measured_by_answers(mode: &ModeReport) -> bool {
    mode.mode == FRONT_DOOR || mode.verdict.is_none()
}

impl ModeReport {
    /// One mode's runs as one report: a single run as it is; several as the
    /// shown run (the first that failed, else the median by throughput)
    /// with every run's numbers in `repeat`.
    ///
    /// # Panics
    /// With no run at all.
    pub fn of_runs(mut runs: Vec<ModeReport>) -> ModeReport {
        assert!(!runs.is_empty(), "a mode runs at least once");
        if runs.len() == 1 {
            return runs.pop().expect("one run");
        }
        let summaries: Vec<Run> = runs.iter().map(Run::of).collect();
        let by_answers = measured_by_answers(&runs[0]);
        let throughput = |run: &Run| {
            if by_answers {
                run.requests_per_s
            } else {
                run.purchases_per_s
            }
        };
        let mut order: Vec<usize> = (0..runs.len()).collect();
        order.sort_by(|&a, &b| throughput(&summaries[a]).total_cmp(&throughput(&summaries[b])));
        let shown = summaries
            .iter()
            .position(Run::failed)
            .unwrap_or(order[(order.len() - 1) / 2]);
        let spread = |f: &dyn Fn(&Run) -> Option<f64>| {
            Spread::of(&summaries.iter().filter_map(f).collect::<Vec<_>>())
        };
        let repeat = Repeat {
            shown_run: shown + 1,
            failed: summaries.iter().filter(|r| r.failed()).count(),
            purchases_per_s: spread(&|r| Some(r.purchases_per_s)).expect("at least one run"),
            requests_per_s: spread(&|r| Some(r.requests_per_s)).expect("at least one run"),
            sold_p99_ms: spread(&|r| r.sold_p99_ms),
            p99_ms: spread(&|r| r.p99_ms),
            runs: summaries,
        };
        let mut mode = runs.swap_remove(shown);
        mode.repeat = Some(repeat);
        mode
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::service::Product;
    use crate::stats::{Answer, Stats};

    fn run(mode: &str, sold: u64, sold_us: u64, elapsed_ms: u64, orders: i64) -> ModeReport {
        let mut stats = Stats::new();
        for _ in 0..sold {
            stats.sent += 1;
            stats.record(Answer::Sold, sold_us);
        }
        stats.elapsed = Duration::from_millis(elapsed_ms);
        let product = Product {
            id: 1,
            name: "Phone".into(),
            initial_stock: 100,
            stock: 0,
            orders,
            oversold: (orders - 100).max(0),
            lost_updates: 0,
            duplicates: 0,
            queued: None,
        };
        ModeReport::new(mode, &stats, Some(&product))
    }

    #[test]
    fn the_median_and_the_spread_come_from_every_run() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Some(Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert_eq!(Spread::of(&[4.0, 1.0]).map(|s| s.median), Some(2.5));
        assert_eq!(Spread::of(&[]), None);
    }

    #[test]
    fn a_single_run_is_reported_as_it_is() {
        let once = run("redis", 100, 5_000, 1_000, 100);
        assert_eq!(ModeReport::of_runs(vec![once.clone()]), once);
    }

    #[test]
    fn safe_runs_show_the_median_run_and_the_spread_of_all() {
        // 100 sales in 2 s, 1 s and 4 s: 50, 100 and 25 purchases/s.
        let runs = vec![
            run("redis", 100, 35_000, 2_000, 100),
            run("redis", 100, 1_039_000, 1_000, 100),
            run("redis", 100, 20_000, 4_000, 100),
        ];
        let mode = ModeReport::of_runs(runs);
        let repeat = mode.repeat.as_ref().unwrap();

        assert_eq!(repeat.shown_run, 1);
        assert_eq!(mode.throughput.purchases_per_s, 50.0);
        assert_eq!(repeat.failed, 0);
        assert_eq!(
            repeat.purchases_per_s,
            Spread {
                median: 50.0,
                min: 25.0,
                max: 100.0
            }
        );
        // As the histograms keep them: three significant digits.
        let p99 = repeat.sold_p99_ms.unwrap();
        assert_eq!((p99.min, p99.median), (20.015, 35.007));
        assert!((p99.max - 1039.0).abs() < 1.0, "{p99:?}");
        assert_eq!(repeat.runs.len(), 3);
        assert!(mode.verdict.as_ref().unwrap().safe);
    }

    #[test]
    fn one_failed_run_fails_the_mode_and_is_the_one_shown() {
        let runs = vec![
            run("redis", 100, 5_000, 1_000, 100),
            run("redis", 100, 5_000, 1_000, 100),
            run("redis", 103, 5_000, 1_000, 103),
        ];
        let mode = ModeReport::of_runs(runs);
        let repeat = mode.repeat.as_ref().unwrap();

        assert_eq!((repeat.shown_run, repeat.failed), (3, 1));
        assert!(!mode.verdict.as_ref().unwrap().safe);
        assert_eq!(mode.server.as_ref().unwrap().oversold, 3);
        let safe: Vec<bool> = repeat
            .runs
            .iter()
            .map(|r| r.verdict.as_ref().unwrap().safe)
            .collect();
        assert_eq!(safe, [true, true, false]);
    }
}
