//! flashsale's load generator: a flash crowd of buyers against the service,
//! once per lock mode, and a side-by-side report of what the service sold.
//!
//! - [`cli`]: the command line, parsed into a typed [`cli::Config`];
//! - [`catalogue`]: the service's strategies, `--modes all`, `--expect-safe safe`;
//! - [`crowd`]: the hot loop (workers claiming requests, sending, counting);
//! - [`request`]: what a request is (a purchase and its knobs, or a `GET`);
//! - [`stats`]: per-worker tallies and histograms, merged at the end;
//! - [`http`]: URLs, a hyper keep-alive connection, transport error kinds;
//! - [`listen`]: whether the service's listen queue overflowed (Linux, loopback);
//! - [`service`]: health, catalogue, reset, mode probe, read-back and
//!   `/metrics` calls;
//! - [`metrics`]: the Prometheus text, and the lock's side of each crowd;
//! - [`report`]: the report and its verdicts (the stable JSON);
//! - [`printer`]: text, JSON, Markdown, CSV and HTML to any `Write`;
//! - [`shard`]: `--shard` (one machine's part of a crowd, saved) and `merge`;
//! - [`progress`]: which crowd of how many, and its progress, on stderr.

pub mod catalogue;
pub mod cli;
pub mod crowd;
pub mod drain;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod printer;
pub mod progress;
pub mod report;
pub mod request;
pub mod service;
pub mod shard;
pub mod stats;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::bail;

use crate::catalogue::{SkippedMode, expected_safe, select_modes};
use crate::cli::Config;
use crate::crowd::{Plan, Shared, Stop};
use crate::http::Target;
use crate::listen::ListenQueue;
use crate::metrics::{Exposition, LockReading};
use crate::progress::{Progress, Step};
use crate::report::{
    Connecting, Drain, FRONT_DOOR, Fairness, ModeReport, Parameters, Report, SCHEMA_VERSION,
};
use crate::request::{Knobs, Work};
use crate::shard::{Merged, Shard};
use crate::stats::{Answer, Stats};

/// A run checked and ready to send its crowds: what [`prepare`] found out.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub run_id: String,
    /// The modes to run, in order (`--modes all` expanded; empty with `--get`).
    pub modes: Vec<String>,
    /// What `--modes all` left out, and why.
    pub skipped: Vec<SkippedMode>,
    /// The modes that must be safe (`--expect-safe safe` expanded).
    pub expect_safe: Vec<String>,
    /// Why the lock's wait and hold times cannot be reported (an instance
    /// without `GET /metrics`); `None` when every instance has it.
    pub no_metrics: Option<String>,
}

impl Prepared {
    /// The one line said on stderr when the lock's side is left out.
    pub fn metrics_note(&self) -> Option<String> {
        self.no_metrics
            .as_ref()
            .map(|reason| format!("note: no lock wait and hold times in the report: {reason}"))
    }
}

/// Runs the whole comparison: [`prepare`], then [`execute`].
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    let prepared = prepare(config).await?;
    execute(config, prepared).await
}

