//! Start-up failures: one line naming the problem, a non-zero exit, no panic.

use std::io::{BufRead, Read, Write};
use std::process::{Command, Output};

fn flashsale(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flashsale"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .env("PORT", "0")
        .env("RUST_LOG", "off")
        .output()
        .expect("run flashsale")
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_unreachable_postgres_is_named_in_one_line() {
    let output = flashsale(
        &[],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/flashsale")],
    );

    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("error: cannot prepare Postgres at 127.0.0.1:1/flashsale"),
        "{lines:?}"
    );
    assert!(!lines[0].contains("panicked"), "{lines:?}");
}

#[test]
fn an_unreachable_redis_is_named_in_one_line_and_creates_no_database() {
    let database = format!("flashsale_never_{}", uuid::Uuid::new_v4().simple());
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");

    let output = flashsale(
        &[],
        &[("DATABASE_URL", &url), ("REDIS_URL", "redis://127.0.0.1:1")],
    );

    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("error: cannot reach Redis at 127.0.0.1:1"),
        "{lines:?}"
    );
    let psql = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-Atc"])
        .arg(format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{database}'"
        ))
        .output()
        .expect("psql");
    assert_eq!(String::from_utf8_lossy(&psql.stdout).trim(), "0");
}

#[test]
fn a_pool_larger_than_postgres_allows_refuses_to_start_in_one_line_and_creates_no_database() {
    let database = format!("flashsale_never_{}", uuid::Uuid::new_v4().simple());
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");

    let output = flashsale(
        &[],
        &[("DATABASE_URL", &url), ("DB_MAX_CONNECTIONS", "1000")],
    );

    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let max: u32 = psql_value("SHOW max_connections").parse().unwrap();
    let reserved: u32 = psql_value("SHOW superuser_reserved_connections")
        .parse()
        .unwrap();
    let expected = format!(
        "DB_MAX_CONNECTIONS 1000 is more than this server allows \
         (max_connections {max} − {reserved} reserved for superusers = {})",
        max - reserved
    );
    assert!(lines[0].ends_with(&expected), "{lines:?}");
    assert!(!database_exists(&database), "{database} was created");
}

fn psql_value(sql: &str) -> String {
    let output = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-Atc", sql])
        .output()
        .expect("run psql");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn bad_settings_are_rejected_before_anything_starts() {
    for (args, env, named) in [
        (vec!["--lock-retry-ms", "0"], vec![], "--lock-retry-ms"),
        (
            vec![],
            vec![("DATABASE_URL", "mysql://x")],
            "--database-url",
        ),
        (
            vec![],
            vec![("DEFAULT_LOCK_MODE", "mutex")],
            "unknown lock strategy `mutex`",
        ),
        (
            vec![],
            vec![("LOCK_KEY_PREFIX", "has space")],
            "--lock-key-prefix",
        ),
        (vec![], vec![("PORT", "http")], "--port"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flashsale"));
        command.args(&args).env_clear().envs(env.iter().copied());
        let output = command.output().expect("run flashsale");

        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}");
        let lines = stderr_lines(&output);
        assert!(lines[0].starts_with("error: "), "{lines:?}");
        assert!(lines[0].contains(named), "{lines:?}");
    }
}

#[test]
fn a_host_beyond_loopback_without_allowed_hosts_refuses_to_start_in_one_line() {
    let database = format!("flashsale_never_{}", uuid::Uuid::new_v4().simple());
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");

    let output = flashsale(&[], &[("DATABASE_URL", &url), ("HOST", "0.0.0.0")]);

    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("error: HOST 0.0.0.0 is not a loopback address"),
        "{lines:?}"
    );
    assert!(lines[0].contains("ALLOWED_HOSTS"), "{lines:?}");
    assert!(
        !database_exists(&database),
        "refused only after preparing the database"
    );

    // With the names clients use, the same address starts (and is stopped).
    let mut served = Service::start(&[("HOST", "0.0.0.0"), ("ALLOWED_HOSTS", "localhost")]);
    assert!(served.port > 0);
    served.stop();
}

#[test]
fn malformed_requests_are_logged_at_info_never_at_error() {
    let mut service = Service::start(&[]);

    for request in [
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nNot a header\r\n\r\n".to_owned(),
        "GARBAGE\r\n\r\n".to_owned(),
        format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n",
            "X-Many: headers\r\n".repeat(100)
        ),
    ] {
        let mut socket = std::net::TcpStream::connect(("127.0.0.1", service.port)).unwrap();
        socket.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = socket.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    }
    let log = service.stop();

    let errors: Vec<&str> = log.lines().filter(|line| line.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "client errors logged as errors: {errors:#?}"
    );
    let refused = log
        .lines()
        .filter(|line| line.contains("INFO") && line.contains("request parse error"))
        .count();
    assert_eq!(refused, 3, "{log}");
}

