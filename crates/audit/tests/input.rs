//! Reading audit input: cloud envelopes, files, gzip, directories, documents, bad lines.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use flate2::Compression;
use flate2::write::GzEncoder;
use palisade_audit::event::read::{ReadError, ReadOptions, ReadStats, read_paths, read_stream};
use palisade_audit::event::{CLUSTER_ANNOTATION, FORMAT_ANNOTATION, parse};
use palisade_audit::{Event, Origin};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/input")
        .join(name)
}

fn read(paths: &[PathBuf], options: &ReadOptions) -> (Vec<Event>, Vec<ReadError>, ReadStats) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let stats = read_paths(paths, options, |e| events.push(e), |e| errors.push(e));
    (events, errors, stats)
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The fields of an `audit.k8s.io/v1` Event.
const EVENT_FIELDS: [&str; 18] = [
    "kind",
    "apiVersion",
    "level",
    "auditID",
    "stage",
    "requestURI",
    "verb",
    "user",
    "impersonatedUser",
    "sourceIPs",
    "userAgent",
    "objectRef",
    "responseStatus",
    "requestObject",
    "responseObject",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "annotations",
];

fn without_palisade_annotations(event: &Event) -> Value {
    let mut value = event.json().clone();
    let annotations = value["annotations"].as_object_mut().unwrap();
    annotations.remove(FORMAT_ANNOTATION);
    annotations.remove(CLUSTER_ANNOTATION);
    if annotations.is_empty() {
        value.as_object_mut().unwrap().remove("annotations");
    }
    value
}

#[test]
fn aks_records_unwrap_to_exactly_the_event_they_carry() {
    let tests = lines_of(&data("panther-aks.jsonl"));
    assert_eq!(tests.len(), 26);
    for (i, test) in tests.iter().enumerate() {
        let text = serde_json::to_string(&test["log"]).unwrap();
        let events = parse(&text, &Origin::new("aks", i as u64 + 1)).unwrap();
        assert_eq!(events.len(), 1, "{}", test["test"]);
        assert_eq!(events[0].annotation(FORMAT_ANNOTATION), Some("aks"));
        assert_eq!(
            without_palisade_annotations(&events[0]),
            test["k8s_event"],
            "{}",
            test["test"]
        );
    }
}

#[test]
fn gke_entries_from_panther_become_native_events() {
    let tests = lines_of(&data("panther-gke.jsonl"));
    let (mut kubernetes, mut other) = (0, 0);
    for (i, test) in tests.iter().enumerate() {
        let text = serde_json::to_string(&test["log"]).unwrap();
        let origin = Origin::new("gke", i as u64 + 1);
        let method = test["log"]["protoPayload"]["methodName"]
            .as_str()
            .unwrap_or("");
        let result = parse(&text, &origin);
        if !method.starts_with("io.k8s.") {
            let error = result.unwrap_err().to_string();
            assert!(error.contains("not a Kubernetes API method"), "{error}");
            other += 1;
            continue;
        }
        kubernetes += 1;
        let events = result.unwrap();
        let event = &events[0];
        assert_eq!(event.annotation(FORMAT_ANNOTATION), Some("gke"));
        assert_eq!(event.verb(), method.rsplit('.').next(), "{}", test["test"]);
        for key in event.json().as_object().unwrap().keys() {
            assert!(
                EVENT_FIELDS.contains(&key.as_str()),
                "{key} is not an Event field"
            );
        }
        let name = test["log"]["protoPayload"]["resourceName"]
            .as_str()
            .unwrap_or("");
        if let Some(rest) = name.split("/namespaces/").nth(1) {
            assert_eq!(event.namespace(), rest.split('/').next(), "{name}");
        }
        if method.contains(".pods.exec.") {
            assert_eq!(event.subresource(), Some("exec"));
            assert_eq!(event.stage(), Some("ResponseStarted"));
            assert_eq!(event.response_code(), Some(101));
        }
        if let Some(email) =
            test["log"]["protoPayload"]["authenticationInfo"]["principalEmail"].as_str()
        {
            assert_eq!(event.user_name(), Some(email));
        }
        if let Some(request) = test["log"]["protoPayload"].get("request") {
            let mut request = request.clone();
            request.as_object_mut().unwrap().remove("@type");
            assert_eq!(event.request_object(), Some(&request));
        }
    }
    assert_eq!((kubernetes, other), (34, 5));
}

