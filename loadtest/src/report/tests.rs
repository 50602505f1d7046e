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
        queued: Some(0),
        drained: true,
    }
}

fn requests(busy: u64) -> Requests {
    Requests {
        sent: 1000,
        retries: 0,
        completed: 1000,
        sold_201: 0,
        accepted_202: 0,
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
        peak_in_flight: 0,
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
        queued: None,
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
        queued: None,
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

/// `accepted` 201s or 202s (by `status`), and the product as the service
/// says once the crowd is over.
fn stream_stats(status: u16, accepted: u64, refused: u64) -> Stats {
    let mut stats = Stats::new();
    for _ in 0..accepted {
        stats.record(Answer::of(status, b""), 3_000);
    }
    for _ in 0..refused {
        stats.record(Answer::SoldOut, 500);
    }
    stats.sent = accepted + refused;
    stats.elapsed = Duration::from_secs(2);
    stats
}

fn stream_product(initial: i64, written: i64, queued: Option<Option<i64>>) -> Product {
    Product {
        id: 1,
        name: "p".into(),
        initial_stock: initial,
        // The gate took the stock in Redis; the rows follow.
        stock: initial - written,
        orders: written,
        oversold: (written - initial).max(0),
        lost_updates: 0,
        duplicates: 0,
        queued,
    }
}

const DRAINED_IN_300_MS: Drain = Drain {
    waited: Duration::from_millis(300),
    drained: true,
};

#[test]
fn a_queue_that_drained_whole_counts_every_202_as_accepted_and_written() {
    let stats = stream_stats(202, 1000, 500);
    let product = stream_product(1000, 1000, Some(Some(0)));

    let mode = ModeReport::after_drain("redis-stream", &stats, Some(&product), DRAINED_IN_300_MS);

    assert_eq!(mode.requests.accepted_202, 1000);
    assert_eq!(mode.requests.sold_201, 0);
    assert_eq!(mode.requests.other_2xx, 0);
    assert_eq!(
        (mode.accepted, mode.written, mode.lost_orders),
        (Some(1000), Some(1000), Some(0))
    );
    assert_eq!(mode.drain_ms, Some(300));
    // 1000 accepted in 2 s; 1000 written in 2 s of crowd and 0.3 s of drain.
    assert_eq!(mode.throughput.purchases_per_s, 500.0);
    assert_eq!(mode.durable_orders_per_s, Some(434.783));
    assert_eq!(mode.latency_ms.sold.as_ref().unwrap().count, 1000);
    let verdict = mode.verdict.unwrap();
    assert_eq!(verdict.summary, "sold exactly 1000 of 1000: safe");
    assert!(verdict.safe && verdict.drained && !verdict.lost_orders);
}

#[test]
fn accepted_orders_that_were_never_written_are_lost_and_unsafe() {
    // broken-ack-first after its writer died: 1000 told yes, 988 rows.
    let stats = stream_stats(202, 1000, 0);
    let product = stream_product(1000, 988, Some(Some(0)));

    let mode = ModeReport::after_drain(
        "broken-ack-first",
        &stats,
        Some(&product),
        DRAINED_IN_300_MS,
    );

    assert_eq!(mode.lost_orders, Some(12));
    assert_eq!((mode.accepted, mode.written), (Some(1000), Some(988)));
    let verdict = mode.verdict.as_ref().unwrap();
    assert!(!verdict.safe && verdict.lost_orders && verdict.drained && !verdict.oversold);
    assert_eq!(
        verdict.summary,
        "accepted 1000 of 1000 but wrote 988: 12 LOST ORDERS"
    );
}

#[test]
fn a_queue_still_full_at_the_drain_timeout_fails_and_counts_only_what_cannot_be_written() {
    // 1000 accepted, 600 written, 390 still queued: 10 are gone for good,
    // the 390 may still be written.
    let stats = stream_stats(202, 1000, 0);
    let product = stream_product(1000, 600, Some(Some(390)));
    let timed_out = Drain {
        waited: Duration::from_secs(30),
        drained: false,
    };

    let mode = ModeReport::after_drain("redis-stream", &stats, Some(&product), timed_out);

    assert_eq!(mode.lost_orders, Some(10));
    assert_eq!(mode.drain_ms, Some(30_000));
    assert_eq!(mode.server.as_ref().unwrap().queued, Some(390));
    let verdict = mode.verdict.as_ref().unwrap();
    assert!(!verdict.safe && !verdict.drained && verdict.lost_orders);
    assert_eq!(
        verdict.summary,
        "accepted 1000 of 1000 but wrote 600: 10 LOST ORDERS (390 still queued)"
    );

    // Nothing lost yet, but not drained: still a failure, in its own word.
    let product = stream_product(1000, 600, Some(Some(400)));
    let mode = ModeReport::after_drain("redis-stream", &stats, Some(&product), timed_out);
    assert_eq!(mode.lost_orders, Some(0));
    let verdict = mode.verdict.as_ref().unwrap();
    assert!(!verdict.safe && !verdict.drained && !verdict.lost_orders);
    assert_eq!(
        verdict.summary,
        "accepted 1000 of 1000, wrote 600: NOT DRAINED (400 still queued)"
    );

    // A service that cannot say what is queued (Redis unreachable).
    let product = stream_product(1000, 600, Some(None));
    let mode = ModeReport::after_drain("redis-stream", &stats, Some(&product), timed_out);
    assert_eq!(mode.server.as_ref().unwrap().queued, None);
    assert_eq!(mode.lost_orders, Some(400));
    assert_eq!(
        mode.verdict.unwrap().summary,
        "accepted 1000 of 1000 but wrote 600: 400 LOST ORDERS (the service cannot say how many are queued)"
    );
}

#[test]
fn a_lost_order_is_worse_than_a_lost_update_and_an_oversell_worse_than_both() {
    let mut reqs = requests(0);
    reqs.sold_201 = 90;
    reqs.accepted_202 = 10;
    let mut s = server(100, 95, 20, 15, 0);
    let v = verdict(&s, &reqs, &no_errors());
    assert!(v.lost_orders && v.lost_updates && !v.safe);
    assert_eq!(v.summary, "accepted 100 of 100 but wrote 95: 5 LOST ORDERS");

    s = server(100, 120, 0, 20, 0);
    reqs.sold_201 = 125;
    let v = verdict(&s, &reqs, &no_errors());
    assert!(v.oversold && v.lost_orders);
    assert_eq!(
        v.summary,
        "sold 120 of 100: OVERSOLD by 20, 20 lost updates, 15 LOST ORDERS"
    );
}

#[test]
fn more_rows_than_answers_is_no_lost_order() {
    // A buyer who timed out may have bought all the same.
    let mut reqs = requests(0);
    reqs.sold_201 = 98;
    let s = server(100, 100, 0, 0, 0);
    assert_eq!(s.lost_orders(98), 0);
    let v = verdict(&s, &reqs, &no_errors());
    assert!(v.safe && !v.lost_orders);
}

#[test]
fn the_front_door_is_a_reference_not_a_sale() {
    let mut stats = Stats::new();
    for _ in 0..4000 {
        stats.record(Answer::SoldOut, 300);
    }
    stats.sent = 4000;
    stats.elapsed = Duration::from_millis(250);
    let shelf = stream_product(0, 0, Some(Some(0)));

    let door = ModeReport::new(FRONT_DOOR, &stats, Some(&shelf));

    let verdict = door.verdict.as_ref().unwrap();
    assert!(verdict.reference && verdict.safe && !verdict.unsold);
    assert_eq!(
        verdict.summary,
        "reference: 4000 answers, 16000.0/s (lock=none at stock 0: one read, 409 sold_out)"
    );
    assert_eq!(
        (door.accepted, door.written, door.lost_orders),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(door.fairness, None);

    // A front door that sold is no front door: a sale's verdict.
    let mut sold = stats.clone();
    sold.record(Answer::Sold, 300);
    let oversold = stream_product(0, 1, Some(Some(0)));
    let door = ModeReport::new(FRONT_DOOR, &sold, Some(&oversold));
    let verdict = door.verdict.unwrap();
    assert!(!verdict.reference && verdict.oversold);
}

#[test]
fn every_other_mode_is_measured_against_the_front_door() {
    let mut door_stats = Stats::new();
    for _ in 0..1000 {
        door_stats.record(Answer::SoldOut, 300);
    }
    door_stats.elapsed = Duration::from_millis(100);
    let stream = stream_stats(202, 1000, 0);
    let fair = stream_stats(201, 200, 0);
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        parameters: parameters(),
        modes: vec![
            ModeReport::new(FRONT_DOOR, &door_stats, Some(&stream_product(0, 0, None))),
            ModeReport::new("redis-fair", &fair, Some(&stream_product(1000, 200, None))),
            ModeReport::new(
                "redis-stream",
                &stream,
                Some(&stream_product(1000, 1000, None)),
            ),
        ],
    };

    report.compare_with_front_door();

    // 10,000 answers/s at the front door; 100 and 500 purchases/s.
    let ratios: Vec<_> = report.modes.iter().map(|m| m.front_door_ratio).collect();
    assert_eq!(ratios, [None, Some(0.01), Some(0.05)]);

    // Without a front door nobody is compared.
    report.modes.remove(0);
    for mode in &mut report.modes {
        mode.front_door_ratio = None;
    }
    report.compare_with_front_door();
    assert!(report.modes.iter().all(|m| m.front_door_ratio.is_none()));
}

#[test]
fn an_unsafe_expected_mode_includes_one_that_lost_orders() {
    let stats = stream_stats(202, 100, 0);
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        parameters: parameters(),
        modes: vec![ModeReport::new(
            "redis-stream",
            &stats,
            Some(&stream_product(100, 90, Some(Some(0)))),
        )],
    };
    report.parameters.expect_safe = vec!["redis-stream".into()];
    assert_eq!(report.unsafe_expected().len(), 1);
}

/// A run's parameters, as the benchmark asks.
fn parameters() -> Parameters {
    Parameters {
        urls: vec!["http://127.0.0.1:8080".into()],
        product: 1,
        stock: 1_000_000,
        buyers: None,
        per_buyer: None,
        duplicate_check: None,
        retry: 0,
        requests: None,
        duration_s: Some(5.0),
        concurrency: 64,
        modes: Vec::new(),
        skipped: Vec::new(),
        work_ms: 0,
        ttl_ms: None,
        deadline_ms: None,
        pause_ms: None,
        model: "closed".into(),
        rate: None,
        timeout_s: 30.0,
        expect_safe: Vec::new(),
        run_id: "x".into(),
        get_path: None,
        drain_timeout_s: Some(30.0),
        repeat: 1,
        shards: None,
    }
}
