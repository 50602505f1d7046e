use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use reqwest::{Client, Response, StatusCode, header};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub use flashsale::testing::{RedisServer, TestApp, spawn_app, spawn_app_with};

pub fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("http client")
}

pub async fn purchase(client: &Client, base: &str, product: i64, query: &str) -> Response {
    client
        .post(format!("{base}/api/products/{product}/purchase?{query}"))
        .send()
        .await
        .expect("purchase request")
}

/// Outcome counts of a crowd of concurrent purchases.
#[derive(Debug, Default)]
pub struct Crowd {
    /// Accepted: 201 (written), or 202 (queued: the stream designs).
    pub sold: usize,
    /// Of `sold`, answered 202.
    pub queued: usize,
    pub sold_out: usize,
    /// 409 `lock_lost`: the buyer's lock was lost and it wrote nothing.
    pub lock_lost: usize,
    /// 409 `restocked`.
    pub restocked: usize,
    pub busy: usize,
    pub other: Vec<StatusCode>,
}

/// `buyers` purchases at once, spread round-robin over `bases`.
pub async fn flash_crowd(bases: &[&str], product: i64, buyers: usize, query: &str) -> Crowd {
    let client = client();
    let requests = (0..buyers).map(|n| {
        let client = client.clone();
        let base = bases[n % bases.len()].to_owned();
        let query = format!("{query}&user=buyer-{n}");
        tokio::spawn(async move {
            let response = purchase(&client, &base, product, &query).await;
            let status = response.status();
            let code = match status {
                StatusCode::CONFLICT => response
                    .json::<Value>()
                    .await
                    .ok()
                    .map(|body| body["error"].clone()),
                _ => None,
            };
            (status, code)
        })
    });
    let mut crowd = Crowd::default();
    for answer in join_all(requests).await {
        match answer.expect("request task") {
            (StatusCode::CREATED, _) => crowd.sold += 1,
            (StatusCode::ACCEPTED, _) => {
                crowd.sold += 1;
                crowd.queued += 1;
            }
            (StatusCode::CONFLICT, Some(code)) if code == "lock_lost" => crowd.lock_lost += 1,
            (StatusCode::CONFLICT, Some(code)) if code == "restocked" => crowd.restocked += 1,
            (StatusCode::CONFLICT, Some(code)) if code == "sold_out" => crowd.sold_out += 1,
            (StatusCode::TOO_MANY_REQUESTS, _) => crowd.busy += 1,
            (other, _) => crowd.other.push(other),
        }
    }
    crowd
}