#[test]
fn gke_entries_map_every_field() {
    let (events, errors, stats) = read(&[data("gke-entries.jsonl")], &ReadOptions::default());
    assert_eq!(stats.events, 5);
    assert_eq!(errors.len(), 1);
    let error = errors[0].to_string();
    assert!(
        error.contains("gke-entries.jsonl:6: not an audit event: GKE log entry: methodName \"v1.compute.instances.insert\" is not a Kubernetes API method (service compute.googleapis.com)"),
        "{error}"
    );

    let exec = events[0].json();
    assert_eq!(
        exec,
        &json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": "e1a6c0d4-7f0b-4c8e-9d55-1b2f3a4c5d6e",
            "stage": "ResponseStarted",
            "requestURI": "/api/v1/namespaces/payments/pods/api-7d9f8-x2x9k/exec",
            "verb": "create",
            "user": {"username": "alice@acme.example"},
            "sourceIPs": ["203.0.113.7"],
            "userAgent": "kubectl/v1.30.1 (linux/amd64) kubernetes/6911225",
            "objectRef": {"resource": "pods", "namespace": "payments", "name": "api-7d9f8-x2x9k",
                          "apiVersion": "v1", "subresource": "exec"},
            "responseStatus": {"metadata": {}, "code": 101},
            "requestReceivedTimestamp": "2025-06-02T09:14:03.512311Z",
            "stageTimestamp": "2025-06-02T09:14:03.512311Z",
            "annotations": {
                "authorization.k8s.io/decision": "allow",
                "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"admins\" of ClusterRole \"cluster-admin\" to User \"alice@acme.example\"",
                "palisade.dev/source-format": "gke",
                "palisade.dev/cluster": "prod-eu"
            }
        })
    );

    let denied = &events[1];
    assert_eq!(denied.response_code(), Some(403));
    assert!(
        denied
            .pointer("/responseStatus/message")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("is forbidden")
    );
    assert_eq!(
        denied.annotation("authorization.k8s.io/decision"),
        Some("forbid")
    );
    assert_eq!(denied.stage(), Some("ResponseComplete"));

    let create = &events[2];
    assert_eq!(create.response_code(), Some(201));
    assert_eq!(create.pointer("/level"), Some(&json!("RequestResponse")));
    assert_eq!(
        create.pointer("/requestObject/spec/hostPID"),
        Some(&json!(true))
    );
    assert!(create.pointer("/requestObject/@type").is_none());
    assert_eq!(
        create.pointer("/responseObject/metadata/uid"),
        Some(&json!("3f1c2b4a-0000-4000-8000-000000000001"))
    );

    let binding = &events[3];
    assert_eq!(binding.api_group(), Some("rbac.authorization.k8s.io"));
    assert_eq!(binding.resource(), Some("clusterrolebindings"));
    assert_eq!(binding.namespace(), None);
    assert_eq!(binding.name(), Some("ci-admin"));
    assert_eq!(
        binding.request_uri(),
        Some("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ci-admin")
    );

    let ready = &events[4];
    assert_eq!(
        (ready.verb(), ready.request_uri(), ready.resource()),
        (Some("get"), Some("/readyz"), None)
    );
    assert_eq!(ready.response_code(), Some(200));
}

#[test]
fn an_aks_batch_keeps_audit_records_and_names_the_others() {
    let (events, errors, _) = read(&[data("aks-records.json")], &ReadOptions::default());
    let verbs: Vec<_> = events.iter().map(|e| e.verb().unwrap()).collect();
    assert_eq!(verbs, ["create", "update"]);
    assert!(events.iter().all(|e| {
        e.annotation(CLUSTER_ANNOTATION)
            .unwrap()
            .ends_with("/MANAGEDCLUSTERS/PROD-AKS")
    }));
    assert_eq!(events[0].subresource(), Some("exec"));
    assert_eq!(errors.len(), 1);
    let error = errors[0].to_string();
    assert!(
        error.contains("aks-records.json:1: not an audit event: records[1]: AKS record of category \"kube-apiserver\" is not an audit log (expected kube-audit or kube-audit-admin)"),
        "{error}"
    );
}

