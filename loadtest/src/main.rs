//! `flashsale-loadtest`: see `--help`, and the README's "Run the benchmark" section.
//!
//! Exit status: 0 all expected-safe modes were safe; 1 one of them oversold,
//! lost an update or an order, or did not drain; 2 bad arguments, or a
//! service that cannot be reached or refuses the run.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use loadtest::cli::{Args, Config};
use loadtest::printer;
use loadtest::report::Report;

fn main() -> ExitCode {
    let config = Args::parse().into_config();
    match try_main(&config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn try_main(config: &Config) -> anyhow::Result<ExitCode> {
    // Open the output file first: a bad path should not cost a whole run.
    let file = match &config.out {
        Some(path) => {
            Some(File::create(path).with_context(|| format!("cannot write {}", path.display()))?)
        }
        None => None,
    };
    let report = match &config.from_json {
        Some(path) => saved(path)?,
        None => run(config)?,
    };

    let stdout = io::stdout();
    match (file, &config.out) {
        (Some(file), Some(path)) => {
            let mut out = BufWriter::new(file);
            printer::print(&mut out, &report, config.format)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
            printer::verdicts(&mut stdout.lock(), &report)?;
        }
        _ => {
            let mut out = stdout.lock();
            printer::print(&mut out, &report, config.format)?;
            out.flush()?;
        }
    }

    let failed = report.unsafe_expected();
    for mode in &failed {
        let summary = mode.verdict.as_ref().map_or("", |v| v.summary.as_str());
        eprintln!(
            "error: lock={} was expected to be safe (--expect-safe) but {summary}",
            mode.mode
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The crowds, with the notes said on stderr before the first.
fn run(config: &Config) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let prepared = loadtest::prepare(config).await?;
        if let Some(note) = loadtest::catalogue::skipped_note(&prepared.skipped) {
            eprintln!("{note}");
        }
        if let Some(note) = prepared.metrics_note() {
            eprintln!("{note}");
        }
        loadtest::execute(config, prepared).await
    })
}

/// A report saved with `--format json` (any schema version).
fn saved(path: &Path) -> anyhow::Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a report written by --format json",
            path.display()
        )
    })
}
