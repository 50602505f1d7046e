//! A JSON body is an object: serde's derived structs would also take a
//! sequence of their fields (`[5]` as `{"stock": 5}`), and a restock or a
//! crowd must never run on a body nobody meant.

use reqwest::StatusCode;

use crate::helpers::{assert_error, client, crowd_reports, purchase, spawn_app};

const NOT_OBJECTS: [&str; 7] = ["[5]", "[5, 1]", "5", r#""5""#, "null", "true", "[]"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restock_body_that_is_not_an_object_is_400_invalid_body_and_changes_nothing() {
    let app = spawn_app().await;
    let bought = purchase(&client(), &app.address, 1, "lock=none").await;
    assert_eq!(bought.status(), StatusCode::CREATED);

    for body in NOT_OBJECTS {
        let answer = client()
            .post(app.url("/api/products/1/reset"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let error = assert_error(answer, StatusCode::BAD_REQUEST, "invalid_body").await;
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("expected a JSON object"),
            "{body}: {error}"
        );
    }

    assert_eq!(app.stock(1).await, 99, "a restock ran");
    assert_eq!(app.order_count(1).await, 1, "the orders were cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_body_that_is_not_an_object_is_400_invalid_body_and_runs_nothing() {
    let app = spawn_app().await;

    // Every field of the crowd in order: serde's struct would take it whole.
    let as_sequence = r#"[3, "none", 0, null, null, null, null, false]"#;
    for body in NOT_OBJECTS.into_iter().chain(["[3]", as_sequence]) {
        let answer = client()
            .post(app.url("/api/products/1/flash-crowd"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(answer, StatusCode::BAD_REQUEST, "invalid_body").await;
    }

    assert!(crowd_reports(&app).await.is_empty(), "a crowd ran");
    assert_eq!(app.order_count(1).await, 0);
    assert_eq!(app.stock(1).await, 100);
}