/// Everything before the first crowd: checks every URL, reads the service's
/// catalogue of strategies (which turns `--modes all` and `--expect-safe
/// safe` into names, and refuses a named mode it lists as unavailable), and
/// tries each mode once on an empty shelf.
///
/// Errors (unreachable service, unknown product, a mode the service refuses
/// or cannot run, knobs it does not accept) come here, before any crowd.
pub async fn prepare(config: &Config) -> anyhow::Result<Prepared> {
    service::check_reachable(&config.targets).await?;
    let run_id = run_id();
    if config.get_path.is_some() {
        return Ok(Prepared {
            run_id,
            modes: Vec::new(),
            skipped: Vec::new(),
            expect_safe: config.expect_safe.clone(),
            no_metrics: None,
        });
    }

    // The catalogue of the first instance, which is also the one reset,
    // probed and read back.
    let first = &config.targets[0];
    let catalogue = service::catalogue(first).await?;
    if catalogue.is_none() && config.knobs.uses_lab_knobs() {
        bail!(
            "--ttl-ms, --deadline-ms and --pause-ms need a service with the lock lab: \
             {first} has no GET /api/strategies (an older flashsale) and would ignore them"
        );
    }
    let selection =
        select_modes(&config.modes, catalogue.as_ref(), &first.url).map_err(anyhow::Error::msg)?;
    let expect_safe = expected_safe(
        &config.expect_safe,
        &selection.modes,
        catalogue.as_ref(),
        &first.url,
    )
    .map_err(anyhow::Error::msg)?;
    if selection.modes.is_empty() {
        bail!("the service lists no available strategy: nothing to run");
    }

    // Stock 0 first: a probe purchase per mode then answers 409 (or the
    // service's 400 for a mode or a knob it does not accept) and sells nothing.
    // The front door is `lock=none` at stock 0 itself: its probe is that.
    service::reset(first, config.product, 0, None).await?;
    for mode in &selection.modes {
        let (lock, knobs) = sent_as(mode, &config.knobs);
        service::probe_mode(first, config.product, lock, &knobs, &run_id).await?;
    }
    let no_metrics = scrape_all(&config.metrics_targets).await.err();
    Ok(Prepared {
        run_id,
        modes: selection.modes,
        skipped: selection.skipped,
        expect_safe,
        no_metrics,
    })
}

/// The `lock=` and the knobs a mode's purchases are sent with: the front
/// door's are `lock=none` without a knob (it answers before any step).
fn sent_as<'a>(mode: &'a str, knobs: &Knobs) -> (&'a str, Knobs) {
    if mode == FRONT_DOOR {
        ("none", Knobs::default())
    } else {
        (mode, *knobs)
    }
}

/// `GET /metrics` of every instance named (`--metrics-url`, else every
/// `--url`), or the reason one cannot be had.
async fn scrape_all(targets: &[Target]) -> Result<Vec<Exposition>, String> {
    let mut pages = Vec::with_capacity(targets.len());
    for target in targets {
        pages.push(service::metrics(target).await?);
    }
    Ok(pages)
}

/// Sends the crowds: for each mode (`--repeat` times), resets the product,
/// reads every instance's `/metrics`, sends the crowd, waits for the queue
/// to drain while reading the product back, and reads `/metrics` again
/// (with `--get`, crowds of `GET`s).
pub async fn execute(config: &Config, prepared: Prepared) -> anyhow::Result<Report> {
    let mut modes = Vec::new();
    let runs = config.repeat.max(1);
    if let Some(path) = &config.get_path {
        let title = format!("GET {path}");
        let mut reports = Vec::new();
        for run in 1..=runs {
            let step = Step {
                mode: 1,
                modes: 1,
                run,
                runs,
            };
            let work = Work::Get { path: path.clone() };
            let (stats, listen_queue) = crowd(config, work, step.label(&title)).await;
            let mut report = ModeReport::new(&title, &stats, None);
            report.connecting = Some(Connecting::of(&stats, listen_queue));
            reports.push(report);
        }
        modes.push(ModeReport::of_runs(reports));
    } else {
        for (k, mode) in prepared.modes.iter().enumerate() {
            let mut reports = Vec::new();
            for run in 1..=runs {
                let step = Step {
                    mode: k + 1,
                    modes: prepared.modes.len(),
                    run,
                    runs,
                };
                reports.push(one_crowd(config, &prepared, mode, step).await?);
            }
            modes.push(ModeReport::of_runs(reports));
        }
    }

    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        parameters: parameters(config, prepared),
        modes,
    };
    report.compare_with_front_door();
    Ok(report)
}

