use super::*;

fn server(initial: i64, orders: i64, stock: i64, lost: i64, unsold: i64) -> ServerOutcome {
    ServerOutcome {
        initial_stock: initial,
        orders,
        stock,
        oversold: (orders - initial).max(0),
        lost_updates: lost,
        duplicates: 0,
        unsold,
    }
}

fn requests(busy: u64) -> Requests {
    Requests {
        sent: 1000,
        retries: 0,
        completed: 1000,
        sold_201: 0,
        sold_out_409: 0,
        lock_lost_409: 0,
        restocked_409: 0,
        busy_429: busy,
        other_4xx: 0,
        server_5xx: 0,
        other_2xx: 0,
        other_status: 0,
        started_late: 0,
        max_start_lag_ms: 0.0,
    }
}

fn no_errors() -> TransportErrors {
    TransportErrors {
        connect: 0,
        timeout: 0,
        reset: 0,
        other: 0,
        total: 0,
    }
}

#[test]
fn an_oversold_sale_says_by_how_much_and_is_unsafe() {
    let v = verdict(&server(100, 137, 0, 37, 0), &requests(0), &no_errors());
    assert_eq!(
        v.summary,
        "sold 137 of 100: OVERSOLD by 37, 37 lost updates"
    );
    assert!(!v.safe && v.oversold && v.lost_updates);
}

#[test]
fn a_sale_of_exactly_the_stock_is_safe() {
    let v = verdict(&server(100, 100, 0, 0, 0), &requests(0), &no_errors());
    assert_eq!(v.summary, "sold exactly 100 of 100: safe");
    assert!(v.safe && !v.unsold);
}

#[test]
fn lost_updates_without_oversell_are_unsafe_too() {
    let v = verdict(&server(100, 90, 20, 10, 0), &requests(0), &no_errors());
    assert!(!v.safe && !v.oversold && v.lost_updates);
    assert_eq!(
        v.summary,
        "sold 90 of 100 but LOST 10 updates (the stock says 80 sold)"
    );
}

#[test]
fn stock_left_while_buyers_were_turned_away_busy_is_an_undersell() {
    let v = verdict(&server(100, 87, 13, 0, 13), &requests(40), &no_errors());
    assert!(v.safe && v.unsold);
    assert_eq!(
        v.summary,
        "sold 87 of 100: UNDERSOLD, 13 left in stock while 40 buyers were turned away busy"
    );
}

#[test]
fn buyers_who_lost_their_lock_leave_stock_unsold_but_the_sale_safe() {
    let mut reqs = requests(0);
    reqs.lock_lost_409 = 2;
    let v = verdict(&server(10, 1, 9, 0, 9), &reqs, &no_errors());
    assert!(v.safe && v.unsold);
    assert_eq!(
        v.summary,
        "sold 1 of 10: UNDERSOLD, 9 left in stock while 2 buyers lost their lock"
    );
    reqs.busy_429 = 1;
    let v = verdict(&server(10, 1, 9, 0, 9), &reqs, &no_errors());
    assert_eq!(
        v.summary,
        "sold 1 of 10: UNDERSOLD, 9 left in stock while 1 buyer was turned away busy and 2 lost their lock"
    );
}

#[test]
fn lost_locks_are_named_when_the_stock_sold_anyway() {
    let mut reqs = requests(0);
    reqs.lock_lost_409 = 3;
    let v = verdict(&server(5, 5, 0, 0, 0), &reqs, &no_errors());
    assert!(v.safe && !v.unsold);
    assert_eq!(
        v.summary,
        "sold exactly 5 of 5: safe (3 lost their lock and wrote nothing)"
    );
}

#[test]
fn failed_requests_are_named_after_the_verdict() {
    let mut errors = no_errors();
    errors.total = 3;
    let mut reqs = requests(0);
    reqs.server_5xx = 2;
    let v = verdict(&server(100, 50, 50, 0, 0), &reqs, &errors);
    assert_eq!(
        v.summary,
        "sold 50 of 100: safe (50 left: fewer buyers than stock) (2 answered 5xx, 3 transport errors)"
    );
}

#[test]
fn unsold_is_the_stock_left_only_when_someone_got_a_429() {
    let product = Product {
        id: 1,
        name: "p".into(),
        initial_stock: 100,
        stock: 13,
        orders: 87,
        oversold: 0,
        lost_updates: 0,
        duplicates: 0,
    };
    let mut stats = Stats::new();
    stats.record(Answer::Sold, 10);
    let calm = ModeReport::new("redis", &stats, Some(&product));
    assert_eq!(calm.server.unwrap().unsold, 0);
    stats.record(Answer::Busy, 5_000_000);
    let busy = ModeReport::new("redis", &stats, Some(&product));
    assert_eq!(busy.server.unwrap().unsold, 13);
    assert!(busy.latency_ms.busy.unwrap().p50 >= 4_990.0);
    assert!(busy.latency_ms.sold_out.is_none());
}

