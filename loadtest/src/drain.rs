//! After a mode's crowd: wait until the service has no order of the
//! product queued (the stream designs answer 202 and write later), bounded
//! by `--drain-timeout`, and keep the product as it was then.

use std::time::Duration;

use tokio::time::Instant;

use crate::http::Target;
use crate::service::{Product, product};

/// How often the drain asks for the product.
pub const DRAIN_POLL: Duration = Duration::from_millis(50);

/// The product once its queue has drained, or as it was when the drain gave
/// up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drained {
    /// The last reading.
    pub product: Product,
    /// From `since` (the crowd's end) to the reading that found the queue
    /// empty (or to giving up); zero when the first reading found it empty.
    pub waited: Duration,
    /// `false`: still queued (or the service could not say) at the timeout.
    pub drained: bool,
}

/// Reads the product back after a crowd, waiting (polling every
/// [`DRAIN_POLL`], for at most `timeout` after `since`) until no order is
/// queued any more: a 202 is a promise, the written row is the sale.
///
/// Waits only when it must: a crowd that got no 202 put nothing in a queue,
/// so a first reading that cannot say (`queued: null`) is not waited on;
/// one that got some keeps asking while `queued` is above 0 or `null`.
/// A reading that fails is tried again until the timeout.
pub async fn drain(
    target: &Target,
    id: u64,
    since: Instant,
    timeout: Duration,
    accepted_202: u64,
) -> anyhow::Result<Drained> {
    let deadline = since + timeout;
    let mut first = true;
    loop {
        let reading = product(target, id).await;
        let now = Instant::now();
        let gave_up = now >= deadline;
        match reading {
            Ok(product) => {
                let empty = match product.queued_now() {
                    Some(queued) => queued <= 0,
                    None => accepted_202 == 0,
                };
                if empty || gave_up {
                    let waited = if empty && first {
                        Duration::ZERO
                    } else {
                        now.duration_since(since)
                    };
                    return Ok(Drained {
                        product,
                        waited,
                        drained: empty,
                    });
                }
            }
            Err(e) if gave_up => return Err(e),
            Err(_) => {}
        }
        first = false;
        tokio::time::sleep(DRAIN_POLL.min(deadline.saturating_duration_since(now))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers its `n`-th request with `answers(n)` (a whole
    /// HTTP/1.1 response) and closes.
    async fn answering_in_turn(answers: impl Fn(usize) -> String + Send + 'static) -> Target {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move {
            for n in 0.. {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(answers(n).as_bytes()).await;
            }
        });
        target
    }

    fn product_answer(orders: i64, queued: &str) -> String {
        let body = format!(
            r#"{{"id":1,"initial_stock":10,"stock":{},"orders":{orders},"oversold":0,"lost_updates":0,"queued":{queued}}}"#,
            10 - orders
        );
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn the_drain_waits_until_nothing_is_queued() {
        // 6, then 3 queued (while the service cannot say once), then none.
        let target = answering_in_turn(|n| match n {
            0 => product_answer(4, "6"),
            1 => product_answer(7, "null"),
            2 => product_answer(7, "3"),
            _ => product_answer(10, "0"),
        })
        .await;
        let since = Instant::now();

        let drained = drain(&target, 1, since, Duration::from_secs(5), 10)
            .await
            .unwrap();

        assert!(drained.drained);
        assert_eq!(drained.product.orders, 10);
        assert!(drained.waited >= 3 * DRAIN_POLL, "{:?}", drained.waited);
    }

    #[tokio::test]
    async fn a_queue_that_never_drains_is_given_up_at_the_timeout() {
        let target = answering_in_turn(|_| product_answer(4, "6")).await;
        let since = Instant::now();

        let drained = drain(&target, 1, since, Duration::from_millis(300), 10)
            .await
            .unwrap();

        assert!(!drained.drained);
        assert_eq!(drained.product.queued_now(), Some(6));
        assert!(drained.waited >= Duration::from_millis(300));
        assert!(
            drained.waited < Duration::from_secs(2),
            "{:?}",
            drained.waited
        );
    }

    #[tokio::test]
    async fn nothing_is_waited_for_when_nothing_was_queued() {
        let target = answering_in_turn(|_| product_answer(4, "0")).await;
        let drained = drain(&target, 1, Instant::now(), Duration::from_secs(5), 4)
            .await
            .unwrap();
        assert!(drained.drained);
        assert_eq!(drained.waited, Duration::ZERO);

        // Without a 202 nothing of the crowd's can be queued: a service that
        // cannot ask Redis is not waited on.
        let target = answering_in_turn(|_| product_answer(4, "null")).await;
        let drained = drain(&target, 1, Instant::now(), Duration::from_secs(5), 0)
            .await
            .unwrap();
        assert!(drained.drained);
        assert_eq!(drained.waited, Duration::ZERO);
    }
}
