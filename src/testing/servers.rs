//! Dependencies of a test's own, for tests that stop, freeze, restart or
//! crash them: a `redis-server` and a Postgres cluster, each on a free
//! loopback port and stopped by its PID — never the shared ones.

use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

/// A `redis-server` of the test's own on a free loopback port, with no
/// persistence (or, from [`RedisServer::start_persistent`], an append-only
/// file synced at every write): for tests that stop, restart or kill Redis
/// (never the shared one on 6379). Stopped by its PID when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<std::process::Child>,
    /// The directory of its append-only file, when it keeps one.
    aof_dir: Option<std::path::PathBuf>,
    /// The master's port, for a replica.
    replica_of: Option<u16>,
}

impl RedisServer {
    pub fn start() -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            child: None,
            aof_dir: None,
            replica_of: None,
        };
        server.restart();
        server
    }

    /// A replica (`--replicaof`) of the master on loopback port `master`
    /// (or of a proxy in front of it, which can hold the link up), for the
    /// failover lesson: what the master acknowledged reaches it later, or
    /// never.
    pub fn start_replica_of(master: u16) -> Self {
        let mut server = Self {
            port: free_port(),
            child: None,
            aof_dir: None,
            replica_of: Some(master),
        };
        server.restart();
        server
    }

    /// A server that survives a kill with every acknowledged write:
    /// `appendonly yes` with `appendfsync always` (Redis 7.0; from 7.2,
    /// `WAITAOF` lets a client ask for it per write).
    pub fn start_persistent() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("flashsale-redis-aof-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a directory for the append-only file");
        let mut server = Self {
            port,
            child: None,
            aof_dir: Some(dir),
            replica_of: None,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:{port}`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kill it (SIGKILL, as a crash would): everything it held is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freeze it (SIGSTOP, as a stalled host would be): it keeps its
    /// connections open and answers nothing until the returned guard is
    /// dropped (SIGCONT) — also when the test fails.
    pub fn freeze(&self) -> Frozen {
        let pid = self.child.as_ref().expect("the server runs").id();
        assert!(signal(pid, "-STOP"), "could not freeze redis-server {pid}");
        Frozen { pid }
    }

    /// Start it again on the same port — empty, unless it keeps an
    /// append-only file — and wait until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = std::process::Command::new("redis-server");
        command.args(["--port", &self.port.to_string()]).args([
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ]);
        if let Some(master) = self.replica_of {
            command.args(["--replicaof", "127.0.0.1", &master.to_string()]);
        }
        match &self.aof_dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always"])
                .args(["--dir", &dir.to_string_lossy()]),
            None => command
                .args(["--appendonly", "no"])
                .args(["--dir", &std::env::temp_dir().to_string_lossy()]),
        };
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server on {} did not start",
                self.port
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.aof_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A [`RedisServer`] frozen by [`RedisServer::freeze`]; thawed when dropped.
#[must_use = "the server thaws when this is dropped"]
pub struct Frozen {
    pid: u32,
}

impl Drop for Frozen {
    fn drop(&mut self) {
        // Never panic in a drop (it may run while a failed test unwinds).
        if !signal(self.pid, "-CONT") {
            eprintln!("warning: could not thaw redis-server {}", self.pid);
        }
    }
}

/// `kill <signal> <pid>` to a process this test started; `true` if sent.
fn signal(pid: u32, signal: &str) -> bool {
    std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .is_ok_and(|status| status.success())
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A Postgres cluster of the test's own: `initdb` into a temporary directory
/// (trust auth, superuser `postgres`), then `postgres` on a free loopback
/// port with its socket in that directory — for tests that stop, restart or
/// crash Postgres (never the shared cluster on 5432). Runs as user
/// `postgres` when the test runs as root (Postgres refuses root). Killed by
/// its process group and its directory removed when dropped.
pub struct PostgresServer {
    pub port: u16,
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    /// uid and gid to run as, when the test runs as root.
    owner: Option<(u32, u32)>,
    child: Option<std::process::Child>,
}

impl PostgresServer {
    /// A new cluster, started; panics with the server's own words if it
    /// cannot be made or does not start.
    pub fn start() -> Self {
        let bin = postgres_bin_dir();
        let owner = postgres_owner();
        let dir = std::env::temp_dir().join(format!("flashsale-pg-{}", Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).expect("create the cluster's directory");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .expect("hand the cluster's directory to user postgres");
        }
        let mut server = Self {
            port: free_port(),
            dir,
            bin,
            owner,
            child: None,
        };
        let initdb = server
            .command("initdb")
            .arg("-D")
            .arg(&server.dir)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"])
            .arg("--no-sync")
            .output()
            .expect("initdb is installed (Debian: apt-get install postgresql)");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        server.restart();
        server
    }

    /// `postgres://postgres@127.0.0.1:{port}/{database}`
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Connection options for `database` on this server.
    pub fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username("postgres")
            .database(database)
    }

    /// Kill it (SIGKILL to the postmaster and every backend, as a crash
    /// would): connections drop, transactions in flight are lost, committed
    /// ones are kept (the next start recovers them from the WAL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The postmaster leads its own process group: its backends too.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(std::process::Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port, with what it had committed, and wait
    /// until it accepts connections.
    pub fn restart(&mut self) {
        use std::os::unix::process::CommandExt;

        self.kill();
        let log = std::fs::File::create(self.dir.join("server.log")).expect("create server.log");
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            // Throwaway data: durability against an OS crash is not tested.
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdout(log.try_clone().expect("server.log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("postgres is installed");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "postgres on {} exited ({status}): {}",
                    self.port,
                    self.log_tail()
                );
            }
            let ready = std::process::Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "postgres on {} did not start: {}",
                self.port,
                self.log_tail()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// A command from the server's bin directory, as the cluster's owner.
    fn command(&self, program: &str) -> std::process::Command {
        use std::os::unix::process::CommandExt;

        let mut command = std::process::Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        command.current_dir(&self.dir);
        command
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else
/// the programs on the PATH.
fn postgres_bin_dir() -> std::path::PathBuf {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_default()
}

/// User `postgres`'s uid and gid when the test runs as root, else `None`
/// (the cluster then belongs to the test's own user).
fn postgres_owner() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;

    let root = std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() == 0);
    if !root {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let ids = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            ["postgres", _, uid, gid, ..] => Some((uid.parse().ok()?, gid.parse().ok()?)),
            _ => None,
        }
    });
    Some(ids.expect("running as root, Postgres needs a user `postgres` to run as"))
}
