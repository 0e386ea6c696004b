//! Behaviour of the learned baselines: what alerts, what does not, and state across restarts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

mod baseline_support;

use baseline_support::{at, event};
use palisade_audit::baseline::{BaselineConfig, Baselines, Rule, StoreError};
use palisade_audit::{Alert, Detector, Engine, Event};
use palisade_model::Severity;

const SA: &str = "system:serviceaccount:ci:builder";
const KUBECTL: &str = "kubectl/v1.29.1 (linux/amd64) kubernetes/abc";

fn config() -> BaselineConfig {
    BaselineConfig {
        learning_secs: 3_600,
        min_events: 5,
        window_secs: 600,
        rate_bucket_secs: 60,
        spike_min_buckets: 5,
        spike_min_count: 20,
        ..BaselineConfig::default()
    }
}

/// Two hours of the service account reading config maps in `ci`, four a minute, from one
/// address with kubectl.
fn routine() -> Vec<Event> {
    (0..120 * 4)
        .map(|i| {
            event(
                &at(i * 15),
                SA,
                "get",
                "configmaps",
                "ci",
                "10.244.1.7",
                KUBECTL,
            )
        })
        .collect()
}

/// The routine, after a controller touched the cluster's namespaces: namespaces first seen
/// within the learning period are new to the cluster, where new activity is expected.
fn learned() -> Baselines {
    let mut b = Baselines::new(config());
    let controller = "system:serviceaccount:kube-system:resourcequota-controller";
    for i in 0..15 {
        let ns = format!("team-{i}");
        b.learn_only(&event(
            &at(0),
            controller,
            "list",
            "resourcequotas",
            &ns,
            "",
            "",
        ));
    }
    b.learn_only(&event(
        &at(0),
        controller,
        "list",
        "resourcequotas",
        "prod",
        "",
        "",
    ));
    for e in routine() {
        b.learn_only(&e);
    }
    b
}

fn run(b: &mut Baselines, events: &[Event]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for e in events {
        b.observe(e, &mut alerts);
    }
    b.finish(&mut alerts);
    alerts
}

fn secrets_sweep(start: i64, namespaces: usize) -> Vec<Event> {
    (0..namespaces)
        .map(|i| {
            let ns = format!("team-{i}");
            event(
                &at(start + i as i64),
                SA,
                "list",
                "secrets",
                &ns,
                "10.244.1.7",
                KUBECTL,
            )
        })
        .collect()
}

#[test]
fn nothing_alerts_while_learning() {
    let mut b = Baselines::new(config());
    let mut events = routine();
    events.truncate(200); // 50 minutes: inside the one-hour learning period
    events.extend(secrets_sweep(3_000, 12));
    assert!(run(&mut b, &events).is_empty());
}

#[test]
fn new_operation_in_many_namespaces_is_one_alert() {
    let mut b = learned();
    let alerts = run(&mut b, &secrets_sweep(7_300, 15));
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.rule, Rule::NewVerbResource.name());
    assert_eq!(a.engine, Engine::Baseline);
    assert_eq!(a.score, Some(1.0));
    assert_eq!((a.severity, a.priority.as_str()), (Severity::High, "high"));
    assert_eq!(a.attack, ["T1552.007"]);
    assert_eq!(a.events.len(), Alert::MAX_EVENTS);
    assert_eq!(a.event_count, Some(15));
    assert_eq!(a.identity.user.as_deref(), Some(SA));
    assert_eq!(a.time.as_deref(), Some(at(7_314).as_str()));
    assert_eq!(
        a.message,
        "system:serviceaccount:ci:builder never listed secrets in 2 hours; now listed secrets 15 times in 15 namespaces (team-0, team-1, team-2 and 12 more)."
    );
}

#[test]
fn alerts_are_raised_when_their_window_ends() {
    let mut b = learned();
    let mut alerts = Vec::new();
    b.observe(&secrets_sweep(7_300, 1)[0], &mut alerts);
    assert!(alerts.is_empty(), "held for the window");
    let later = event(
        &at(7_300 + 600),
        SA,
        "get",
        "configmaps",
        "ci",
        "10.244.1.7",
        KUBECTL,
    );
    b.observe(&later, &mut alerts);
    assert_eq!(alerts.len(), 1);
    // The next window is a new alert only if the behaviour is still unusual: once is not.
    b.observe(&secrets_sweep(7_950, 1)[0], &mut alerts);
    b.finish(&mut alerts);
    assert_eq!(
        alerts.len(),
        2,
        "seen once before: still rare for a sensitive operation"
    );
    assert_eq!(alerts[1].rule, "baseline/rare-verb-resource");
    assert!(
        alerts[1]
            .message
            .contains("listed secrets only once in 2 hours"),
        "{}",
        alerts[1].message
    );
}

