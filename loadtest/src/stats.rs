//! What a worker counts: each answer by kind, transport errors by kind,
//! latency histograms by outcome, and answers per [`BUCKET`] of the crowd's
//! time. Every worker has its own [`Stats`]; they are merged once, when the
//! crowd is over.

use std::sync::OnceLock;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Deserialize;

use crate::http::TransportError;

/// An HTTP answer, as the report counts it. A 409 is told apart by the error
/// code in its body (the only answers whose body is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 201: bought.
    Sold = 0,
    /// 409 `sold_out`.
    SoldOut = 1,
    /// 409 `lock_lost`: the buyer's lock was lost before it wrote; it wrote
    /// nothing.
    LockLost = 2,
    /// 409 `restocked`: the product was restocked during the sale.
    Restocked = 3,
    /// 429: the lock was not obtained in time.
    Busy = 4,
    /// 2xx other than 201 and 202 (what `--get` expects).
    Other2xx = 5,
    /// 4xx other than the above, a 409 with another code included.
    Other4xx = 6,
    /// 5xx.
    Server5xx = 7,
    /// 1xx, 3xx: not expected from the service.
    OtherStatus = 8,
    /// 202: accepted into the service's queue (`redis-stream`), written to
    /// the database later. Sold as far as the buyer is told; whether the
    /// order was written is the drain's question.
    Accepted = 9,
}

impl Answer {
    pub const COUNT: usize = 10;

    /// Sorts an answer by status and, for a 409, by the `error` of its body
    /// (`{"error": "<code>", ...}`; `conflict_body` is only looked at then).
    pub fn of(status: u16, conflict_body: &[u8]) -> Answer {
        match status {
            201 => Answer::Sold,
            202 => Answer::Accepted,
            409 => Answer::of_conflict(conflict_body),
            429 => Answer::Busy,
            200..=299 => Answer::Other2xx,
            400..=499 => Answer::Other4xx,
            500..=599 => Answer::Server5xx,
            _ => Answer::OtherStatus,
        }
    }

    fn of_conflict(body: &[u8]) -> Answer {
        #[derive(Deserialize)]
        struct Code<'a> {
            #[serde(borrow)]
            error: &'a str,
        }
        match serde_json::from_slice::<Code>(body).map(|c| c.error) {
            Ok("sold_out") => Answer::SoldOut,
            Ok("lock_lost") => Answer::LockLost,
            Ok("restocked") => Answer::Restocked,
            _ => Answer::Other4xx,
        }
    }

    /// Whether the buyer was told yes: 201 written, or 202 accepted.
    pub fn is_sale(self) -> bool {
        matches!(self, Answer::Sold | Answer::Accepted)
    }

    /// The latency histogram this answer goes into.
    pub fn outcome(self) -> Outcome {
        match self {
            // A buyer told 202 was told yes: its wait is a sale's.
            Answer::Sold | Answer::Accepted => Outcome::Sold,
            Answer::SoldOut => Outcome::SoldOut,
            Answer::LockLost => Outcome::LockLost,
            Answer::Busy => Outcome::Busy,
            Answer::Restocked
            | Answer::Other2xx
            | Answer::Other4xx
            | Answer::Server5xx
            | Answer::OtherStatus => Outcome::Other,
        }
    }
}

/// The latency histograms are kept apart by outcome: fast refusals would
/// otherwise hide slow purchases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 201 or 202: bought (written, or accepted into the queue).
    Sold = 0,
    /// 409 sold out.
    SoldOut = 1,
    /// 409 lock lost.
    LockLost = 2,
    /// 429: the lock was not obtained in time.
    Busy = 3,
    /// Anything else.
    Other = 4,
}

impl Outcome {
    pub const COUNT: usize = 5;
}

/// The width of one bucket of the timeline: throughput over time is counted
/// per 100 ms.
pub const BUCKET: Duration = Duration::from_millis(100);

