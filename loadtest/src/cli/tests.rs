use super::*;
use clap::CommandFactory;
use clap::error::ErrorKind;

fn parse(args: &[&str]) -> Result<Args, clap::Error> {
    Args::try_parse_from(std::iter::once("flashsale-loadtest").chain(args.iter().copied()))
}

#[test]
fn the_command_line_is_consistent() {
    Args::command().debug_assert();
}

#[test]
fn the_defaults_compare_none_and_redis_against_the_local_service() {
    let config = parse(&[]).unwrap().into_config();
    assert_eq!(config.targets[0].url, "http://127.0.0.1:8080");
    assert_eq!((config.product, config.stock), (1, 100));
    assert_eq!(config.stop, Stop::Requests(1000));
    assert_eq!(config.concurrency, 200);
    assert_eq!(config.modes, ["none", "redis"]);
    assert_eq!(config.expect_safe, ["redis"]);
    assert_eq!(config.format, Format::Text);
    assert!(config.rate.is_none());
    assert_eq!(config.knobs, Knobs::default());
    assert_eq!(config.drain_timeout, Duration::from_secs(30));
}

#[test]
fn the_drain_timeout_reads_like_the_other_durations_and_front_door_is_a_mode() {
    let config = parse(&[
        "--drain-timeout",
        "500ms",
        "--modes",
        "front-door,redis-stream",
    ])
    .unwrap()
    .into_config();
    assert_eq!(config.drain_timeout, Duration::from_millis(500));
    assert_eq!(config.modes, ["front-door", "redis-stream"]);
    assert!(parse(&["--drain-timeout", "0s"]).is_err());
}

#[test]
fn the_lab_knobs_are_passed_on_as_given() {
    let config = parse(&[
        "--work-ms",
        "300",
        "--ttl-ms",
        "150",
        "--deadline-ms",
        "0",
        "--pause-ms",
        "400",
    ])
    .unwrap()
    .into_config();
    assert_eq!(
        config.knobs,
        Knobs {
            work_ms: 300,
            ttl_ms: Some(150),
            deadline_ms: Some(0),
            pause_ms: Some(400),
        }
    );
}

#[test]
fn all_and_safe_are_kept_for_the_catalogue_to_resolve() {
    let config = parse(&["--modes", "all", "--expect-safe", "safe,local"])
        .unwrap()
        .into_config();
    assert_eq!(config.modes, ["all"]);
    assert_eq!(config.expect_safe, ["safe", "local"]);
}

#[test]
fn modes_can_be_comma_separated_and_repeated_without_duplicates() {
    let config = parse(&["--modes", "none,redis", "--modes", "zk", "--modes", "none"])
        .unwrap()
        .into_config();
    assert_eq!(config.modes, ["none", "redis", "zk"]);
}

#[test]
fn several_urls_are_kept_in_order() {
    let config = parse(&["--url", "http://127.0.0.1:1", "--url", "http://127.0.0.1:2"])
        .unwrap()
        .into_config();
    let urls: Vec<_> = config.targets.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(urls, ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
}

#[test]
fn a_duration_replaces_the_request_budget_but_not_both() {
    let config = parse(&["--duration", "10s"]).unwrap().into_config();
    assert_eq!(config.stop, Stop::Duration(Duration::from_secs(10)));
    let err = parse(&["--duration", "10s", "--requests", "5"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn an_empty_expect_safe_expects_nothing() {
    let config = parse(&["--expect-safe", ""]).unwrap().into_config();
    assert!(config.expect_safe.is_empty());
}

#[test]
fn bad_values_are_clap_errors() {
    for args in [
        &["--concurrency", "0"][..],
        &["--url", "https://127.0.0.1"],
        &["--modes", "a&b"],
        &["--rate", "-3"],
        &["--duration", "soon"],
        &["--format", "xml"],
        &["--from-json", "r.json", "--get", "/healthz"],
        &["--requests", "many"],
        &["--get", "healthz"],
        &["--ttl-ms", "99"],
        &["--ttl-ms", "60001"],
        &["--deadline-ms", "30001"],
        &["--pause-ms", "-1"],
        &["--pause-ms", "30001"],
        &["--repeat", "0"],
        &["--repeat", "101"],
        &["--repeat", "twice"],
        &["--bogus"],
    ] {
        assert!(parse(args).is_err(), "{args:?} should be refused");
    }
}

#[test]
fn repeat_runs_each_mode_up_to_a_hundred_times_and_quiet_keeps_its_old_name() {
    let repeat = |args: &[&str]| parse(args).unwrap().into_config().repeat;
    assert_eq!((repeat(&[]), repeat(&["--repeat", "100"])), (1, 100));
    for quiet in ["--quiet", "-q", "--no-progress"] {
        assert!(!parse(&[quiet]).unwrap().into_config().progress, "{quiet}");
    }
    assert_eq!(parse(&["--repeat", "0"]).unwrap_err().exit_code(), 2);
}

#[test]
fn durations_read_like_people_write_them() {
    assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
    assert!(parse_duration("0s").is_err());
    assert!(parse_duration("3 parsecs").is_err());
}
