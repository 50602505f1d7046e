//! `--shard FILE` and `flashsale-loadtest merge`: one crowd sent from
//! several machines at once, reported as one.
//!
//! A shard run sends its crowd as any run does, but neither restocks before
//! it (the others may already be buying) nor reads the product back after it
//! (the others may still be buying): it saves what it counted to a file, its
//! latency histograms in HdrHistogram's V2 format. `merge` adds the shards:
//! counts are summed and histograms added bucket by bucket, so a percentile
//! is that of every request of every shard, never an average of the shards'
//! percentiles; the timelines are laid on one clock (each shard's wall-clock
//! start), and the crowd lasts from the first shard's start to the last
//! shard's end. Given `--url`, `merge` then waits for the product's queue to
//! drain and reads the verdict from the service, as a single run does.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

use crate::cli::Config;
use crate::crowd::Stop;
use crate::http::TransportError;
use crate::report::Parameters;
use crate::stats::{Answer, BUCKET, Connects, Outcome, Stats};

/// What the `kind` field of a shard file says: a JSON report or any other
/// JSON given to `merge` is told apart by it.
pub const KIND: &str = "flashsale-loadtest shard";

/// The shard file's format; `merge` refuses a version it does not know.
pub const SHARD_VERSION: u32 = 1;

/// One shard's crowd, as saved by `--shard FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub kind: String,
    pub shard_version: u32,
    /// What every shard of one crowd must share.
    pub mode: String,
    pub product: u64,
    pub work_ms: u64,
    pub ttl_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    pub pause_ms: Option<u64>,
    /// How this shard sent it.
    pub urls: Vec<String>,
    pub concurrency: usize,
    pub requests: Option<u64>,
    pub duration_s: Option<f64>,
    pub rate: Option<f64>,
    pub timeout_s: f64,
    pub buyers: Option<u64>,
    pub duplicate_check: Option<String>,
    pub retry: u32,
    /// Its buyers are `lt-{run_id}-{mode}-{n}`: one id per shard, so two
    /// shards' buyers are never one.
    pub run_id: String,
    /// When its crowd started (wall clock, µs since the Unix epoch) and how
    /// long it lasted.
    pub started_at_unix_us: u64,
    pub elapsed_us: u64,
    pub counts: Counts,
    /// Latencies in µs by outcome (`sold`, `sold_out`, `lock_lost`, `busy`,
    /// `other`), each a base64 HdrHistogram V2 serialization; an outcome
    /// nobody got is absent.
    pub latency_v2: BTreeMap<String, String>,
}

/// A shard's tallies, as [`Stats`] keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub sent: u64,
    pub retries: u64,
    pub sold_201: u64,
    pub accepted_202: u64,
    pub sold_out_409: u64,
    pub lock_lost_409: u64,
    pub restocked_409: u64,
    pub busy_429: u64,
    pub other_2xx: u64,
    pub other_4xx: u64,
    pub server_5xx: u64,
    pub other_status: u64,
    pub connect_errors: u64,
    pub timeouts: u64,
    pub resets: u64,
    pub other_errors: u64,
    pub started_late: u64,
    pub max_start_lag_us: u64,
    pub peak_in_flight: u64,
    /// Answers and sales per 100 ms since this shard's start.
    pub answered_per_bucket: Vec<u32>,
    pub sold_per_bucket: Vec<u32>,
    /// Connect times (µs) before and during the crowd, and failed connects.
    pub connect_us_before: Vec<u64>,
    pub connects_failed_before: u64,
    pub connect_us_during: Vec<u64>,
    pub connects_failed_during: u64,
}

const OUTCOMES: [(Outcome, &str); Outcome::COUNT] = [
    (Outcome::Sold, "sold"),
    (Outcome::SoldOut, "sold_out"),
    (Outcome::LockLost, "lock_lost"),
    (Outcome::Busy, "busy"),
    (Outcome::Other, "other"),
];

