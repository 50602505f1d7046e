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
//! paths. A second test watches 8 buyers with the lock off and on and finds
//! a lane per buyer in each timeline, side by side
//! (`target/e2e/timeline-off.png`, `timeline-on.png`, `timeline-phone.png`).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them
//! when missing); `CHROMIUM` and `CHROMEDRIVER` may name other binaries.
//! Without a browser the test fails: it never passes without having run.

use std::net::TcpStream;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use flashsale::lock::Strategy;
use flashsale::testing::{TestApp, free_port, spawn_app};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const WINDOW: (u32, u32) = (1366, 1024);
/// A phone's window, in CSS pixels.
const PHONE: (u32, u32) = (390, 844);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_lock_off_oversells_and_the_lock_on_does_not() {
    in_browser(scenario).await;
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

/// "Watch 8 buyers" with the lock off, then on: a lane per buyer in each
/// timeline, the same colour for the same stock read, and the two side by
/// side. Saves `target/e2e/timeline-off.png` (the first),
/// `target/e2e/timeline-on.png` (both) and `target/e2e/timeline-phone.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_watching_eight_buyers_draws_a_lane_each_with_the_lock_off_and_on() {
    in_browser(watch_scenario).await;
}

async fn watch_scenario(client: &Client, app: &TestApp) {
    client.goto(&app.address).await.expect("open the page");
    wait_for_text(client, "#live .live-text", "the page to go live", |t| {
        t == "live"
    })
    .await;
    // Tall enough for the whole timeline section in one screenshot.
    client
        .set_window_size(WINDOW.0, 1500)
        .await
        .expect("a taller window");
    assert_eq!(text(client, "#watch").await, "Watch 8 buyers");
    assert_eq!(value(client, "#watch-buyers").await, "8");
    assert_eq!(text(client, "#watch-stock").await, "2", "restocks to 2");
    // The same business step as the API's traced-crowd tests: wide enough
    // that every buyer reads before the first one writes.
    type_into(client, "#work_ms", "50").await;

    // Lock off: one lane per buyer, and buyers reading the same stock.
    click(client, "input[name=lock][value=none]").await;
    click(client, "#watch").await;
    let off = timeline(client, 1, "none").await;
    assert_eq!(off.lanes.len(), 8, "{off:?}");
    let mut buyers: Vec<u32> = off.lanes.iter().map(|l| l.buyer).collect();
    buyers.sort_unstable();
    assert_eq!(buyers, (1..=8).collect::<Vec<_>>());
    let most_common = off
        .lanes
        .iter()
        .map(|l| off.lanes.iter().filter(|m| m.read == l.read).count())
        .max()
        .unwrap();
    assert!(most_common >= 2, "nobody read the same stock: {off:?}");
    assert!(off.verdict.contains("oversold by"), "{off:?}");
    off.assert_same_read_same_colour();
    scroll_into_view(client, "#timeline").await;
    save_element_screenshot(client, "#timeline", "timeline-off.png").await;

    // Lock on: one lane per buyer, the sellers one after another, each
    // reading what the one before wrote.
    click(client, "input[name=lock][value=redis]").await;
    click(client, "#watch").await;
    let on = timeline(client, 2, "redis").await;
    assert_eq!(on.lanes.len(), 8, "{on:?}");
    assert!(on.verdict.ends_with("no oversell"), "{on:?}");
    let reads: Vec<i64> = on
        .lanes
        .iter()
        .filter(|l| l.outcome == "sold")
        .map(|l| l.read.expect("a seller read"))
        .collect();
    assert_eq!(reads, [2, 1], "the sellers' reads, lane by lane: {on:?}");
    on.assert_same_read_same_colour();
    assert_ne!(
        on.lanes[0].colour(),
        on.lanes[1].colour(),
        "2 and 1 have colours of their own"
    );
    // Stock 2 read with the lock off has the same colour as with it on.
    assert_eq!(off.lanes[0].colour(), on.lanes[0].colour());

    // Side by side: the same top, the lock off on the left.
    let boxes = client
        .execute(
            "return [...document.querySelectorAll('#timelines .tl')].map((f) => { \
               const r = f.getBoundingClientRect(); \
               return [f.dataset.lock, r.left, r.top, r.right, \
                 f.querySelectorAll('svg title').length, \
                 f.querySelector('svg').getAttribute('aria-labelledby'), \
                 f.querySelectorAll('table tbody tr').length]; });",
            vec![],
        )
        .await
        .expect("measure the timelines");
    let boxes = boxes.as_array().expect("an array");
    assert_eq!(boxes.len(), 2, "{boxes:?}");
    let (left, right) = (&boxes[0], &boxes[1]);
    assert_eq!(left[0], "none");
    assert_eq!(right[0], "redis");
    let number = |v: &serde_json::Value| v.as_f64().expect("a number");
    assert!(
        (number(&left[2]) - number(&right[2])).abs() < 2.0,
        "side by side: {boxes:?}"
    );
    assert!(number(&left[3]) <= number(&right[1]), "{boxes:?}");
    assert!(number(&right[3]) <= f64::from(WINDOW.0), "{boxes:?}");
    for figure in boxes {
        // The drawing's title and description, a title per lane, and the
        // same facts as a table of 8 rows.
        assert_eq!(number(&figure[4]), 9.0, "{figure:?}");
        assert!(
            figure[5].as_str().is_some_and(|ids| ids.contains("-desc")),
            "{figure:?}"
        );
        assert_eq!(number(&figure[6]), 8.0, "{figure:?}");
    }
    scroll_into_view(client, "#timeline").await;
    let both = save_element_screenshot(client, "#timeline", "timeline-on.png").await;

    // A reload keeps both (for the session), and a phone scrolls the drawing
    // inside its box, never the page.
    client.refresh().await.expect("reload the page");
    let kept = client
        .find_all(Locator::Css("#timelines .tl .tl-lane"))
        .await
        .expect("the lanes");
    assert_eq!(kept.len(), 16, "both timelines survive a reload");
    client
        .set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("a phone-sized window");
    let overflow = client
        .execute(
            "const html = document.documentElement; return html.scrollWidth - html.clientWidth;",
            vec![],
        )
        .await
        .expect("measure the page")
        .as_i64()
        .expect("a number");
    scroll_into_view(client, "#timelines").await;
    let phone = save_screenshot(client, "timeline-phone.png").await;
    assert!(
        overflow <= 0,
        "the page is {overflow} px wider than a phone; screenshot: {}",
        phone.display()
    );
    println!(
        "timelines: {} · {}\nscreenshots: {} and {}",
        off.verdict,
        on.verdict,
        both.display(),
        phone.display()
    );
}

