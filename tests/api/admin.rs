//! The admin token against guessing: wrong tokens are counted per client (5
//! at once, then one a second, then 429 `rate_limited`), the client being
//! the peer unless it is one of `TRUSTED_PROXIES`; and the admin cookie
//! expires, and is `Secure` when a trusted proxy says the page came over
//! https.

use std::time::Instant;

use reqwest::{Client, Response, StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, assert_error, client, spawn_app_with};

const ADMIN_TOKEN: &str = "classroom-secret";
/// Wrong tokens a client may offer at once (`routes::attempts::BURST`).
const BURST: usize = 5;

async fn spawn_guarded_app(trusted_proxies: &str) -> TestApp {
    let proxies = trusted_proxies.to_owned();
    spawn_app_with(move |settings| {
        settings.admin_token = Some(ADMIN_TOKEN.parse().unwrap());
        settings.trusted_proxies = proxies.parse().unwrap();
    })
    .await
}

async fn restock_with(
    client: &Client,
    app: &TestApp,
    token: &str,
    forwarded_for: Option<String>,
) -> Response {
    let mut request = client
        .post(app.url("/api/products/1/reset"))
        .bearer_auth(token)
        .json(&json!({"stock": 7}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.expect("restock request")
}

/// `n` wrong tokens one after the other; answers their statuses and how many
/// whole seconds they took (a second lets one more through).
async fn guess(
    app: &TestApp,
    n: usize,
    forwarded_for: impl Fn(usize) -> Option<String>,
) -> (Vec<StatusCode>, u64) {
    let client = client();
    let started = Instant::now();
    let mut statuses = Vec::new();
    for attempt in 0..n {
        let answer = restock_with(
            &client,
            app,
            &format!("guess-{attempt:04}"),
            forwarded_for(attempt),
        )
        .await;
        let status = answer.status();
        match status {
            StatusCode::UNAUTHORIZED => {
                assert_error(answer, status, "admin_token_required").await;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(answer.headers()[header::RETRY_AFTER], "1");
                assert_error(answer, status, "rate_limited").await;
            }
            other => panic!("attempt {attempt} answered {other}"),
        }
        statuses.push(status);
    }
    (statuses, started.elapsed().as_secs())
}

/// The first five are 401 and the rest 429 — but for one more 401 per whole
/// second the attempts took (none on any machine that sends 50 requests
/// within a second).
fn assert_throttled_after_the_burst(statuses: &[StatusCode], seconds: u64) {
    assert!(
        statuses[..BURST]
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let unauthorized = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    let refill = usize::try_from(seconds).unwrap();
    assert!(
        unauthorized <= BURST + refill,
        "{unauthorized} × 401 in {seconds} s: {statuses:?}"
    );
    assert_eq!(
        statuses.len() - unauthorized,
        statuses
            .iter()
            .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
            .count()
    );
    if seconds == 0 {
        assert_eq!(unauthorized, BURST, "{statuses:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_wrong_tokens_from_one_client_get_five_401_then_429() {
    let app = spawn_guarded_app("").await;

    let (statuses, seconds) = guess(&app, 50, |_| None).await;

    assert_throttled_after_the_burst(&statuses, seconds);
    assert_eq!(app.stock(1).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_form_counts_wrong_tokens_too() {
    let app = spawn_guarded_app("").await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut statuses = Vec::new();
    let started = Instant::now();
    for attempt in 0..20 {
        let answer = browser
            .post(app.url("/admin/token"))
            .form(&[("token", format!("guess-{attempt:04}"))])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status());
    }

    assert_throttled_after_the_burst(&statuses, started.elapsed().as_secs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored() {
    // 127.0.0.1 is the test's peer; trusting another network changes nothing.
    let app = spawn_guarded_app("10.0.0.0/8").await;

    let (statuses, seconds) = guess(&app, 20, |n| Some(format!("203.0.113.{n}"))).await;

    assert_throttled_after_the_burst(&statuses, seconds);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = spawn_guarded_app("127.0.0.1/32, ::1").await;

    // Twenty clients behind the proxy, one wrong token each: none throttled.
    let (statuses, _) = guess(&app, 20, |n| Some(format!("203.0.113.{n}"))).await;
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    // One client behind it, and every hop it wrote itself ignored: counted
    // as itself.
    let (statuses, seconds) = guess(&app, 20, |n| Some(format!("198.51.100.{n}, 192.0.2.1"))).await;
    assert_throttled_after_the_burst(&statuses, seconds);

    // Its neighbour still has its own allowance, and the right token works.
    let client = client();
    let answer = restock_with(&client, &app, ADMIN_TOKEN, Some("192.0.2.2".into())).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(app.stock(1).await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purchase_rate_limit_keys_on_the_client_a_trusted_proxy_names() {
    for (trusted, per_client) in [("", false), ("127.0.0.1/32", true)] {
        let app = spawn_app_with(|settings| {
            settings.rate_limit_rps = 1;
            settings.trusted_proxies = trusted.parse().unwrap();
        })
        .await;
        let client = client();

        let started = Instant::now();
        let mut sold = 0;
        for n in 0..10 {
            let answer = client
                .post(app.url("/api/products/1/purchase?lock=none"))
                .header("x-forwarded-for", format!("203.0.113.{n}"))
                .send()
                .await
                .unwrap();
            match answer.status() {
                StatusCode::CREATED => sold += 1,
                status => {
                    assert_error(answer, status, "rate_limited").await;
                }
            }
        }
        let seconds = started.elapsed().as_secs();

        if per_client {
            assert_eq!(sold, 10, "ten clients behind the proxy, one purchase each");
        } else {
            // One client (the peer), one purchase a second.
            assert!(
                (1..=1 + seconds).contains(&sold),
                "{sold} sold in {seconds} s"
            );
        }
        assert_eq!(app.order_count(1).await, sold as i64);
    }
}

async fn login(app: &TestApp, forwarded_proto: Option<&str>) -> String {
    let mut request = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/admin/token"))
        .form(&[("token", ADMIN_TOKEN)]);
    if let Some(proto) = forwarded_proto {
        request = request.header("x-forwarded-proto", proto);
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    answer.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_cookie_expires_in_twelve_hours_and_is_secure_behind_a_trusted_https_proxy() {
    let direct = spawn_guarded_app("").await;
    let plain = login(&direct, None).await;
    assert!(plain.contains("Max-Age=43200"), "{plain}");
    assert!(
        plain.contains("HttpOnly") && plain.contains("SameSite=Strict"),
        "{plain}"
    );
    assert!(!plain.contains("Secure"), "plain http: {plain}");
    let claimed = login(&direct, Some("https")).await;
    assert!(
        !claimed.contains("Secure"),
        "an untrusted peer's word: {claimed}"
    );

    let proxied = spawn_guarded_app("127.0.0.1").await;
    let secure = login(&proxied, Some("https")).await;
    assert!(secure.contains("; Secure"), "{secure}");
    assert!(secure.contains("Max-Age=43200"), "{secure}");
    assert!(!login(&proxied, Some("http")).await.contains("Secure"));

    // The cookie it sets is the key, whatever its flags.
    let cookie = secure.split(';').next().unwrap().to_owned();
    let answer = client()
        .post(proxied.url("/api/products/1/reset"))
        .header(header::COOKIE, cookie)
        .json(&json!({"stock": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}
