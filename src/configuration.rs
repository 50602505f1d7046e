//! One typed configuration, read from flags and the environment.
//!
//! Every default works on a developer machine with a local Postgres and Redis,
//! so `flashsale` with no arguments serves the demo on http://127.0.0.1:8080.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ipnet::IpNet;
use sqlx::postgres::PgConnectOptions;

use crate::lock::Strategy;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "flashsale",
    version,
    about = "A flash sale that oversells without a lock and never with one.",
    long_about = "A flash sale that oversells without a lock and never with one.\n\n\
        Serves the purchase API, the browser demo and the flash-crowd runner. Every \
        option can also be set through the environment variable shown beside it."
)]
pub struct Settings {
    /// Postgres database; created when missing, migrated and seeded at start-up.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/flashsale",
        value_parser = parse_database_url,
        hide_env_values = true
    )]
    pub database_url: PgConnectOptions,

    /// Redis server holding the locks.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        value_parser = parse_redis_url,
        hide_env_values = true
    )]
    pub redis_url: redis::ConnectionInfo,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// How long a taken lock lives in Redis before it expires on its own (ms).
    #[arg(long = "lock-ttl-ms", value_name = "MS", env = "LOCK_TTL_MS", default_value = "5000", value_parser = parse_positive_millis)]
    pub lock_ttl: Duration,

    /// How long a buyer keeps retrying a busy lock before the answer is 429 (ms).
    #[arg(long = "lock-deadline-ms", value_name = "MS", env = "LOCK_DEADLINE_MS", default_value = "5000", value_parser = parse_millis)]
    pub lock_deadline: Duration,

    /// Pause between two attempts at a busy lock (ms), plus a little jitter.
    #[arg(long = "lock-retry-ms", value_name = "MS", env = "LOCK_RETRY_MS", default_value = "50", value_parser = parse_positive_millis)]
    pub lock_retry: Duration,

    /// Prefix of every Redis key: locks live at {prefix}:lock:{product:ID}.
    #[arg(long, env = "LOCK_KEY_PREFIX", default_value = "flashsale", value_parser = parse_key_prefix)]
    pub lock_key_prefix: String,

    /// Lock strategy used when a purchase does not name one.
    #[arg(long, env = "DEFAULT_LOCK_MODE", default_value = "redis")]
    pub default_lock_mode: Strategy,

    /// The independent Redis nodes of `lock=redlock`, comma-separated; empty
    /// for none (the strategy is then unavailable).
    #[arg(
        long,
        env = "REDLOCK_URLS",
        default_value = "redis://127.0.0.1:6380,redis://127.0.0.1:6381,redis://127.0.0.1:6382",
        value_parser = parse_redlock_urls,
        hide_env_values = true
    )]
    pub redlock_urls: RedlockNodes,

    /// Longest wait for one Redis call before answering 503 (ms).
    #[arg(long = "redis-timeout-ms", value_name = "MS", env = "REDIS_TIMEOUT_MS", default_value = "1000", value_parser = parse_positive_millis)]
    pub redis_timeout: Duration,

    /// Longest wait for a Postgres connection, and for one statement, before
    /// answering 503 (ms); a statement held up by a row a sale holds is a
    /// busy product instead (429, or 409 for a restock).
    #[arg(long = "db-timeout-ms", value_name = "MS", env = "DB_TIMEOUT_MS", default_value = "2000", value_parser = parse_positive_millis)]
    pub db_timeout: Duration,

    /// Size of the Postgres connection pool of this instance.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,

    /// Most of those connections the sales of one product hold at once
    /// (default: a quarter of DB_MAX_CONNECTIONS). The Postgres guards hold
    /// one per waiting buyer: beyond this, a product's buyers queue in the
    /// process, within their deadline, and other products still sell.
    #[arg(long, env = "DB_CONNECTIONS_PER_PRODUCT", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_connections_per_product: Option<u32>,

    /// Connections the sales never take, kept for reads (the page,
    /// /api/products, /readyz) and restocks (default: a quarter of
    /// DB_MAX_CONNECTIONS; at most all but one).
    #[arg(long, env = "DB_READ_RESERVE", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub db_read_reserve: Option<u32>,

    /// Longest wait for a request's head, and then for its body, before
    /// answering 408 (ms): a client that stalls mid-request holds nothing
    /// for longer.
    #[arg(long = "request-timeout-ms", value_name = "MS", env = "REQUEST_TIMEOUT_MS", default_value = "5000", value_parser = parse_positive_millis)]
    pub request_timeout: Duration,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,

    /// Host names this service answers to (the Host header), comma-separated;
    /// `*` for any. Guards against DNS rebinding. Required when HOST is not a
    /// loopback address.
    #[arg(long, env = "ALLOWED_HOSTS", value_parser = parse_allowed_hosts)]
    pub allowed_hosts: Option<AllowedHosts>,

    /// When set, restocking and flash crowds (API and page) need this token:
    /// `Authorization: Bearer <token>`, or the page's admin cookie. Purchases
    /// never do.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<AdminToken>,

    /// Purchases per second allowed per client address (0: unlimited, the
    /// default: this is a benchmark target).
    #[arg(long, env = "RATE_LIMIT_RPS", default_value_t = 0)]
    pub rate_limit_rps: u32,

    /// Reverse proxies in front of this service, comma-separated CIDRs or
    /// addresses (empty, the default: none). Only from these peers are
    /// `X-Forwarded-For` (the client's address, for the rate limits) and
    /// `X-Forwarded-Proto` (https: the admin cookie is `Secure`) believed.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,

    /// Flash crowds this instance runs at once (one per product in any case).
    #[arg(long, env = "MAX_CROWDS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_crowds: u16,

    /// Most buyers `pg-batch` sells in one transaction. The buyers of a
    /// product who arrive while a batch is written wait for the next one:
    /// up to this many go into it, the rest into the one after.
    #[arg(long, env = "PG_BATCH_MAX", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub pg_batch_max: u32,

    /// Run the order writer of `redis-stream` and `broken-ack-first` in this
    /// instance (it takes the queued orders from the Redis stream and writes
    /// them to Postgres). Every instance runs one by default; the consumer
    /// group shares the work between them.
    #[arg(long, env = "ORDER_WRITER", default_value_t = true, action = clap::ArgAction::Set)]
    pub order_writer: bool,

    /// Most queued orders the writer takes from the stream and writes in one
    /// transaction.
    #[arg(long, env = "ORDER_WRITER_BATCH", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub order_writer_batch: u32,

    /// An order taken by a writer and not acknowledged for this long is
    /// claimed by another writer (its first writer died) (ms).
    #[arg(long = "order-writer-claim-idle-ms", value_name = "MS", env = "ORDER_WRITER_CLAIM_IDLE_MS", default_value = "5000", value_parser = parse_positive_millis)]
    pub order_writer_claim_idle: Duration,

    /// A pause in the middle of every batch, between its two steps (write
    /// then acknowledge; acknowledge then write for `broken-ack-first`), to
    /// make the crash window wide enough to hit (ms; 0, the default, in
    /// production).
    #[arg(long = "order-writer-gap-ms", value_name = "MS", env = "ORDER_WRITER_GAP_MS", default_value = "0", value_parser = parse_millis)]
    pub order_writer_gap: Duration,

    /// Swagger UI's files (`swagger-ui-dist`), served by `GET /api/docs`
    /// (default: where `npm ci --prefix api-docs` puts them in this
    /// repository).
    #[arg(long, env = "API_DOCS_DIR", default_value = DEFAULT_API_DOCS_DIR)]
    pub api_docs_dir: PathBuf,
}

