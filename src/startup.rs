//! Building the service: database (created, migrated, seeded), Redis, and a
//! bound HTTP server that tests can start on port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::time::timeout;
use tracing_actix_web::TracingLogger;

use crate::configuration::Settings;
use crate::crowd::CrowdSlots;
use crate::lab::bulkhead::Bulkhead;
use crate::lab::stream::Queue;
use crate::lab::stream::writer::{OrderWriter, WriterSettings};
use crate::lab::{Lab, LabSettings};
use crate::lock::{self, LockTiming, RedisNode};
use crate::purchase::Shop;
use crate::routes::gate::{self, Gate};
use crate::routes::limits::{self, RequestLimits};
use crate::routes::rate_limit::PurchaseRateLimit;
use crate::state::AppState;
use crate::{products, routes};

/// A service with its port bound, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    grace: Duration,
}

impl Application {
    /// Prepare the database and Redis, then bind `settings.host:settings.port`.
    /// Each failure names what could not be reached.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        // Settings first, then Redis: neither a bad setting nor a missing
        // Redis should leave a new database behind.
        let hosts = settings.served_hosts().map_err(anyhow::Error::msg)?;
        let limits = RequestLimits {
            timeout: settings.request_timeout,
        };
        let redis = connect_redis(settings).await?;
        let gate = Gate::new(
            hosts,
            settings.admin_token.clone(),
            PurchaseRateLimit::new(
                RedisNode::new(redis.clone(), settings.redis_timeout),
                &settings.lock_key_prefix,
                settings.rate_limit_rps,
            ),
            settings.trusted_proxies.clone(),
        );
        let db = prepare_database(settings).await?;
        let state = app_state(settings, db, redis);
        // Stopped with the service (and with the lab, when a test drops it).
        let shop = &state.shop;
        shop.lab.watch_availability(shop.shutdown.clone()).await;
        if settings.order_writer {
            start_order_writers(settings, shop);
        }

        let address = settings.address();
        let listener = listen(&address).with_context(|| format!("cannot listen on {address}"))?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, state.clone(), gate, limits, settings.workers)?;
        Ok(Self {
            port,
            server,
            state,
            grace: settings.shutdown_grace(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state handlers see, for running purchases in-process.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until [`Shop::shutdown`] is cancelled, then shut down cleanly.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stop = self.state.shop.shutdown.clone();
        self.run_until(async move { stop.cancelled().await }).await
    }

    /// Serve until `signal`, then shut down cleanly:
    /// 1. no new sale or crowd starts (503 `shutting_down`), and running
    ///    crowds let no more buyers in;
    /// 2. the sales in flight finish — also those whose client hung up —
    ///    for up to the grace (longer than the longest purchase);
    /// 3. the HTTP server stops;
    /// 4. any Redis lock a sale cut short still holds is released, and the
    ///    log says what was cut short.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        let Self {
            server,
            state,
            grace,
            ..
        } = self;
        let handle = server.handle();
        let mut serving = tokio::spawn(server);
        tokio::select! {
            served = &mut serving => return served.expect("the server task does not panic"),
            () = signal => {}
        }
        let shop = &state.shop;
        tracing::info!(
            in_flight = shop.sales.len(),
            grace_s = grace.as_secs(),
            "shutting down: waiting for the sales in flight"
        );
        shop.shutdown.cancel();
        shop.sales.close();
        if tokio::time::timeout(grace, shop.sales.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                cut_short = shop.sales.len(),
                "shutdown grace over: sales still running are cut short"
            );
        }
        handle.stop(true).await;
        let released = shop.lab.ledger().release_all().await;
        if released > 0 {
            tracing::warn!(released, "released the Redis locks of sales cut short");
        }
        tracing::info!("stopped");
        serving.await.expect("the server task does not panic")
    }
}

/// The order writers of the stream designs, one per stream, stopped with
/// the service.
fn start_order_writers(settings: &Settings, shop: &Shop) {
    for queue in Queue::ALL {
        let writer = OrderWriter::new(
            queue,
            &settings.lock_key_prefix,
            settings.redis_url.clone(),
            shop.db.clone(),
            WriterSettings {
                batch: settings.order_writer_batch as usize,
                claim_idle: settings.order_writer_claim_idle,
                gap: settings.order_writer_gap,
                redis_timeout: settings.redis_timeout,
            },
        );
        tokio::spawn(writer.run(shop.shutdown.child_token()));
    }
}

fn app_state(settings: &Settings, db: PgPool, redis: ConnectionManager) -> AppState {
    let lab = Lab::new(LabSettings {
        redis: RedisNode::new(redis.clone(), settings.redis_timeout),
        redis_info: settings.redis_url.clone(),
        db: db.clone(),
        key_prefix: settings.lock_key_prefix.clone(),
        redlock_nodes: settings.redlock_urls.0.clone(),
        default_timing: LockTiming {
            ttl: settings.lock_ttl,
            deadline: settings.lock_deadline,
            retry: settings.lock_retry,
            pause: Duration::ZERO,
            give_up: None,
        },
        redis_timeout: settings.redis_timeout,
        db_timeout: settings.db_timeout,
        bulkhead: {
            let (sales, per_product) = settings.sale_connections();
            Bulkhead::new(sales as usize, per_product as usize)
        },
        batch_max: settings.pg_batch_max as usize,
    });
    AppState {
        shop: Shop::new(db, lab),
        crowds: CrowdSlots::new(settings.max_crowds.into()),
        redis,
        default_lock_mode: settings.default_lock_mode,
        redis_timeout: settings.redis_timeout,
        db_timeout: settings.db_timeout,
        api_docs_dir: settings.api_docs_dir.as_path().into(),
    }
}

