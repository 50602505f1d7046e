//! The service's own process fails, or its client does: an instance killed
//! while it holds the lock, one sent SIGTERM mid-sale (its /readyz answers
//! 503 at once, so a load balancer drains it), and a client hanging up
//! mid-purchase.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::time::sleep;

use crate::helpers::{PRODUCT, SHARED_REDIS, Shop, send_purchase};

// --- An instance killed while it holds the lock -----------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_holding_the_lock_blocks_the_other_no_longer_than_the_ttl() {
    const TTL: Duration = Duration::from_millis(1500);
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let settings = [("LOCK_TTL_MS", &*TTL.as_millis().to_string())];
    let mut a = shop.start(&settings).await;
    let b = shop.start(&settings).await;
    b.restock(5).await;

    // A's work (2000 ms, the API's most) outlasts the TTL: without the TTL
    // a dead holder would block B for good.
    let held = tokio::spawn({
        let (client, address) = (a.client.clone(), a.address.clone());
        async move { send_purchase(&client, &address, "lock=redis&work_ms=2000&user=killed").await }
    });
    sleep(Duration::from_millis(300)).await;
    if !shop.locked_within(Duration::from_secs(1)).await {
        panic!("A does not hold the lock; its purchase: {:?}", held.await);
    }
    a.kill();
    let killed = Instant::now();
    let (status, body) = b.purchase("lock=redis&user=survivor").await;
    let waited = killed.elapsed();

    eprintln!("B sold {waited:?} after A was killed (TTL {TTL:?})");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        waited < TTL + Duration::from_secs(2),
        "B waited {waited:?} for a lock whose TTL is {TTL:?}"
    );
    assert!(held.await.unwrap().is_err(), "A died mid-sale");
    assert_eq!(body["remaining_stock"], 4, "{body}");
    let numbers = shop.numbers().await;
    assert_eq!((numbers.orders.len(), numbers.stock), (1, 4), "{numbers:?}");
    numbers.assert_has_order(&body);
    numbers.assert_no_oversell_and_no_lost_update();
    assert_eq!(shop.lock_value().await, None, "B released the lock");
}

// --- SIGTERM mid-sale -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// The sale (6.5 s: 4.5 s of pause, 2 s of work) outlasts actix's own
/// 5 s shutdown timeout: the service must wait for it, not cut it short.
async fn sigterm_mid_sale_lets_the_sale_finish_then_exits_0_leaving_no_lock() {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let mut service = shop.start(&[]).await;
    service.restock(5).await;

    let sale = tokio::spawn({
        let (client, address) = (service.client.clone(), service.address.clone());
        async move {
            send_purchase(
                &client,
                &address,
                "lock=redis&work_ms=2000&pause_ms=4500&user=stopped",
            )
            .await
        }
    });
    sleep(Duration::from_millis(300)).await;
    assert!(
        shop.locked_within(Duration::from_secs(1)).await,
        "the sale holds the lock"
    );
    service.signal("TERM");
    sleep(Duration::from_millis(300)).await;
    let ready = service
        .client
        .get(format!("{}/readyz", service.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a load balancer takes the instance out while its last sale finishes"
    );
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "shutting_down");
    let status = tokio::task::block_in_place(|| service.wait_exit(Duration::from_secs(15)));
    let answer = sale.await.unwrap();

    eprintln!("exit: {status:?}; the buyer's answer: {answer:?}");
    assert_eq!(
        shop.lock_value().await,
        None,
        "no lock left after the process exits"
    );
    let numbers = shop.numbers().await;
    numbers.assert_whole_or_absent(5);
    match &answer {
        Ok((StatusCode::CREATED, body)) => numbers.assert_has_order(body),
        other => panic!("the sale in flight was cut short by the shutdown: {other:?}"),
    }
    let status = status.expect("the service exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

// --- A client hanging up mid-purchase ---------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_mid_purchase_leaves_the_sale_whole_or_absent_and_no_lock() {
    let shop = Shop::on_shared_postgres(SHARED_REDIS);
    let service = shop.start(&[]).await;
    service.restock(5).await;

    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", service.port))
        .await
        .unwrap();
    let request = format!(
        "POST /api/products/{PRODUCT}/purchase?lock=redis&work_ms=500&user=gone HTTP/1.1\r\n\
         Host: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
        service.port
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    sleep(Duration::from_millis(100)).await;
    assert!(
        shop.locked_within(Duration::from_millis(300)).await,
        "the sale holds the lock"
    );
    drop(socket);

    // The lock's TTL is 5 s: gone sooner means released, not expired.
    shop.assert_lock_gone_within(Duration::from_secs(3)).await;
    shop.numbers().await.assert_whole_or_absent(5);
    let (status, body) = service.purchase("lock=redis&user=next").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
