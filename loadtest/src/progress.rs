//! The progress of a run on stderr: which crowd of how many (`mode 3 of 17
//! · run 2 of 5 · lock=redis`), its requests, and when it should end. Drawn
//! only when stderr is a terminal (indicatif hides it otherwise), whatever
//! stdout is, so `--modes all > report.txt` still shows where it is.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::crowd::{self, Plan, Shared, Stop};

/// Where a crowd stands in the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// From 1.
    pub mode: usize,
    pub modes: usize,
    /// From 1.
    pub run: u32,
    pub runs: u32,
}

impl Step {
    /// `mode 3 of 17 · run 2 of 5 · lock=redis` (no run with one run per mode).
    pub fn label(&self, title: &str) -> String {
        let mut label = format!("mode {} of {}", self.mode, self.modes);
        if self.runs > 1 {
            label.push_str(&format!(" · run {} of {}", self.run, self.runs));
        }
        format!("{label} · {title}")
    }
}

/// The time left at the crowd's own pace so far (requests done over time
/// elapsed): indicatif's estimator weighs the slow first moments (connections
/// opening) and said 25 s for a crowd of 2.8 s. `None` before the first
/// answer.
pub fn eta(done: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    if done == 0 {
        return None;
    }
    let left = total.saturating_sub(done) as f64;
    Some(elapsed.mul_f64(left / done as f64))
}

/// `eta 3 s`, `eta 2 min 5 s`, or `eta ?` before any answer.
fn eta_text(eta: Option<Duration>) -> String {
    match eta.map(|d| d.as_secs_f64().ceil() as u64) {
        None => "eta ?".to_string(),
        Some(s) if s >= 60 => format!("eta {} min {} s", s / 60, s % 60),
        Some(s) => format!("eta {s} s"),
    }
}

/// A crowd's bar and the task that moves it.
pub struct Progress {
    bar: ProgressBar,
    ticker: JoinHandle<()>,
}

impl Progress {
    /// Draws the bar for one crowd until [`Progress::finish`].
    pub fn start(plan: &Plan, label: String, shared: Arc<Shared>) -> Progress {
        let total = crowd::total_requests(plan);
        let (length, template) = match total {
            Some(n) => (
                n,
                "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} {prefix}",
            ),
            None => (
                match plan.stop {
                    Stop::Duration(d) => d.as_millis() as u64,
                    Stop::Requests(_) => 0,
                },
                "{msg} [{elapsed_precise}] {wide_bar} {prefix}",
            ),
        };
        let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(label);
        let ticking = bar.clone();
        let started = Instant::now();
        let ticker = tokio::spawn(async move {
            loop {
                let done = shared.done.load(Ordering::Relaxed);
                let elapsed = started.elapsed();
                match total {
                    Some(total) => {
                        ticking.set_position(done);
                        ticking.set_prefix(eta_text(eta(done, total, elapsed)));
                    }
                    None => {
                        // A crowd for a duration ends when its time is up.
                        let ms = elapsed.as_millis() as u64;
                        ticking.set_position(ms.min(length));
                        let left = Duration::from_millis(length.saturating_sub(ms));
                        ticking.set_prefix(format!("{done} answers, {}", eta_text(Some(left))));
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Progress { bar, ticker }
    }

    pub fn finish(self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_says_which_mode_and_which_run() {
        let step = Step {
            mode: 3,
            modes: 17,
            run: 2,
            runs: 5,
        };
        assert_eq!(
            step.label("lock=redis"),
            "mode 3 of 17 · run 2 of 5 · lock=redis"
        );
        let once = Step {
            run: 1,
            runs: 1,
            ..step
        };
        assert_eq!(once.label("lock=redis"), "mode 3 of 17 · lock=redis");
    }

    #[test]
    fn the_eta_follows_the_crowds_own_pace() {
        // 250 of 1000 in 0.7 s: 750 more at the same pace take 2.1 s.
        assert_eq!(
            eta(250, 1000, Duration::from_millis(700)),
            Some(Duration::from_millis(2100))
        );
        assert_eq!(eta(0, 1000, Duration::from_secs(1)), None);
        assert_eq!(
            eta(1000, 1000, Duration::from_secs(3)),
            Some(Duration::ZERO)
        );
        assert_eq!(eta_text(Some(Duration::from_millis(2100))), "eta 3 s");
        assert_eq!(eta_text(Some(Duration::from_secs(125))), "eta 2 min 5 s");
        assert_eq!(eta_text(None), "eta ?");
    }
}
