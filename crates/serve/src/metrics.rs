//! Prometheus metrics of the daemon (`GET /metrics`, text exposition format): messages by class and action,
//! milter latency, messages in flight (queue depth), errors by kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of the message counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    /// Verdict class (`unscanned` when no analysis ran).
    pub class: String,
    /// Disposition (`accept`, `tag`, `reject`, `tempfail`, `discard`, `quarantine`).
    pub action: String,
}

/// Labels of the error counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// `timeout`, `overload`, `store`, `analysis`, `protocol`, `action`, `oversize`.
    pub kind: String,
}

/// The metric handles; cheap to share.
pub struct Metrics {
    registry: Registry,
    /// Messages judged.
    pub messages: Family<MessageLabels, Counter>,
    /// Time from end of message to answer, seconds.
    pub latency: Histogram,
    /// Messages being judged now.
    pub in_flight: Gauge,
    /// Milter transactions open (MAIL FROM to end of message).
    pub transactions: Gauge,
    /// Errors by kind.
    pub errors: Family<ErrorLabels, Counter>,
    /// Milter connections accepted.
    pub connections: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric under the `mamori` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mamori");
        let messages = Family::<MessageLabels, Counter>::default();
        let latency = Histogram::new(exponential_buckets(0.000_5, 2.0, 16));
        let in_flight = Gauge::default();
        let transactions = Gauge::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let connections = Counter::default();
        registry.register(
            "messages",
            "Messages judged, by class and action",
            messages.clone(),
        );
        registry.register(
            "message_latency_seconds",
            "Time to answer a message after its end (milter and API)",
            latency.clone(),
        );
        registry.register(
            "in_flight",
            "Messages being judged now (queue depth)",
            in_flight.clone(),
        );
        registry.register(
            "milter_transactions",
            "Milter transactions open, MAIL FROM to end of message",
            transactions.clone(),
        );
        registry.register("errors", "Errors by kind", errors.clone());
        registry.register(
            "milter_connections",
            "Milter connections accepted",
            connections.clone(),
        );
        Metrics {
            registry,
            messages,
            latency,
            in_flight,
            transactions,
            errors,
            connections,
        }
    }

    /// Counts one judged message.
    pub fn message(&self, class: &str, action: &str) {
        self.messages
            .get_or_create(&MessageLabels {
                class: class.to_string(),
                action: action.to_string(),
            })
            .inc();
    }

    /// Counts one error.
    pub fn error(&self, kind: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
