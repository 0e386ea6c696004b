//! Alert outputs: JSON lines, and the webhook against a real HTTP(S) server on loopback.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use palisade_audit::sink::{JsonLines, Sink, Webhook, WebhookOptions, WhenFull};
use palisade_audit::{Alert, Engine, Origin};
use palisade_model::Severity;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn alerts(count: usize) -> Vec<Alert> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/input/exec_pod.json"),
    )
    .unwrap();
    let event = palisade_audit::event::parse(&text, &Origin::new("exec_pod.json", 1))
        .unwrap()
        .remove(0);
    (0..count)
        .map(|i| {
            let mut alert = Alert::for_event(
                format!("R{i}"),
                Engine::Falco,
                "NOTICE",
                Severity::Medium,
                "Attach/Exec to pod",
                &event,
            );
            alert.attack = vec!["T1609".into()];
            alert.tags = vec!["k8s".into()];
            alert
        })
        .collect()
}

/// What the server answers to request `n` (0-based): status, Retry-After, delay.
type Respond = dyn Fn(u64) -> (u16, Option<&'static str>, Duration) + Send + Sync;

struct Server {
    url: String,
    received: Arc<Mutex<Vec<Value>>>,
    requests: Arc<AtomicU64>,
}

impl Server {
    /// Rule names of the alerts accepted, in arrival order.
    fn rules(&self) -> Vec<String> {
        let received = self.received.lock().unwrap();
        received
            .iter()
            .map(|a| a["rule"].as_str().unwrap().to_string())
            .collect()
    }
}

/// An HTTP(S) server on 127.0.0.1 that closes its first `drop_connections` connections
/// without answering, then answers as `respond` says, keeping the alerts of 2xx requests.
fn serve(tls: Option<&Path>, drop_connections: u64, respond: Box<Respond>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls.map(|dir| {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.join("tls.crt"))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.join("tls.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let received = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(AtomicU64::new(0));
    let respond: Arc<Respond> = Arc::from(respond);
    let (kept, counted) = (Arc::clone(&received), Arc::clone(&requests));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let mut connections = 0;
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                connections += 1;
                if connections <= drop_connections {
                    drop(stream);
                    continue;
                }
                let (kept, counted, respond) = (
                    Arc::clone(&kept),
                    Arc::clone(&counted),
                    Arc::clone(&respond),
                );
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let (kept, counted, respond) = (
                        Arc::clone(&kept),
                        Arc::clone(&counted),
                        Arc::clone(&respond),
                    );
                    async move {
                        assert_eq!(request.headers()["content-type"], "application/json");
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let n = counted.fetch_add(1, Ordering::SeqCst);
                        let (status, retry_after, delay) = respond(n);
                        tokio::time::sleep(delay).await;
                        if (200..300).contains(&status) {
                            let value: Value = serde_json::from_slice(&body).unwrap();
                            let mut kept = kept.lock().unwrap();
                            match value {
                                Value::Array(items) => kept.extend(items),
                                one => kept.push(one),
                            }
                        }
                        let mut response = Response::builder().status(status);
                        if let Some(after) = retry_after {
                            response = response.header("retry-after", after);
                        }
                        Ok::<_, std::convert::Infallible>(
                            response.body(Full::new(Bytes::new())).unwrap(),
                        )
                    }
                });
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let http = hyper::server::conn::http1::Builder::new();
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    Server {
        url: format!("{scheme}://127.0.0.1:{port}/alerts"),
        received,
        requests,
    }
}

fn quick(url: &str) -> WebhookOptions {
    WebhookOptions {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        ..WebhookOptions::new(url)
    }
}

fn names(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("R{i}")).collect()
}

