//! `/api/docs` in the browser: Swagger UI draws the service's own OpenAPI
//! document from files the service serves, and nothing is asked of another
//! host; the page links to it.

use fantoccini::{Client, Locator};
use flashsale::testing::TestApp;
use serde_json::Value;

use crate::helpers::{in_browser, text, wait_until};

/// Every URL the page loaded or points a loading element at.
const LOADED: &str = "return performance.getEntriesByType('resource').map(e => e.name)
    .concat([...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
    .map(e => e.src || e.href));";

async fn operations(client: &Client) -> usize {
    let found = client.find_all(Locator::Css(".opblock")).await;
    found.map(|blocks| blocks.len()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_page_draws_every_operation_from_the_services_own_files() {
    in_browser(async |client: &Client, app: &TestApp| {
        client.goto(&app.url("/")).await.unwrap();
        client
            .find(Locator::Css("a[href='/api/docs']"))
            .await
            .expect("the page links to /api/docs");

        client.goto(&app.url("/api/docs")).await.unwrap();
        wait_until(client, "Swagger UI's 11 operations", async || {
            operations(client).await == 11
        })
        .await;

        assert!(text(client, ".info .title").await.starts_with("flashsale"));
        let loaded = client.execute(LOADED, vec![]).await.unwrap();
        let loaded: Vec<&str> = loaded
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let elsewhere: Vec<&&str> = loaded
            .iter()
            .filter(|url| !url.starts_with(&format!("{}/", app.address)))
            .filter(|url| !url.starts_with("data:"))
            .collect();
        assert_eq!(elsewhere, Vec::<&&str>::new(), "all loaded: {loaded:?}");
        for own in ["/api/openapi.json", "/api/docs/swagger-ui-bundle.js"] {
            assert!(
                loaded.iter().any(|url| url.ends_with(own)),
                "{own} in {loaded:?}"
            );
        }
    })
    .await;
}
