use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flashsale::testing::{TestApp, spawn_app_with};
use loadtest::report::{ModeReport, Report};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

/// What one run of the binary left behind.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Stderr without the note a service lacking `GET /metrics` gets (its
    /// own tests are in `metrics.rs`), so that the tests of everything else
    /// hold with or without it.
    pub fn stderr_besides_metrics(&self) -> String {
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("note: no lock wait and hold times in the report: "))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// The report, when the run was asked for `--format json` on stdout.
    pub fn json(&self) -> Report {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `flashsale-loadtest` with `args` (never with a progress bar).
pub async fn loadtest(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_flashsale-loadtest"))
        .args(args)
        .arg("--no-progress")
        .output()
        .await
        .expect("the loadtest binary runs");
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The report of one mode.
pub fn mode<'a>(report: &'a Report, name: &str) -> &'a ModeReport {
    report
        .modes
        .iter()
        .find(|m| m.mode == name)
        .unwrap_or_else(|| panic!("no mode {name} in the report"))
}

/// A port on loopback that nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The service without Redlock nodes, whether or not some run on this
/// machine: `redlock` is then listed, and unavailable.
pub async fn spawn_app_without_redlock() -> TestApp {
    spawn_app_with(|settings| settings.redlock_urls = Default::default()).await
}

/// What a [`MetricsProxy`] answers to its `n`-th `GET /metrics` (0-based):
/// a page of Prometheus text, or `None` for a 404 (an older service).
pub type MetricsPages = dyn Fn(usize) -> Option<String> + Send + Sync;

/// A TCP proxy in front of `upstream` (`http://127.0.0.1:port`) that answers
/// `GET /metrics` itself, from `pages`, and passes every other connection
/// through untouched: the service with a `/metrics` of the test's choosing,
/// whatever the real one says. Returns the proxy's base URL.
pub async fn metrics_proxy(upstream: &str, pages: Arc<MetricsPages>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    let scrapes = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let (upstream, pages, scrapes) = (upstream.clone(), pages.clone(), scrapes.clone());
            tokio::spawn(async move {
                // The first request line says where the connection goes.
                let mut seen = Vec::new();
                let mut chunk = [0u8; 4096];
                while !seen.windows(2).any(|w| w == b"\r\n") {
                    match client.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&chunk[..n]),
                    }
                }
                if seen.starts_with(b"GET /metrics ") {
                    let n = scrapes.fetch_add(1, Ordering::SeqCst);
                    let answer = match pages(n) {
                        Some(page) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\n\
                             content-length: {}\r\nconnection: close\r\n\r\n{page}",
                            page.len()
                        ),
                        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_string(),
                    };
                    let _ = client.write_all(answer.as_bytes()).await;
                    return;
                }
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                if server.write_all(&seen).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    address
}
