//! The command line, parsed once into a typed [`Config`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::crowd::Stop;
use crate::http::Target;
use crate::printer::Format;
use crate::request::{KnobRange, Knobs};

/// Flash-crowd load generator for flashsale: restocks a product, sends a crowd
/// of buyers with each lock mode, reads back what the service really sold, and
/// prints the modes side by side with a verdict for each.
///
/// Exit status: 0 when every mode named in --expect-safe neither oversold,
/// lost an update or an order, nor left orders queued; 1 when one did; 2 for bad arguments or a service that
/// cannot be reached or refuses the run.
#[derive(Debug, Parser)]
#[command(name = "flashsale-loadtest", version)]
#[command(after_help = "Example: flashsale-loadtest --stock 100 --requests 1000 --work-ms 20")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Base URL of a flashsale instance. Repeat it to spread the crowd over
    /// several instances round-robin (request n goes to URL n mod count).
    #[arg(
        long = "url",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080",
        value_parser = Target::parse
    )]
    pub urls: Vec<Target>,

    /// An instance whose `GET /metrics` gives the lock's side of the report
    /// (default: every --url). Behind a load balancer, name every instance
    /// here: /metrics through the balancer reaches whichever instance it
    /// picks, a different one before and after the crowd.
    #[arg(long = "metrics-url", value_name = "URL", value_parser = Target::parse)]
    pub metrics_urls: Vec<Target>,

    /// The product the crowd buys.
    #[arg(long, default_value_t = 1)]
    pub product: u64,

    /// The stock the product is reset to before each mode's crowd.
    #[arg(long, default_value_t = 100)]
    pub stock: u64,

    /// Purchases sent per mode.
    #[arg(long, short = 'n', default_value_t = 1000, conflicts_with = "duration")]
    pub requests: u64,

    /// Send purchases for this long per mode instead of a fixed number
    /// (e.g. 10s, 500ms, 2m; a bare number is seconds).
    #[arg(long, short = 'z', value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Buyers in flight at once, each on its own keep-alive connection.
    #[arg(long, short = 'c', default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub concurrency: u64,

    /// Lock modes to compare, in order: comma-separated or repeated. Any mode
    /// the service accepts; it is asked before the run starts. `all`: every
    /// strategy the service's catalogue (GET /api/strategies) lists as
    /// available, in its order; the unavailable ones are named on stderr.
    /// `front-door` (never part of `all`): lock=none purchases at stock 0,
    /// each a 409 after one read, the fastest answer a purchase gets; every
    /// other mode's throughput is then also shown as × front door.
    #[arg(
        long,
        value_name = "MODE",
        value_delimiter = ',',
        default_value = "none,redis",
        value_parser = parse_mode
    )]
    pub modes: Vec<String>,

    /// Simulated business step inside the critical section, in milliseconds
    /// (the service's `work_ms`). A few ms make the race without a lock
    /// dependable.
    #[arg(long, default_value_t = 0)]
    pub work_ms: u64,

    /// How long each buyer's lock lives before it expires on its own, in
    /// milliseconds (the service's `ttl_ms`, 100 to 60000; default: the
    /// service's LOCK_TTL_MS). Shorter than the work, a lock expires while
    /// its holder still works.
    #[arg(long, value_name = "MS", value_parser = parse_ttl)]
    pub ttl_ms: Option<u64>,

    /// How long each buyer waits for a busy lock before 429, in milliseconds
    /// (the service's `deadline_ms`, 0 to 30000; default: the service's
    /// LOCK_DEADLINE_MS).
    #[arg(long, value_name = "MS", value_parser = parse_deadline)]
    pub deadline_ms: Option<u64>,

    /// A stop right after the stock is read, as a GC pause would make one, in
    /// milliseconds (the service's `pause_ms`, 0 to 30000; default: none).
    #[arg(long, value_name = "MS", value_parser = parse_pause)]
    pub pause_ms: Option<u64>,

    /// Spread the purchases over N buyer names (request n buys as buyer
    /// n mod N), so each buyer sends several at once: the bot case. Default:
    /// one name per request.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub buyers: Option<u64>,

    /// The limit per buyer set at each restock (the service's `per_buyer`,
    /// 1 to 10000). Default: no limit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub per_buyer: Option<u64>,

    /// How the service checks the limit: `key` (its database key, the
    /// default) or `count` (the tutorials' count(*), which bursts get past).
    #[arg(long, value_name = "CHECK", value_parser = ["key", "count"])]
    pub duplicate_check: Option<String>,

    /// Send a request that timed out or lost its connection again, up to N
    /// times, with the same Idempotency-Key (sent on every purchase when N >
    /// 0), so a retry never buys twice. The report counts the retries.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry: u32,

    /// Open model: start this many requests per second on a fixed schedule
    /// instead of one after another per worker. Requests that start late
    /// (all workers busy) are counted, and their latency includes the delay.
    #[arg(long, value_name = "REQ_PER_S", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Give up on a request after this long (counted as a timeout).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Give up on a connection opened before the crowd after this long (the
    /// worker connects again at its first request, counted as a connect error).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// After each mode, wait at most this long for the orders it queued
    /// (202 Accepted) to be written: the product's `queued` back to 0. Still
    /// queued after it: the mode fails as not drained.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub drain_timeout: Duration,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of stdout (stdout then gets only the
    /// verdict lines).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Send nothing: read a report saved with --format json and write it in
    /// --format (e.g. --from-json run.json --format html --out run.html).
    /// The exit status is the saved run's.
    #[arg(long, value_name = "FILE", conflicts_with = "get")]
    pub from_json: Option<PathBuf>,

    /// Modes that must neither oversell, lose an update or an order, nor
    /// leave orders queued after the drain: if one does, the exit status is 1. Comma-separated; `safe`: every mode run that the
    /// service's catalogue marks safe; an empty value expects nothing.
    #[arg(
        long,
        value_name = "MODE",
        value_delimiter = ',',
        default_value = "redis",
        value_parser = parse_expected_mode
    )]
    pub expect_safe: Vec<String>,

    /// Benchmark the generator itself: send `GET PATH` (e.g. /healthz) instead
    /// of purchases; no reset, no read-back, no verdict.
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub get: Option<String>,

    /// Run each mode N times (1 to 100), restocking before each run, and
    /// report the median and the spread (min–max) of its throughput and p99
    /// beside every run's verdict. Any run that fails fails the mode.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=MAX_REPEAT as i64))]
    pub repeat: u32,

    /// Send one mode's crowd as one shard of a crowd sent from several
    /// machines at once: no restock before it, no read-back after it (the
    /// other shards may still be buying), and what it counted, its latency
    /// histograms included, saved to FILE for `flashsale-loadtest merge`.
    /// Restock once before the shards start (POST /api/products/ID/reset).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["stock", "per_buyer", "repeat", "get", "from_json", "out", "format", "expect_safe", "drain_timeout", "metrics_urls"]
    )]
    pub shard: Option<PathBuf>,

    /// Draw no progress on stderr (it is drawn whenever stderr is a
    /// terminal, whatever stdout is).
    #[arg(long, short = 'q', visible_alias = "no-progress")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add the shards of one crowd (files saved by --shard, one per machine)
    /// into one report: counts summed, latency histograms added (so its
    /// percentiles are those of every request), timelines on one clock;
    /// with --url, the verdict from the service's own numbers.
    Merge(MergeArgs),
}