pub const DEFAULT_API_DOCS_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/api-docs/node_modules/swagger-ui-dist"
);

/// The Host names served; `None` inside means any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(pub Option<Vec<String>>);

impl AllowedHosts {
    /// Loopback names: the default when HOST is a loopback address.
    pub fn loopback() -> Self {
        Self(Some(vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "[::1]".into(),
        ]))
    }

    /// Whether a Host header (with or without its port) is served.
    pub fn allows(&self, host: &str) -> bool {
        let Some(names) = &self.0 else { return true };
        let name = match host.rsplit_once(':') {
            // `[::1]:8080`, `localhost:8080`; a bare `[::1]` has no port.
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        };
        names
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

fn parse_allowed_hosts(value: &str) -> Result<AllowedHosts, String> {
    if value.trim() == "*" {
        return Ok(AllowedHosts(None));
    }
    let names: Vec<String> = value
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        return Err("expected host names, comma-separated, or `*`".into());
    }
    Ok(AllowedHosts(Some(names)))
}

/// The networks of the reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Whether `peer` is one of them (an IPv4 address seen as `::ffff:a.b.c.d`
    /// counts as itself).
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0.iter().any(|net| net.contains(&peer))
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is not a CIDR (10.0.0.0/8) or an address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

/// A secret: never printed, compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// `subtle`'s comparison takes the same time whichever byte differs; only
    /// the length can show (the token's length is no secret worth keeping).
    pub fn matches(&self, offered: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl std::str::FromStr for AdminToken {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.len() < 8 || value.chars().any(char::is_whitespace) {
            return Err("expected at least 8 characters without spaces".into());
        }
        Ok(Self(value.to_owned()))
    }
}

