//! Prometheus metrics of the audit webhook: requests by result, events received,
//! acknowledged and analysed, alerts by engine, the backlog, and journal syncs.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    engine: &'static str,
}

/// The server's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<ResultLabels, Counter>,
    received: Counter,
    acknowledged: Counter,
    processed: Counter,
    invalid: Counter,
    alerts: Family<EngineLabels, Counter>,
    backlog: Gauge,
    syncs: Counter,
    appends: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("palisade_audit");
        let metrics = Metrics {
            requests: Family::default(),
            received: Counter::default(),
            acknowledged: Counter::default(),
            processed: Counter::default(),
            invalid: Counter::default(),
            alerts: Family::default(),
            backlog: Gauge::default(),
            syncs: Counter::default(),
            appends: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "requests",
            "Batches posted, by result (ok, invalid, too_large, overloaded, shed, unauthorized, error)",
            metrics.requests.clone(),
        );
        registry.register(
            "events_received",
            "Events in well-formed batches received",
            metrics.received.clone(),
        );
        registry.register(
            "events_acknowledged",
            "Events in batches written to the journal and acknowledged",
            metrics.acknowledged.clone(),
        );
        registry.register(
            "events_processed",
            "Events the detectors have analysed",
            metrics.processed.clone(),
        );
        registry.register(
            "batches_invalid",
            "Acknowledged batches holding a malformed event, not analysed (see the log)",
            metrics.invalid.clone(),
        );
        registry.register(
            "alerts",
            "Alerts written, by engine",
            metrics.alerts.clone(),
        );
        registry.register(
            "backlog_bytes",
            "Journal bytes accepted but not analysed yet",
            metrics.backlog.clone(),
        );
        registry.register(
            "journal_syncs",
            "Journal syncs (one per group of batches)",
            metrics.syncs.clone(),
        );
        registry.register(
            "journal_appends",
            "Batches appended to the journal",
            metrics.appends.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// A request answered with `result`.
    pub fn request(&self, result: &'static str) {
        self.requests.get_or_create(&ResultLabels { result }).inc();
    }

    /// A well-formed batch of `events` arrived.
    pub fn received(&self, events: u64) {
        self.received.inc_by(events);
    }

    /// A batch of `events` is in the journal and acknowledged.
    pub fn acknowledged(&self, events: u64) {
        self.acknowledged.inc_by(events);
    }

    /// `events` analysed.
    pub fn processed(&self, events: u64) {
        self.processed.inc_by(events);
    }

    /// An acknowledged batch that could not be analysed.
    pub fn invalid_batch(&self) {
        self.invalid.inc();
    }

    /// An alert from `engine`.
    pub fn alert(&self, engine: &'static str) {
        self.alerts.get_or_create(&EngineLabels { engine }).inc();
    }

    /// One sync of `batches` appended batches.
    pub fn journal_sync(&self, batches: usize) {
        self.syncs.inc();
        self.appends.inc_by(batches as u64);
    }

    /// The text exposition format, with the backlog as it is now.
    pub fn encode(&self, backlog: u64) -> String {
        self.backlog.set(i64::try_from(backlog).unwrap_or(i64::MAX));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
