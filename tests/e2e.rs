//! The browser demo end to end, in a real headless Chromium driven through
//! chromedriver (WebDriver), against the service spawned with a database of
//! its own: buy one unit and see the stock drop by one; pick lock strategies
//! and see their lessons (and the TTL knob) change; see a bad TTL refused in
//! the service's words; run a flash crowd with the lock off and see an
//! oversold figure above zero; run it with the lock on and see zero. Saves a
//! screenshot of the page after the crowds to `target/e2e/flash-crowd.png`,
//! of a strategy without a TTL chosen to `target/e2e/lock-lab.png`, and of
//! the page on a phone to `target/e2e/phone.png` (whole) and
//! `target/e2e/phone-switch.png` (scrolled to the switch), and prints their
//! paths.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them
//! when missing); `CHROMIUM` and `CHROMEDRIVER` may name other binaries.
//! Without a browser the test fails: it never passes without having run.

use std::net::{TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use flashsale::lock::Strategy;
use flashsale::testing::{TestApp, spawn_app};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const WINDOW: (u32, u32) = (1366, 1024);
/// A phone's window, in CSS pixels.
const PHONE: (u32, u32) = (390, 844);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_lock_off_oversells_and_the_lock_on_does_not() {
    let app = spawn_app().await;
    let browser = Browser::start().await;

    // Close the session (and Chromium with it) whether the scenario passes or not.
    let outcome = AssertUnwindSafe(scenario(&browser.client, &app))
        .catch_unwind()
        .await;
    let _ = browser.client.clone().close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn scenario(client: &Client, app: &TestApp) {
    client.goto(&app.address).await.expect("open the page");
    wait_for_text(client, "#live .live-text", "the page to go live", |t| {
        t == "live"
    })
    .await;
    assert_eq!(text(client, "#product-1 [data-field=stock]").await, "100");

    // Buy: the outcome shows in place and the stock drops by one.
    click(client, "#product-1 [data-action=buy]").await;
    let outcome = wait_for_text(client, "#product-1 [data-outcome]", "the order", |t| {
        t.starts_with("Order ")
    })
    .await;
    assert!(outcome.ends_with("· 99 left"), "{outcome}");
    wait_for_text(client, "#product-1 [data-field=stock]", "stock 99", |t| {
        t == "99"
    })
    .await;
    assert_eq!(app.stock(1).await, 99);

    // The settings the page starts with: 500 buyers, restock to 100 first, a
    // 20 ms business step.
    assert_eq!(value(client, "#buyers").await, "500");
    assert_eq!(value(client, "#stock").await, "100");
    assert_eq!(value(client, "#work_ms").await, "20");
    assert_eq!(value(client, "#ttl_ms").await, "", "the TTL starts unset");

    // The lock lab: the lesson box follows the choice, without a round trip.
    assert_eq!(
        text(client, "#lesson-text").await,
        Strategy::Redis.info().lesson
    );
    assert!(!disabled(client, "#ttl_ms").await);
    for strategy in [
        Strategy::PgAtomic,
        Strategy::BrokenPlainDel,
        Strategy::Local,
        Strategy::RedisFenced,
    ] {
        let info = strategy.info();
        click(client, &format!("input[name=lock][value={strategy}]")).await;
        wait_for_text(client, "#lesson-text", "the lesson to change", |t| {
            t == info.lesson
        })
        .await;
        assert_eq!(text(client, "#lesson-title").await, info.label);
        assert_eq!(text(client, "#lesson-breaks").await, info.breaks_when);
        assert_eq!(
            text(client, "#lesson-name").await,
            format!("lock={strategy}")
        );
        assert_eq!(
            disabled(client, "#ttl_ms").await,
            !info.uses_ttl,
            "the TTL knob with {strategy}"
        );
        if strategy == Strategy::PgAtomic {
            // A strategy without a TTL: its lesson, and the TTL greyed out.
            save_screenshot(client, "lock-lab.png").await;
        }
    }

    // A bad TTL: the service's own words on the card, and nothing sold.
    click(client, "input[name=lock][value=redis]").await;
    type_into(client, "#ttl_ms", "50").await;
    click(client, "#product-1 [data-action=buy]").await;
    wait_for_text(client, "#product-1 [data-outcome]", "the refusal", |t| {
        t == "ttl_ms must be a whole number from 100 to 60000, got `50`"
    })
    .await;
    assert_eq!(app.stock(1).await, 99);
    type_into(client, "#ttl_ms", "").await;

    // Lock off: the crowd oversells, in red.
    click(client, r#"input[name=lock][value=none]"#).await;
    click(client, "#product-1 [data-action=crowd]").await;
    let off = crowd_verdict(client, "none").await;
    assert!(off.oversold > 0, "lock off oversold nothing: {off:?}");
    assert!(off.class.contains("bad"), "{off:?}");
    assert!(
        off.headline
            .ends_with(&format!("/ 100 · oversold by {}", off.oversold)),
        "{off:?}"
    );
    wait_for_text(
        client,
        "#product-1 [data-field=oversold]",
        "the card's oversold figure",
        |t| t.parse::<i64>().is_ok_and(|n| n > 0),
    )
    .await;

    // Lock on: exactly the stock, in green.
    click(client, r#"input[name=lock][value=redis]"#).await;
    click(client, "#product-1 [data-action=crowd]").await;
    let on = crowd_verdict(client, "redis").await;
    assert_eq!(on.oversold, 0, "lock on oversold: {on:?}");
    assert!(on.class.contains("good"), "{on:?}");
    assert!(on.headline.ends_with("/ 100 · no oversell"), "{on:?}");
    wait_for_text(
        client,
        "#product-1 [data-field=oversold]",
        "the card's oversold back to 0",
        |t| t == "0",
    )
    .await;

    // Both runs side by side, the newest first.
    let runs = client
        .find_all(Locator::Css("#history .run"))
        .await
        .expect("the runs");
    assert_eq!(runs.len(), 2);
    assert!(runs[0].text().await.unwrap().contains("no oversell"));
    assert!(runs[1].text().await.unwrap().contains("oversold by"));

    // The whole page, from the top, for the README.
    let height = client
        .execute(
            "window.scrollTo(0, 0); return document.documentElement.scrollHeight;",
            vec![],
        )
        .await
        .expect("measure the page")
        .as_u64()
        .unwrap_or(u64::from(WINDOW.1));
    let (width, outer) = client.get_window_size().await.expect("the window's size");
    let chrome = outer.saturating_sub(viewport_height(client).await);
    client
        .set_window_size(width as u32, (height + chrome).min(3000) as u32)
        .await
        .expect("fit the window to the page");
    let path = save_screenshot(client, "flash-crowd.png").await;

    // The same page on a phone: the switch, the lesson and the knobs stack
    // up, and nothing is wider than the screen.
    client
        .set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("a phone-sized window");
    let (overflow, height) = {
        let measured = client
            .execute(
                "window.scrollTo(0, 0); const html = document.documentElement; \
                 return [html.scrollWidth - html.clientWidth, html.scrollHeight];",
                vec![],
            )
            .await
            .expect("measure the page");
        let number = |i: usize| measured[i].as_i64().expect("a number");
        (number(0), number(1))
    };
    if overflow > 0 {
        let wide = client
            .execute(
                "const w = document.documentElement.clientWidth; \
                 const wide = (e) => e.getBoundingClientRect().right > w + 1; \
                 return [...document.querySelectorAll('body *')] \
                   .filter((e) => wide(e) && ![...e.children].some(wide)) \
                   .slice(0, 5).map((e) => e.outerHTML.slice(0, 120));",
                vec![],
            )
            .await
            .expect("find what is too wide");
        let shot = save_screenshot(client, "phone.png").await;
        panic!(
            "the page is {overflow} px wider than a phone: {wide}; screenshot: {}",
            shot.display()
        );
    }
    // Scrolled to the top of the switch, the lesson stays in sight below.
    client
        .execute(
            "document.querySelector('[data-lock=none]').scrollIntoView();",
            vec![],
        )
        .await
        .expect("scroll to the switch");
    let switch = save_screenshot(client, "phone-switch.png").await;
    let chrome = u64::from(PHONE.1).saturating_sub(viewport_height(client).await);
    client
        .set_window_size(PHONE.0, (height as u64 + chrome).min(6000) as u32)
        .await
        .expect("fit the phone's window to the page");
    let phone = save_screenshot(client, "phone.png").await;
    println!(
        "lock off: {} · lock on: {}\nscreenshot: {}\nphone: {} and {}",
        off.headline,
        on.headline,
        path.display(),
        phone.display(),
        switch.display()
    );
}

async fn viewport_height(client: &Client) -> u64 {
    client
        .execute("return window.innerHeight;", vec![])
        .await
        .expect("the viewport's height")
        .as_u64()
        .expect("a number")
}

#[derive(Debug)]
struct Verdict {
    headline: String,
    class: String,
    oversold: i64,
}

/// Waits for the result of the crowd run with `lock`.
async fn crowd_verdict(client: &Client, lock: &str) -> Verdict {
    let marker = format!("lock {lock} ·");
    wait_for_text(
        client,
        "#crowd-result .verdict-detail",
        "the crowd's result",
        |t| t.starts_with(&marker),
    )
    .await;
    let line = client
        .find(Locator::Css("#crowd-result .verdict"))
        .await
        .expect("the verdict");
    let oversold = line
        .attr("data-oversold")
        .await
        .expect("read data-oversold")
        .expect("the verdict carries its oversold figure");
    Verdict {
        headline: line.text().await.expect("the verdict's text"),
        class: line.attr("class").await.unwrap().unwrap_or_default(),
        oversold: oversold.parse().expect("a number"),
    }
}

// ------------------------------------------------------------- helpers --

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .text()
        .await
        .expect("element text")
}

async fn value(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .prop("value")
        .await
        .expect("element value")
        .unwrap_or_default()
}

async fn disabled(client: &Client, css: &str) -> bool {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .prop("disabled")
        .await
        .expect("element's disabled property")
        .is_some_and(|value| value == "true")
}

/// Replaces the text of the field `css` with `keys`.
async fn type_into(client: &Client, css: &str, keys: &str) {
    let field = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
    field
        .clear()
        .await
        .unwrap_or_else(|e| panic!("cannot clear {css}: {e}"));
    if !keys.is_empty() {
        field
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }
}

/// Polls the text of `css` until `done` holds (30 s at most); on timeout,
/// saves a screenshot and fails naming what it waited for.
async fn wait_for_text(
    client: &Client,
    css: &str,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = None;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if done(&text) {
                return text;
            }
            last = Some(text);
        }
        if Instant::now() > deadline {
            let shot = save_screenshot(client, "failure.png").await;
            panic!(
                "waited 30 s for {what} ({css}); it last read {last:?}; screenshot: {}",
                shot.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn save_screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("take a screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write the screenshot");
    path
}

/// `target/e2e`, beside cargo's own `target/tmp`.
fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("e2e")
}

// ------------------------------------------------------------- browser --

/// chromedriver on a free local port, with a WebDriver session on a headless
/// Chromium using a fresh profile. Dropping it stops chromedriver and
/// deletes the profile.
struct Browser {
    client: Client,
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
    async fn start() -> Self {
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
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
