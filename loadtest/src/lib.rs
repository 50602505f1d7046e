//! flashsale's load generator: a flash crowd of buyers against the service,
//! once per lock mode, and a side-by-side report of what the service sold.
//!
//! - [`cli`]: the command line, parsed into a typed [`cli::Config`];
//! - [`crowd`]: the hot loop (workers, per-worker tallies and histograms);
//! - [`http`]: URLs, a hyper keep-alive connection, transport error kinds;
//! - [`service`]: health, reset, mode probe and read-back calls;
//! - [`report`]: the report and its verdicts (the stable JSON);
//! - [`printer`]: text, JSON, Markdown and CSV to any `Write`.

pub mod cli;
pub mod crowd;
pub mod http;
pub mod printer;
pub mod report;
pub mod service;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::Config;
use crate::crowd::{Plan, Shared, Stats, Stop, Work};
use crate::report::{ModeReport, Parameters, Report, SCHEMA_VERSION};

/// Runs the whole comparison: checks every URL, then for each mode resets the
/// product, sends the crowd and reads the product back.
///
/// Errors (unreachable service, unknown product, a mode the service refuses)
/// come before any crowd is sent wherever they can be seen in advance.
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    service::check_reachable(&config.targets).await?;
    let run_id = run_id();
    let mut modes = Vec::new();

    if let Some(path) = &config.get_path {
        let title = format!("GET {path}");
        let work = Work::Get { path: path.clone() };
        let stats = crowd(config, work, &title).await;
        modes.push(ModeReport::new(&title, &stats, None));
    } else {
        let first = &config.targets[0];
        // Stock 0 first: a probe purchase per mode then answers 409 (or the
        // service's 400 for a mode it does not know) and sells nothing.
        service::reset(first, config.product, 0).await?;
        for mode in &config.modes {
            service::probe_mode(first, config.product, mode, config.work_ms, &run_id).await?;
        }
        for mode in &config.modes {
            service::reset(first, config.product, config.stock).await?;
            let work = Work::Purchase {
                product: config.product,
                mode: mode.clone(),
                work_ms: config.work_ms,
                run_id: run_id.clone(),
            };
            let stats = crowd(config, work, &format!("lock={mode}")).await;
            let product = service::product(first, config.product).await?;
            modes.push(ModeReport::new(mode, &stats, Some(&product)));
        }
    }

    Ok(Report {
        schema_version: SCHEMA_VERSION,
        parameters: parameters(config, run_id),
        modes,
    })
}

fn parameters(config: &Config, run_id: String) -> Parameters {
    let (requests, duration_s) = match config.stop {
        Stop::Requests(n) => (Some(n), None),
        Stop::Duration(d) => (None, Some(d.as_secs_f64())),
    };
    Parameters {
        urls: config.targets.iter().map(|t| t.url.clone()).collect(),
        product: config.product,
        stock: config.stock,
        requests,
        duration_s,
        concurrency: config.concurrency,
        modes: match &config.get_path {
            Some(_) => Vec::new(),
            None => config.modes.clone(),
        },
        work_ms: config.work_ms,
        model: if config.rate.is_some() {
            "open"
        } else {
            "closed"
        }
        .to_string(),
        rate: config.rate,
        timeout_s: config.timeout.as_secs_f64(),
        expect_safe: config.expect_safe.clone(),
        run_id,
        get_path: config.get_path.clone(),
    }
}

/// A short id that differs between runs, so users (`lt-{run}-{mode}-{n}`) of
/// two runs never collide.
fn run_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut n = millis % 36u128.pow(8);
    let mut id = Vec::new();
    for _ in 0..8 {
        id.push(char::from_digit((n % 36) as u32, 36).expect("a base-36 digit"));
        n /= 36;
    }
    id.iter().rev().collect()
}

/// One crowd, with a progress bar on a terminal.
async fn crowd(config: &Config, work: Work, title: &str) -> Stats {
    let plan = Arc::new(Plan {
        targets: config.targets.clone(),
        work,
        stop: config.stop,
        concurrency: config.concurrency,
        rate: config.rate,
        timeout: config.timeout,
    });
    let shared = Shared::new();
    let progress = config
        .progress
        .then(|| progress_bar(&plan, title, shared.clone()));
    let stats = crowd::run(plan, shared).await;
    if let Some((bar, ticker)) = progress {
        ticker.abort();
        bar.finish_and_clear();
    }
    stats
}

fn progress_bar(
    plan: &Plan,
    title: &str,
    shared: Arc<Shared>,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let total = crowd::total_requests(plan);
    let (length, template) = match total {
        Some(n) => (
            n,
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} eta {eta}",
        ),
        None => (
            plan.stop_duration_ms(),
            "{msg} [{elapsed_precise}] {wide_bar} {prefix} answers",
        ),
    };
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(title.to_string());
    let ticking = bar.clone();
    let started = std::time::Instant::now();
    let ticker = tokio::spawn(async move {
        loop {
            let done = shared.done.load(Ordering::Relaxed);
            match total {
                Some(_) => ticking.set_position(done),
                None => {
                    ticking.set_position(started.elapsed().as_millis() as u64);
                    ticking.set_prefix(done.to_string());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (bar, ticker)
}

impl Plan {
    fn stop_duration_ms(&self) -> u64 {
        match self.stop {
            Stop::Duration(d) => d.as_millis() as u64,
            Stop::Requests(_) => 0,
        }
    }
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