#[test]
fn known_operation_in_a_new_namespace() {
    let mut b = learned();
    let e = event(
        &at(7_300),
        SA,
        "get",
        "configmaps",
        "prod",
        "10.244.1.7",
        KUBECTL,
    );
    let alerts = run(&mut b, &[e]);
    // A read of config maps weighs 0.75; a new namespace 0.9 of it: 0.675.
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "baseline/new-namespace");
    assert_eq!(alerts[0].score, Some(0.675));
    assert_eq!(alerts[0].severity, Severity::Low);
}

#[test]
fn new_public_source_and_new_client() {
    let mut b = learned();
    let e = event(
        &at(7_300),
        SA,
        "get",
        "configmaps",
        "ci",
        "203.0.113.9",
        "python-requests/2.31.0",
    );
    let alerts = run(&mut b, &[e]);
    let rules: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(rules, ["baseline/new-source", "baseline/new-user-agent"]);
    assert_eq!(
        alerts[0].message,
        "system:serviceaccount:ci:builder came from 1 source network (10.244.1.0/24) in 2 hours; now 1 request from the public network 203.0.113.0/24 (203.0.113.9)."
    );
    // Another pod address on a private network is expected as pods move: no alert.
    let mut b = learned();
    let e = event(
        &at(7_300),
        SA,
        "get",
        "configmaps",
        "ci",
        "10.244.2.8",
        KUBECTL,
    );
    assert!(run(&mut b, &[e]).is_empty());
}

#[test]
fn rate_spike_is_one_alert_per_bucket() {
    let mut b = learned();
    let flood: Vec<Event> = (0..300)
        .map(|i| {
            event(
                &at(7_260).replace('Z', &format!(".{i:03}Z")),
                SA,
                "get",
                "configmaps",
                "ci",
                "10.244.1.7",
                KUBECTL,
            )
        })
        .collect();
    let alerts = run(&mut b, &flood);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.rule, "baseline/rate-spike");
    assert_eq!(a.event_count, Some(300));
    assert!(a.score.unwrap() > 0.9, "{a:?}");
    assert!(
        a.message.starts_with("system:serviceaccount:ci:builder made 300 requests in the minute from 2024-05-01T02:01:00Z; its usual active minute has 4 ± 0"),
        "{}",
        a.message
    );
}

#[test]
fn new_identities_alert_only_for_sensitive_first_steps() {
    let mut b = learned();
    let quiet = event(
        &at(7_300),
        "system:serviceaccount:web:app",
        "get",
        "configmaps",
        "web",
        "",
        "",
    );
    assert!(run(&mut b, &[quiet]).is_empty());
    let own = event(
        &at(7_300),
        "system:serviceaccount:web:app2",
        "get",
        "secrets",
        "web",
        "",
        "",
    );
    assert!(
        run(&mut b, &[own]).is_empty(),
        "its own namespace's secrets"
    );
    let bold = vec![
        event(
            &at(7_400),
            "system:serviceaccount:default:x",
            "list",
            "secrets",
            "",
            "",
            "",
        ),
        event(
            &at(7_401),
            "system:serviceaccount:default:x",
            "create",
            "pods/exec",
            "prod",
            "",
            "",
        ),
    ];
    let alerts = run(&mut b, &bold);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "baseline/new-identity");
    assert_eq!(alerts[0].score, Some(0.6));
    assert_eq!(alerts[0].event_count, None);
    assert_eq!(alerts[0].events.len(), 2);
}

#[test]
fn request_received_stages_are_not_counted() {
    let mut b = Baselines::new(config());
    let mut e = event(&at(0), SA, "get", "pods", "ci", "", "")
        .json()
        .clone();
    e["stage"] = "RequestReceived".into();
    b.learn_only(&Event::new(e, palisade_audit::Origin::new("t", 1)));
    assert_eq!(b.stats().request_received, 1);
    assert!(b.profile(SA).is_none());
}

#[test]
fn untimed_events_take_the_stream_clock() {
    let mut b = learned();
    let mut e = event(&at(0), SA, "get", "configmaps", "ci", "", "")
        .json()
        .clone();
    e.as_object_mut()
        .unwrap()
        .remove("requestReceivedTimestamp");
    b.learn_only(&Event::new(e, palisade_audit::Origin::new("t", 1)));
    assert_eq!(b.stats().untimed, 1);
    assert_eq!(b.profile(SA).unwrap().last_seen, at(479 * 15));
}

#[test]
fn identities_are_capped_least_recently_seen_first() {
    let mut b = Baselines::new(BaselineConfig {
        max_identities: 10,
        ..config()
    });
    for i in 0..25 {
        b.learn_only(&event(
            &at(i),
            &format!("user-{i}"),
            "get",
            "pods",
            "",
            "",
            "",
        ));
    }
    assert!(b.identities().count() <= 10);
    assert!(b.stats().identities_evicted >= 15);
    assert!(b.profile("user-24").is_some() && b.profile("user-0").is_none());
}

