//! Every detection of the pack against its true-positive and true-negative events
//! (`data/pack/cases.jsonl`): one table, which also fails if a detection has no case.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::pack::{Pack, PackConfig, detections};
use palisade_audit::{Alert, Detector, Engine, Origin, event};
use serde_json::Value;
use std::collections::BTreeMap;

fn run(events: &[Value], line: u64) -> Vec<Alert> {
    let mut pack = Pack::new(PackConfig::default());
    let mut alerts = Vec::new();
    for e in events {
        let text = serde_json::to_string(e).unwrap();
        for event in event::parse(&text, &Origin::new("cases.jsonl", line)).unwrap() {
            pack.observe(&event, &mut alerts);
        }
    }
    pack.finish(&mut alerts);
    alerts
}

#[test]
fn every_detection_fires_on_its_true_positive_and_not_on_its_true_negative() {
    let text = include_str!("data/pack/cases.jsonl");
    let mut covered: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let case: Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        let expect = case["expect"].as_bool().unwrap();
        let note = case["note"].as_str().unwrap();
        let meta = detections()
            .iter()
            .find(|d| d.id == id)
            .unwrap_or_else(|| panic!("line {}: unknown id {id}", n + 1));
        let alerts = run(case["events"].as_array().unwrap(), n as u64 + 1);
        let mine: Vec<&Alert> = alerts.iter().filter(|a| a.rule == id).collect();
        if mine.is_empty() == expect {
            failures.push(format!(
                "line {} {id} ({note}): expected {}, got {:?}",
                n + 1,
                if expect { "an alert" } else { "none" },
                mine.iter().map(|a| &a.message).collect::<Vec<_>>()
            ));
            continue;
        }
        let slot = covered.entry(meta.id).or_default();
        if expect {
            slot.0 += 1;
            assert_eq!(
                mine.len(),
                1,
                "{id} ({note}) alerted more than once: {mine:#?}"
            );
            let a = mine[0];
            assert_eq!(a.engine, Engine::Palisade);
            assert_eq!(a.priority, meta.severity.as_str());
            assert_eq!(a.severity, meta.severity);
            assert_eq!(
                a.attack,
                meta.attack
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
            );
            assert!(
                !a.events.is_empty() && a.events.len() <= Alert::MAX_EVENTS,
                "{id}"
            );
            assert!(
                a.origin
                    .as_deref()
                    .is_some_and(|o| o.starts_with("cases.jsonl:")),
                "{id}"
            );
            let windowed = id.as_bytes()[6] == b'7';
            let who = a.identity.user.as_deref().unwrap_or("anonymous");
            // Stateless alerts name who did it; windowed ones name their key (source or identity).
            assert!(
                windowed || a.message.contains(who) || a.message.contains("anonymous"),
                "{id}: {}",
                a.message
            );
            if windowed {
                assert!(a.score.is_some_and(|s| s > 0.0 && s <= 1.0), "{id} score");
                assert!(
                    a.event_count.is_some_and(|c| c as usize >= a.events.len()),
                    "{id} count"
                );
            }
        } else {
            slot.1 += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<&str> = detections()
        .iter()
        .filter(|d| {
            covered
                .get(d.id)
                .is_none_or(|(tp, tn)| *tp == 0 || *tn == 0)
        })
        .map(|d| d.id)
        .collect();
    assert!(
        missing.is_empty(),
        "detections without a true positive and a true negative: {missing:?}"
    );
}

#[test]
fn a_request_seen_at_two_stages_alerts_once() {
    let started = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x1","stage":"ResponseStarted","verb":"create",
      "requestURI":"/api/v1/namespaces/a/pods/p/exec?command=id","user":{"username":"alice"},
      "objectRef":{"resource":"pods","subresource":"exec","namespace":"a","name":"p"},"responseStatus":{"code":101}}"#;
    let received = started.replace("ResponseStarted", "RequestReceived");
    let complete = started.replace("ResponseStarted", "ResponseComplete");
    let mut pack = Pack::default();
    let mut alerts = Vec::new();
    for text in [&received, started, &complete] {
        for e in event::parse(text, &Origin::new("t", 1)).unwrap() {
            pack.observe(&e, &mut alerts);
        }
    }
    assert_eq!(
        alerts.iter().filter(|a| a.rule == "PAL-A101").count(),
        1,
        "{alerts:#?}"
    );
    // A log that kept only the completion still reports it.
    let mut alerts = Vec::new();
    let mut pack = Pack::default();
    pack.observe(
        &event::parse(&complete, &Origin::new("t", 1)).unwrap()[0],
        &mut alerts,
    );
    assert_eq!(alerts.len(), 1);
}

#[test]
fn disabled_and_trusted_are_honoured() {
    let text = r#"{"kind":"Event","auditID":"y","stage":"ResponseComplete","verb":"create","user":{"username":"ci-bot"},
      "objectRef":{"resource":"daemonsets","namespace":"mon","name":"agent","apiGroup":"apps"},"responseStatus":{"code":201}}"#;
    let e = &event::parse(text, &Origin::new("t", 1)).unwrap()[0];
    let count = |config: PackConfig| {
        let mut alerts = Vec::new();
        Pack::new(config).observe(e, &mut alerts);
        alerts.len()
    };
    assert_eq!(count(PackConfig::default()), 1);
    assert_eq!(
        count(PackConfig {
            disabled: vec!["PAL-A117".into()],
            ..PackConfig::default()
        }),
        0
    );
    assert_eq!(
        count(PackConfig {
            trusted_users: vec!["ci-*".into()],
            ..PackConfig::default()
        }),
        0
    );
}

#[test]
fn window_state_is_bounded_and_flushed() {
    // 3 sources each bursting; with room for 2 keys, the oldest is closed early, not lost.
    let config = PackConfig {
        max_tracked_keys: 2,
        auth_failure_threshold: 3,
        ..PackConfig::default()
    };
    let mut pack = Pack::new(config);
    let mut alerts = Vec::new();
    let mut n = 0;
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        for _ in 0..4 {
            n += 1;
            let text = format!(
                r#"{{"kind":"Event","auditID":"z{n}","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/secrets",
                "user":{{"username":"system:anonymous"}},"sourceIPs":["{ip}"],"responseStatus":{{"code":401}},
                "requestReceivedTimestamp":"2024-05-01T10:00:{n:02}.000000Z"}}"#
            );
            pack.observe(
                &event::parse(&text, &Origin::new("t", n)).unwrap()[0],
                &mut alerts,
            );
        }
    }
    assert_eq!(
        alerts.iter().filter(|a| a.rule == "PAL-A170").count(),
        1,
        "evicted key reported"
    );
    pack.finish(&mut alerts);
    let bursts: Vec<&Alert> = alerts.iter().filter(|a| a.rule == "PAL-A170").collect();
    assert_eq!(bursts.len(), 3);
    assert!(
        bursts
            .iter()
            .all(|a| a.event_count == Some(4) && a.events.len() == 4)
    );
    assert!(
        bursts[0].message.starts_with("198.51.100.1 received 4 "),
        "{}",
        bursts[0].message
    );
}
