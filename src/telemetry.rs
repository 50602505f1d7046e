//! Logging: one line per event, `RUST_LOG` to change what is shown.
//!
//! Client errors are logged at INFO at most, so that no client can fill the
//! log with errors. Our own refusals are not logged at all (only 5xx are, by
//! `ApiError`); actix-http, though, logs every request it cannot parse, and
//! every connection a client breaks, at ERROR ("stream error: request parse
//! error: …"). [`ClientErrorsAtInfo`] says those again at INFO, and the ERROR
//! is not printed.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Install the global subscriber; `default_filter` applies when `RUST_LOG` is unset.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let output = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_filter(NotAClientError);
    // A second call (several tests in one process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .with(ClientErrorsAtInfo)
        .try_init();
}

/// The target of actix-http's HTTP/1 connection handling.
const ACTIX_CONNECTION: &str = "actix_http::h1::dispatcher";

/// What actix-http's "stream error" says after the prefix, when the client
/// caused it: a request that does not parse, or an I/O error on its
/// connection (a reset, a hang-up). Its other stream errors are ours.
fn client_error(event: &Event<'_>) -> Option<String> {
    let metadata = event.metadata();
    if *metadata.level() != Level::ERROR || metadata.target() != ACTIX_CONNECTION {
        return None;
    }
    let mut message = Message(String::new());
    event.record(&mut message);
    let detail = message.0.strip_prefix("stream error: ")?;
    let by_client = detail.starts_with("request parse error") || detail.starts_with("I/O error");
    by_client.then(|| detail.to_owned())
}

/// An event's `message` field, as text.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// Lets every event through but actix-http's client errors.
struct NotAClientError;

impl<S: Subscriber> Filter<S> for NotAClientError {
    fn enabled(&self, _: &tracing::Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        client_error(event).is_none()
    }
}

/// Says actix-http's client errors again, at INFO.
struct ClientErrorsAtInfo;

impl<S: Subscriber> Layer<S> for ClientErrorsAtInfo {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if let Some(detail) = client_error(event) {
            tracing::info!(target: "flashsale::http", "client error: {detail}");
        }
    }
}