/// One run of one mode: restock, crowd, drain, read back.
async fn one_crowd(
    config: &Config,
    prepared: &Prepared,
    mode: &str,
    step: Step,
) -> anyhow::Result<ModeReport> {
    let first = &config.targets[0];
    let front_door = mode == FRONT_DOOR;
    let (lock, knobs) = sent_as(mode, &config.knobs);
    let work = if front_door {
        // Nothing on sale, one plain buyer per request: the least a
        // purchase asks of the service.
        service::reset(first, config.product, 0, None).await?;
        Work::Purchase {
            product: config.product,
            mode: lock.to_string(),
            knobs,
            run_id: prepared.run_id.clone(),
            buyers: None,
            duplicate_check: None,
            idempotent: false,
        }
    } else {
        service::reset(first, config.product, config.stock, config.per_buyer).await?;
        Work::Purchase {
            product: config.product,
            mode: mode.to_string(),
            knobs,
            run_id: prepared.run_id.clone(),
            buyers: config.buyers,
            duplicate_check: config.duplicate_check.clone(),
            idempotent: config.retry > 0,
        }
    };
    let before = match prepared.no_metrics {
        None => scrape_all(&config.metrics_targets).await.ok(),
        Some(_) => None,
    };
    let title = if front_door {
        FRONT_DOOR.to_string()
    } else {
        format!("lock={mode}")
    };
    let (stats, listen_queue) = crowd(config, work, step.label(&title)).await;
    let ended = tokio::time::Instant::now();
    let drained = drain::drain(
        first,
        config.product,
        ended,
        config.drain_timeout,
        stats.count(Answer::Accepted),
    )
    .await?;
    let after = match before {
        Some(_) => scrape_all(&config.metrics_targets).await.ok(),
        None => None,
    };
    let drain = Drain {
        waited: drained.waited,
        drained: drained.drained,
    };
    let mut report = ModeReport::after_drain(mode, &stats, Some(&drained.product), drain);
    report.connecting = Some(Connecting::of(&stats, listen_queue));
    if let (Some(before), Some(after)) = (before, after) {
        // By the strategy's label: the front door's is `none`.
        let slowest = report.latency_ms.all.as_ref().map(|all| all.max);
        let lock = LockReading::of(&after, lock)
            .since(&LockReading::of(&before, lock))
            .capped_at(slowest);
        report.lock = Some(lock);
    }
    report.fairness = Fairness::of(&report, config.concurrency, config.rate.is_none());
    Ok(report)
}

fn parameters(config: &Config, prepared: Prepared) -> Parameters {
    let (requests, duration_s) = match config.stop {
        Stop::Requests(n) => (Some(n), None),
        Stop::Duration(d) => (None, Some(d.as_secs_f64())),
    };
    Parameters {
        urls: config.targets.iter().map(|t| t.url.clone()).collect(),
        product: config.product,
        stock: config.stock,
        buyers: config.buyers,
        per_buyer: config.per_buyer,
        duplicate_check: config.duplicate_check.clone(),
        retry: config.retry,
        requests,
        duration_s,
        concurrency: config.concurrency,
        modes: prepared.modes,
        skipped: prepared.skipped,
        work_ms: config.knobs.work_ms,
        ttl_ms: config.knobs.ttl_ms,
        deadline_ms: config.knobs.deadline_ms,
        pause_ms: config.knobs.pause_ms,
        model: if config.rate.is_some() {
            "open"
        } else {
            "closed"
        }
        .to_string(),
        rate: config.rate,
        timeout_s: config.timeout.as_secs_f64(),
        expect_safe: prepared.expect_safe,
        run_id: prepared.run_id,
        get_path: config.get_path.clone(),
        drain_timeout_s: config
            .get_path
            .is_none()
            .then_some(config.drain_timeout.as_secs_f64()),
        repeat: config.repeat,
        shards: None,
    }
}

/// A short random id, so users (`lt-{run}-{mode}-{n}`) of two runs never
/// collide, nor those of two shards started in the same millisecond on two
/// machines.
fn run_id() -> String {
    // A random 64-bit number from the standard library's hasher keys.
    let mut n = RandomState::new().hash_one(SystemTime::now()) % 36u64.pow(8);
    let mut id = Vec::new();
    for _ in 0..8 {
        id.push(char::from_digit((n % 36) as u32, 36).expect("a base-36 digit"));
        n /= 36;
    }
    id.iter().rev().collect()
}