fn endless_stock() -> Product {
    Product {
        id: 1,
        name: "p".into(),
        initial_stock: 1_000_000,
        stock: 999_000,
        orders: 1000,
        oversold: 0,
        lost_updates: 0,
        duplicates: 0,
    }
}

#[test]
fn fairness_compares_the_sold_p99_with_the_wait_of_a_fifo_queue() {
    // 64 buyers, 1000 purchases in 2 s (500/s): a FIFO queue makes each
    // wait 64 / 500 s = 128 ms.
    let mut stats = Stats::new();
    for i in 0..1000u64 {
        stats.record(Answer::Sold, if i < 980 { 2_000 } else { 1_280_000 });
    }
    stats.elapsed = Duration::from_secs(2);
    let mode = ModeReport::new("redis", &stats, Some(&endless_stock()));

    let fairness = Fairness::of(&mode, 64, true).unwrap();

    assert_eq!(fairness.fifo_wait_ms, 128.0);
    assert!(
        (1279.0..1282.0).contains(&fairness.sold_p99_ms),
        "{fairness:?}"
    );
    // 1280 ms as the histogram keeps it (3 significant digits).
    assert!((10.0..=10.01).contains(&fairness.ratio), "{fairness:?}");
    assert_eq!(Fairness::of(&mode, 64, false), None, "open model");
}

#[test]
fn fairness_is_left_out_when_most_buyers_did_not_buy() {
    let mut stats = Stats::new();
    stats.record(Answer::Sold, 1_000);
    for _ in 0..9 {
        stats.record(Answer::Busy, 5_000);
    }
    stats.elapsed = Duration::from_secs(1);
    let failfast = ModeReport::new("redis-failfast", &stats, Some(&endless_stock()));
    assert_eq!(Fairness::of(&failfast, 10, true), None);

    let mut stats = Stats::new();
    stats.elapsed = Duration::from_secs(1);
    let nothing = ModeReport::new("broken-lua-nil", &stats, Some(&endless_stock()));
    assert_eq!(Fairness::of(&nothing, 10, true), None);
}

#[test]
fn the_timeline_covers_the_whole_crowd_and_its_last_bucket_is_cut_short() {
    let mut stats = Stats::new();
    stats.record_at(Answer::Sold, Duration::from_millis(10));
    stats.record_at(Answer::SoldOut, Duration::from_millis(120));
    stats.elapsed = Duration::from_millis(350);

    let mode = ModeReport::new("redis", &stats, None);
    let timeline = mode.timeline.unwrap();

    assert_eq!(timeline.bucket_ms, 100);
    assert_eq!(timeline.completed, [1, 1, 0, 0]);
    assert_eq!(timeline.sold, [1, 0, 0, 0]);
    assert!((timeline.bucket_s(0, 0.35) - 0.1).abs() < 1e-9);
    assert!((timeline.bucket_s(3, 0.35) - 0.05).abs() < 1e-9);
}

#[test]
fn refusals_are_one_latency_of_sold_outs_lost_locks_and_busies() {
    let mut stats = Stats::new();
    stats.record(Answer::Sold, 1_000);
    stats.record(Answer::SoldOut, 2_000);
    stats.record(Answer::LockLost, 3_000);
    stats.record(Answer::Busy, 4_000);
    stats.record(Answer::Server5xx, 5_000);

    let mode = ModeReport::new("redis", &stats, None);

    let refused = mode.latency_ms.refused.unwrap();
    assert_eq!(refused.count, 3);
    assert!((4.0..4.01).contains(&refused.max), "{refused:?}");
}

#[test]
fn a_lost_lock_counts_apart_and_makes_the_leftover_stock_unsold() {
    let product = Product {
        id: 1,
        name: "p".into(),
        initial_stock: 10,
        stock: 9,
        orders: 1,
        oversold: 0,
        lost_updates: 0,
        duplicates: 0,
    };
    let mut stats = Stats::new();
    stats.record(Answer::Sold, 900_000);
    stats.record(Answer::LockLost, 600_000);
    stats.record(Answer::LockLost, 700_000);

    let report = ModeReport::new("redis-fenced", &stats, Some(&product));

    assert_eq!(report.requests.lock_lost_409, 2);
    assert_eq!(report.requests.sold_out_409, 0);
    assert_eq!(report.server.as_ref().unwrap().unsold, 9);
    assert_eq!(report.latency_ms.lock_lost.as_ref().unwrap().count, 2);
    assert!(report.verdict.unwrap().safe);
}
