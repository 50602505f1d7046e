//! Start-up failures: one line naming the problem, a non-zero exit, no panic.

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
