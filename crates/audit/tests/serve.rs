//! `palisade_audit::serve` in process: batches acknowledged after the journal, analysed once,
//! refusals with their status, and recovery from the state a crash leaves.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

mod serve_support;

use palisade_audit::serve::Echo;
use serve_support::{Running, Setup, batch, ids, metric, wait_until};
use std::io::Write;

fn echo() -> Vec<Box<dyn palisade_audit::Detector>> {
    vec![Box::new(Echo)]
}

#[test]
fn batches_are_acknowledged_analysed_once_and_counted() {
    let setup = Setup::new();
    let server = Running::start(setup.options(), echo());
    let client = setup.client(server.address, false);
    let mut sent = Vec::new();
    for b in 0..5 {
        let ids = ids(&format!("b{b}"), 20);
        let answer = client.post(&batch(&ids)).unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        sent.extend(ids);
    }
    wait_until("every event is echoed", || {
        setup.echoed().len() >= sent.len()
    });
    let metrics = client.get("/metrics").unwrap().body;
    assert_eq!(
        metric(&metrics, "palisade_audit_events_acknowledged_total"),
        100.0
    );
    assert_eq!(
        metric(&metrics, "palisade_audit_events_received_total"),
        100.0
    );
    wait_until("the backlog is empty", || {
        let metrics = client.get("/metrics").unwrap().body;
        metric(&metrics, "palisade_audit_events_processed_total") == 100.0
            && metric(&metrics, "palisade_audit_backlog_bytes") == 0.0
    });
    let metrics = client.get("/metrics").unwrap().body;
    assert!(
        metrics.contains("palisade_audit_alerts_total{engine=\"palisade\"} 100"),
        "{metrics}"
    );
    assert_eq!(client.get("/healthz").unwrap().status, 200);
    assert_eq!(client.get("/readyz").unwrap().status, 200);
    server.stop().unwrap();
    // In stream order, each once.
    assert_eq!(setup.echoed(), sent);
    // The alert schema: one event, its origin the batch's place in the journal.
    let text = std::fs::read_to_string(setup.output()).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["rule"], "echo");
    assert_eq!(first["engine"], "palisade");
    assert_eq!(first["origin"], "webhook:0");
    assert_eq!(first["target"]["resource"], "secrets");
}

#[test]
fn what_is_not_a_batch_is_refused_with_a_reason() {
    let setup = Setup::new();
    let mut options = setup.options();
    options.max_batch_bytes = 64 * 1024;
    let server = Running::start(options, echo());
    let client = setup.client(server.address, false);
    for (body, status, says) in [
        (&b"hello"[..], 400, "not a JSON object"),
        (
            b"{\"kind\":\"EventList\",\"items\":[",
            400,
            "not an EventList",
        ),
        (
            b"{\"kind\":\"PodList\",\"items\":[]}",
            400,
            "kind \"PodList\"",
        ),
        (b"", 400, "not a JSON object"),
    ] {
        let answer = client
            .post(body)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(body)));
        assert_eq!(answer.status, status, "{answer:?}");
        assert!(answer.body.contains(says), "{answer:?}");
    }
    let big = batch(&ids("big", 200));
    assert!(big.len() > 64 * 1024);
    let answer = client.post(&big).unwrap();
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(answer.body.contains("larger than 65536 bytes"));
    assert_eq!(client.request("GET", "/audit", b"").unwrap().status, 405);
    // Plain HTTP on the TLS port is told so.
    let mut tcp = std::net::TcpStream::connect(server.address).unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut tcp, &mut reply).unwrap();
    assert!(
        reply.contains("Client sent an HTTP request to an HTTPS server"),
        "{reply}"
    );
    let metrics = client.get("/metrics").unwrap().body;
    assert_eq!(
        metric(&metrics, "palisade_audit_events_received_total"),
        0.0
    );
    assert!(
        metrics.contains("palisade_audit_requests_total{result=\"invalid\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_audit_requests_total{result=\"too_large\"} 1"),
        "{metrics}"
    );
    server.stop().unwrap();
    assert!(setup.echoed().is_empty());
}

