//! One typed configuration, read from flags and the environment.
//!
//! Every default works on a developer machine with a local Postgres and Redis,
//! so `flashsale` with no arguments serves the demo on http://127.0.0.1:8080.

use std::time::Duration;

use clap::Parser;
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

    /// Prefix of every Redis key: locks live at {prefix}:lock:product:{id}.
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

    /// Longest wait for a Postgres connection, and for one statement, before answering 503 (ms).
    #[arg(long = "db-timeout-ms", value_name = "MS", env = "DB_TIMEOUT_MS", default_value = "2000", value_parser = parse_positive_millis)]
    pub db_timeout: Duration,

    /// Size of the Postgres connection pool of this instance.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,
}

impl Settings {
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
    if value.is_empty() || value.len() > 64 || value.chars().any(|c| c.is_whitespace()) {
        return Err("expected 1 to 64 characters without spaces".into());
    }
    Ok(value.to_owned())
}