#[test]
fn the_webhook_retries_until_every_alert_arrived_once_in_order() {
    // Two connections closed unanswered, then 503, 502, 429 with Retry-After: 1, then 200.
    let server = serve(
        None,
        2,
        Box::new(|n| match n {
            0 => (503, None, Duration::ZERO),
            1 => (502, None, Duration::ZERO),
            2 => (429, Some("1"), Duration::ZERO),
            7 => (500, None, Duration::ZERO),
            _ => (200, None, Duration::ZERO),
        }),
    );
    let mut sink = Webhook::new(quick(&server.url)).unwrap();
    let start = Instant::now();
    for alert in alerts(20) {
        sink.send(&alert).unwrap();
    }
    let stats = sink.close().unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 is honoured"
    );
    assert_eq!(server.rules(), names(20));
    assert_eq!((stats.sent, stats.failed, stats.dropped), (20, 0, 0));
    assert_eq!(stats.retries, 6, "2 unanswered connections, 4 refusals");
    assert_eq!(server.requests.load(Ordering::SeqCst), 24);
    assert!(sink.send(&alerts(1)[0]).is_err(), "closed");
}

#[test]
fn the_webhook_posts_arrays_when_batching() {
    let server = serve(
        None,
        0,
        Box::new(|_| (200, None, Duration::from_millis(20))),
    );
    let options = WebhookOptions {
        batch_size: 5,
        ..quick(&server.url)
    };
    let mut sink = Webhook::new(options).unwrap();
    for alert in alerts(23) {
        sink.send(&alert).unwrap();
    }
    let stats = sink.close().unwrap();
    assert_eq!(server.rules(), names(23));
    assert_eq!(stats.sent, 23);
    let requests = server.requests.load(Ordering::SeqCst);
    assert!(
        (5..23).contains(&requests),
        "{requests} requests: batches of up to 5"
    );
}

#[test]
fn a_full_queue_drops_new_alerts_and_counts_them() {
    let server = serve(
        None,
        0,
        Box::new(|_| (200, None, Duration::from_millis(30))),
    );
    let options = WebhookOptions {
        queue_capacity: 2,
        when_full: WhenFull::Drop,
        ..quick(&server.url)
    };
    let mut sink = Webhook::new(options).unwrap();
    for alert in alerts(40) {
        sink.send(&alert).unwrap();
    }
    let stats = sink.close().unwrap();
    assert!(stats.dropped > 0, "{stats:?}");
    assert_eq!(stats.sent + stats.dropped, 40, "{stats:?}");
    let rules = server.rules();
    assert_eq!(rules.len() as u64, stats.sent);
    let numbers: Vec<u32> = rules.iter().map(|r| r[1..].parse().unwrap()).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "in order: {numbers:?}"
    );
    assert_eq!(numbers[0], 0, "the first is never dropped");
}

#[test]
fn a_blocking_queue_loses_nothing() {
    let server = serve(None, 0, Box::new(|_| (200, None, Duration::from_millis(2))));
    let options = WebhookOptions {
        queue_capacity: 1,
        ..quick(&server.url)
    };
    let mut sink = Webhook::new(options).unwrap();
    for alert in alerts(30) {
        sink.send(&alert).unwrap();
    }
    let stats = sink.close().unwrap();
    assert_eq!((stats.sent, stats.dropped), (30, 0));
    assert_eq!(server.rules(), names(30));
}

#[test]
fn the_webhook_gives_up_after_its_tries_and_on_client_errors() {
    let failing = serve(None, 0, Box::new(|_| (500, None, Duration::ZERO)));
    let options = WebhookOptions {
        max_attempts: 3,
        ..quick(&failing.url)
    };
    let mut sink = Webhook::new(options).unwrap();
    for alert in alerts(2) {
        sink.send(&alert).unwrap();
    }
    let stats = sink.close().unwrap();
    assert_eq!((stats.sent, stats.failed, stats.retries), (0, 2, 4));
    assert_eq!(failing.requests.load(Ordering::SeqCst), 6);

    let refusing = serve(None, 0, Box::new(|_| (400, None, Duration::ZERO)));
    let mut sink = Webhook::new(quick(&refusing.url)).unwrap();
    sink.send(&alerts(1)[0]).unwrap();
    let stats = sink.close().unwrap();
    assert_eq!(
        (stats.sent, stats.failed, stats.retries),
        (0, 1, 0),
        "400 is not retried"
    );
}

