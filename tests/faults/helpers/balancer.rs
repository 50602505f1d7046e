//! HAProxy in front of a test's instances, from the project's own
//! `deploy/haproxy/haproxy.cfg` (the file `./dev scale` uses).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flashsale::testing::free_port;
use tokio::time::sleep;

/// A HAProxy process of the test's own, stopped (by its PID) when dropped.
pub struct Balancer {
    child: Child,
    pub address: String,
    /// Its request log: a failing test names it.
    log: PathBuf,
}

impl Balancer {
    /// HAProxy on a free loopback port, sending buyers round-robin to the
    /// instances on `ports`, ready once every instance passed its checks.
    pub async fn start(ports: &[u16]) -> Self {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy/haproxy.cfg");
        let haproxy = which("haproxy");
        for _ in 0..3 {
            let port = free_port();
            let log = std::env::temp_dir().join(format!("flashsale-haproxy-{port}.log"));
            let file = std::fs::File::create(&log).expect("create HAProxy's log");
            let mut command = Command::new(&haproxy);
            command
                .args(["-db", "-f"])
                .arg(&config)
                .env_clear()
                .env("LB_BIND", format!("127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(file.try_clone().unwrap())
                .stderr(file);
            for (n, instance) in ports.iter().enumerate() {
                command.env(format!("APP_{}", n + 1), format!("127.0.0.1:{instance}"));
            }
            let mut balancer = Self {
                child: command.spawn().expect("start haproxy"),
                address: format!("http://127.0.0.1:{port}"),
                log,
            };
            // The port could be taken between free_port and HAProxy's bind:
            // HAProxy then exits, and the next try takes another.
            if balancer.wait_listening(Duration::from_secs(10)).await {
                // Every server is checked every 500 ms and is up after two
                // good checks (haproxy.cfg): give them three rounds.
                sleep(Duration::from_millis(1500)).await;
                return balancer;
            }
        }
        panic!("HAProxy did not start after 3 tries")
    }

    async fn wait_listening(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let port: u16 = self.address.rsplit(':').next().unwrap().parse().unwrap();
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return true;
            }
            sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("HAProxy's log: {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn which(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the scale-out test needs {program}: install Debian's `{program}` \
                 (./dev test and .ci/run do)"
            )
        })
}