fn serve(
    listener: TcpListener,
    state: AppState,
    gate: Gate,
    limits: RequestLimits,
    workers: Option<usize>,
) -> anyhow::Result<Server> {
    let request_timeout = limits.timeout;
    let data = web::Data::new(state);
    let gate = web::Data::new(gate);
    let limits = web::Data::new(limits);
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::from_fn(limits::bound))
            .wrap(middleware::from_fn(gate::check))
            .wrap(
                middleware::DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "same-origin")),
            )
            .wrap(middleware::from_fn(routes::metrics::observe))
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .app_data(gate.clone())
            .app_data(limits.clone())
            .configure(routes::configure)
    })
    .client_request_timeout(request_timeout)
    // A client that hangs up mid-request is gone, not half-closed: its
    // handler is dropped, so a flash crowd it started lets no more buyers
    // in (the sales already started finish on their own).
    .h1_allow_half_closed(false)
    // Our own shutdown (run_until) drains the sales first; signals are the
    // caller's to wire.
    .disable_signals()
    .shutdown_timeout(5);
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}

/// A pooled connection idle for longer than this is pinged before use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Create the database when missing, connect a pool, migrate, seed the demo.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<PgPool> {
    let options = &settings.database_url;
    let target = format!(
        "Postgres at {}:{}/{}",
        options.get_host(),
        options.get_port(),
        settings.database_name()
    );
    create_database_if_missing(
        options,
        settings.database_name(),
        settings.db_max_connections,
        settings.db_timeout,
    )
    .await
    .with_context(|| format!("cannot prepare {target}"))?;

    let statement_timeout = settings.db_timeout.as_millis().to_string();
    let pool = PgPoolOptions::new()
        .max_connections(settings.db_max_connections)
        .acquire_timeout(settings.db_timeout)
        // sqlx pings every connection it hands out by default: a round trip
        // before each statement, twice per sale. Ping only connections that
        // sat idle long enough to have died (a Postgres restart) instead.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for < IDLE_BEFORE_PING {
                    return Ok(true);
                }
                Ok(connection.ping().await.is_ok())
            })
        })
        .connect_with(
            options
                .clone()
                .options([("statement_timeout", statement_timeout.as_str())]),
        )
        .await
        .with_context(|| format!("cannot connect to {target}"))?;

    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .with_context(|| format!("cannot migrate {target}"))?;
    products::seed_demo_products(&pool)
        .await
        .with_context(|| format!("cannot seed {target}"))?;
    Ok(pool)
}

async fn create_database_if_missing(
    options: &PgConnectOptions,
    name: &str,
    pool: u32,
    limit: Duration,
) -> anyhow::Result<()> {
    // Connect to the maintenance database of the same server.
    let maintenance = options.clone().database("postgres");
    let mut connection = timeout(limit, PgConnection::connect_with(&maintenance))
        .await
        .context("connection timed out")??;
    check_pool_fits(&mut connection, pool).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut connection)
            .await?;
    if !exists {
        let create = format!("CREATE DATABASE {}", quote_identifier(name));
        match sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut connection)
            .await
        {
            Ok(_) => tracing::info!(database = name, "created the database"),
            // Another instance created it at the same moment (Postgres says
            // so with 42P04, or with 23505 when both inserts race).
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            Err(e) => return Err(e.into()),
        }
    }
    connection.close().await?;
    Ok(())
}

pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One multiplexed connection for the whole instance, checked with a PING.
pub async fn connect_redis(settings: &Settings) -> anyhow::Result<ConnectionManager> {
    let info = lock::with_resp3(settings.redis_url.clone());
    let target = format!("Redis at {}", info.addr());
    let client = redis::Client::open(info).with_context(|| format!("bad address for {target}"))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.redis_timeout))
        .set_response_timeout(Some(settings.redis_timeout))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_millis(500));
    let connect = async {
        let mut manager = ConnectionManager::new_with_config(client, config).await?;
        redis::cmd("PING")
            .query_async::<String>(&mut manager)
            .await?;
        Ok::<_, redis::RedisError>(manager)
    };
    timeout(settings.redis_timeout * 3, connect)
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))
        .and_then(|connected| connected.map_err(Into::into))
        .with_context(|| format!("cannot reach {target}"))
}

/// Refuses a pool that this Postgres could never give: past
/// `max_connections` (less the slots kept for superusers) the pool's last
/// connections would fail under load, mid-sale, instead of at start-up.
/// Several instances share the same server: each one's pool must fit in
/// what the others leave (the README's "scale out" says how to size them).
async fn check_pool_fits(connection: &mut PgConnection, pool: u32) -> anyhow::Result<()> {
    let (max, reserved): (i32, i32) = sqlx::query_as(
        "SELECT current_setting('max_connections')::int, \
                current_setting('superuser_reserved_connections')::int",
    )
    .fetch_one(&mut *connection)
    .await?;
    let allowed = (max - reserved).max(0) as u32;
    if pool > allowed {
        anyhow::bail!(
            "DB_MAX_CONNECTIONS {pool} is more than this server allows \
             (max_connections {max} − {reserved} reserved for superusers = {allowed})"
        );
    }
    Ok(())
}

/// Connections waiting to be accepted. std's `bind` asks for 128: a flash
/// crowd's connects overflowed it (the load generator saw SYNs dropped and
/// retried a second later), so ask for what actix asks for when it binds
/// (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 2048;

fn listen(address: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(address)?;
    let socket = socket2::Socket::from(listener);
    // listen() again on a listening socket only changes its backlog.
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}