/// Tallies and histograms of one worker, or of the whole crowd once merged.
/// Latencies are recorded in microseconds.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Requests claimed and attempted.
    pub sent: u64,
    /// `--retry`: requests sent again after a timeout or a lost connection.
    pub retries: u64,
    /// HTTP answers, indexed by [`Answer`].
    pub answers: [u64; Answer::COUNT],
    /// Transport errors, indexed by [`TransportError::index`].
    pub transport: [u64; 4],
    /// Open model: requests that started more than [`crate::crowd::LATE_AFTER`] late.
    pub started_late: u64,
    pub max_start_lag_us: u64,
    /// Latency histograms, indexed by [`Outcome`].
    /// Made on an outcome's first answer: most workers see few outcomes,
    /// and a histogram at 3 significant figures starts at 16 KB to zero and
    /// to walk when merged. Read with [`Stats::latency`].
    by_outcome: [Option<Histogram<u64>>; Outcome::COUNT],
    /// Wall time of the crowd, first claim to last answer (set once merged).
    pub elapsed: Duration,
    /// Answers per [`BUCKET`], by when they arrived since the crowd started:
    /// every answer, and the sales (201 and 202). A worker's vectors grow as the crowd goes
    /// on (4 bytes per bucket each: 10 minutes is 24 KB a worker).
    pub answered_per_bucket: Vec<u32>,
    pub sold_per_bucket: Vec<u32>,
    /// Connections opened before the crowd started (one per worker and
    /// target): their connect time is the generator's set-up, not a request's.
    pub connects_before: Connects,
    /// Connections opened during the crowd (the server closed one, or one
    /// failed before): their connect time is left out of the request's latency.
    pub connects_during: Connects,
    /// The most requests in flight at once, as this worker saw when it
    /// started one (the crowd's peak once merged).
    pub peak_in_flight: u64,
}

/// Connections opened, and how long each took to connect (µs).
#[derive(Debug, Clone, Default)]
pub struct Connects {
    /// Connects that failed (refused, timed out).
    pub failed: u64,
    /// Each connect's time, in µs: a worker makes one per target before the
    /// crowd and rarely another, so a list costs less than a histogram (16 KB
    /// at 3 significant figures, and a walk over it to merge).
    pub connect_us: Vec<u64>,
    /// The sum of `connect_us`: what a request subtracts from its latency.
    pub total_us: u64,
}

impl Connects {
    pub fn new() -> Connects {
        Connects::default()
    }

    /// Connections made.
    pub fn opened(&self) -> u64 {
        self.connect_us.len() as u64
    }

    /// Counts one connect that succeeded after `took`.
    pub fn record(&mut self, took: Duration) {
        let us = took.as_micros() as u64;
        self.total_us += us;
        self.connect_us.push(us);
    }