#[test]
fn pretty_printed_documents_are_read_with_their_lines() {
    let (events, errors, _) = read(
        &[data("create_nginx_pod_privileged.pretty.json")],
        &ReadOptions::default(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(events.len(), 1);
    let single: Value = serde_json::from_str(
        &std::fs::read_to_string(data("create_nginx_pod_privileged.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(events[0].json(), &single);

    let (events, errors, _) = read(&[data("gke-entries.pretty.json")], &ReadOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(events.len(), 2);

    // jq writes one pretty value after another: each keeps the line it starts on.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jq.json");
    let one = serde_json::to_string_pretty(&single).unwrap();
    let text = format!(
        "\n{one}\n{one}\n{{\n  \"kind\": \"Event\",\n  \"verb\": 7\n}}\n{{\n  \"verb\": \"get\",\n"
    );
    std::fs::write(&path, text).unwrap();
    let (events, errors, _) = read(&[path], &ReadOptions::default());
    let lines: Vec<_> = events.iter().map(|e| e.origin().line).collect();
    let height = one.lines().count() as u64;
    assert_eq!(lines, [2, 2 + height]);
    let said: Vec<_> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].ends_with(&format!(
            "jq.json:{}: not an audit event: verb is a number, expected a string",
            2 + 2 * height
        )),
        "{}",
        said[0]
    );
    assert!(
        said[1].contains(&format!("jq.json:{}: truncated", 6 + 2 * height)),
        "{}",
        said[1]
    );
}

#[test]
fn gzip_is_known_by_its_content_not_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(data("create_configmap_sensitive_values.json")).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&plain).unwrap();
    let compressed = gz.finish().unwrap();
    // A rotated log named like a plain one, a plain one named like gzip, and two gzip
    // members one after the other (`cat a.gz b.gz`).
    std::fs::write(dir.path().join("audit.log.1"), &compressed).unwrap();
    std::fs::write(dir.path().join("plain.gz"), &plain).unwrap();
    std::fs::write(
        dir.path().join("twice"),
        [compressed.clone(), compressed].concat(),
    )
    .unwrap();
    for (name, count) in [("audit.log.1", 6), ("plain.gz", 6), ("twice", 12)] {
        let (events, errors, stats) = read(&[dir.path().join(name)], &ReadOptions::default());
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(events.len(), count, "{name}");
        assert_eq!(events[5].origin().line, 6);
        assert_eq!(stats.bytes, plain.len() as u64 * (count as u64 / 6));
    }
    let (events, errors, _) = read(&[dir.path().join("twice")], &ReadOptions::default());
    assert!(errors.is_empty());
    assert_eq!(
        events[11].origin().line,
        12,
        "line numbers run on across gzip members"
    );
}

#[test]
fn a_truncated_gzip_file_is_an_error_after_the_lines_it_gave() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(data("create_configmap_sensitive_values.json")).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&plain).unwrap();
    let compressed = gz.finish().unwrap();
    let path = dir.path().join("cut.gz");
    std::fs::write(&path, &compressed[..compressed.len() - 12]).unwrap();
    let (_, errors, _) = read(&[path], &ReadOptions::default());
    assert!(!errors.is_empty());
    let last = errors.last().unwrap().to_string();
    assert!(last.contains("cut.gz"), "{last}");
}

#[test]
fn directories_are_read_in_order_and_skipped_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("nested")).unwrap();
    let exec = std::fs::read(data("exec_pod.json")).unwrap();
    let attach = std::fs::read(data("attach_pod.json")).unwrap();
    std::fs::write(root.join("b-audit.log"), &attach).unwrap();
    std::fs::write(root.join("a-audit.log"), &exec).unwrap();
    std::fs::write(root.join("nested/c-audit.log"), &exec).unwrap();
    std::fs::write(root.join("README.md"), "# Audit logs\n").unwrap();
    std::fs::write(root.join("config.json"), "{\"hello\": \"world\"}\n").unwrap();
    std::fs::write(
        root.join("image.png"),
        [0x89, b'P', b'N', b'G', 0xff, 0xfe, b'\n'],
    )
    .unwrap();
    std::fs::write(root.join("empty.log"), "").unwrap();

    let (events, errors, stats) = read(&[root.to_path_buf()], &ReadOptions::default());
    let files: Vec<_> = events
        .iter()
        .map(|e| {
            Path::new(&*e.origin().source)
                .strip_prefix(root)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(files, ["a-audit.log", "b-audit.log", "nested/c-audit.log"]);
    let skipped: Vec<_> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped[0].contains("README.md: skipped, not an audit log: ")
            && skipped[0].contains("not JSON"),
        "{}",
        skipped[0]
    );
    assert!(
        skipped[1].contains("config.json: skipped, not an audit log: ")
            && skipped[1].contains("no kind, auditID or verb"),
        "{}",
        skipped[1]
    );
    assert!(
        skipped[2].contains("image.png: skipped, not an audit log: line 1 is not UTF-8 text"),
        "{}",
        skipped[2]
    );
    assert_eq!(
        (stats.files, stats.skipped_files, stats.errors, stats.events),
        (7, 3, 0, 3)
    );

    // Named on its own, a file is read in full and each line is an error.
    let (_, errors, _) = read(&[root.join("config.json")], &ReadOptions::default());
    assert!(matches!(errors[..], [ReadError::Event(_)]), "{errors:?}");
}