impl Shard {
    /// The crowd of `mode` that `config` asked for, its buyers named after
    /// `run_id`, as a shard; `ended` is the wall-clock moment it ended.
    pub fn of(
        config: &Config,
        mode: &str,
        run_id: &str,
        stats: &Stats,
        ended: SystemTime,
    ) -> Shard {
        let ended_us = ended
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let elapsed_us = stats.elapsed.as_micros() as u64;
        let (requests, duration_s) = match config.stop {
            Stop::Requests(n) => (Some(n), None),
            Stop::Duration(d) => (None, Some(d.as_secs_f64())),
        };
        let answer = |a: Answer| stats.count(a);
        let transport = |kind: TransportError| stats.transport[kind.index()];
        let latency_v2 = OUTCOMES
            .iter()
            .filter(|(outcome, _)| !stats.latency(*outcome).is_empty())
            .map(|(outcome, name)| (name.to_string(), encode(stats.latency(*outcome))))
            .collect();
        Shard {
            kind: KIND.to_string(),
            shard_version: SHARD_VERSION,
            mode: mode.to_string(),
            product: config.product,
            work_ms: config.knobs.work_ms,
            ttl_ms: config.knobs.ttl_ms,
            deadline_ms: config.knobs.deadline_ms,
            pause_ms: config.knobs.pause_ms,
            urls: config.targets.iter().map(|t| t.url.clone()).collect(),
            concurrency: config.concurrency,
            requests,
            duration_s,
            rate: config.rate,
            timeout_s: config.timeout.as_secs_f64(),
            buyers: config.buyers,
            duplicate_check: config.duplicate_check.clone(),
            retry: config.retry,
            run_id: run_id.to_string(),
            started_at_unix_us: ended_us.saturating_sub(elapsed_us),
            elapsed_us,
            counts: Counts {
                sent: stats.sent,
                retries: stats.retries,
                sold_201: answer(Answer::Sold),
                accepted_202: answer(Answer::Accepted),
                sold_out_409: answer(Answer::SoldOut),
                lock_lost_409: answer(Answer::LockLost),
                restocked_409: answer(Answer::Restocked),
                busy_429: answer(Answer::Busy),
                other_2xx: answer(Answer::Other2xx),
                other_4xx: answer(Answer::Other4xx),
                server_5xx: answer(Answer::Server5xx),
                other_status: answer(Answer::OtherStatus),
                connect_errors: transport(TransportError::Connect),
                timeouts: transport(TransportError::Timeout),
                resets: transport(TransportError::Reset),
                other_errors: transport(TransportError::Other),
                started_late: stats.started_late,
                max_start_lag_us: stats.max_start_lag_us,
                peak_in_flight: stats.peak_in_flight,
                answered_per_bucket: stats.answered_per_bucket.clone(),
                sold_per_bucket: stats.sold_per_bucket.clone(),
                connect_us_before: stats.connects_before.connect_us.clone(),
                connects_failed_before: stats.connects_before.failed,
                connect_us_during: stats.connects_during.connect_us.clone(),
                connects_failed_during: stats.connects_during.failed,
            },
            latency_v2,
        }
    }

