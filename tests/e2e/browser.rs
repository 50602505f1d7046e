//! chromedriver and a headless Chromium of the test's own.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use flashsale::testing::free_port;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::helpers::{WINDOW, screenshot_dir};

/// chromedriver on a free local port, with a WebDriver session on a headless
/// Chromium using a fresh profile. Dropping it stops chromedriver and
/// deletes the profile.
pub struct Browser {
    pub client: Client,
    _driver: Driver,
}

struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    pub async fn start() -> Self {
        let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
        let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
        let port = free_port();
        let profile =
            std::env::temp_dir().join(format!("flashsale-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).expect("create a browser profile directory");
        let log = std::fs::create_dir_all(screenshot_dir())
            .map(|()| screenshot_dir().join("chromedriver.log"))
            .expect("create target/e2e");

        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Driver { child, profile };
        wait_for_port(port, Duration::from_secs(20));

        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                    // Chromium exits when chromedriver does, even if killed.
                    "--remote-debugging-pipe",
                    format!("--user-data-dir={}", driver.profile.display()),
                    format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                ],
            },
        });
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().expect("an object").clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start {}: {e} (log: {})",
                    chromium.display(),
                    log.display()
                )
            });
        Self {
            client,
            _driver: driver,
        }
    }
}

/// `$env` if set, else the first of `names` on the PATH; fails the test
/// with what to install otherwise.
fn find_program(env: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the browser end-to-end test needs {} on the PATH (or {env} set): \
         install Debian's `chromium` and `chromium-driver` \
         (apt-get install chromium chromium-driver; .ci/run does it)",
        names.join(" or ")
    );
}

fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
