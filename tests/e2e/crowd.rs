//! The buy button, the lock lab and the flash crowd, lock off then on, and
//! the same page on a phone.

use fantoccini::{Client, Locator};
use flashsale::lock::Strategy;
use flashsale::testing::TestApp;

use crate::helpers::{
    PHONE, WINDOW, click, disabled, in_browser, save_readme_screenshot, save_screenshot, text,
    type_into, value, viewport_height, wait_for_text,
};

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
    let path = save_readme_screenshot(client, "flash-crowd.png").await;

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