/// `flashsale-loadtest merge`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example: flashsale-loadtest merge a.shard b.shard --url http://lb:8080")]
pub struct MergeArgs {
    /// The shard files, each saved by a run with --shard.
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,

    /// The service (an instance or the load balancer): once the product's
    /// queue has drained, its numbers give the verdict. Without it the
    /// report has the crowd's side only.
    #[arg(long = "url", value_name = "URL", value_parser = Target::parse)]
    pub url: Option<Target>,

    /// Wait at most this long for the orders the crowd queued (202) to be
    /// written before the verdict.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, requires = "url")]
    pub drain_timeout: Duration,

    /// Exit 1 when the merged crowd's mode is named here and its verdict is
    /// unsafe; `safe`: when the service's catalogue marks it safe.
    #[arg(
        long,
        value_name = "MODE",
        value_delimiter = ',',
        requires = "url",
        value_parser = parse_expected_mode
    )]
    pub expect_safe: Vec<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of stdout (stdout then gets only the
    /// verdict lines).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Accepted for symmetry with a run; merge draws no progress.
    #[arg(long, short = 'q', visible_alias = "no-progress", hide = true)]
    pub quiet: bool,
}

/// `--repeat` at most: a hundred runs of every mode already take hours.
pub const MAX_REPEAT: u32 = 100;

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub targets: Vec<Target>,
    /// Whose `/metrics` are read: `--metrics-url`, else the targets.
    pub metrics_targets: Vec<Target>,
    pub product: u64,
    pub stock: u64,
    pub stop: Stop,
    pub concurrency: usize,
    /// As asked: may hold `all` (see [`crate::catalogue::select_modes`]).
    pub modes: Vec<String>,
    pub knobs: Knobs,
    pub buyers: Option<u64>,
    pub per_buyer: Option<u64>,
    pub duplicate_check: Option<String>,
    pub retry: u32,
    pub rate: Option<f64>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub drain_timeout: Duration,
    pub format: Format,
    pub out: Option<PathBuf>,
    /// A saved JSON report to print instead of running.
    pub from_json: Option<PathBuf>,
    /// As asked: may hold `safe` (see [`crate::catalogue::expected_safe`]).
    pub expect_safe: Vec<String>,
    pub get_path: Option<String>,
    /// `--repeat`: runs per mode.
    pub repeat: u32,
    /// `--shard FILE`: one crowd, saved for `merge`.
    pub shard: Option<PathBuf>,
    pub progress: bool,
}

