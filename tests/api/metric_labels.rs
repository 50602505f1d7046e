//! `GET /metrics` has a fixed ceiling of series whatever the traffic: a
//! method the service does not know is counted as `other`, a path no route
//! has as `unmatched`.

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{client, spawn_app};

async fn scrape(address: &str) -> String {
    let response = client()
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// `requests` sent pipelined on one connection, then a last `GET /healthz`
/// that closes it: every answer's status code, in order.
async fn raw_requests(port: u16, requests: Vec<String>) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let host = format!("127.0.0.1:{port}");
    // Written while the answers are read, so that neither side's buffer fills.
    let send = tokio::spawn(async move {
        for request in requests {
            writer.write_all(request.as_bytes()).await.unwrap();
        }
        let last = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        writer.write_all(last.as_bytes()).await.unwrap();
        writer
    });
    let mut answers = Vec::new();
    reader.read_to_end(&mut answers).await.unwrap();
    drop(send.await.unwrap());
    // A body has no line end: the next status line follows it directly.
    let answers = String::from_utf8_lossy(&answers);
    answers
        .match_indices("HTTP/1.1 ")
        .map(|(at, _)| answers[at + 9..at + 12].to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_made_up_methods_and_paths_leave_metrics_bounded() {
    let app = spawn_app().await;
    let host = format!("127.0.0.1:{}", app.port);
    let request =
        |method: &str, path: &str| format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");

    // Warm up: every kind of request below once, so that the series they
    // make exist before the size is taken.
    let warm_up = vec![
        request("WARMUP", "/"),
        request("WARMUP", "/nowhere"),
        request("GET", "/nowhere"),
        request("GET", "/api/products"),
    ];
    let answers = raw_requests(app.port, warm_up).await;
    assert_eq!(answers.len(), 5, "{answers:?}");
    scrape(&app.address).await;
    let before = scrape(&app.address).await;

    // Half to a path that exists (405), half to paths that do not (404).
    let made_up: Vec<String> = (0..5_000)
        .map(|n| {
            let path = if n % 2 == 0 {
                "/".to_owned()
            } else {
                format!("/made-up-{n:04}")
            };
            request(&format!("M{n:04}"), &path)
        })
        .collect();
    let answers = raw_requests(app.port, made_up).await;

    assert_eq!(answers.len(), 5_001, "every request answered");
    let count = |status: &str| answers.iter().filter(|a| *a == status).count();
    assert_eq!(count("405"), 2_500, "{:?}", &answers[..3]);
    assert_eq!(count("404"), 2_500);
    assert_eq!(count("200"), 1, "the closing GET /healthz");

    let after = scrape(&app.address).await;
    assert!(
        after.len() < 2 * before.len(),
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    for n in [0, 1, 2_500, 4_999] {
        assert!(
            !after.contains(&format!("M{n:04}")),
            "method M{n:04} is a label"
        );
        assert!(!after.contains(&format!("/made-up-{n:04}")));
    }
    // Each made-up request is counted, under `other`.
    let series = |route: &str, status: &str| {
        let prefix = format!(
            r#"flashsale_http_request_duration_seconds_count{{method="other",route="{route}",status="{status}"}} "#
        );
        after
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no series {prefix}\n{after}"))
            .to_owned()
    };
    assert_eq!(series("/", "405"), "2501");
    assert_eq!(series("unmatched", "404"), "2501");
}
