//! What each request of a crowd is: a purchase with the lab's knobs, or a
//! `GET` of the generator's own benchmark; and the request template a worker
//! builds once per target, so a request costs one string and one `Uri`.

use std::fmt::Write;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::header::{CONTENT_LENGTH, HOST, HeaderValue};
use hyper::{Method, Request, Uri};

use crate::http::Target;

/// What each request of the crowd is.
#[derive(Debug, Clone)]
pub enum Work {
    /// `POST /api/products/{product}/purchase?lock={mode}&{knobs}&user=lt-{run}-{mode}-{n}`
    Purchase {
        product: u64,
        mode: String,
        knobs: Knobs,
        run_id: String,
        /// `--buyers N`: request n buys as buyer `n mod N` (the bot case);
        /// `None`: one buyer per request.
        buyers: Option<u64>,
        /// `--duplicate-check`: sent as the service's `duplicate_check`.
        duplicate_check: Option<String>,
        /// Send an `Idempotency-Key` (one per request number), so that a
        /// retry (`--retry`) can never buy twice.
        idempotent: bool,
    },
    /// `GET {path}`: to measure the generator itself on a cheap endpoint.
    Get { path: String },
}

/// The lab's knobs, passed to every purchase: the business step, and the
/// lock's TTL, deadline and a pause when asked for (`None`: not sent, so the
/// service's own setting applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Knobs {
    pub work_ms: u64,
    pub ttl_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    pub pause_ms: Option<u64>,
}

/// A knob's name and the range the service accepts (`src/domain.rs`).
pub struct KnobRange {
    pub field: &'static str,
    pub min: u64,
    pub max: u64,
}

impl KnobRange {
    pub const TTL: KnobRange = KnobRange {
        field: "ttl_ms",
        min: 100,
        max: 60_000,
    };
    pub const DEADLINE: KnobRange = KnobRange {
        field: "deadline_ms",
        min: 0,
        max: 30_000,
    };
    pub const PAUSE: KnobRange = KnobRange {
        field: "pause_ms",
        min: 0,
        max: 30_000,
    };

    /// A whole number of milliseconds in range, or the service's sentence.
    pub fn parse(&self, input: &str) -> Result<u64, String> {
        match input.trim().parse::<u64>() {
            Ok(ms) if (self.min..=self.max).contains(&ms) => Ok(ms),
            _ => Err(format!(
                "{} must be a whole number from {} to {}, got `{input}`",
                self.field, self.min, self.max
            )),
        }
    }
}

impl Knobs {
    /// `work_ms=20&ttl_ms=150&pause_ms=400`: the knobs as a query string, the
    /// unset ones left out.
    pub fn query(&self) -> String {
        let mut query = format!("work_ms={}", self.work_ms);
        for (name, value) in [
            ("ttl_ms", self.ttl_ms),
            ("deadline_ms", self.deadline_ms),
            ("pause_ms", self.pause_ms),
        ] {
            if let Some(value) = value {
                let _ = write!(query, "&{name}={value}");
            }
        }
        query
    }

    /// Whether any knob beyond `work_ms` is set: an older service, without
    /// the lock lab, would silently ignore them.
    pub fn uses_lab_knobs(&self) -> bool {
        self.ttl_ms.is_some() || self.deadline_ms.is_some() || self.pause_ms.is_some()
    }

    /// The longest a purchase may legitimately take besides the lock wait:
    /// what an out-of-band call adds to its timeout.
    pub fn slowest_ms(&self) -> u64 {
        self.work_ms + self.pause_ms.unwrap_or(0) + self.deadline_ms.unwrap_or(0)
    }
}

/// The part of the request target that is the same for every request of a
/// worker; a purchase only appends its request number to the user id.
pub fn prefix(target: &Target, work: &Work) -> String {
    match work {
        Work::Purchase {
            product,
            mode,
            knobs,
            run_id,
            duplicate_check,
            ..
        } => target.path(&format!(
            "/api/products/{product}/purchase?lock={mode}&{}{}&user=lt-{run_id}-{mode}-",
            knobs.query(),
            duplicate_check
                .as_deref()
                .map_or(String::new(), |check| format!("&duplicate_check={check}"))
        )),
        Work::Get { path } => target.path(path),
    }
}

/// What a worker sends to one target, built once: a purchase only appends
/// its request number to the user id; a `GET` is the same every time.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    method: Method,
    host: HeaderValue,
    /// The request target, or its prefix when `numbered`.
    path: String,
    /// Set for a fixed request target: cloned, not parsed, per request.
    fixed: Option<Uri>,
    /// `--buyers`: the user id is the request number modulo this.
    buyers: Option<u64>,
    /// The `Idempotency-Key` before the request number, when one is sent.
    key_prefix: Option<String>,
}

impl RequestTemplate {
    pub fn new(target: &Target, work: &Work) -> RequestTemplate {
        let (method, fixed) = match work {
            Work::Purchase { .. } => (Method::POST, None),
            Work::Get { .. } => {
                let uri = prefix(target, work)
                    .parse()
                    .expect("--get paths are checked to be valid request targets");
                (Method::GET, Some(uri))
            }
        };
        let (buyers, key_prefix) = match work {
            Work::Purchase {
                buyers,
                idempotent,
                run_id,
                mode,
                ..
            } => (
                buyers.filter(|&b| b > 0),
                idempotent.then(|| format!("lt-{run_id}-{mode}-")),
            ),
            Work::Get { .. } => (None, None),
        };
        RequestTemplate {
            method,
            host: target.host_header().clone(),
            path: prefix(target, work),
            fixed,
            buyers,
            key_prefix,
        }
    }