    /// The connect times as a histogram, for the report.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut times = histogram();
        for &us in &self.connect_us {
            if times.record(us.max(1)).is_err() {
                times.saturating_record(us);
            }
        }
        times
    }

    fn merge(&mut self, other: &Connects) {
        self.failed += other.failed;
        self.total_us += other.total_us;
        self.connect_us.extend_from_slice(&other.connect_us);
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        // Auto-resizing: a histogram only grows as far as the largest value
        // it saw, so a worker's unused outcomes cost a few bytes.
        Stats {
            sent: 0,
            retries: 0,
            answers: [0; Answer::COUNT],
            transport: [0; 4],
            started_late: 0,
            max_start_lag_us: 0,
            by_outcome: Default::default(),
            elapsed: Duration::ZERO,
            answered_per_bucket: Vec::new(),
            sold_per_bucket: Vec::new(),
            connects_before: Connects::new(),
            connects_during: Connects::new(),
            peak_in_flight: 0,
        }
    }

    /// Counts one HTTP answer and its latency.
    #[inline]
    pub fn record(&mut self, answer: Answer, latency_us: u64) {
        self.answers[answer as usize] += 1;
        let histogram = self.by_outcome[answer.outcome() as usize].get_or_insert_with(histogram);
        // `record` grows the auto-resizing histogram; it can only fail past
        // 2^62 µs, and `saturating_record` (which never resizes) clamps that.
        if histogram.record(latency_us.max(1)).is_err() {
            histogram.saturating_record(latency_us);
        }
    }

    /// Counts one answer in the bucket of the moment it arrived (`at`: time
    /// since the crowd started).
    #[inline]
    pub fn record_at(&mut self, answer: Answer, at: Duration) {
        let bucket = (at.as_micros() / BUCKET.as_micros()) as usize;
        if bucket >= self.answered_per_bucket.len() {
            self.answered_per_bucket.resize(bucket + 1, 0);
            self.sold_per_bucket.resize(bucket + 1, 0);
        }
        self.answered_per_bucket[bucket] += 1;
        if answer.is_sale() {
            self.sold_per_bucket[bucket] += 1;
        }
    }

    #[inline]
    pub fn record_error(&mut self, kind: TransportError) {
        self.transport[kind.index()] += 1;
    }

    /// Answers of one kind.
    pub fn count(&self, answer: Answer) -> u64 {
        self.answers[answer as usize]
    }

    /// Answers received (any status).
    pub fn completed(&self) -> u64 {
        self.answers.iter().sum()
    }

    pub fn transport_errors(&self) -> u64 {
        self.transport.iter().sum()
    }

    /// Adds another worker's numbers to these.
    pub fn merge(&mut self, other: &Stats) {
        self.sent += other.sent;
        self.retries += other.retries;
        for (mine, theirs) in self.answers.iter_mut().zip(other.answers) {
            *mine += theirs;
        }
        for (mine, theirs) in self.transport.iter_mut().zip(other.transport) {
            *mine += theirs;
        }
        self.started_late += other.started_late;
        self.max_start_lag_us = self.max_start_lag_us.max(other.max_start_lag_us);
        for (mine, theirs) in self.by_outcome.iter_mut().zip(&other.by_outcome) {
            if let Some(theirs) = theirs {
                add(mine.get_or_insert_with(histogram), theirs);
            }
        }
        self.elapsed = self.elapsed.max(other.elapsed);
        add_buckets(&mut self.answered_per_bucket, &other.answered_per_bucket);
        add_buckets(&mut self.sold_per_bucket, &other.sold_per_bucket);
        self.connects_before.merge(&other.connects_before);
        self.connects_during.merge(&other.connects_during);
        self.peak_in_flight = self.peak_in_flight.max(other.peak_in_flight);
    }

    /// The latencies of one outcome (empty when nobody got it).
    pub fn latency(&self, outcome: Outcome) -> &Histogram<u64> {
        static EMPTY: OnceLock<Histogram<u64>> = OnceLock::new();
        self.by_outcome[outcome as usize]
            .as_ref()
            .unwrap_or_else(|| EMPTY.get_or_init(histogram))
    }

    /// Sets the latencies of one outcome (a shard's, read back: see
    /// [`crate::shard`]), kept in an auto-resizing histogram as recorded ones are.
    pub fn set_latency(&mut self, outcome: Outcome, latencies: Histogram<u64>) {
        let mut kept = histogram();
        add(&mut kept, &latencies);
        self.by_outcome[outcome as usize] = Some(kept);
    }

    /// All answers' latencies in one histogram.
    pub fn latency_all(&self) -> Histogram<u64> {
        let mut all = histogram();
        for histogram in self.by_outcome.iter().flatten() {
            all.add(histogram)
                .expect("auto-resizing histograms of the same precision always add");
        }
        all
    }
}

fn add_buckets(mine: &mut Vec<u32>, theirs: &[u32]) {
    if theirs.len() > mine.len() {
        mine.resize(theirs.len(), 0);
    }
    for (mine, theirs) in mine.iter_mut().zip(theirs) {
        *mine += theirs;
    }
}