    /// Writes the shard as JSON to `out`, the file at `path`.
    pub fn save(&self, mut out: impl Write, path: &Path) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)
            .map_err(std::io::Error::from)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Reads a shard saved by `--shard`.
    pub fn load(path: &Path) -> anyhow::Result<Shard> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        #[derive(Deserialize)]
        struct Kind {
            kind: Option<String>,
            shard_version: Option<u32>,
        }
        let not_a_shard = || format!("{} is not a shard saved by --shard", path.display());
        let kind: Kind = serde_json::from_str(&text).with_context(not_a_shard)?;
        if kind.kind.as_deref() != Some(KIND) {
            bail!(not_a_shard());
        }
        match kind.shard_version {
            Some(SHARD_VERSION) => {}
            other => bail!(
                "{} is a shard of version {}, this flashsale-loadtest reads version {SHARD_VERSION}",
                path.display(),
                other.map_or("(none)".to_string(), |v| v.to_string())
            ),
        }
        let shard: Shard = serde_json::from_str(&text).with_context(not_a_shard)?;
        shard.stats().with_context(not_a_shard)?;
        Ok(shard)
    }

    /// The shard's numbers as a crowd's [`Stats`], its timeline starting
    /// `offset` after the merged crowd's start.
    fn stats_from(&self, offset: Duration) -> anyhow::Result<Stats> {
        let c = &self.counts;
        let mut stats = Stats::new();
        stats.sent = c.sent;
        stats.retries = c.retries;
        for (answer, n) in [
            (Answer::Sold, c.sold_201),
            (Answer::Accepted, c.accepted_202),
            (Answer::SoldOut, c.sold_out_409),
            (Answer::LockLost, c.lock_lost_409),
            (Answer::Restocked, c.restocked_409),
            (Answer::Busy, c.busy_429),
            (Answer::Other2xx, c.other_2xx),
            (Answer::Other4xx, c.other_4xx),
            (Answer::Server5xx, c.server_5xx),
            (Answer::OtherStatus, c.other_status),
        ] {
            stats.answers[answer as usize] = n;
        }
        for (kind, n) in [
            (TransportError::Connect, c.connect_errors),
            (TransportError::Timeout, c.timeouts),
            (TransportError::Reset, c.resets),
            (TransportError::Other, c.other_errors),
        ] {
            stats.transport[kind.index()] = n;
        }
        stats.started_late = c.started_late;
        stats.max_start_lag_us = c.max_start_lag_us;
        stats.peak_in_flight = c.peak_in_flight;
        let skip = (offset.as_micros() / BUCKET.as_micros()) as usize;
        let shifted = |buckets: &[u32]| {
            let mut shifted = vec![0; skip];
            shifted.extend_from_slice(buckets);
            shifted
        };
        stats.answered_per_bucket = shifted(&c.answered_per_bucket);
        stats.sold_per_bucket = shifted(&c.sold_per_bucket);
        stats.connects_before = connects(&c.connect_us_before, c.connects_failed_before);
        stats.connects_during = connects(&c.connect_us_during, c.connects_failed_during);
        stats.elapsed = offset + Duration::from_micros(self.elapsed_us);
        for (name, encoded) in &self.latency_v2 {
            let Some((outcome, _)) = OUTCOMES.iter().find(|(_, n)| n == name) else {
                bail!("`latency_v2` has an unknown outcome `{name}`");
            };
            let histogram = decode(encoded).with_context(|| format!("`latency_v2.{name}`"))?;
            stats.set_latency(*outcome, histogram);
        }
        let counted: u64 = stats.latency_all().len();
        if counted != stats.completed() {
            bail!(
                "its histograms hold {counted} latencies for {} answers",
                stats.completed()
            );
        }
        Ok(stats)
    }

    fn stats(&self) -> anyhow::Result<Stats> {
        self.stats_from(Duration::ZERO)
    }

    /// `shard lock=redis: 500 sent, 500 answered (20 sold), 0 transport
    /// errors in 1.234 s`.
    pub fn summary(&self) -> String {
        let stats = self.stats().unwrap_or_default();
        format!(
            "shard lock={}: {} sent, {} answered ({} sold), {} transport errors in {:.3} s",
            self.mode,
            stats.sent,
            stats.completed(),
            stats.count(Answer::Sold) + stats.count(Answer::Accepted),
            stats.transport_errors(),
            self.elapsed_us as f64 / 1e6
        )
    }

    fn started_at(&self) -> Duration {
        Duration::from_micros(self.started_at_unix_us)
    }

    fn ended_at(&self) -> Duration {
        self.started_at() + Duration::from_micros(self.elapsed_us)
    }

    /// What two shards of one crowd must agree on, named where they differ.
    fn differs_from(&self, other: &Shard) -> Option<String> {
        let fields: [(&str, String, String); 6] = [
            ("mode", self.mode.clone(), other.mode.clone()),
            (
                "product",
                self.product.to_string(),
                other.product.to_string(),
            ),
            (
                "work_ms",
                self.work_ms.to_string(),
                other.work_ms.to_string(),
            ),
            ("ttl_ms", show(self.ttl_ms), show(other.ttl_ms)),
            (
                "deadline_ms",
                show(self.deadline_ms),
                show(other.deadline_ms),
            ),
            ("pause_ms", show(self.pause_ms), show(other.pause_ms)),
        ];
        fields
            .into_iter()
            .find(|(_, mine, theirs)| mine != theirs)
            .map(|(field, mine, theirs)| format!("{field} {mine} and {theirs}"))
    }
}

fn show(value: Option<u64>) -> String {
    value.map_or("(the service's)".to_string(), |v| v.to_string())
}