#[test]
fn bad_lines_are_errors_with_their_line_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let good = std::fs::read_to_string(data("exec_pod.json")).unwrap();
    let good = good.trim_end();
    let mut text = Vec::new();
    text.extend_from_slice(format!("{good}\n").as_bytes());
    text.extend_from_slice(b"{\"verb\":\"get\",\"auditID\":\"\xff\xfe\"}\n");
    text.extend_from_slice(b"{\"auditID\":\"x\",\"verb\":7}\n");
    text.extend_from_slice(b"\n   \n");
    text.extend_from_slice(b"this is not json\n");
    text.extend_from_slice(format!("{{\"auditID\":\"{}\"}}\n", "a".repeat(5000)).as_bytes());
    text.extend_from_slice(format!("{good}\r\n").as_bytes());
    text.extend_from_slice(b"{\"kind\":\"Event\",\"verb\":\"get\",\"user\":{\"username\":");
    std::fs::write(&path, text).unwrap();
    let options = ReadOptions {
        max_line_bytes: 4096,
        ..ReadOptions::default()
    };
    let (events, errors, stats) = read(&[path], &options);
    let lines: Vec<_> = events.iter().map(|e| e.origin().line).collect();
    assert_eq!(lines, [1, 8]);
    let said: Vec<_> = errors.iter().map(ToString::to_string).collect();
    let expect = [
        "audit.log:2: not UTF-8 (invalid byte at column 26)",
        "audit.log:3: not an audit event: verb is a number, expected a string",
        "audit.log:6: not JSON: expected ident at line 1 column 2",
        "audit.log:7: line longer than 4096 bytes, skipped",
        "audit.log:9: truncated: the input ends inside this line's event",
    ];
    assert_eq!(said.len(), expect.len(), "{said:#?}");
    for (said, expect) in said.iter().zip(expect) {
        assert!(said.ends_with(expect), "{said} / {expect}");
    }
    assert_eq!((stats.lines, stats.events, stats.errors), (9, 2, 5));
}

#[test]
fn a_last_line_without_a_newline_is_read() {
    let good = std::fs::read_to_string(data("exec_pod.json")).unwrap();
    let input = format!("{}\n{}", good.trim_end(), good.trim_end());
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let stats = read_stream(
        input.as_bytes(),
        "-",
        &ReadOptions::default(),
        |e| events.push(e),
        |e| errors.push(e),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].origin().to_string(), "-:2");
    assert_eq!(stats.bytes, input.len() as u64);
}

#[test]
fn missing_paths_are_errors_and_the_rest_is_read() {
    let (events, errors, _) = read(
        &[
            PathBuf::from("/nonexistent/audit.log"),
            data("exec_pod.json"),
        ],
        &ReadOptions::default(),
    );
    assert_eq!(events.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("/nonexistent/audit.log: "),
        "{}",
        errors[0]
    );
}

#[test]
fn reading_throughput() {
    // Real events, each with its own auditID: what a busy API server writes.
    let templates: Vec<String> = [
        "exec_pod.json",
        "attach_pod.json",
        "create_nginx_pod_privileged.json",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(data(f))
            .unwrap()
            .trim_end()
            .to_string()
    })
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let count = 30_000;
    let mut text = String::new();
    for i in 0..count {
        let template = &templates[i % templates.len()];
        text.push_str(&template.replacen("\"auditID\":\"", &format!("\"auditID\":\"{i:08}-"), 1));
        text.push('\n');
    }
    std::fs::write(&path, &text).unwrap();
    let start = std::time::Instant::now();
    let mut seen = 0u64;
    let stats = read_paths(
        &[&path],
        &ReadOptions::default(),
        |_| seen += 1,
        |e| panic!("{e}"),
    );
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(seen, count as u64);
    assert_eq!(stats.bytes, text.len() as u64);
    println!(
        "read {:.1} MB, {count} events in {seconds:.3} s: {:.1} MB/s, {:.0} events/s",
        text.len() as f64 / 1e6,
        text.len() as f64 / 1e6 / seconds,
        count as f64 / seconds
    );
}

#[test]
fn the_documented_gke_example_is_what_is_read() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/audit/input.md"),
    )
    .unwrap();
    let blocks: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .map(|b| &b[..b.find("\n```").unwrap()])
        .collect();
    let events = parse(blocks[0], &Origin::new("doc", 1)).unwrap();
    let expected: Value = serde_json::from_str(blocks[1]).unwrap();
    assert_eq!(events[0].json(), &expected);
}