impl Settings {
    /// The settings from the flags and the environment: `main`'s. Its
    /// `--help` names each option's variable and default, never the
    /// variable's value — clap would print `[env: PORT=]` for an unset one,
    /// as if it were set to nothing (and the value of a set one). Done here
    /// for every option, so that a new one cannot forget it.
    pub fn from_args_and_env() -> Self {
        let mut command =
            <Self as clap::CommandFactory>::command().mut_args(|arg| arg.hide_env_values(true));
        let matches = command.clone().get_matches();
        <Self as clap::FromArgMatches>::from_arg_matches(&matches)
            .map_err(|error| error.format(&mut command))
            .unwrap_or_else(|error| error.exit())
    }

    /// The defaults alone, ignoring flags and the environment.
    pub fn defaults() -> Self {
        Self::try_parse_from_defaults().expect("the built-in defaults parse")
    }

    fn try_parse_from_defaults() -> Result<Self, clap::Error> {
        // `env` would read the process environment; the defaults must not.
        let mut command = <Self as clap::CommandFactory>::command();
        command = command.mut_args(|arg| arg.env(None::<&str>));
        let matches = command.try_get_matches_from(["flashsale"])?;
        <Self as clap::FromArgMatches>::from_arg_matches(&matches)
    }

    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The Host names served: ALLOWED_HOSTS, or the loopback names when
    /// HOST is a loopback address. `Err` when HOST is not loopback and
    /// ALLOWED_HOSTS is unset.
    pub fn served_hosts(&self) -> Result<AllowedHosts, String> {
        if let Some(hosts) = &self.allowed_hosts {
            return Ok(hosts.clone());
        }
        let loopback = self.host == "localhost"
            || self
                .host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            Ok(AllowedHosts::loopback())
        } else {
            Err(format!(
                "HOST {} is not a loopback address: set ALLOWED_HOSTS to the names clients use (or `*`)",
                self.host
            ))
        }
    }

    /// How long a shutdown waits for the sales in flight: longer than the
    /// longest purchase can take (deadline, pause and work at their largest,
    /// plus the database waits).
    pub fn shutdown_grace(&self) -> Duration {
        use crate::domain::{LockDeadline, PauseDelay, WorkDelay};
        let longest_knobs = LockDeadline::MAX_MS.max(self.lock_deadline.as_millis() as u64)
            + PauseDelay::MAX_MS
            + WorkDelay::MAX_MS;
        Duration::from_millis(longest_knobs) + self.db_timeout * 3 + Duration::from_secs(2)
    }

    /// The sales' share of the Postgres pool: (for all sales together, for
    /// one product's), each at least 1.
    pub fn sale_connections(&self) -> (u32, u32) {
        let pool = self.db_max_connections;
        let quarter = (pool / 4).max(1);
        let reserve = self.db_read_reserve.unwrap_or(quarter).min(pool - 1);
        let sales = pool - reserve;
        let per_product = self.db_connections_per_product.unwrap_or(quarter);
        (sales, per_product.min(sales))
    }

    /// The database name, for creating it when missing.
    pub fn database_name(&self) -> &str {
        self.database_url.get_database().unwrap_or("postgres")
    }
}

