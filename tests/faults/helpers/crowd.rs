//! A crowd of buyers at once, and every answer it got.

use std::time::{Duration, Instant};

use reqwest::Client;
use uuid::Uuid;

use super::service::{order_id, send_purchase};

/// Every answer of a crowd, with when it came.
pub struct Crowd {
    answers: Vec<(Duration, u16, Option<Uuid>)>,
}

/// `201×20 409×78 503×2 (0: no answer), the last after 1.52s`
impl std::fmt::Debug for Crowd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut counts = std::collections::BTreeMap::new();
        for (_, status, _) in &self.answers {
            *counts.entry(*status).or_insert(0) += 1;
        }
        for (status, count) in counts {
            write!(f, "{status}×{count} ")?;
        }
        let last = self.answers.iter().map(|(when, _, _)| *when).max();
        match last {
            Some(last) => write!(f, "(0: no answer), the last after {last:.2?}"),
            None => write!(f, "no answer"),
        }
    }
}

impl Crowd {
    pub fn sold(&self) -> usize {
        self.answers
            .iter()
            .filter(|(_, status, _)| *status == 201)
            .count()
    }

    /// How many answers had this status (0: no HTTP answer at all).
    pub fn count(&self, status: u16) -> usize {
        self.answers.iter().filter(|(_, s, _)| *s == status).count()
    }

    pub fn order_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.answers.iter().filter_map(|(_, _, id)| *id)
    }

    /// Answers that came later than `at` after the crowd started.
    pub fn answered_after(&self, at: Duration) -> usize {
        self.answers
            .iter()
            .filter(|(when, _, _)| *when > at)
            .count()
    }

    /// Statuses other than `allowed` (0 for no HTTP answer at all) fail.
    pub fn assert_answers_allowed(&self, allowed: &[u16]) {
        let wrong: Vec<_> = self
            .answers
            .iter()
            .filter(|(_, status, _)| !allowed.contains(status))
            .collect();
        assert!(wrong.is_empty(), "answers outside {allowed:?}: {wrong:?}");
    }
}

/// `buyers` purchases at once on the instances at `addresses`, round-robin.
pub async fn flash_crowd(addresses: Vec<String>, buyers: usize, query: String) -> Crowd {
    let client = Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let started = Instant::now();
    let requests: Vec<_> = (0..buyers)
        .map(|n| {
            let client = client.clone();
            let address = addresses[n % addresses.len()].clone();
            let query = format!("{query}&user=buyer-{n}");
            tokio::spawn(async move {
                match send_purchase(&client, &address, &query).await {
                    Ok((status, body)) => (started.elapsed(), status.as_u16(), order_id(&body)),
                    Err(_) => (started.elapsed(), 0, None),
                }
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(buyers);
    for request in requests {
        answers.push(request.await.expect("buyer task"));
    }
    Crowd { answers }
}