    /// Request number `n`, with `Host` and an empty body.
    pub fn request(&self, n: u64) -> Request<Empty<Bytes>> {
        let uri = match &self.fixed {
            Some(uri) => uri.clone(),
            None => {
                let mut path = String::with_capacity(self.path.len() + 20);
                path.push_str(&self.path);
                let _ = write!(path, "{}", self.buyers.map_or(n, |b| n % b));
                Uri::try_from(path).expect("a valid prefix and digits make a valid target")
            }
        };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(uri)
            .header(HOST, self.host.clone());
        if let Some(key) = &self.key_prefix {
            let key = HeaderValue::try_from(format!("{key}{n}"))
                .expect("a run id, a mode and digits make a valid header value");
            builder = builder.header("idempotency-key", key);
        }
        if self.method == Method::POST {
            // hyper sends no length for an empty body; some proxies want one
            // on a POST.
            builder = builder.header(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        builder
            .body(Empty::new())
            .expect("a method, a valid target and valid headers make a valid request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase(knobs: Knobs) -> Work {
        Work::Purchase {
            product: 3,
            mode: "redis".into(),
            knobs,
            run_id: "abc".into(),
            buyers: None,
            duplicate_check: None,
            idempotent: false,
        }
    }

    #[test]
    fn buyers_share_names_and_a_retryable_purchase_carries_its_key() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let work = Work::Purchase {
            product: 3,
            mode: "redis".into(),
            knobs: Knobs::default(),
            run_id: "abc".into(),
            buyers: Some(10),
            duplicate_check: Some("count".into()),
            idempotent: true,
        };
        let template = RequestTemplate::new(&target, &work);

        let request = template.request(1207);

        assert_eq!(
            request.uri(),
            "/api/products/3/purchase?lock=redis&work_ms=0&duplicate_check=count&user=lt-abc-redis-7"
        );
        assert_eq!(request.headers()["idempotency-key"], "lt-abc-redis-1207");
    }

    #[test]
    fn a_numbered_purchase_carries_its_number_the_host_and_a_zero_length() {
        let target = Target::parse("http://127.0.0.1:8080/shop").unwrap();
        let template = RequestTemplate::new(&target, &purchase(Knobs::default()));

        let request = template.request(1207);

        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            request.uri(),
            "/shop/api/products/3/purchase?lock=redis&work_ms=0&user=lt-abc-redis-1207"
        );
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
        assert_eq!(request.headers()[CONTENT_LENGTH], "0");
        assert!(template.request(0).uri().to_string().ends_with("-redis-0"));
    }

    #[test]
    fn a_get_is_the_same_request_every_time_without_a_length() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let template = RequestTemplate::new(
            &target,
            &Work::Get {
                path: "/healthz".into(),
            },
        );

        let request = template.request(42);

        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "/healthz");
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
        assert!(!request.headers().contains_key(CONTENT_LENGTH));
    }

    #[test]
    fn a_purchase_prefix_carries_lock_work_and_a_per_request_user() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let knobs = Knobs {
            work_ms: 20,
            ..Knobs::default()
        };
        assert_eq!(
            prefix(&target, &purchase(knobs)),
            "/api/products/3/purchase?lock=redis&work_ms=20&user=lt-abc-redis-"
        );
    }

    #[test]
    fn the_lab_knobs_are_sent_only_when_set() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        let knobs = Knobs {
            work_ms: 300,
            ttl_ms: Some(150),
            deadline_ms: Some(0),
            pause_ms: Some(400),
        };
        assert_eq!(
            prefix(&target, &purchase(knobs)),
            "/api/products/3/purchase?lock=redis&work_ms=300&ttl_ms=150&deadline_ms=0&pause_ms=400&user=lt-abc-redis-"
        );
        assert!(knobs.uses_lab_knobs());
        assert!(!Knobs::default().uses_lab_knobs());
        assert_eq!(knobs.slowest_ms(), 700);
    }

    #[test]
    fn knob_ranges_are_the_services() {
        assert_eq!(KnobRange::TTL.parse("100"), Ok(100));
        assert_eq!(KnobRange::TTL.parse("60000"), Ok(60_000));
        assert_eq!(
            KnobRange::TTL.parse("99"),
            Err("ttl_ms must be a whole number from 100 to 60000, got `99`".into())
        );
        assert!(KnobRange::TTL.parse("60001").is_err());
        assert_eq!(KnobRange::DEADLINE.parse("0"), Ok(0));
        assert!(KnobRange::DEADLINE.parse("30001").is_err());
        assert_eq!(KnobRange::PAUSE.parse("30000"), Ok(30_000));
        assert!(KnobRange::PAUSE.parse("-1").is_err());
        assert!(KnobRange::PAUSE.parse("soon").is_err());
    }
}