impl Args {
    pub fn into_config(self) -> Config {
        let mut modes: Vec<String> = Vec::new();
        for mode in self.modes {
            if !modes.contains(&mode) {
                modes.push(mode);
            }
        }
        let metrics_targets = if self.metrics_urls.is_empty() {
            self.urls.clone()
        } else {
            self.metrics_urls
        };
        Config {
            targets: self.urls,
            metrics_targets,
            product: self.product,
            stock: self.stock,
            stop: match self.duration {
                Some(duration) => Stop::Duration(duration),
                None => Stop::Requests(self.requests),
            },
            concurrency: self.concurrency as usize,
            modes,
            knobs: Knobs {
                work_ms: self.work_ms,
                ttl_ms: self.ttl_ms,
                deadline_ms: self.deadline_ms,
                pause_ms: self.pause_ms,
            },
            buyers: self.buyers,
            per_buyer: self.per_buyer,
            duplicate_check: self.duplicate_check,
            retry: self.retry,
            rate: self.rate,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            drain_timeout: self.drain_timeout,
            format: self.format,
            out: self.out,
            from_json: self.from_json,
            expect_safe: self
                .expect_safe
                .into_iter()
                .filter(|m| !m.is_empty())
                .collect(),
            get_path: self.get,
            repeat: self.repeat,
            shard: self.shard,
            progress: !self.quiet && std::io::stderr().is_terminal(),
        }
    }
}

/// `10s`, `500ms`, `2m`, `1.5s`, or a bare number of seconds.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let input = input.trim();
    let split = input
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(input.len());
    let (number, unit) = input.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{input}` is not a duration (e.g. 10s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{input}` (use ms, s, m or h)"
            ));
        }
    };
    if seconds <= 0.0 || !seconds.is_finite() {
        return Err(format!("`{input}`: the duration must be positive"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_rate(input: &str) -> Result<f64, String> {
    match input.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!(
            "`{input}` is not a positive number of requests per second"
        )),
    }
}

/// A lock mode goes into a query string as it is, so it is limited to the
/// characters that need no escaping; which modes exist is the service's call.
fn parse_mode(input: &str) -> Result<String, String> {
    let mode = input.trim();
    if mode.is_empty() {
        return Err("a lock mode cannot be empty".to_string());
    }
    if !mode
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "`{mode}`: a lock mode is made of letters, digits, - and _"
        ));
    }
    Ok(mode.to_string())
}

fn parse_ttl(input: &str) -> Result<u64, String> {
    KnobRange::TTL.parse(input)
}

fn parse_deadline(input: &str) -> Result<u64, String> {
    KnobRange::DEADLINE.parse(input)
}

fn parse_pause(input: &str) -> Result<u64, String> {
    KnobRange::PAUSE.parse(input)
}

fn parse_expected_mode(input: &str) -> Result<String, String> {
    if input.trim().is_empty() {
        Ok(String::new())
    } else {
        parse_mode(input)
    }
}

fn parse_path(input: &str) -> Result<String, String> {
    if !input.starts_with('/') {
        return Err(format!("`{input}`: the path starts with /, e.g. /healthz"));
    }
    input
        .parse::<hyper::Uri>()
        .map_err(|e| format!("`{input}`: {e}"))?;
    Ok(input.to_string())
}

#[cfg(test)]
mod tests;