/// `--shard FILE`: one mode's crowd, without the restock before it and the
/// read-back after it (other shards of the crowd may be buying). The mode
/// is checked against the service's catalogue, not probed: a probe would
/// restock.
pub async fn shard(config: &Config) -> anyhow::Result<Shard> {
    let [mode] = config.modes.as_slice() else {
        bail!(
            "--shard sends one mode (got --modes {}): the restock between two modes is the coordinator's",
            config.modes.join(",")
        );
    };
    if mode == catalogue::ALL || mode == FRONT_DOOR {
        bail!("--shard sends one named mode, not `{mode}`");
    }
    service::check_reachable(&config.targets).await?;
    let first = &config.targets[0];
    let catalogue = service::catalogue(first).await?;
    select_modes(std::slice::from_ref(mode), catalogue.as_ref(), &first.url)
        .map_err(anyhow::Error::msg)?;
    if let Some(catalogue) = &catalogue
        && catalogue.get(mode).is_none()
    {
        bail!("lock={mode} is not in the catalogue of {first} (GET /api/strategies)");
    }
    let run_id = run_id();
    let work = Work::Purchase {
        product: config.product,
        mode: mode.clone(),
        knobs: config.knobs,
        run_id: run_id.clone(),
        buyers: config.buyers,
        duplicate_check: config.duplicate_check.clone(),
        idempotent: config.retry > 0,
    };
    let step = Step {
        mode: 1,
        modes: 1,
        run: 1,
        runs: 1,
    };
    let (stats, _) = crowd(config, work, step.label(&format!("lock={mode} (shard)"))).await;
    Ok(Shard::of(config, mode, &run_id, &stats, SystemTime::now()))
}

/// `merge`: the merged shards' report, with the verdict read from `service`
/// once the product's queue has drained (none without it).
pub async fn merged_report(
    merged: Merged,
    service: Option<&Target>,
    drain_timeout: Duration,
    expect_safe: &[String],
) -> anyhow::Result<Report> {
    let Merged {
        stats,
        mut parameters,
    } = merged;
    let name = parameters.modes[0].clone();
    let mut mode = match service {
        Some(target) => {
            let drained = drain::drain(
                target,
                parameters.product,
                tokio::time::Instant::now(),
                drain_timeout,
                stats.count(Answer::Accepted),
            )
            .await?;
            let catalogue = if expect_safe.is_empty() {
                None
            } else {
                service::catalogue(target).await?
            };
            parameters.expect_safe = expected_safe(
                expect_safe,
                &parameters.modes,
                catalogue.as_ref(),
                &target.url,
            )
            .map_err(anyhow::Error::msg)?;
            parameters.stock = drained.product.initial_stock.max(0) as u64;
            parameters.drain_timeout_s = Some(drain_timeout.as_secs_f64());
            let drain = Drain {
                waited: drained.waited,
                drained: drained.drained,
            };
            ModeReport::after_drain(&name, &stats, Some(&drained.product), drain)
        }
        None => ModeReport::new(&name, &stats, None),
    };
    // Fairness needs the crowd's peak in flight, which shards sent from
    // several machines cannot tell.
    mode.fairness = None;
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        parameters,
        modes: vec![mode],
    })
}

/// One crowd, with its progress on stderr when stderr is a terminal, and the
/// rise of the machine's listen-queue counters over it (see [`listen`]).
async fn crowd(config: &Config, work: Work, label: String) -> (Stats, Option<ListenQueue>) {
    let plan = Arc::new(Plan {
        targets: config.targets.clone(),
        work,
        stop: config.stop,
        concurrency: config.concurrency,
        rate: config.rate,
        timeout: config.timeout,
        connect_timeout: config.connect_timeout,
        retry: config.retry,
    });
    let shared = Shared::new();
    let progress = config
        .progress
        .then(|| Progress::start(&plan, label, shared.clone()));
    let listen_before = ListenQueue::read(&config.targets);
    let stats = crowd::run(plan, shared).await;
    let listen_queue =
        listen_before.and_then(|before| Some(ListenQueue::read(&config.targets)?.since(&before)));
    if let Some(progress) = progress {
        progress.finish();
    }
    (stats, listen_queue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_eight_base36_characters() {
        let id = run_id();
        assert_eq!(id.len(), 8);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
    }
}
