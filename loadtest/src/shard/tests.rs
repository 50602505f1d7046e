use std::time::{Duration, UNIX_EPOCH};

use clap::Parser;

use super::*;
use crate::cli::Args;

/// A shard of `mode` whose crowd started `start_ms` after the epoch and
/// lasted `elapsed_ms`, with one sale per latency (µs), each answered in
/// the first 100 ms.
fn shard(mode: &str, start_ms: u64, elapsed_ms: u64, sales_us: &[u64]) -> Shard {
    let mut stats = Stats::new();
    for &us in sales_us {
        stats.sent += 1;
        stats.record(Answer::Sold, us);
        stats.record_at(Answer::Sold, Duration::ZERO);
    }
    stats.record(Answer::SoldOut, 300);
    stats.record_at(Answer::SoldOut, Duration::from_millis(elapsed_ms - 1));
    stats.sent += 1;
    stats.record_error(TransportError::Reset);
    stats.elapsed = Duration::from_millis(elapsed_ms);
    stats.connects_before.record(Duration::from_micros(250));
    let url = format!("http://127.0.0.1:{}", 8080 + start_ms % 3);
    let requests = (sales_us.len() + 1).to_string();
    let config = Args::try_parse_from([
        "flashsale-loadtest",
        "--url",
        &url,
        "--work-ms",
        "20",
        "--concurrency",
        "50",
        "--requests",
        &requests,
    ])
    .unwrap()
    .into_config();
    Shard::of(
        &config,
        mode,
        "abcdefgh",
        &stats,
        UNIX_EPOCH + Duration::from_millis(start_ms + elapsed_ms),
    )
}

/// Saves `shards` to files of their own; their paths.
fn saved(shards: &[Shard]) -> Vec<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    shards
        .iter()
        .map(|shard| {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let path = std::env::temp_dir().join(format!(
                "flashsale-shard-test-{}-{n}.json",
                std::process::id()
            ));
            shard
                .save(std::fs::File::create(&path).unwrap(), &path)
                .unwrap();
            path
        })
        .collect()
}

#[test]
fn a_saved_shard_reads_back_with_every_count_and_latency() {
    let original = shard("redis", 1_000, 500, &[1_000, 2_000, 40_000, 1_500_000]);
    let [path] = saved(std::slice::from_ref(&original)).try_into().unwrap();

    let loaded = Shard::load(&path).unwrap();
    assert_eq!(loaded, original);
    let stats = loaded.stats().unwrap();
    assert_eq!(stats.sent, 5);
    assert_eq!(stats.count(Answer::Sold), 4);
    assert_eq!(stats.count(Answer::SoldOut), 1);
    assert_eq!(stats.transport_errors(), 1);
    let sold = stats.latency(Outcome::Sold);
    assert_eq!(sold.len(), 4);
    assert!(sold.equivalent(sold.max(), 1_500_000));
    assert!(sold.equivalent(sold.min(), 1_000));
    assert_eq!(stats.connects_before.opened(), 1);
    assert_eq!(stats.elapsed, Duration::from_millis(500));
    assert_eq!(
        original.summary(),
        "shard lock=redis: 5 sent, 5 answered (4 sold), 1 transport errors in 0.500 s"
    );
}

#[test]
fn merged_percentiles_are_those_of_every_request_never_an_average_of_the_shards() {
    // One machine's buyers near the service, another's far from it.
    let near: Vec<u64> = (1..=1000).map(|i| 1_000 + i).collect();
    let far: Vec<u64> = (1..=1000).map(|i| 100_000 + 100 * i).collect();
    let paths = saved(&[
        shard("redis", 0, 1_000, &near),
        shard("redis", 0, 1_000, &far),
    ]);

    let merged = merge(&paths).unwrap();

    let mut every = Histogram::<u64>::new(3).unwrap();
    for &us in near.iter().chain(&far) {
        every.record(us).unwrap();
    }
    let sold = merged.stats.latency(Outcome::Sold);
    assert_eq!(sold.len(), 2000);
    for q in [0.25, 0.5, 0.9, 0.99, 0.999] {
        assert_eq!(
            sold.value_at_quantile(q),
            every.value_at_quantile(q),
            "q {q}"
        );
    }
    // What an average of the two shards' p99s would have said: 1.99 ms and
    // 199.9 ms make about 100 ms, where 99 % of the buyers waited up to 198 ms.
    let p99 = |values: &[u64]| {
        let mut h = Histogram::<u64>::new(3).unwrap();
        values.iter().for_each(|&v| h.record(v).unwrap());
        h.value_at_quantile(0.99)
    };
    let averaged = (p99(&near) + p99(&far)) / 2;
    assert!(sold.value_at_quantile(0.99) > averaged + 90_000);
    assert_eq!(merged.stats.count(Answer::Sold), 2000);
    assert_eq!(merged.stats.sent, 2002);
    assert_eq!(merged.stats.transport_errors(), 2);
    let p = &merged.parameters;
    assert_eq!(
        (p.concurrency, p.requests, p.shards),
        (100, Some(2002), Some(2))
    );
    assert_eq!(
        (p.modes.as_slice(), p.work_ms),
        (&["redis".to_string()][..], 20)
    );
    assert_eq!(p.run_id, "abcdefgh+abcdefgh");
}

