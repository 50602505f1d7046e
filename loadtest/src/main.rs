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
use loadtest::cli::{Args, Command, Config, MergeArgs};
use loadtest::printer::{self, Format};
use loadtest::report::Report;
use loadtest::shard::Shard;

fn main() -> ExitCode {
    let mut args = Args::parse();
    let outcome = match args.command.take() {
        Some(Command::Merge(merge)) => try_merge(&merge),
        None => try_main(&args.into_config()),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn try_main(config: &Config) -> anyhow::Result<ExitCode> {
    if let Some(path) = &config.shard {
        return run_shard(config, path);
    }
    // Open the output file first: a bad path should not cost a whole run.
    let file = create(config.out.as_deref())?;
    let report = match &config.from_json {
        Some(path) => saved(path)?,
        None => run(config)?,
    };
    write_report(&report, config.format, file, config.out.as_deref())
}

/// `merge`: the shards' report, then the exit status of its verdict.
fn try_merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let file = create(args.out.as_deref())?;
    let merged = loadtest::shard::merge(&args.shards)?;
    let report = runtime()?.block_on(loadtest::merged_report(
        merged,
        args.url.as_ref(),
        args.drain_timeout,
        &args.expect_safe,
    ))?;
    write_report(&report, args.format, file, args.out.as_deref())
}

/// `--shard FILE`: the crowd, saved, and one line on stdout saying so.
fn run_shard(config: &Config, path: &Path) -> anyhow::Result<ExitCode> {
    // Opened first: a bad path should not cost a crowd. A run refused
    // leaves no empty file behind for `merge` to trip over.
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let shard: Shard = match runtime().and_then(|runtime| runtime.block_on(loadtest::shard(config)))
    {
        Ok(shard) => shard,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    };
    shard.save(BufWriter::new(file), path)?;
    println!(
        "{}; saved to {} for `flashsale-loadtest merge`",
        shard.summary(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn create(out: Option<&Path>) -> anyhow::Result<Option<File>> {
    out.map(|path| File::create(path).with_context(|| format!("cannot write {}", path.display())))
        .transpose()
}

/// Prints the report to `file` (then the verdicts to stdout) or to stdout,
/// and says on stderr which expected-safe mode was not: exit status 1.
fn write_report(
    report: &Report,
    format: Format,
    file: Option<File>,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    match (file, out) {
        (Some(file), Some(path)) => {
            let mut out = BufWriter::new(file);
            printer::print(&mut out, report, format)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
            printer::verdicts(&mut stdout.lock(), report)?;
        }
        _ => {
            let mut out = stdout.lock();
            printer::print(&mut out, report, format)?;
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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The crowds, with the notes said on stderr before the first.
fn run(config: &Config) -> anyhow::Result<Report> {
    runtime()?.block_on(async {
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