#[test]
fn https_with_a_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let certs = palisade_testkit::Certificates::new(dir.path());
    let server = serve(
        Some(dir.path()),
        0,
        Box::new(|_| (200, None, Duration::ZERO)),
    );
    let options = WebhookOptions {
        ca_file: Some(certs.file("ca.crt")),
        headers: vec![("Authorization".into(), "Bearer t0ken".into())],
        ..quick(&server.url)
    };
    let mut sink = Webhook::new(options).unwrap();
    for alert in alerts(3) {
        sink.send(&alert).unwrap();
    }
    assert_eq!(sink.close().unwrap().sent, 3);
    assert_eq!(server.rules(), names(3));

    // Without the CA, the server's certificate is not trusted: nothing is sent.
    let options = WebhookOptions {
        max_attempts: 2,
        ..quick(&server.url)
    };
    let mut sink = Webhook::new(options).unwrap();
    sink.send(&alerts(1)[0]).unwrap();
    let stats = sink.close().unwrap();
    assert_eq!((stats.sent, stats.failed), (0, 1));
    assert_eq!(server.rules().len(), 3);
}

#[test]
fn json_lines_are_appended_one_alert_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/alerts.jsonl");
    let written = alerts(3);
    for part in [&written[..2], &written[2..]] {
        let mut sink = JsonLines::append(&path).unwrap();
        for alert in part {
            sink.send(alert).unwrap();
        }
        assert_eq!(sink.close().unwrap().sent, part.len() as u64);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let read: Vec<Alert> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(read, written);
    let error = JsonLines::append(&dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("out"), "{error}");
}

// ------------------------------------------------------------------ the published schema

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit/alert.schema.json");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    strict(&mut schema);
    schema
}

/// The published schema allows unknown properties; the tests check that every property
/// written is declared.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

fn violations(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap();
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn alerts_match_the_published_schema() {
    let schema = schema();
    let mut full = alerts(1).remove(0);
    full.score = Some(0.93);
    full.event_count = Some(42);
    full.identity.impersonated_user = Some("system:admin".into());
    let mut bare = alerts(1).remove(0);
    bare.attack.clear();
    bare.tags.clear();
    bare.time = None;
    bare.origin = None;
    for alert in [full, bare] {
        let value = serde_json::to_value(&alert).unwrap();
        let errors = violations(&schema, &value);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let good = serde_json::to_value(alerts(1).remove(0)).unwrap();
    for (pointer, bad) in [
        ("/severity", Value::from("severe")),
        ("/engine", Value::from("splunk")),
        ("/attack/0", Value::from("execution")),
        ("/identity/user", Value::from(7)),
    ] {
        let mut wrong = good.clone();
        *wrong.pointer_mut(pointer).unwrap() = bad;
        assert!(!violations(&schema, &wrong).is_empty(), "{pointer}");
    }
    let mut missing = good;
    missing.as_object_mut().unwrap().remove("rule");
    assert!(!violations(&schema, &missing).is_empty());
}

#[test]
fn the_documented_example_matches_the_schema_and_the_type() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit/alerts.md"),
    )
    .unwrap();
    let start = doc.find("```json\n").unwrap() + "```json\n".len();
    let end = start + doc[start..].find("\n```").unwrap();
    let example: Value = serde_json::from_str(&doc[start..end]).unwrap();
    let errors = violations(&schema(), &example);
    assert!(errors.is_empty(), "{errors:#?}");
    let alert: Alert = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&alert).unwrap(),
        example,
        "the example is what Palisade writes"
    );
}

#[test]
fn the_documented_summary_is_what_summary_table_prints() {
    use palisade_audit::summary::{Summary, summary_table};
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit/alerts.md"),
    )
    .unwrap();
    let section = &doc[doc.find("## Summary").unwrap()..];
    let start = section.find("```\n").unwrap() + 4;
    let end = start + section[start..].find("```").unwrap();
    let mut summary = Summary::new();
    summary.events = 52;
    let mut alert = alerts(1).remove(0);
    alert.rule = "Attach/Exec Pod".into();
    summary.add(&alert);
    alert.time = Some("2018-10-26T13:41:02.113402Z".into());
    summary.add(&alert);
    assert_eq!(summary_table(&summary), &section[start..end]);
}