#[test]
fn with_a_client_ca_only_certified_clients_may_post() {
    let setup = Setup::new();
    let mut options = setup.options();
    options.tls.client_ca = Some(setup.certs.file("ca.crt"));
    let server = Running::start(options, echo());
    let anonymous = setup.client(server.address, false);
    let answer = anonymous.post(&batch(&ids("anon", 1))).unwrap();
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(answer.body.contains("client certificate"));
    // Probes need no certificate.
    assert_eq!(anonymous.get("/healthz").unwrap().status, 200);
    let certified = setup.client(server.address, true);
    assert_eq!(certified.post(&batch(&ids("cert", 3))).unwrap().status, 200);
    server.stop().unwrap();
    assert_eq!(setup.echoed(), ids("cert", 3));
}

/// The state a crash leaves between writing alerts and moving the checkpoint, plus a torn
/// journal tail: on restart, the alerts past the checkpoint are cut, their records analysed
/// again, the torn record dropped; every acknowledged event is in the output once.
#[test]
fn a_crash_before_the_checkpoint_repeats_no_alert_and_a_torn_tail_is_cut() {
    let setup = Setup::new();
    let state = setup.dir.path().join("state");
    let server = Running::start(setup.options(), echo());
    let client = setup.client(server.address, false);
    assert_eq!(client.post(&batch(&ids("first", 10))).unwrap().status, 200);
    wait_until("the first batch is analysed", || setup.echoed().len() == 10);
    // The checkpoint after the first batch, as a crash would leave it.
    let early = std::fs::read(state.join("checkpoint")).unwrap();
    assert_eq!(client.post(&batch(&ids("second", 10))).unwrap().status, 200);
    server.stop().unwrap();
    assert_eq!(setup.echoed().len(), 20);
    std::fs::write(state.join("checkpoint"), early).unwrap();
    let segment = state.join("journal").join(format!("{:020}.seg", 0));
    let intact = std::fs::metadata(&segment).unwrap().len();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap();
    file.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, b'{', b'"'])
        .unwrap();
    drop(file);

    let server = Running::start(setup.options(), echo());
    let client = setup.client(server.address, false);
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), intact);
    wait_until("the second batch is analysed again", || {
        setup.echoed().len() >= 20
    });
    assert_eq!(client.post(&batch(&ids("third", 5))).unwrap().status, 200);
    server.stop().unwrap();
    let mut expected = ids("first", 10);
    expected.extend(ids("second", 10));
    expected.extend(ids("third", 5));
    assert_eq!(setup.echoed(), expected);
}

#[test]
fn analysed_segments_are_deleted_and_the_journal_resumes_across_them() {
    let setup = Setup::new();
    let mut options = setup.options();
    options.segment_bytes = 20 * 1024;
    let journal = setup.dir.path().join("state/journal");
    let server = Running::start(options.clone(), echo());
    let client = setup.client(server.address, false);
    for b in 0..12 {
        let answer = client.post(&batch(&ids(&format!("s{b}"), 10))).unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    wait_until("all analysed", || setup.echoed().len() == 120);
    server.stop().unwrap();
    let segments = std::fs::read_dir(&journal).unwrap().count();
    assert!(segments <= 2, "{segments} segments left after analysis");
    let server = Running::start(options, echo());
    let client = setup.client(server.address, false);
    assert_eq!(client.post(&batch(&ids("after", 2))).unwrap().status, 200);
    server.stop().unwrap();
    assert_eq!(setup.echoed().len(), 122);
    assert_eq!(setup.echoed()[120..], ids("after", 2));
}

#[test]
fn a_state_directory_that_cannot_be_used_is_an_error_naming_it() {
    let setup = Setup::new();
    let mut options = setup.options();
    let file = setup.dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    options.state_dir = file.join("state");
    let error = Running::try_start(options, echo())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("a-file/state"), "{error}");
    let mut options = setup.options();
    options.tls.cert = setup.dir.path().join("missing.crt");
    let error = Running::try_start(options, echo())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with("tls: ") && error.contains("missing.crt"),
        "{error}"
    );
}
