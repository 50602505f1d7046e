//! Verdicts that never praise a failure, on a laptop's first screen: a crowd
//! that sells nothing is amber and says why; the products are above the fold
//! at 1280×720; the runs being compared stay in view; a knob the chosen
//! strategy ignores is disabled with the reason.

use fantoccini::{Client, Locator};
use flashsale::lock::Strategy;
use flashsale::testing::TestApp;

use crate::helpers::{
    click, disabled, has_class, in_browser, save_screenshot, text, top_of, type_into,
    viewport_height, wait_for_text,
};

/// A laptop's small screen, as the issue measured it.
const LAPTOP: (u32, u32) = (1280, 720);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_that_sells_nothing_is_amber_and_names_why() {
    in_browser(scenario).await;
}

async fn scenario(client: &Client, app: &TestApp) {
    client
        .set_window_size(LAPTOP.0, LAPTOP.1)
        .await
        .expect("a laptop-sized window");
    client.goto(&app.address).await.expect("open the page");
    wait_for_text(client, "#live .live-text", "the page to go live", |t| {
        t == "live"
    })
    .await;

    // The products are on the first screen, not below the fold.
    let top = top_of(client, "#product-1").await;
    let viewport = viewport_height(client).await;
    let fold = save_screenshot(client, "fold-1280x720.png").await;
    assert!(
        top < f64::from(LAPTOP.1) && top < viewport as f64,
        "the first product starts at {top} px, below the fold ({viewport} px shown); screenshot: {}",
        fold.display()
    );

    // The deadline knob means nothing to a strategy that never waits for a
    // lock: disabled, with the reason where the hint was.
    for strategy in Strategy::ALL {
        let input = format!("input[name=lock][value={strategy}]");
        if disabled(client, &input).await {
            continue; // Unavailable here (e.g. Redlock without its nodes).
        }
        click(client, &input).await;
        let waits = strategy.uses_deadline();
        assert_eq!(
            disabled(client, "#deadline_ms").await,
            !waits,
            "the deadline knob with {strategy}"
        );
        let hint = text(client, "#deadline_ms-hint").await;
        if waits {
            assert!(hint.starts_with("waiting to lock"), "{strategy}: {hint}");
        } else {
            assert_eq!(hint, "this strategy never waits for a lock", "{strategy}");
        }
    }
    for (strategy, waits) in [
        (Strategy::PgBatch, true),
        (Strategy::RedisStream, false),
        (Strategy::BrokenAckFirst, false),
        (Strategy::RedisFailfast, false),
        (Strategy::Redis, true),
    ] {
        assert_eq!(strategy.uses_deadline(), waits, "{strategy}");
    }

    // broken-lua-nil never takes its lock: every buyer waits out the
    // deadline, nothing sells, and the page says so in amber, naming busy.
    click(client, "input[name=lock][value=broken-lua-nil]").await;
    type_into(client, "#buyers", "20").await;
    type_into(client, "#deadline_ms", "300").await;
    click(client, "#product-1 [data-action=crowd]").await;
    let headline = wait_for_text(
        client,
        "#crowd-result .verdict",
        "the broken crowd's verdict",
        |t| !t.contains("rush"),
    )
    .await;
    assert_eq!(headline, "nothing sold of 100 · UNDERSOLD: 20 busy");
    assert!(
        has_class(client, "#crowd-result .verdict", "warn").await,
        "the verdict is amber"
    );
    assert!(!has_class(client, "#crowd-result .verdict", "good").await);
    let run = text(client, "#history .run").await;
    assert!(run.contains("nothing sold of 100"), "{run}");
    assert!(has_class(client, "#history .run", "warn").await);
    scroll_to_top(client).await;
    let shot = save_screenshot(client, "nothing-sold.png").await;

    // Two more runs to compare: all three stay in view, none scrolled off.
    type_into(client, "#deadline_ms", "").await;
    for lock in ["none", "redis"] {
        click(client, &format!("input[name=lock][value={lock}]")).await;
        click(client, "#product-1 [data-action=crowd]").await;
        wait_for_text(
            client,
            "#crowd-result .verdict-detail",
            "the crowd's result",
            |t| t.starts_with(&format!("lock {lock} ·")),
        )
        .await;
    }
    let runs = client
        .find_all(Locator::Css("#history .run"))
        .await
        .expect("the runs");
    assert_eq!(runs.len(), 3);
    let hidden = client
        .execute(
            "const box = document.getElementById('history').getBoundingClientRect(); \
             return [...document.querySelectorAll('#history .run')] \
               .filter((run) => { const r = run.getBoundingClientRect(); \
                                  return r.left < box.left - 1 || r.right > box.right + 1; }).length;",
            vec![],
        )
        .await
        .expect("measure the runs")
        .as_u64()
        .expect("a number");
    scroll_to_top(client).await;
    let strip = save_screenshot(client, "runs-1280x720.png").await;
    assert_eq!(
        hidden,
        0,
        "runs outside the strip's box; screenshot: {}",
        strip.display()
    );
    println!(
        "first product at {top} px of {viewport}: {}\nnothing sold: {}\nruns: {}",
        fold.display(),
        shot.display(),
        strip.display()
    );
}

async fn scroll_to_top(client: &Client) {
    client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll to the top");
}
