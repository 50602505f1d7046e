use std::process::ExitStatus;

use flashsale::testing::{TestApp, spawn_app_with};
use loadtest::report::{ModeReport, Report};
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
