//! The page tells the truth about its dependencies: with its Redis stopped
//! (a redis-server of the test's own, never the shared one), the header says
//! degraded and the Redis strategies grey out, without a reload; a reload
//! then pre-selects no unavailable default; Redis back, both come back.

use fantoccini::Client;
use flashsale::testing::{RedisServer, TestApp, spawn_app_with};

use crate::helpers::{
    disabled, has_class, in_browser_with, save_screenshot, text, wait_for_text, wait_until,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_redis_stopped_the_page_says_degraded_and_greys_the_redis_strategies() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(|settings| settings.redis_url = url.parse().unwrap()).await;
    in_browser_with(app, async |client: &Client, app: &TestApp| {
        client.goto(&app.address).await.expect("open the page");
        wait_for_text(client, "#live .live-text", "the page to go live", |t| {
            t == "live"
        })
        .await;
        assert!(client_checked(client, "redis").await, "the default, redis");
        assert!(!disabled(client, "input[name=lock][value=redis-failfast]").await);

        redis.kill();
        wait_for_text(
            client,
            "#live .live-text",
            "the header to say degraded",
            |t| t == "degraded · Redis down",
        )
        .await;
        assert!(has_class(client, "#live", "is-degraded").await);
        let failfast = "[data-lock=redis-failfast]";
        wait_until(client, "redis-failfast to grey out", async || {
            has_class(client, failfast, "is-unavailable").await
        })
        .await;
        assert!(disabled(client, "input[name=lock][value=redis-failfast]").await);
        assert_eq!(
            text(client, &format!("{failfast} .lock-reason")).await,
            "Unavailable: Redis does not answer"
        );
        // The chosen one is greyed too, still selectable, and the lesson says why.
        assert!(has_class(client, "[data-lock=redis]", "is-unavailable").await);
        assert_eq!(
            text(client, "#lesson-unavailable").await,
            "Unavailable: Redis does not answer"
        );
        // Postgres alone still sells.
        assert!(!disabled(client, "input[name=lock][value=pg-atomic]").await);
        assert!(!has_class(client, "[data-lock=pg-atomic]", "is-unavailable").await);
        let shot = save_screenshot(client, "redis-down.png").await;

        // A fresh page does not pre-select the unavailable default.
        client.refresh().await.expect("reload");
        wait_for_text(
            client,
            "#live .live-text",
            "the header after the reload",
            |t| t.starts_with("degraded"),
        )
        .await;
        assert!(
            !client_checked(client, "redis").await,
            "redis pre-selected while down"
        );
        assert!(disabled(client, "input[name=lock][value=redis]").await);

        // Redis back: live again, and the strategies with it.
        redis.restart();
        wait_for_text(
            client,
            "#live .live-text",
            "the header to go live again",
            |t| t == "live",
        )
        .await;
        wait_until(client, "redis-failfast to come back", async || {
            !has_class(client, failfast, "is-unavailable").await
        })
        .await;
        assert!(!disabled(client, "input[name=lock][value=redis-failfast]").await);
        println!("Redis down: {}", shot.display());
    })
    .await;
}

async fn client_checked(client: &Client, lock: &str) -> bool {
    client
        .find(fantoccini::Locator::Css(&format!(
            "input[name=lock][value={lock}]"
        )))
        .await
        .expect("the option")
        .prop("checked")
        .await
        .expect("its checked property")
        .is_some_and(|value| value == "true")
}