fn connects(connect_us: &[u64], failed: u64) -> Connects {
    Connects {
        failed,
        connect_us: connect_us.to_vec(),
        total_us: connect_us.iter().sum(),
    }
}

/// A histogram as base64 of its V2 serialization (uncompressed: the shard
/// file is already text, and most outcomes hold few distinct values).
fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .expect("a histogram serializes into memory");
    BASE64.encode(bytes)
}

fn decode(encoded: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = BASE64.decode(encoded).context("not base64")?;
    let histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("not an HdrHistogram V2 serialization: {e:?}"))?;
    // Recorded in µs at 3 significant figures, as every crowd's are: adding
    // two of other precisions would fail.
    if histogram.sigfig() != 3 {
        bail!(
            "a histogram of {} significant figures, not 3",
            histogram.sigfig()
        );
    }
    Ok(histogram)
}

/// The shards of one crowd, added.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Every shard's numbers, on the clock of the first shard's start: the
    /// crowd lasted until the last shard's end.
    pub stats: Stats,
    /// The shards' one mode, product and knobs; every shard's URLs (each
    /// once, in the order first named); their concurrency, requests and
    /// rates summed; the longest duration and timeout; their run ids joined
    /// by `+`. What only the service can tell is left to the report:
    /// `stock` 0, `expect_safe` empty, `drain_timeout_s` null.
    pub parameters: Parameters,
}

/// Adds the shards saved at `paths` (read with [`Shard::load`]): they must
/// be of one mode, product and knobs.
pub fn merge(paths: &[PathBuf]) -> anyhow::Result<Merged> {
    let shards = paths
        .iter()
        .map(|path| Shard::load(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (Some(first), Some(first_path)) = (shards.first(), paths.first()) else {
        bail!("merge needs at least one shard file");
    };
    for (shard, path) in shards.iter().zip(paths).skip(1) {
        if let Some(difference) = first.differs_from(shard) {
            bail!(
                "{} and {} are not shards of one crowd: {difference}",
                first_path.display(),
                path.display()
            );
        }
    }
    let start = shards
        .iter()
        .map(Shard::started_at)
        .min()
        .unwrap_or_default();
    let end = shards.iter().map(Shard::ended_at).max().unwrap_or_default();
    let mut stats = Stats::new();
    let mut peak_in_flight = 0;
    for shard in &shards {
        let shard_stats = shard.stats_from(shard.started_at() - start)?;
        // The shards ran side by side: their peaks bound the crowd's.
        peak_in_flight += shard_stats.peak_in_flight;
        stats.merge(&shard_stats);
    }
    stats.elapsed = end - start;
    stats.peak_in_flight = peak_in_flight;

    let mut urls: Vec<String> = Vec::new();
    for url in shards.iter().flat_map(|s| &s.urls) {
        if !urls.contains(url) {
            urls.push(url.clone());
        }
    }
    let sum = |of: fn(&Shard) -> Option<u64>| shards.iter().map(of).sum::<Option<u64>>();
    let max = |of: fn(&Shard) -> Option<f64>| shards.iter().filter_map(of).max_by(f64::total_cmp);
    let rate = shards.iter().filter_map(|s| s.rate).reduce(|a, b| a + b);
    let parameters = Parameters {
        urls,
        product: first.product,
        stock: 0,
        buyers: first.buyers,
        per_buyer: None,
        duplicate_check: first.duplicate_check.clone(),
        retry: first.retry,
        requests: sum(|s| s.requests),
        duration_s: max(|s| s.duration_s),
        concurrency: shards.iter().map(|s| s.concurrency).sum(),
        modes: vec![first.mode.clone()],
        skipped: Vec::new(),
        work_ms: first.work_ms,
        ttl_ms: first.ttl_ms,
        deadline_ms: first.deadline_ms,
        pause_ms: first.pause_ms,
        model: if rate.is_some() { "open" } else { "closed" }.to_string(),
        rate,
        timeout_s: max(|s| Some(s.timeout_s)).unwrap_or(0.0),
        expect_safe: Vec::new(),
        run_id: shards
            .iter()
            .map(|s| s.run_id.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        get_path: None,
        drain_timeout_s: None,
        repeat: 1,
        shards: Some(shards.len() as u32),
    };
    Ok(Merged { stats, parameters })
}

#[cfg(test)]
mod tests;