#[test]
fn nodes_share_one_profile() {
    let mut b = Baselines::new(config());
    for n in 0..3 {
        b.learn_only(&event(
            &at(n),
            &format!("system:node:w{n}"),
            "get",
            "nodes",
            "",
            "",
            "",
        ));
    }
    let p = b.profile("system:node:w1").unwrap();
    assert_eq!((p.identity.as_str(), p.events), ("system:node:*", 3));
}

#[test]
fn profile_summary_shows_what_was_learned() {
    let b = learned();
    let p = b.profile(SA).unwrap();
    assert!(!p.learning);
    assert_eq!(p.events, 480);
    assert_eq!(p.operations.len(), 1);
    assert_eq!(p.operations[0].operation, "get configmaps");
    assert_eq!(p.operations[0].namespaces[0].value, "ci");
    assert_eq!(p.sources[0].value, "10.244.1.0/24");
    assert_eq!(p.user_agents[0].value, "kubectl");
    assert_eq!(p.rate.bucket_secs, 60);
    assert!((p.rate.mean - 4.0).abs() < 1e-9);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["firstSeen"], "2024-05-01T00:00:00Z");
    assert_eq!(json["operations"][0]["count"], 480);
    assert!(b.profile("nobody").is_none());
}

#[test]
fn namespaces_new_to_the_cluster_weigh_less() {
    // prod-2 was never seen: activity in a namespace that just appeared is expected (an
    // application being installed), so the new namespace scores half and stays quiet.
    let mut b = learned();
    let e = event(
        &at(7_300),
        SA,
        "get",
        "configmaps",
        "prod-2",
        "10.244.1.7",
        KUBECTL,
    );
    assert!(run(&mut b, &[e]).is_empty());
    assert_eq!(b.stats().windows_below_threshold, 1);
}

#[test]
fn restart_alerts_as_without_restart() {
    // Learn, open a window with half of the sweep, save; a new instance from the file sees
    // the other half and must raise the same alert as the uninterrupted run.
    let sweep = secrets_sweep(7_300, 12);
    let mut straight = learned();
    let expected = run(&mut straight, &sweep);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline.json");
    let mut first = learned();
    let mut alerts = Vec::new();
    for e in &sweep[..6] {
        first.observe(e, &mut alerts);
    }
    first.save(&path).unwrap();
    drop(first);
    let mut second = Baselines::load(&path).unwrap();
    assert_eq!(second.config(), &config());
    for e in &sweep[6..] {
        second.observe(e, &mut alerts);
    }
    second.finish(&mut alerts);
    assert_eq!(alerts, expected);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].event_count, Some(12));
    assert_eq!(second.profile(SA).unwrap(), straight.profile(SA).unwrap());
    // Only the file is left: the temporary one was renamed over it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["baseline.json"]);
}

#[test]
fn saving_again_replaces_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    Baselines::new(config()).save(&path).unwrap();
    learned().save(&path).unwrap();
    assert!(Baselines::load(&path).unwrap().profile(SA).is_some());
}

fn load_error(text: &str) -> StoreError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    std::fs::write(&path, text).unwrap();
    Baselines::load(&path).unwrap_err()
}

#[test]
fn corrupt_files_are_errors_with_their_place() {
    let e = load_error(
        "{\"format\": \"palisade-baseline\",\n \"version\": 1,\n \"config\": {}, \"state\": {\"identities\": 7}}",
    );
    assert!(matches!(e, StoreError::Corrupt { line: 3, .. }), "{e:?}");
    assert!(e.to_string().contains("b.json:3:"), "{e}");
    assert!(e.to_string().contains("corrupt baseline file"), "{e}");
    let e = load_error("{\"format\": \"palisade-baseline\", \"ver");
    assert!(matches!(e, StoreError::Corrupt { line: 1, .. }), "{e:?}");
    let e = load_error("");
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
}

#[test]
fn newer_versions_and_other_files_are_refused() {
    let e = load_error(r#"{"format": "palisade-baseline", "version": 2, "whatever": []}"#);
    assert!(
        matches!(
            e,
            StoreError::NewerVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("version 2 is newer than this build reads (version 1)"),
        "{e}"
    );
    let e = load_error(r#"{"apiVersion": "v1", "kind": "ConfigMap"}"#);
    assert!(matches!(e, StoreError::NotABaseline { .. }), "{e:?}");
    let e = load_error(
        r#"{"format": "palisade-baseline", "version": 1, "config": {"threshold": 7}, "state": {"identities": {}}}"#,
    );
    assert!(
        e.to_string()
            .ends_with("baseline setting threshold is 7: above 0, at most 1"),
        "{e}"
    );
}

#[test]
fn missing_paths_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = Baselines::load(dir.path().join("none.json")).unwrap_err();
    assert!(matches!(e, StoreError::Io { .. }), "{e:?}");
    let e = learned()
        .save(dir.path().join("no/such/dir/b.json"))
        .unwrap_err();
    assert!(matches!(e, StoreError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("no/such/dir/b.json"), "{e}");
}