/// Adds `theirs` into `mine`; an empty one costs nothing (adding walks every
/// bucket, and most workers leave most outcomes empty).
fn add(mine: &mut Histogram<u64>, theirs: &Histogram<u64>) {
    if !theirs.is_empty() {
        mine.add(theirs)
            .expect("auto-resizing histograms of the same precision always add");
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new(3).expect("3 significant figures is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLD_OUT: &[u8] = br#"{"error":"sold_out","message":"product 1 is sold out"}"#;
    const LOCK_LOST: &[u8] = br#"{"error":"lock_lost","message":"the lock on product 1 was lost"}"#;

    #[test]
    fn a_409_is_told_apart_by_the_code_in_its_body() {
        assert_eq!(Answer::of(409, SOLD_OUT), Answer::SoldOut);
        assert_eq!(Answer::of(409, LOCK_LOST), Answer::LockLost);
        assert_eq!(
            Answer::of(409, br#"{"message":"x \"quoted\"","error":"restocked"}"#),
            Answer::Restocked
        );
        assert_eq!(
            Answer::of(409, br#"{"error":"conflict"}"#),
            Answer::Other4xx
        );
        assert_eq!(Answer::of(409, b""), Answer::Other4xx);
        assert_eq!(Answer::of(409, b"<html>"), Answer::Other4xx);
    }

    #[test]
    fn statuses_are_tallied_by_kind_and_latency_by_outcome() {
        let mut stats = Stats::new();
        for (status, body, latency) in [
            (201, &b""[..], 5_000),
            (409, SOLD_OUT, 100),
            (409, SOLD_OUT, 120),
            (409, LOCK_LOST, 400_000),
            (429, b"", 5_000_000),
            (404, b"", 50),
            (503, b"", 70),
            (302, b"", 70),
            (200, b"", 70),
            (202, b"", 3_000),
        ] {
            stats.record(Answer::of(status, body), latency);
        }
        stats.record_error(TransportError::Reset);

        assert_eq!(
            (
                stats.count(Answer::Sold),
                stats.count(Answer::SoldOut),
                stats.count(Answer::LockLost),
                stats.count(Answer::Busy)
            ),
            (1, 2, 1, 1)
        );
        assert_eq!(
            (
                stats.count(Answer::Other4xx),
                stats.count(Answer::Server5xx),
                stats.count(Answer::OtherStatus),
                stats.count(Answer::Other2xx)
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(stats.count(Answer::Accepted), 1);
        assert_eq!(stats.completed(), 10);
        assert_eq!(stats.transport_errors(), 1);
        assert_eq!(
            stats.latency(Outcome::Sold).len(),
            2,
            "a 202 is a sale's wait"
        );
        assert_eq!(stats.latency(Outcome::SoldOut).len(), 2);
        assert_eq!(stats.latency(Outcome::LockLost).len(), 1);
        assert_eq!(stats.latency(Outcome::Other).len(), 4);
        assert_eq!(stats.latency_all().len(), 10);
    }

    #[test]
    fn merging_workers_adds_counts_and_histograms_and_keeps_the_worst_lag() {
        let mut a = Stats::new();
        a.sent = 2;
        a.record(Answer::Sold, 1_000);
        a.record(Answer::LockLost, 10);
        a.max_start_lag_us = 7;
        let mut b = Stats::new();
        b.sent = 2;
        b.record(Answer::Sold, 9_000_000);
        b.record(Answer::LockLost, 10);
        b.record_error(TransportError::Connect);
        b.max_start_lag_us = 3;

        a.merge(&b);

        assert_eq!(a.sent, 4);
        assert_eq!(a.count(Answer::Sold), 2);
        assert_eq!(a.count(Answer::LockLost), 2);
        assert_eq!(a.transport[TransportError::Connect.index()], 1);
        assert_eq!(a.max_start_lag_us, 7);
        let sold = &a.latency(Outcome::Sold);
        assert_eq!(sold.len(), 2);
        assert!(sold.max() >= 9_000_000);
    }

    #[test]
    fn answers_are_counted_in_the_100_ms_bucket_they_arrived_in_and_merged_by_bucket() {
        let ms = Duration::from_millis;
        let mut a = Stats::new();
        a.record_at(Answer::Sold, ms(0));
        a.record_at(Answer::SoldOut, ms(99));
        a.record_at(Answer::Sold, ms(100));
        let mut b = Stats::new();
        b.record_at(Answer::Busy, ms(50));
        b.record_at(Answer::Sold, ms(350));
        b.record_at(Answer::Accepted, ms(360));

        a.merge(&b);

        assert_eq!(a.answered_per_bucket, [3, 1, 0, 2]);
        assert_eq!(a.sold_per_bucket, [1, 1, 0, 2]);
    }
}
