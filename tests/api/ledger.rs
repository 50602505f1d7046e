//! The ledger of held locks forgets a lock only once its release has
//! answered, or once its TTL has passed: a release that failed is retried by
//! the shutdown (`Ledger::release_all`, which is what the shutdown calls).
//!
//! Redis is made unreachable with a gate in front of it (the test's own
//! proxy, closed and opened again on the same port): the lock stays in Redis,
//! as it would across a network cut, and only the service loses sight of it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{TcpProxy, TestApp, client, purchase, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_failed_stays_in_the_ledger_and_the_shutdown_releases_it() {
    let (mut gate, app) = spawn_app_behind_a_gate().await;
    let ledger = app.state.shop.lab.ledger().clone();
    let buyer = spawn_purchase(&app, "lock=redis&work_ms=800&ttl_ms=30000");
    let token = held_by(&app).await;

    gate.close();
    assert_eq!(buyer.await.unwrap(), StatusCode::CREATED);

    assert_eq!(ledger.len(), 1, "the lock whose release failed is kept");
    assert_eq!(
        lock_in_redis(&app).await,
        Some(token),
        "and Redis still has it"
    );
    gate.open().await;
    wait_until_redis_is_up(&app).await;
    assert_eq!(ledger.release_all().await, 1);
    assert_eq!(lock_in_redis(&app).await, None);
    assert_eq!(ledger.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_failed_is_forgotten_once_the_ttl_has_passed() {
    let (mut gate, app) = spawn_app_behind_a_gate().await;
    let ledger = app.state.shop.lab.ledger().clone();
    let buyer = spawn_purchase(&app, "lock=redis&work_ms=300&ttl_ms=3000");
    held_by(&app).await;

    gate.close();
    assert_eq!(buyer.await.unwrap(), StatusCode::CREATED);
    assert_eq!(ledger.len(), 1, "the lock whose release failed is kept");

    // The TTL counts from the release's start, before the answer.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(ledger.len(), 0, "and forgotten once Redis has dropped it");
    gate.open().await;
    assert_eq!(ledger.release_all().await, 0);
}

/// The service with its Redis (the shared one, under the test's own key
/// prefix) behind a gate.
async fn spawn_app_behind_a_gate() -> (Gate, TestApp) {
    let gate = Gate::start(TcpProxy::REDIS.parse().unwrap()).await;
    let url = format!("redis://127.0.0.1:{}", gate.port);
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;
    (gate, app)
}

fn spawn_purchase(app: &TestApp, query: &str) -> JoinHandle<StatusCode> {
    let (base, query) = (app.address.clone(), query.to_owned());
    tokio::spawn(async move { purchase(&client(), &base, 1, &query).await.status() })
}

/// Waits until the service holds the lock on product 1; its token. The
/// service holds it once the answer to its SET is back (its ledger has it),
/// which is later than Redis has it: a gate closed in between would cut the
/// answer, and the purchase would fail before its work.
async fn held_by(app: &TestApp) -> String {
    let ledger = app.state.shop.lab.ledger();
    for _ in 0..500 {
        if ledger.len() == 1
            && let Some(token) = lock_in_redis(app).await
        {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the lock was never taken")
}

/// The lock on product 1, read past the gate.
async fn lock_in_redis(app: &TestApp) -> Option<String> {
    let client = redis::Client::open(format!("redis://{}", TcpProxy::REDIS)).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(app.lock_key(1))
        .query_async(&mut redis)
        .await
        .unwrap()
}

/// As the shutdown would find it some time later: `/readyz` says Redis is up.
async fn wait_until_redis_is_up(app: &TestApp) {
    for _ in 0..100 {
        let ready = client().get(app.url("/readyz")).send().await.unwrap();
        if ready.status() == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Redis never came back for the service")
}

/// A TCP proxy that can be closed (connections cut, new ones refused) and
/// opened again on the same port.
struct Gate {
    port: u16,
    target: SocketAddr,
    running: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Gate {
    async fn start(target: SocketAddr) -> Self {
        let mut gate = Self {
            port: 0,
            target,
            running: None,
            connections: Arc::default(),
        };
        gate.open().await;
        gate
    }

    async fn open(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], self.port)))
            .expect("bind the gate");
        let listener = socket.listen(128).unwrap();
        self.port = listener.local_addr().unwrap().port();
        let (target, connections) = (self.target, self.connections.clone());
        self.running = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        }));
    }

    fn close(&mut self) {
        if let Some(accepting) = self.running.take() {
            accepting.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.close();
    }
}
