//! Prometheus metrics: requests by endpoint and decision, problems by control and action,
//! latency, requests in flight, reloads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    decision: String,
    dry_run: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    control: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    what: String,
    result: String,
}

/// The server's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    findings: Family<FindingLabels, Counter>,
    latency: Family<EndpointLabels, Histogram>,
    in_flight: Gauge,
    reloads: Family<ReloadLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("palisade_admission");
        let requests = Family::<RequestLabels, Counter>::default();
        let findings = Family::<FindingLabels, Counter>::default();
        // 50 µs to about 6.5 s.
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.00005, 2.0, 18))
        });
        let in_flight = Gauge::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "requests",
            "Admission reviews answered, by endpoint and decision (allowed, denied, patched, invalid, shed, unauthorized, error)",
            requests.clone(),
        );
        registry.register(
            "findings",
            "Problems found in reviewed objects, by control and the action taken (deny, warn, audit, exempt)",
            findings.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request received to response ready",
            latency.clone(),
        );
        registry.register("in_flight", "Reviews being evaluated", in_flight.clone());
        registry.register(
            "reloads",
            "Reloads of the serving certificate and of the policy, by result",
            reloads.clone(),
        );
        Metrics {
            registry,
            requests,
            findings,
            latency,
            in_flight,
            reloads,
        }
    }
}

impl Metrics {
    /// One request answered.
    pub fn request(&self, endpoint: &str, decision: &str, dry_run: bool, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                endpoint: endpoint.to_string(),
                decision: decision.to_string(),
                dry_run: dry_run.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_string(),
            })
            .observe(seconds);
    }

    /// One problem, and what was done with it.
    pub fn finding(&self, control: &str, action: &str) {
        self.findings
            .get_or_create(&FindingLabels {
                control: control.to_string(),
                action: action.to_string(),
            })
            .inc();
    }

    /// The in-flight gauge.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// A reload of `what` (`tls`, `policy`) with `result` (`ok`, `error`).
    pub fn reload(&self, what: &str, result: &str) {
        self.reloads
            .get_or_create(&ReloadLabels {
                what: what.to_string(),
                result: result.to_string(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
