//! How fast, in the report: latency by outcome from the crowd's histograms,
//! and answers over time.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::stats::{BUCKET, Stats};

/// Latency in milliseconds, by outcome; an outcome nobody got is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyByOutcome {
    pub all: Option<Latency>,
    /// 201 and 202.
    pub sold: Option<Latency>,
    /// 409 `sold_out`.
    pub sold_out: Option<Latency>,
    /// 409 `lock_lost`.
    #[serde(default)]
    pub lock_lost: Option<Latency>,
    /// 429.
    pub busy: Option<Latency>,
    /// Any other answer (a 409 `restocked` included).
    pub other: Option<Latency>,
    /// Every refusal together: 409 `sold_out`, 409 `lock_lost` and 429.
    #[serde(default)]
    pub refused: Option<Latency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
}

/// Answers counted by the moment they arrived, in buckets of `bucket_ms`
/// from the start of the crowd; the last bucket may be cut short by the end
/// of the crowd (`elapsed_s`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_ms: u64,
    /// HTTP answers (any status) per bucket.
    pub completed: Vec<u64>,
    /// Sales (201s and 202s) per bucket.
    pub sold: Vec<u64>,
}

impl Timeline {
    pub(super) fn of(stats: &Stats) -> Timeline {
        let bucket_us = BUCKET.as_micros();
        let covering = stats.elapsed.as_micros().div_ceil(bucket_us) as usize;
        let len = covering.max(stats.answered_per_bucket.len());
        let widen = |counts: &[u32]| {
            let mut counts: Vec<u64> = counts.iter().map(|&n| u64::from(n)).collect();
            counts.resize(len, 0);
            counts
        };
        Timeline {
            bucket_ms: BUCKET.as_millis() as u64,
            completed: widen(&stats.answered_per_bucket),
            sold: widen(&stats.sold_per_bucket),
        }
    }

    /// How long bucket `i` lasted, in seconds: `bucket_ms`, except the last
    /// one, which ends with the crowd.
    pub fn bucket_s(&self, i: usize, elapsed_s: f64) -> f64 {
        let width = Duration::from_millis(self.bucket_ms).as_secs_f64();
        let left = elapsed_s - i as f64 * width;
        // At least a millisecond, so a bucket cut to nothing by rounding
        // does not make a rate out of thin air.
        left.clamp(0.001, width)
    }
}

pub(super) fn ms(us: u64) -> f64 {
    // Three decimals: microsecond resolution.
    us as f64 / 1000.0
}

pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Option<Latency> {
        if histogram.is_empty() {
            return None;
        }
        Some(Latency {
            count: histogram.len(),
            mean: round3(histogram.mean() / 1000.0),
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p99_9: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        })
    }
}
