//! One running instance of the service, and a purchase sent to one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use flashsale::testing::free_port;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::time::sleep;
use uuid::Uuid;

use super::PRODUCT;

/// One running instance of the service, killed when dropped.
pub struct Service {
    child: Child,
    pub port: u16,
    pub address: String,
    pub client: Client,
    log: Option<PathBuf>,
    env: Vec<(String, String)>,
}

impl Service {
    /// The same instance again, on the same port (a load balancer knows it
    /// by its port), after [`Service::kill`].
    pub async fn restart(&mut self) {
        self.child = spawn(&self.env, self.port, self.log.as_deref(), true);
        if let Err(why) = self.wait_ready(Duration::from_secs(20)).await {
            panic!("the restarted service did not become ready: {why}");
        }
    }

    pub async fn start(env: Vec<(String, String)>) -> Self {
        // With a log, the service binds port 0 and the log says which port
        // it got: a free port picked here could be taken by another test's
        // instance before this one binds it, and that instance's /readyz
        // would then answer for this one.
        for _ in 0..3 {
            let log = (std::env::var_os("TEST_LOG").is_none()).then(|| {
                std::env::temp_dir()
                    .join(format!("flashsale-fault-{}.log", Uuid::new_v4().simple()))
            });
            let port = if log.is_some() { 0 } else { free_port() };
            let child = spawn(&env, port, log.as_deref(), false);
            let mut service = Self {
                child,
                port,
                address: format!("http://127.0.0.1:{port}"),
                client: Client::builder()
                    .pool_max_idle_per_host(256)
                    .build()
                    .unwrap(),
                log,
                env: env.clone(),
            };
            if service.log.is_some() {
                match service.bound_port(Duration::from_secs(20)).await {
                    Ok(bound) => {
                        service.port = bound;
                        service.address = format!("http://127.0.0.1:{bound}");
                    }
                    Err(why) => panic!("the service did not start: {why}"),
                }
            }
            match service.wait_ready(Duration::from_secs(20)).await {
                Ok(()) => return service,
                Err(why) if why.contains("cannot listen") => continue,
                Err(why) => panic!("the service did not become ready: {why}"),
            }
        }
        panic!("no free port for the service after 3 tries")
    }

    /// The port the service says it listens on (`flashsale listening on
    /// http://127.0.0.1:PORT` in its log).
    async fn bound_port(&mut self, limit: Duration) -> Result<u16, String> {
        const SAID: &str = "listening on http://127.0.0.1:";
        let log = self.log.clone().expect("a log to read");
        let deadline = Instant::now() + limit;
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = text.find(SAID) {
                let digits: String = text[at + SAID.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(port) = digits.parse() {
                    return Ok(port);
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}): {}", self.log_tail()));
            }
            if Instant::now() > deadline {
                return Err(format!("no port after {limit:?}: {}", self.log_tail()));
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Until `GET /readyz` answers 200; `Err` with the log's last line if the
    /// process exits or the limit passes.
    pub async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}): {}", self.log_tail()));
            }
            let ready = self
                .client
                .get(format!("{}/readyz", self.address))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {limit:?}: {}", self.log_tail()));
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn restock(&self, stock: i64) {
        let answer = self
            .client
            .post(format!("{}/api/products/{PRODUCT}/reset", self.address))
            .json(&json!({ "stock": stock }))
            .send()
            .await
            .expect("restock request");
        assert_eq!(answer.status(), StatusCode::OK, "restock");
    }

    pub async fn purchase(&self, query: &str) -> (StatusCode, Value) {
        send_purchase(&self.client, &self.address, query)
            .await
            .expect("purchase request")
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill is installed");
        assert!(sent.success(), "kill -{signal}");
    }

    /// The exit status, or `None` if it is still running after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn log_tail(&self) -> String {
        let Some(log) = &self.log else {
            return "(TEST_LOG is set: see above)".to_owned();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("(empty log)")
            .to_owned()
    }
}

/// The service's process on `port`, its output into `log` (appended to,
/// for a restart) when there is one.
fn spawn(env: &[(String, String)], port: u16, log: Option<&Path>, append: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flashsale"));
    command
        .env_clear()
        .envs(env.iter().map(|(n, v)| (n, v)))
        .env("PORT", port.to_string())
        .stdin(Stdio::null());
    if let Some(log) = log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(log)
            .expect("open the service's log");
        command.stdout(file.try_clone().unwrap()).stderr(file);
    }
    command.spawn().expect("start flashsale")
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
        if let Some(log) = &self.log {
            if std::thread::panicking() {
                eprintln!("the service's log: {}", log.display());
            } else {
                let _ = std::fs::remove_file(log);
            }
        }
    }
}

pub async fn send_purchase(
    client: &Client,
    address: &str,
    query: &str,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let answer = client
        .post(format!("{address}/api/products/{PRODUCT}/purchase?{query}"))
        .send()
        .await?;
    let status = answer.status();
    let body = answer.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

pub fn order_id(body: &Value) -> Option<Uuid> {
    body["order_id"].as_str()?.parse().ok()
}