#[test]
fn the_timelines_are_laid_on_one_clock_from_the_first_start_to_the_last_end() {
    // The second machine started 500 ms after the first; each ran 1 s.
    let paths = saved(&[
        shard("none", 10_000, 1_000, &[5_000, 6_000]),
        shard("none", 10_500, 1_000, &[7_000]),
    ]);

    let merged = merge(&paths).unwrap();

    assert_eq!(merged.stats.elapsed, Duration::from_millis(1_500));
    let sold = &merged.stats.sold_per_bucket;
    assert_eq!((sold[0], sold[5]), (2, 1), "{sold:?}");
    assert_eq!(sold.iter().sum::<u32>(), 3);
    let answered = &merged.stats.answered_per_bucket;
    assert_eq!((answered[9], answered[14]), (1, 1), "{answered:?}");
    let urls = &merged.parameters.urls;
    assert_eq!(urls.len(), 2, "each shard's URL once: {urls:?}");
}

#[test]
fn shards_of_two_crowds_are_refused_naming_what_differs() {
    let paths = saved(&[shard("redis", 0, 100, &[1]), shard("none", 0, 100, &[1])]);
    let error = merge(&paths).unwrap_err().to_string();
    assert!(
        error.ends_with("are not shards of one crowd: mode redis and none"),
        "{error}"
    );

    let mut slower = shard("redis", 0, 100, &[1]);
    slower.work_ms = 50;
    let paths = saved(&[shard("redis", 0, 100, &[1]), slower]);
    let error = merge(&paths).unwrap_err().to_string();
    assert!(error.ends_with("work_ms 20 and 50"), "{error}");
}

#[test]
fn a_file_that_is_not_a_shard_is_refused_in_one_line() {
    let dir = std::env::temp_dir();
    let write = |name: &str, text: &str| {
        let path = dir.join(format!(
            "flashsale-not-a-shard-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    };
    let report = write(
        "report.json",
        r#"{"schema_version":5,"parameters":{},"modes":[]}"#,
    );
    let error = format!("{:#}", Shard::load(&report).unwrap_err());
    assert!(error.contains("is not a shard saved by --shard"), "{error}");

    let mut newer = serde_json::to_value(shard("redis", 0, 100, &[1])).unwrap();
    newer["shard_version"] = 2.into();
    let newer = write("newer.json", &newer.to_string());
    let error = format!("{:#}", Shard::load(&newer).unwrap_err());
    assert!(
        error.contains("is a shard of version 2, this flashsale-loadtest reads version 1"),
        "{error}"
    );

    let mut short = serde_json::to_value(shard("redis", 0, 100, &[1, 2])).unwrap();
    short["counts"]["sold_201"] = 3.into();
    let short = write("short.json", &short.to_string());
    let error = format!("{:#}", Shard::load(&short).unwrap_err());
    assert!(
        error.contains("its histograms hold 3 latencies for 4 answers"),
        "{error}"
    );

    let mut garbled = serde_json::to_value(shard("redis", 0, 100, &[1])).unwrap();
    garbled["latency_v2"]["sold"] = "AAAA".into();
    let garbled = write("garbled.json", &garbled.to_string());
    let error = format!("{:#}", Shard::load(&garbled).unwrap_err());
    assert!(error.contains("`latency_v2.sold`"), "{error}");
}