/// One drawn timeline, as the page shows it.
#[derive(Debug)]
struct Timeline {
    verdict: String,
    lanes: Vec<Lane>,
}

#[derive(Debug)]
struct Lane {
    buyer: u32,
    read: Option<i64>,
    outcome: String,
    class: String,
}

impl Lane {
    /// The lane's colour class (`tl-v0`, `tl-vzero`, …).
    fn colour(&self) -> &str {
        self.class
            .split_whitespace()
            .find(|c| c.starts_with("tl-v"))
            .unwrap_or_default()
    }
}

impl Timeline {
    fn assert_same_read_same_colour(&self) {
        for a in &self.lanes {
            for b in &self.lanes {
                assert_eq!(
                    a.read == b.read,
                    a.colour() == b.colour(),
                    "buyers {} and {}: {self:?}",
                    a.buyer,
                    b.buyer
                );
            }
        }
    }
}

/// Waits for the `nth` timeline (1-based, the newest last) to be drawn with
/// `lock`, and reads its lanes in their order on the page.
async fn timeline(client: &Client, nth: usize, lock: &str) -> Timeline {
    let css = format!("#timelines .tl:nth-child({nth})[data-lock={lock}]");
    wait_for_text(client, &format!("{css} .tl-verdict"), "the timeline", |t| {
        t.starts_with("sold ")
    })
    .await;
    let figure = client.find(Locator::Css(&css)).await.expect("the timeline");
    let mut lanes = Vec::new();
    for lane in figure
        .find_all(Locator::Css(".tl-lane"))
        .await
        .expect("the lanes")
    {
        let attr = |name: &'static str| {
            let lane = lane.clone();
            async move {
                lane.attr(name)
                    .await
                    .expect("read an attribute")
                    .unwrap_or_default()
            }
        };
        lanes.push(Lane {
            buyer: attr("data-buyer").await.parse().expect("a buyer"),
            read: attr("data-read").await.parse().ok(),
            outcome: attr("data-outcome").await,
            class: attr("class").await,
        });
    }
    let verdict = figure
        .find(Locator::Css(".tl-verdict"))
        .await
        .expect("the verdict")
        .text()
        .await
        .expect("its text");
    Timeline { verdict, lanes }
}

async fn scroll_into_view(client: &Client, css: &str) {
    client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView();",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("cannot scroll to {css}: {e}"));
}

async fn save_element_screenshot(client: &Client, css: &str, name: &str) -> PathBuf {
    let png = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .screenshot()
        .await
        .expect("take a screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write the screenshot");
    path
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

/// Spawns the service and a browser and runs `scenario` in them; closes the
/// session (and Chromium with it) whether the scenario passes or not.
async fn in_browser(scenario: impl AsyncFnOnce(&Client, &TestApp)) {
    let app = spawn_app().await;
    let browser = Browser::start().await;

    let outcome = AssertUnwindSafe(scenario(&browser.client, &app))
        .catch_unwind()
        .await;
    let _ = browser.client.clone().close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

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
