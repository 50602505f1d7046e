//! A crowd from many machines: Locust's master and two workers on loopback
//! (`loadtest/locust/locustfile.py`), each worker sending its buyers to its
//! own instance of two that share one database and key prefix. The master
//! restocks, reads the verdict from the service and sets the exit code.
//!
//! Skipped, saying so, when Python has no `locust` and `CI` is unset;
//! `./dev test` installs it (`loadtest/locust/requirements.txt`).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use flashsale::testing::free_port;
use uuid::Uuid;

use crate::helpers::{PRODUCT, SHARED_REDIS, Shop};

const LOCUSTFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/loadtest/locust/locustfile.py");
const BUYERS: i64 = 100;
const STOCK: i64 = 20;
/// Long enough that the buyers' sales overlap when nothing guards them.
const WORK_MS: u32 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locust_with_the_lock_off_oversells_two_instances_and_exits_1() {
    if !locust_installed() {
        return;
    }
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let a = shop.start(&[]).await;
    let b = shop.start(&[]).await;

    let run =
        tokio::task::block_in_place(|| LocustRun::start([&a.address, &b.address], "none").finish());

    eprintln!("{}", run.verdict());
    let numbers = shop.numbers().await;
    let sold = numbers.sold();
    assert!(sold > STOCK, "{numbers:?}\n{}", run.output);
    assert_eq!(run.answered(), BUYERS, "{}", run.output);
    let said = format!(
        "flashsale verdict (lock=none): sold {sold} of {STOCK}: OVERSOLD by {}",
        sold - STOCK
    );
    assert!(
        run.verdict().starts_with(&said),
        "expected `{said}…`\n{}",
        run.output
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locust_with_the_redis_lock_sells_exactly_the_stock_on_two_instances_and_exits_0() {
    if !locust_installed() {
        return;
    }
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let a = shop.start(&[]).await;
    let b = shop.start(&[]).await;

    let run = tokio::task::block_in_place(|| {
        LocustRun::start([&a.address, &b.address], "redis").finish()
    });

    let numbers = shop.numbers().await;
    assert_eq!(
        (numbers.sold(), numbers.stock),
        (STOCK, 0),
        "{numbers:?}\n{}",
        run.output
    );
    numbers.assert_no_oversell_and_no_lost_update();
    assert_eq!(run.answered(), BUYERS, "{}", run.output);
    assert_eq!(
        run.verdict(),
        format!("flashsale verdict (lock=redis): sold exactly {STOCK} of {STOCK}: safe"),
        "{}",
        run.output
    );
    assert_eq!(run.status.code(), Some(0), "{}", run.output);
}

/// Whether Python has `locust`; in CI its absence fails the test.
fn locust_installed() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import locust"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "locust is not installed: ./dev test installs it (pip install -r loadtest/locust/requirements.txt)"
        );
        eprintln!(
            "skipped: locust is not installed (pip install -r loadtest/locust/requirements.txt)"
        );
    }
    found
}

/// A master and one worker per instance, killed when dropped (by PID).
struct LocustRun {
    master: Child,
    workers: Vec<Child>,
    log: PathBuf,
}

/// What a finished run left: the master's exit status and its output.
struct Finished {
    status: ExitStatus,
    output: String,
}

impl LocustRun {
    fn start(hosts: [&str; 2], lock: &str) -> Self {
        let port = free_port().to_string();
        let log =
            std::env::temp_dir().join(format!("flashsale-locust-{}.log", Uuid::new_v4().simple()));
        let file = File::create(&log).expect("create the master's log");
        let (buyers, stock, work_ms, product) = (
            BUYERS.to_string(),
            STOCK.to_string(),
            WORK_MS.to_string(),
            PRODUCT.to_string(),
        );
        let master = locust()
            .args(["--headless", "--master", "--master-bind-host", "127.0.0.1"])
            .args(["--master-bind-port", &port, "--expect-workers", "2"])
            .args(["--expect-workers-max-wait", "30", "--run-time", "50s"])
            .args(["-u", &buyers, "-r", &buyers, "--host", hosts[0]])
            .args([
                "--lock",
                lock,
                "--product",
                &product,
                "--stock",
                &stock,
                "--work-ms",
                &work_ms,
            ])
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start the locust master");
        let workers = hosts
            .iter()
            .map(|host| {
                locust()
                    .args([
                        "--worker",
                        "--master-host",
                        "127.0.0.1",
                        "--master-port",
                        &port,
                    ])
                    .args(["--host", host])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start a locust worker")
            })
            .collect();
        Self {
            master,
            workers,
            log,
        }
    }

    /// Waits for the master (the run ends when every buyer has its answer,
    /// at the latest at --run-time), then for the workers it tells to quit.
    fn finish(mut self) -> Finished {
        let status = wait(&mut self.master, Duration::from_secs(70));
        let output = std::fs::read_to_string(&self.log).unwrap_or_default();
        let status =
            status.unwrap_or_else(|| panic!("the master still runs after 70 s:\n{output}"));
        for worker in &mut self.workers {
            let quit = wait(worker, Duration::from_secs(10));
            assert!(
                quit.is_some(),
                "a worker still runs 10 s after its master:\n{output}"
            );
        }
        Finished { status, output }
    }
}

impl Drop for LocustRun {
    fn drop(&mut self) {
        for child in std::iter::once(&mut self.master).chain(&mut self.workers) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Finished {
    /// The master's verdict line.
    fn verdict(&self) -> &str {
        self.line("flashsale verdict")
    }

    /// How many buyers got an answer, from `flashsale answers: 201×20 409 sold_out×80`.
    fn answered(&self) -> i64 {
        let line = self.line("flashsale answers:");
        line.split('×')
            .skip(1)
            .map(|count| {
                let digits: String = count.chars().take_while(char::is_ascii_digit).collect();
                digits
                    .parse::<i64>()
                    .unwrap_or_else(|_| panic!("a count in `{line}`"))
            })
            .sum()
    }

    fn line(&self, start: &str) -> &str {
        self.output
            .lines()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` line in the master's output:\n{}", self.output))
    }
}

fn locust() -> Command {
    let mut command = Command::new("python3");
    // Its own directory: no locust.conf of the working directory is read.
    command
        .args(["-m", "locust", "-f", LOCUSTFILE])
        .current_dir(std::env::temp_dir())
        .env_remove("ADMIN_TOKEN")
        .stdin(Stdio::null());
    command
}

fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}