fn parse_millis(value: &str) -> Result<Duration, String> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("`{value}` is not a whole number of milliseconds"))
}

fn parse_positive_millis(value: &str) -> Result<Duration, String> {
    match parse_millis(value)? {
        Duration::ZERO => Err("must be at least 1 ms".into()),
        duration => Ok(duration),
    }
}

fn parse_database_url(value: &str) -> Result<PgConnectOptions, String> {
    if !(value.starts_with("postgres://") || value.starts_with("postgresql://")) {
        return Err("expected a postgres:// URL".into());
    }
    value.parse::<PgConnectOptions>().map_err(|e| e.to_string())
}

fn parse_redis_url(value: &str) -> Result<redis::ConnectionInfo, String> {
    redis::IntoConnectionInfo::into_connection_info(value).map_err(|e| e.to_string())
}

/// The Redlock nodes: each a `redis://` URL.
#[derive(Debug, Clone, Default)]
pub struct RedlockNodes(pub Vec<redis::ConnectionInfo>);

fn parse_redlock_urls(value: &str) -> Result<RedlockNodes, String> {
    let nodes = value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(parse_redis_url)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RedlockNodes(nodes))
}

fn parse_key_prefix(value: &str) -> Result<String, String> {
    // Braces would move the keys' hash tags (`{product:1}`), which keep a
    // product's keys in one Redis Cluster slot.
    if value.is_empty()
        || value.len() > 64
        || value
            .chars()
            .any(|c| c.is_whitespace() || c == '{' || c == '}')
    {
        return Err("expected 1 to 64 characters without spaces or braces".into());
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses_and_none_by_default() {
        assert_eq!(
            Settings::defaults().trusted_proxies,
            TrustedProxies::default()
        );

        let proxies: TrustedProxies = " 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,".parse().unwrap();
        assert_eq!(proxies.0.len(), 3);
        for inside in ["10.200.0.1", "192.0.2.1", "2001:db8::7", "::ffff:10.0.0.1"] {
            assert!(proxies.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["11.0.0.1", "192.0.2.2", "2001:db9::1"] {
            assert!(!proxies.contains(outside.parse().unwrap()), "{outside}");
        }
        for bad in ["10.0.0.0/33", "proxy.example", "10.0.0.1/8/8"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_admin_token_matches_itself_only() {
        let token: AdminToken = "classroom-secret".parse().unwrap();
        assert!(token.matches("classroom-secret"));
        for other in [
            "",
            "classroom-secre",
            "classroom-secret!",
            "Classroom-secret",
        ] {
            assert!(!token.matches(other), "{other}");
        }
    }

    #[test]
    fn the_sales_get_the_pool_less_a_reserve_and_one_product_a_quarter() {
        let with = |pool, reserve, per_product| {
            let mut settings = Settings::defaults();
            settings.db_max_connections = pool;
            settings.db_read_reserve = reserve;
            settings.db_connections_per_product = per_product;
            settings.sale_connections()
        };
        assert_eq!(with(20, None, None), (15, 5));
        assert_eq!(with(20, Some(0), Some(20)), (20, 20));
        assert_eq!(with(20, Some(50), Some(3)), (1, 1), "the sales keep one");
        assert_eq!(with(10, Some(2), Some(9)), (8, 8));
        assert_eq!(with(1, None, None), (1, 1));
    }
}
