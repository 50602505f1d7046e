//! One per buyer on the page without JavaScript: the restock form's "one per
//! buyer", a crowd of buyers clicking several times each, and its verdict.

use crate::helpers::{page, product, spawn_app, submit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_restocks_one_per_buyer_and_shows_a_crowds_duplicates() {
    let app = spawn_app().await;

    submit(
        &app.address,
        "/products/1/restock",
        &[("stock", "100"), ("one_per_buyer", "on")],
    )
    .await;
    assert_eq!(product(&app, 1).await["per_buyer"], 1);

    // 10 buyers, 5 clicks each, the tutorials' count(*): duplicates.
    let location = submit(
        &app.address,
        "/products/1/flash-crowd",
        &[
            ("lock", "redis"),
            ("work_ms", "5"),
            ("deadline_ms", "20000"),
            ("buyers", "10"),
            ("clicks_per_buyer", "5"),
            ("stock", "100"),
            ("restock_first", "on"),
            ("one_per_buyer", "on"),
            ("duplicate_check", "count"),
        ],
    )
    .await;
    let (orders, buyers, duplicates) = app.orders_per_buyer(1).await;
    assert_eq!(buyers, 10);
    assert!(duplicates > 0, "orders {orders}");
    let shown = page(&app.address, &location).await;
    assert!(
        shown.contains(&format!("{duplicates} duplicates")),
        "the verdict names the duplicates"
    );
    assert!(shown.contains("count(*) then insert"), "and says why");

    // The same crowd with the database key: one each, no duplicates.
    let location = submit(
        &app.address,
        "/products/1/flash-crowd",
        &[
            ("lock", "redis"),
            ("work_ms", "5"),
            ("deadline_ms", "20000"),
            ("buyers", "10"),
            ("clicks_per_buyer", "5"),
            ("stock", "100"),
            ("restock_first", "on"),
            ("one_per_buyer", "on"),
            ("duplicate_check", "key"),
        ],
    )
    .await;
    assert_eq!(app.orders_per_buyer(1).await, (10, 10, 0));
    let shown = page(&app.address, &location).await;
    assert!(
        shown.contains("40 refused at the limit per buyer"),
        "{shown}"
    );
    assert!(!shown.contains(" duplicates"));
}
