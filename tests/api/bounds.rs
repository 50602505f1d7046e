//! What one client can make the service do: one crowd per product across
//! instances, a few crowds per instance, a crowd that stops when its client
//! hangs up, the admin token on restocks and crowds, and the purchase rate
//! limit.

use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::helpers::{
    TestApp, assert_error, client, crowd_reports, purchase, spawn_app, spawn_app_with,
};

/// A crowd that runs long enough for a test to try a second one meanwhile:
/// five buyers without a lock, each 2 s in its business step.
const SLOW_CROWD: &str = r#"{"buyers": 5, "lock": "none", "work_ms": 2000, "restock": 100}"#;
/// A crowd that is over at once.
const QUICK_CROWD: &str = r#"{"buyers": 1, "lock": "none", "work_ms": 0}"#;

async fn crowd(base: &str, product: i64, body: &str) -> Response {
    client()
        .post(format!("{base}/api/products/{product}/flash-crowd"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("flash-crowd request")
}

/// Start a crowd and give it time to claim its product.
async fn crowd_in_background(base: &str, product: i64, body: &'static str) -> JoinHandle<Response> {
    let base = base.to_owned();
    let running = tokio::spawn(async move { crowd(&base, product, body).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_crowd_on_a_product_is_refused_409_crowd_running_on_every_instance() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;

    let running = crowd_in_background(&app.address, 1, SLOW_CROWD).await;
    let here = crowd(&app.address, 1, QUICK_CROWD).await;
    let there = crowd(&peer, 1, QUICK_CROWD).await;
    let other_product = crowd(&app.address, 2, QUICK_CROWD).await;

    assert_error(here, StatusCode::CONFLICT, "crowd_running").await;
    assert_error(there, StatusCode::CONFLICT, "crowd_running").await;
    assert_eq!(
        other_product.status(),
        StatusCode::OK,
        "one crowd per product"
    );
    let first = running.await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let report: Value = first.json().await.unwrap();
    assert_eq!(report["sold"], 5, "{report}");
    assert_eq!(
        app.order_count(1).await,
        5,
        "the refused crowds bought nothing"
    );
    // Once it is over, the product takes a crowd again.
    assert_eq!(crowd(&peer, 1, QUICK_CROWD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_crowds_than_max_crowds_on_one_instance_are_refused_429_too_many_crowds() {
    let app = spawn_app_with(|settings| settings.max_crowds = 1).await;
    let peer = app.spawn_peer().await;

    let running = crowd_in_background(&app.address, 1, SLOW_CROWD).await;
    let refused = crowd(&app.address, 2, QUICK_CROWD).await;
    let on_the_peer = crowd(&peer, 2, QUICK_CROWD).await;

    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_crowds").await;
    assert_eq!(
        on_the_peer.status(),
        StatusCode::OK,
        "the bound is per instance"
    );
    assert_eq!(running.await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.order_count(2).await, 1, "only the peer's crowd bought");
    assert_eq!(
        crowd(&app.address, 2, QUICK_CROWD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_whose_client_hangs_up_starts_no_more_buyers_and_keeps_its_report() {
    let app = spawn_app().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    // 2000 buyers one at a time through the lock, 50 ms each: about 100 s
    // of sales if the crowd ran to its end.
    let hung_up = impatient
        .post(app.url("/api/products/1/flash-crowd"))
        .json(&json!({"buyers": 2000, "lock": "redis", "work_ms": 50, "restock": 10_000}))
        .send()
        .await;
    assert!(hung_up.is_err_and(|error| error.is_timeout()));
    let gone = Instant::now();

    // The buyers already inside finish (or give up at the lock's 5 s
    // deadline); then the crowd reports what it did.
    let report = loop {
        if let Some(report) = crowd_reports(&app).await.pop() {
            break report;
        }
        assert!(
            gone.elapsed() < Duration::from_secs(15),
            "the crowd still runs {:?} after its client hung up ({} orders)",
            gone.elapsed(),
            app.order_count(1).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let orders = app.order_count(1).await;
    assert_eq!(report["sold"], orders, "{report}");
    assert!(orders < 400, "{orders} sold after the client hung up");
    let not_started = report["not_started"].as_i64().unwrap();
    assert!(not_started >= 1000, "{report}");
    let counted: i64 = [
        "sold",
        "sold_out",
        "busy",
        "lock_lost",
        "restocked",
        "unavailable",
        "failed",
        "not_started",
    ]
    .iter()
    .map(|outcome| report[outcome].as_i64().unwrap())
    .sum();
    assert_eq!(counted, 2000, "every buyer is counted: {report}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.order_count(1).await, orders, "no sale after the report");
}

const ADMIN_TOKEN: &str = "classroom-secret";

async fn spawn_app_with_admin_token() -> TestApp {
    spawn_app_with(|settings| settings.admin_token = Some(ADMIN_TOKEN.parse().unwrap())).await
}

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The admin actions, each as the API and as the page's forms send them,
/// with `credentials` (header name and value) if any. Answers each status.
async fn admin_actions(app: &TestApp, credentials: Option<(&str, String)>) -> Vec<Response> {
    let with = |request: reqwest::RequestBuilder| match &credentials {
        Some((name, value)) => request.header(*name, value),
        None => request,
    };
    let form = [
        ("stock", "7"),
        ("buyers", "3"),
        ("lock", "none"),
        ("work_ms", "0"),
    ];
    let requests = [
        with(browser().post(app.url("/api/products/1/reset"))).json(&json!({"stock": 7})),
        with(browser().post(app.url("/api/products/2/flash-crowd"))).json(&json!({"buyers": 3})),
        with(browser().post(app.url("/products/1/restock"))).form(&form),
        with(browser().post(app.url("/products/2/flash-crowd"))).form(&form),
    ];
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.send().await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_admin_token_restock_and_crowds_answer_401_without_it_and_purchases_never_need_it()
{
    let app = spawn_app_with_admin_token().await;

    for answer in admin_actions(&app, None).await {
        assert_eq!(answer.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_error(answer, StatusCode::UNAUTHORIZED, "admin_token_required").await;
    }
    let wrong = Some(("authorization", "Bearer not-the-token".to_owned()));
    for answer in admin_actions(&app, wrong).await {
        assert_error(answer, StatusCode::UNAUTHORIZED, "admin_token_required").await;
    }
    assert_eq!(app.stock(1).await, 100, "restocked without the token");
    assert!(
        crowd_reports(&app).await.is_empty(),
        "a crowd ran without the token"
    );

    let bought = purchase(&client(), &app.address, 2, "lock=redis").await;
    assert_eq!(bought.status(), StatusCode::CREATED);
    let form = browser()
        .post(app.url("/products/2/buy"))
        .form(&[("lock", "redis")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.order_count(2).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_admin_token_restock_and_crowds_work_with_the_bearer_header() {
    let app = spawn_app_with_admin_token().await;

    let bearer = Some(("authorization", format!("Bearer {ADMIN_TOKEN}")));
    let statuses: Vec<_> = admin_actions(&app, bearer)
        .await
        .iter()
        .map(Response::status)
        .collect();

    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER
        ]
    );
    assert_eq!(app.stock(1).await, 7);
    assert_eq!(crowd_reports(&app).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_cookie_from_post_admin_token_unlocks_restock_and_crowds() {
    let app = spawn_app_with_admin_token().await;

    let wrong = browser()
        .post(app.url("/admin/token"))
        .form(&[("token", "guess-guess")])
        .send()
        .await
        .unwrap();
    assert_error(wrong, StatusCode::UNAUTHORIZED, "admin_token_required").await;

    let login = browser()
        .post(app.url("/admin/token"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()[header::LOCATION], "/");
    let set_cookie = login.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let statuses: Vec<_> = admin_actions(&app, Some(("cookie", cookie)))
        .await
        .iter()
        .map(Response::status)
        .collect();

    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER
        ]
    );
    assert_eq!(app.stock(1).await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_rate_limit_a_burst_of_purchases_from_one_client_gets_some_429_rate_limited() {
    let app = spawn_app_with(|settings| settings.rate_limit_rps = 5).await;
    let client = client();

    let burst = (0..20).map(|_| purchase(&client, &app.address, 1, "lock=none"));
    let answers = futures::future::join_all(burst).await;

    let mut sold = 0;
    let mut limited = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => sold += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(answer.headers().contains_key(header::RETRY_AFTER));
                assert_error(answer, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
                limited += 1;
            }
            other => panic!("a purchase answered {other}"),
        }
    }
    assert!(sold >= 1 && limited >= 10, "{sold} sold, {limited} limited");
    assert_eq!(app.order_count(1).await, sold);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_holds_across_instances_three_allow_the_rate_once_not_three_times() {
    // One a second, a burst of one: the three instances share one budget.
    let app = spawn_app_with(|settings| settings.rate_limit_rps = 1).await;
    let peers = [app.spawn_peer().await, app.spawn_peer().await];
    let instances = [app.address.as_str(), peers[0].as_str(), peers[1].as_str()];
    let client = client();

    let started = Instant::now();
    let mut sold = 0;
    for n in 0..12 {
        let answer = purchase(&client, instances[n % 3], 1, "lock=none").await;
        match answer.status() {
            StatusCode::CREATED => sold += 1,
            status => {
                assert_error(answer, status, "rate_limited").await;
            }
        }
    }
    let seconds = started.elapsed().as_secs();

    // Per instance, each would have sold one at once (three in all).
    assert!(
        (1..=1 + seconds).contains(&sold),
        "{sold} sold in {seconds} s"
    );
    assert_eq!(app.order_count(1).await, sold as i64);
}