/// The product once no order of it is queued (the stream designs write
/// their orders after answering): polled, at most 30 s.
pub async fn drained(app: &TestApp, id: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stats = product(app, id).await;
        if stats["queued"] == 0 || std::time::Instant::now() > deadline {
            return stats;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub async fn product(app: &TestApp, id: i64) -> Value {
    let response = client()
        .get(app.url(&format!("/api/products/{id}")))
        .send()
        .await
        .expect("product request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("product JSON")
}

/// The product sold exactly `stock` units: stock 0, no oversell, no lost
/// update, and its lock is free again.
pub async fn assert_sold_exactly(app: &TestApp, id: i64, stock: i64) {
    let stats = product(app, id).await;
    assert_eq!(stats["orders"], stock, "{stats}");
    assert_eq!(stats["stock"], 0, "{stats}");
    assert_eq!(stats["oversold"], 0, "{stats}");
    assert_eq!(stats["lost_updates"], 0, "{stats}");
    assert_eq!(app.order_count(id).await, stock);
    assert_eq!(
        redis_get(app, &app.lock_key(id)).await,
        None,
        "lock released"
    );
}

/// Asserts the status and the `{"error": code, "message": ...}` body.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status for expected `{code}`");
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

pub async fn redis_get(app: &TestApp, key: &str) -> Option<String> {
    let mut redis = app.redis.clone();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut redis)
        .await
        .expect("redis GET")
}

/// The service with its Postgres behind a [`TcpProxy`] the test can cut,
/// and a 500 ms database timeout so that an outage shows quickly.
pub async fn spawn_app_behind_postgres_proxy() -> (TcpProxy, TestApp) {
    let proxy = TcpProxy::start(TcpProxy::POSTGRES).await;
    let port = proxy.port;
    let app = spawn_app_with(|settings| {
        settings.database_url = settings.database_url.clone().port(port);
        settings.db_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    (proxy, app)
}

/// A TCP proxy in front of Redis or Postgres that a test can stall or cut,
/// to play a server that hangs or goes away while the service runs.
pub struct TcpProxy {
    pub port: u16,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stalled: Arc<tokio::sync::watch::Sender<bool>>,
    target: Arc<Mutex<SocketAddr>>,
}

impl TcpProxy {
    pub const REDIS: &str = "127.0.0.1:6379";
    pub const POSTGRES: &str = "127.0.0.1:5432";

    pub async fn start(target: &str) -> Self {
        let target = Arc::new(Mutex::new(target.parse::<SocketAddr>().unwrap()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let stalled = Arc::new(tokio::sync::watch::channel(false).0);
        let accept = {
            let connections = connections.clone();
            let stalled = stalled.clone();
            let target = target.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let mut stalled = stalled.subscribe();
                    let target = *target.lock().unwrap();
                    let task = tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        let stall = async {
                            let _ = stalled.wait_for(|s| *s).await;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = stall => {
                                // Hold both sockets open and forward nothing.
                                std::future::pending::<()>().await;
                            }
                        }
                    });
                    connections.lock().unwrap().push(task);
                }
            })
        };
        Self {
            port,
            accept,
            connections,
            stalled,
            target,
        }
    }

    /// Send new connections to `target` and close the open ones, as a
    /// failover does when a client follows the new master.
    pub fn switch_to(&self, target: &str) {
        *self.target.lock().unwrap() = target.parse().unwrap();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Keep connections open but answer nothing.
    pub fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Close every connection and refuse new ones.
    pub fn cut(&self) {
        self.accept.abort();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// No damage, whatever was sold: no oversell, no lost update, every order
/// counted, the lock free. Returns the number of orders.
pub async fn assert_no_damage(app: &TestApp, id: i64, initial: i64) -> i64 {
    let stats = drained(app, id).await;
    let orders = stats["orders"].as_i64().unwrap();
    assert_eq!(stats["initial_stock"], initial, "{stats}");
    assert_eq!(stats["oversold"], 0, "{stats}");
    assert_eq!(stats["lost_updates"], 0, "{stats}");
    assert_eq!(stats["stock"], initial - orders, "{stats}");
    assert_eq!(app.order_count(id).await, orders);
    orders
}

/// The product's numbers after a run that is expected to oversell: returns
/// (orders, oversold, lost updates), checked against each other.
pub async fn damage(app: &TestApp, id: i64) -> (i64, i64, i64) {
    let stats = product(app, id).await;
    let orders = stats["orders"].as_i64().unwrap();
    let initial = stats["initial_stock"].as_i64().unwrap();
    let stock = stats["stock"].as_i64().unwrap();
    assert_eq!(app.order_count(id).await, orders, "every order is counted");
    assert_eq!(
        stats["oversold"].as_i64().unwrap(),
        (orders - initial).max(0),
        "{stats}"
    );
    assert_eq!(
        stats["lost_updates"].as_i64().unwrap(),
        orders - (initial - stock),
        "{stats}"
    );
    (
        orders,
        stats["oversold"].as_i64().unwrap(),
        stats["lost_updates"].as_i64().unwrap(),
    )
}

/// `GET /api/strategies`.
pub async fn strategies(app: &TestApp) -> Vec<Value> {
    let response = client()
        .get(app.url("/api/strategies"))
        .send()
        .await
        .expect("strategies request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("strategies JSON")
}

/// Three `redis-server`s of the test's own, as Redlock nodes.
pub fn redlock_nodes() -> Vec<RedisServer> {
    (0..3).map(|_| RedisServer::start()).collect()
}

/// The settings' value for `nodes`.
pub fn redlock_urls(nodes: &[RedisServer]) -> flashsale::configuration::RedlockNodes {
    let urls: Vec<_> = nodes
        .iter()
        .map(|node| node.url().parse().unwrap())
        .collect();
    flashsale::configuration::RedlockNodes(urls)
}

/// What a server sent back on a raw connection.
#[derive(Debug)]
pub struct RawAnswer {
    /// Everything received, as text.
    pub text: String,
    /// The server closed the connection (else `wait` ran out first).
    pub closed: bool,
    /// From the last byte sent to the close (or to the end of `wait`).
    pub elapsed: std::time::Duration,
}

impl RawAnswer {
    /// The status code of the first answer, if one came.
    pub fn status(&self) -> Option<u16> {
        self.text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
    }

    /// The first answer's body: what follows the blank line after its head.
    pub fn body(&self) -> &str {
        self.text
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }
}

/// Send `request` byte for byte on a new connection to the service (for
/// what an HTTP client would never send), then read until the server closes
/// the connection or `wait` runs out.
pub async fn raw_http(port: u16, request: &[u8], wait: std::time::Duration) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the service");
    socket.write_all(request).await.expect("send the request");
    let sent = std::time::Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + wait;
    let closed = loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => break false,
        }
    };
    RawAnswer {
        text: String::from_utf8_lossy(&received).into_owned(),
        closed,
        elapsed: sent.elapsed(),
    }
}

/// The crowd reports the service kept, oldest first.
pub async fn crowd_reports(app: &TestApp) -> Vec<Value> {
    sqlx::query_scalar::<_, Value>("SELECT report FROM crowd_runs ORDER BY created_at")
        .fetch_all(&app.db)
        .await
        .expect("read crowd_runs")
}

// --- The page, as a browser without JavaScript sees it ----------------------

/// A client that shows redirects instead of following them.
pub fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub async fn page(address: &str, path_and_query: &str) -> String {
    let response = client()
        .get(format!("{address}{path_and_query}"))
        .send()
        .await
        .expect("page request");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("page body")
}

/// POST the page's form to `path`: the `Location` of the 303, and the
/// one-time cookie (`name=value`) that carries the form's outcome, if any.
async fn post_form(address: &str, path: &str, form: &[(&str, &str)]) -> (String, Option<String>) {
    let response = browser()
        .post(format!("{address}{path}"))
        .form(form)
        .send()
        .await
        .expect("form request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii location")
        .to_owned();
    let told = response.headers().get(header::SET_COOKIE).map(|cookie| {
        let cookie = cookie.to_str().expect("ascii cookie");
        cookie.split(';').next().expect("a cookie").to_owned()
    });
    (location, told)
}

/// POST the page's form to `path`; answers the `Location` of the 303.
pub async fn submit(address: &str, path: &str, form: &[(&str, &str)]) -> String {
    let (location, _) = post_form(address, path, form).await;
    assert!(location.starts_with("/?"), "{location}");
    location
}

/// POST the page's form to `path` and load the page it comes back to, as a
/// browser does: with the one-time cookie that carries the form's outcome.
/// Answers the `Location` of the 303 and the page.
pub async fn submit_told(address: &str, path: &str, form: &[(&str, &str)]) -> (String, String) {
    let (location, told) = post_form(address, path, form).await;
    let page = client()
        .get(format!("{address}{location}"))
        .header(
            header::COOKIE,
            told.expect("a one-time cookie with the outcome"),
        )
        .send()
        .await
        .expect("page request");
    assert_eq!(page.status(), StatusCode::OK);
    (location, page.text().await.expect("page body"))
}

/// POST the page's form to `path` and expect it refused: the page again,
/// with the API's status. Answers the page.
pub async fn refused(
    address: &str,
    path: &str,
    form: &[(&str, &str)],
    status: StatusCode,
) -> String {
    let response = browser()
        .post(format!("{address}{path}"))
        .form(form)
        .send()
        .await
        .expect("form request");
    assert_eq!(response.status(), status, "{path}");
    let html = response.text().await.expect("page body");
    assert!(html.contains(r#"role="alert""#), "no alert on the page");
    html
}

/// Text as the page's templates escape it.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
