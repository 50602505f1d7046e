//! A Prometheus histogram as the generator reads it: cumulative bucket
//! counts by upper bound (`le`), summed over series and instances, a
//! difference between two readings, and quantiles estimated as Prometheus'
//! `histogram_quantile` does.

use super::text::{Exposition, number};

/// Cumulative counts by upper bound, sorted by bound; the last bound is
/// `+Inf` when the histogram is whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets {
    /// `(le, observations ≤ le)`, ascending by `le`.
    pub cumulative: Vec<(f64, f64)>,
}

impl Buckets {
    /// The `{family}_bucket` series of `exposition` whose labels include
    /// every pair of `matching`, summed by `le` (the other labels are summed
    /// over, as `sum by (le)` does).
    pub fn read(exposition: &Exposition, family: &str, matching: &[(&str, &str)]) -> Buckets {
        let name = format!("{family}_bucket");
        let mut buckets = Buckets::default();
        for sample in exposition.named(&name) {
            if !matching
                .iter()
                .all(|(label, value)| sample.label(label) == Some(value))
            {
                continue;
            }
            if let Some(le) = sample.label("le").and_then(number) {
                buckets.add_to(le, sample.value);
            }
        }
        buckets
    }

    fn add_to(&mut self, le: f64, count: f64) {
        match self.cumulative.iter().position(|&(bound, _)| bound >= le) {
            Some(i) if self.cumulative[i].0 == le => self.cumulative[i].1 += count,
            Some(i) => self.cumulative.insert(i, (le, count)),
            None => self.cumulative.push((le, count)),
        }
    }

    /// The sum of two histograms (two instances), bucket by bucket.
    pub fn plus(&self, other: &Buckets) -> Buckets {
        let mut sum = self.clone();
        for &(le, count) in &other.cumulative {
            sum.add_to(le, count);
        }
        sum
    }

    /// What was observed between `earlier` and this reading: bucket by
    /// bucket, never below 0 (an instance restarted in between counts from
    /// 0 again).
    pub fn since(&self, earlier: &Buckets) -> Buckets {
        let before = |le: f64| {
            earlier
                .cumulative
                .iter()
                .find(|&&(bound, _)| bound == le)
                .map_or(0.0, |&(_, count)| count)
        };
        Buckets {
            cumulative: self
                .cumulative
                .iter()
                .map(|&(le, count)| (le, (count - before(le)).max(0.0)))
                .collect(),
        }
    }

    /// Observations in all (the `+Inf` bucket); 0 for a histogram without one.
    pub fn count(&self) -> f64 {
        match self.cumulative.last() {
            Some(&(le, count)) if le == f64::INFINITY => count,
            _ => 0.0,
        }
    }

    /// The `q`-quantile (0 ≤ q ≤ 1), estimated as Prometheus'
    /// `histogram_quantile` does: find the bucket where the `q × count`-th
    /// observation falls and interpolate linearly between its lower and upper
    /// bound (the first bucket starts at 0 when its bound is positive). An
    /// estimate that falls in the `+Inf` bucket is the highest finite bound:
    /// it only says "at least this". `None` without observations or without
    /// a `+Inf` bucket.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let buckets = monotonic(&self.cumulative);
        let total = self.count();
        if total <= 0.0 || buckets.len() < 2 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total;
        let finite = &buckets[..buckets.len() - 1];
        let Some(b) = finite.iter().position(|&(_, count)| count >= rank) else {
            return Some(finite[finite.len() - 1].0);
        };
        let (upper, count) = buckets[b];
        if b == 0 {
            return Some(if upper <= 0.0 || count <= 0.0 {
                upper.min(0.0)
            } else {
                upper * rank / count
            });
        }
        let (lower, below) = buckets[b - 1];
        Some(lower + (upper - lower) * (rank - below) / (count - below))
    }
}

/// Counts made non-decreasing with the bound (a scrape that caught a bucket
/// mid-update can be off by one), as Prometheus does before estimating.
fn monotonic(cumulative: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut highest = 0.0_f64;
    cumulative
        .iter()
        .map(|&(le, count)| {
            highest = highest.max(count);
            (le, highest)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Buckets {
        let mut b = Buckets::default();
        for &(le, count) in pairs {
            b.add_to(le, count);
        }
        b
    }

    const INF: f64 = f64::INFINITY;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn a_quantile_is_interpolated_linearly_within_its_bucket() {
        // 100 observations: 10 up to 1 ms, 60 more up to 5 ms, 30 more up to 10 ms.
        let h = buckets(&[(0.001, 10.0), (0.005, 70.0), (0.01, 100.0), (INF, 100.0)]);

        // The 50th observation is the 40th of the 60 in (1 ms, 5 ms].
        assert!(close(h.quantile(0.5), 0.001 + 0.004 * 40.0 / 60.0));
        // The 99th is the 29th of the 30 in (5 ms, 10 ms].
        assert!(close(h.quantile(0.99), 0.005 + 0.005 * 29.0 / 30.0));
        // The 5th is in the first bucket, which starts at 0.
        assert!(close(h.quantile(0.05), 0.001 * 5.0 / 10.0));
        assert!(close(h.quantile(1.0), 0.01));
        assert!(close(h.quantile(0.0), 0.0));
    }

    #[test]
    fn a_quantile_in_the_inf_bucket_is_the_highest_finite_bound() {
        let h = buckets(&[(0.1, 50.0), (1.0, 90.0), (INF, 100.0)]);

        assert!(close(h.quantile(0.99), 1.0));
        assert!(
            close(h.quantile(0.9), 1.0),
            "exactly at the bound: its bucket"
        );
    }

    #[test]
    fn no_quantile_without_observations_or_without_an_inf_bucket() {
        assert_eq!(buckets(&[(0.1, 0.0), (INF, 0.0)]).quantile(0.5), None);
        assert_eq!(buckets(&[(0.1, 5.0), (1.0, 9.0)]).quantile(0.5), None);
        assert_eq!(Buckets::default().quantile(0.5), None);
        assert_eq!(buckets(&[(0.1, 5.0), (INF, 5.0)]).quantile(1.5), None);
    }

    #[test]
    fn a_bucket_caught_mid_update_does_not_break_the_estimate() {
        // 0.5 s counted one more than 1 s: read as 1 s having 41 too.
        let h = buckets(&[(0.5, 41.0), (1.0, 40.0), (2.0, 50.0), (INF, 50.0)]);

        // The 45th observation is the 4th of the 9 in (1 s, 2 s].
        assert!(close(h.quantile(0.9), 1.0 + 4.0 / 9.0));
        assert!(close(h.quantile(0.5), 0.5 * 25.0 / 41.0));
    }

    #[test]
    fn two_instances_add_up_by_bound_and_two_readings_subtract() {
        let first = buckets(&[(0.1, 3.0), (1.0, 4.0), (INF, 4.0)]);
        let second = buckets(&[(0.1, 1.0), (1.0, 5.0), (INF, 6.0)]);
        let sum = first.plus(&second);
        assert_eq!(sum.cumulative, [(0.1, 4.0), (1.0, 9.0), (INF, 10.0)]);

        let later = buckets(&[(0.1, 6.0), (1.0, 12.0), (INF, 15.0)]);
        let delta = later.since(&sum);
        assert_eq!(delta.cumulative, [(0.1, 2.0), (1.0, 3.0), (INF, 5.0)]);
        assert_eq!(delta.count(), 5.0);

        // An instance restarted in between: nothing negative.
        let restarted = buckets(&[(0.1, 1.0), (1.0, 1.0), (INF, 1.0)]);
        assert_eq!(restarted.since(&sum).count(), 0.0);
    }
}
