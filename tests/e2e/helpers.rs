//! Reading and driving the page in the browser, and saving screenshots.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use flashsale::testing::{TestApp, spawn_app};
use futures::FutureExt;
use serde_json::json;

use crate::browser::Browser;

pub const WINDOW: (u32, u32) = (1366, 1024);
/// A phone's window, in CSS pixels.
pub const PHONE: (u32, u32) = (390, 844);

/// Spawns the service and a browser and runs `scenario` in them; closes the
/// session (and Chromium with it) whether the scenario passes or not.
pub async fn in_browser(scenario: impl AsyncFnOnce(&Client, &TestApp)) {
    in_browser_with(spawn_app().await, scenario).await;
}

/// [`in_browser`] with a service the test spawned itself (e.g. on a Redis of
/// its own).
pub async fn in_browser_with(app: TestApp, scenario: impl AsyncFnOnce(&Client, &TestApp)) {
    let browser = Browser::start().await;

    let outcome = AssertUnwindSafe(scenario(&browser.client, &app))
        .catch_unwind()
        .await;
    let _ = browser.client.clone().close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

pub async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .text()
        .await
        .expect("element text")
}

pub async fn value(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .prop("value")
        .await
        .expect("element value")
        .unwrap_or_default()
}

pub async fn disabled(client: &Client, css: &str) -> bool {
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
pub async fn type_into(client: &Client, css: &str, keys: &str) {
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
pub async fn wait_for_text(
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

pub async fn save_screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("take a screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("write the screenshot");
    path
}

/// The README's first picture, rewritten by every run of the browser test
/// that makes it (the page after the crowds, lock off and on).
pub const README_SCREENSHOT: &str = "docs/screenshot.png";

/// Saves the page as `target/e2e/{name}` and as the README's first picture
/// (`docs/screenshot.png`), which must be [`WINDOW`]'s width.
pub async fn save_readme_screenshot(client: &Client, name: &str) -> PathBuf {
    let path = save_screenshot(client, name).await;
    let png = std::fs::read(&path).expect("read the screenshot back");
    let (width, _) = png_size(&png);
    assert_eq!(
        width, WINDOW.0,
        "the README's picture is {} px wide",
        WINDOW.0
    );
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join(README_SCREENSHOT);
    std::fs::write(&readme, png).expect("write docs/screenshot.png");
    path
}

/// A PNG's width and height, from its header (IHDR comes first).
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let at = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().expect("four bytes"));
    (at(16), at(20))
}

/// `target/e2e`, beside cargo's own `target/tmp`.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("e2e")
}

pub async fn scroll_into_view(client: &Client, css: &str) {
    client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView();",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("cannot scroll to {css}: {e}"));
}

pub async fn save_element_screenshot(client: &Client, css: &str, name: &str) -> PathBuf {
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

/// Whether the element `css` has the class `class`.
pub async fn has_class(client: &Client, css: &str, class: &str) -> bool {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
        .attr("class")
        .await
        .expect("element's class")
        .is_some_and(|classes| classes.split_whitespace().any(|c| c == class))
}

/// Polls until `done` holds (30 s at most); on timeout, saves a screenshot
/// and fails naming what it waited for.
pub async fn wait_until(client: &Client, what: &str, done: impl AsyncFn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        if Instant::now() > deadline {
            let shot = save_screenshot(client, "failure.png").await;
            panic!("waited 30 s for {what}; screenshot: {}", shot.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The top of the element `css`, in CSS pixels from the top of the viewport.
pub async fn top_of(client: &Client, css: &str) -> f64 {
    client
        .execute(
            "return document.querySelector(arguments[0]).getBoundingClientRect().top;",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("cannot measure {css}: {e}"))
        .as_f64()
        .expect("a number")
}

pub async fn viewport_height(client: &Client) -> u64 {
    client
        .execute("return window.innerHeight;", vec![])
        .await
        .expect("the viewport's height")
        .as_u64()
        .expect("a number")
}