fn database_exists(name: &str) -> bool {
    let psql = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-Atc"])
        .arg(format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
        ))
        .output()
        .expect("psql");
    String::from_utf8_lossy(&psql.stdout).trim() != "0"
}

/// The service, running on a throwaway database with the log at INFO;
/// killed and its database dropped when dropped.
struct Service {
    child: std::process::Child,
    port: u16,
    database: String,
    /// Every line the service has logged so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Service {
    fn start(env: &[(&str, &str)]) -> Self {
        let database = format!("flashsale_cli_{}", uuid::Uuid::new_v4().simple());
        let mut child = Command::new(env!("CARGO_BIN_EXE_flashsale"))
            .env_clear()
            .envs(env.iter().copied())
            .env(
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:5432/{database}"),
            )
            .env("LOCK_KEY_PREFIX", &database)
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run flashsale");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (port_found, port) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            let port_found = port_found.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    if let Some(port) = line
                        .split_once("listening on http://")
                        .and_then(|(_, address)| address.split_once(' ').map(|(a, _)| a))
                        .and_then(|address| address.rsplit_once(':'))
                        .and_then(|(_, port)| port.parse::<u16>().ok())
                    {
                        let _ = port_found.send(port);
                    }
                    log.lock().unwrap().push_str(&line);
                    log.lock().unwrap().push('\n');
                }
            });
        }
        let mut service = Self {
            child,
            port: 0,
            database,
            log,
        };
        service.port = port
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the service did not start: {}", service.log()));
        service
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, wait for the exit, and answer the whole log.
    fn stop(&mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        // The readers see the pipes close right after the exit.
        std::thread::sleep(std::time::Duration::from_millis(200));
        self.log()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-qAtc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.database
            ))
            .output();
    }
}

/// Finding 10 of issue 10: on a fresh machine the README's test command
/// failed (it assumed Postgres, Redis and chromedriver were there). Now the
/// quick start is two commands that bring up what they need, and CI runs
/// the same test command.
#[test]
fn the_quick_start_is_two_commands_that_bring_up_what_they_need_and_ci_runs_the_same() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let quick_start = &readme[readme.find("## Quick start").expect("a quick start")..];
    let quick_start = &quick_start[..quick_start[3..]
        .find("\n## ")
        .map_or(quick_start.len(), |end| end + 3)];
    assert!(quick_start.contains("./dev run"), "{quick_start}");
    assert!(quick_start.contains("./dev test"), "{quick_start}");
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(ci.lines().any(|line| line.trim() == "./dev test"), "{ci}");

    // The script is valid, and bringing the services up when they are up
    // already only checks them.
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(root.join("dev"))
        .status()
        .unwrap();
    assert!(syntax.success());
    let services = Command::new(root.join("dev"))
        .arg("services")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&services.stdout);
    assert!(
        services.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&services.stderr)
    );
    assert!(
        said.contains("postgres: up") && said.contains("redis: up"),
        "{said}"
    );
}

#[test]
fn the_help_shows_defaults_and_variable_names_never_an_empty_value() {
    let output = Command::new(env!("CARGO_BIN_EXE_flashsale"))
        .arg("--help")
        .env_clear()
        .output()
        .expect("run flashsale --help");

    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "[env: PORT]",
        "[default: 8080]",
        "[env: LOCK_TTL_MS]",
        "[default: 5000]",
        "[env: DEFAULT_LOCK_MODE]",
        "[default: redis]",
    ] {
        assert!(help.contains(expected), "no {expected} in:\n{help}");
    }
    // `[env: PORT=]` reads as a variable set to nothing; `[default: ]` as a
    // default of nothing.
    assert!(!help.contains("=]"), "{help}");
    assert!(!help.contains("[default: ]"), "{help}");

    // A variable that is set shows no value either (ADMIN_TOKEN is a secret).
    let output = Command::new(env!("CARGO_BIN_EXE_flashsale"))
        .arg("--help")
        .env_clear()
        .env("PORT", "19104")
        .env("ADMIN_TOKEN", "hunter2")
        .output()
        .expect("run flashsale --help");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("[env: PORT]"), "{help}");
    assert!(
        !help.contains("hunter2") && !help.contains("19104"),
        "{help}"
    );
}
