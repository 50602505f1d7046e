//! "Watch 8 buyers": a timeline per run, a lane per buyer, lock off and on
//! side by side.

use fantoccini::{Client, Locator};
use flashsale::testing::TestApp;

use crate::helpers::{
    PHONE, WINDOW, click, in_browser, save_element_screenshot, save_screenshot, scroll_into_view,
    text, type_into, value, wait_for_text,
};

/// "Watch 8 buyers" with the lock off, then on: a lane per buyer in each
/// timeline, the same colour for the same stock read, and the two side by
/// side; then on with a TTL shorter than the work: the locks expire under
/// their holders, drawn on the same time scale as the one beside. Saves
/// `target/e2e/timeline-off.png` (the first), `target/e2e/timeline-on.png`
/// (both), `target/e2e/timeline-expired.png` (lock on, and the expiring
/// lock) and `target/e2e/timeline-phone.png`.
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

    // A TTL shorter than the work: the lock expires under its holder, marked
    // in the holding box, and the holder writes after it. The lock on (left)
    // and this (right) share one time scale.
    type_into(client, "#ttl_ms", "100").await;
    type_into(client, "#work_ms", "300").await;
    click(client, "#watch").await;
    wait_for_text(
        client,
        "#timelines .tl:nth-child(1)[data-lock=redis] .tl-verdict",
        "the lock-on timeline to move left",
        |t| t.starts_with("sold "),
    )
    .await;
    let expired = timeline(client, 2, "redis").await;
    assert_eq!(expired.lanes.len(), 8, "{expired:?}");
    let first_seller = expired
        .lanes
        .iter()
        .find(|l| l.outcome == "sold")
        .expect("a seller");
    assert!(first_seller.expired, "{expired:?}");
    assert!(first_seller.stale_write, "{expired:?}");
    assert!(
        !on.lanes.iter().any(|l| l.expired || l.stale_write),
        "a 5 s TTL outlived every hold: {on:?}"
    );
    let ticks = client
        .execute(
            "return [...document.querySelectorAll('#timelines .tl')].map((f) => \
               [...f.querySelectorAll('.tl-tick')].map((t) => t.textContent).join(' '));",
            vec![],
        )
        .await
        .expect("read the time axes");
    assert_eq!(ticks[0], ticks[1], "one time scale: {ticks:?}");
    scroll_into_view(client, "#timeline").await;
    let stale = save_element_screenshot(client, "#timeline", "timeline-expired.png").await;

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
        "timelines: {} · {} · {}\nscreenshots: {}, {} and {}",
        off.verdict,
        on.verdict,
        expired.verdict,
        both.display(),
        stale.display(),
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
    /// Its lock expired while it held it (a mark in the holding box).
    expired: bool,
    /// It wrote after its lock had expired.
    stale_write: bool,
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
            expired: attr("data-expired").await == "true",
            stale_write: attr("data-stale-write").await == "true",
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
