//! Redlock over three `redis-server`s of the test's own: a majority holds
//! the lock, a minority cannot.

use reqwest::StatusCode;

use crate::helpers::{
    assert_error, assert_no_damage, client, flash_crowd, purchase, redlock_nodes, redlock_urls,
    spawn_app_with, strategies,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redlock_sells_exactly_with_three_of_three_nodes() {
    let nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;
    let peer = app.spawn_peer().await;
    app.restock(1, 20).await;

    let crowd = flash_crowd(&[&app.address, &peer], 1, 200, "lock=redlock&work_ms=5").await;

    assert_eq!(crowd.sold, 20, "{crowd:?}");
    assert_eq!(crowd.sold_out + crowd.busy, 180, "{crowd:?}");
    assert_eq!(assert_no_damage(&app, 1, 20).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redlock_sells_exactly_with_one_of_three_nodes_killed() {
    let mut nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;
    let peer = app.spawn_peer().await;
    app.restock(1, 20).await;

    nodes[1].kill();
    let crowd = flash_crowd(
        &[&app.address, &peer],
        1,
        200,
        "lock=redlock&work_ms=5&deadline_ms=20000",
    )
    .await;

    assert!(crowd.other.is_empty(), "{crowd:?}");
    assert_eq!(crowd.sold, 20, "{crowd:?}");
    assert_eq!(assert_no_damage(&app, 1, 20).await, 20);
    let catalogue = strategies(&app).await;
    let redlock = catalogue.iter().find(|s| s["name"] == "redlock").unwrap();
    assert_eq!(
        redlock["available"], true,
        "2 of 3 is a majority: {redlock}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redlock_answers_503_and_sells_nothing_with_two_of_three_nodes_killed() {
    let mut nodes = redlock_nodes();
    let app = spawn_app_with(|settings| settings.redlock_urls = redlock_urls(&nodes)).await;
    app.restock(1, 20).await;

    nodes[0].kill();
    nodes[2].kill();
    let crowd = flash_crowd(&[&app.address], 1, 20, "lock=redlock&work_ms=5").await;

    assert_eq!(crowd.sold + crowd.sold_out + crowd.busy, 0, "{crowd:?}");
    assert_eq!(crowd.other, vec![StatusCode::SERVICE_UNAVAILABLE; 20]);
    let response = purchase(&client(), &app.address, 1, "lock=redlock").await;
    let body = assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "strategy_unavailable",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("majority"),
        "{body}"
    );
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 20);
    let catalogue = strategies(&app).await;
    let redlock = catalogue.iter().find(|s| s["name"] == "redlock").unwrap();
    assert_eq!(redlock["available"], false, "{redlock}");
    assert!(
        redlock["unavailable_reason"]
            .as_str()
            .unwrap()
            .contains("1 of 3"),
        "{redlock}"
    );
}
