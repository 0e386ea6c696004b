//! Evaluation on real and labelled data: false positives on the benign corpus, detection of
//! injected attack-like behaviour, and what fires on Panther's labelled events.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

mod baseline_support;
#[path = "baseline_support/hkerma.rs"]
mod hkerma;

use palisade_audit::Origin;
use palisade_audit::baseline::{BaselineConfig, Baselines};
use palisade_audit::{Alert, Detector, Event};
use serde_json::Value;
use std::collections::BTreeMap;

const BENIGN: &str = include_str!("data/corpus/hkerma_audit-logs.csv");

/// The benign corpus spans four minutes, so the evaluation scales time down: a one-minute
/// learning period, 10-second rate buckets and 30-second alert windows stand for the
/// defaults' 14 days, hours and hours.
fn scaled() -> BaselineConfig {
    BaselineConfig {
        learning_secs: 60,
        min_events: 10,
        window_secs: 30,
        rate_bucket_secs: 10,
        spike_min_buckets: 5,
        spike_min_count: 50,
        ..BaselineConfig::default()
    }
}

/// The benign events sorted by time (the export is not in order).
fn benign() -> Vec<Event> {
    let (mut events, errors) = hkerma::events(BENIGN, "hkerma_audit-logs.csv");
    assert_eq!(events.len(), 16_563);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 16_564);
    events.sort_by(|a, b| a.time().cmp(&b.time()));
    events
}

fn run(b: &mut Baselines, events: &[Event]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for e in events {
        b.observe(e, &mut alerts);
    }
    b.finish(&mut alerts);
    alerts
}

fn by_rule(alerts: &[Alert]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        *m.entry(a.rule.as_str()).or_default() += 1;
    }
    m
}

#[test]
fn benign_false_positives() {
    let events = benign();
    let split = events.len() * 6 / 10;
    let (train, test) = events.split_at(split);
    let mut b = Baselines::new(scaled());
    for e in train {
        b.learn_only(e);
    }
    let alerts = run(&mut b, test);
    let per_1000 = alerts.len() as f64 * 1000.0 / test.len() as f64;
    println!(
        "benign: learned {} events ({} .. {}), judged {} ({} .. {}); {} alerts = {per_1000:.2} per 1,000 events; by rule {:?}",
        train.len(),
        train[0].time().unwrap(),
        train[split - 1].time().unwrap(),
        test.len(),
        test[0].time().unwrap(),
        test[test.len() - 1].time().unwrap(),
        alerts.len(),
        by_rule(&alerts)
    );
    for a in &alerts {
        println!("  {} {:.2} {}", a.rule, a.score.unwrap(), a.message);
    }
    // Measured: 10 alerts in 6,626 events (1.51 per 1,000).
    assert!(per_1000 <= 2.0, "{per_1000}");
    assert!(alerts.iter().all(|a| a.score.unwrap() >= 0.6));
}

/// One injected behaviour: its events, and the rules that count as catching it.
struct Injected {
    name: &'static str,
    user: String,
    rules: &'static [&'static str],
    events: Vec<Event>,
}

fn at(base: &str, plus_ms: i64) -> String {
    // base is 2023-01-27T18:MM:SS; plus_ms is added within the minute's range used here.
    let (head, sec) = base.rsplit_once(':').unwrap();
    let (hh_mm, s) = (head, sec.parse::<i64>().unwrap() * 1000 + plus_ms);
    let (min_head, min) = hh_mm.rsplit_once(':').unwrap();
    let total = min.parse::<i64>().unwrap() * 60_000 + s;
    format!(
        "{min_head}:{:02}:{:02}.{:03}000Z",
        total / 60_000,
        total % 60_000 / 1000,
        total % 1000
    )
}

fn attack_event(time: &str, user: &str, verb: &str, resource: &str, ns: &str) -> Event {
    let (ip, agent) = hkerma::synthetic_client(user);
    baseline_support::event(time, user, verb, resource, ns, &ip, &agent)
}

/// The attack-like behaviours, on identities that the first part of the stream taught.
fn injections(b: &Baselines, established: &[String]) -> Vec<Injected> {
    let sa = |ns: &str, name: &str| format!("system:serviceaccount:{ns}:{name}");
    let mut out = Vec::new();
    let coredns = sa("kube-system", "coredns");
    out.push(Injected {
        name: "service account lists secrets in every established namespace",
        rules: &["baseline/new-verb-resource"],
        events: established
            .iter()
            .take(12)
            .enumerate()
            .map(|(i, ns)| {
                attack_event(
                    &at("2023-01-27T18:30:30", i as i64 * 50),
                    &coredns,
                    "list",
                    "secrets",
                    ns,
                )
            })
            .collect(),
        user: coredns,
    });
    let proxy = sa("kube-system", "kube-proxy");
    out.push(Injected {
        name: "service account execs into pods",
        rules: &["baseline/new-verb-resource"],
        events: (0..3)
            .map(|i| {
                attack_event(
                    &at("2023-01-27T18:30:40", i * 300),
                    &proxy,
                    "create",
                    "pods/exec",
                    "kube-system",
                )
            })
            .collect(),
        user: proxy,
    });
    let endpoint = sa("kube-system", "endpoint-controller");
    out.push(Injected {
        name: "controller creates a cluster role binding",
        rules: &["baseline/new-verb-resource"],
        events: vec![attack_event(
            &at("2023-01-27T18:30:50", 0),
            &endpoint,
            "create",
            "clusterrolebindings",
            "",
        )],
        user: endpoint,
    });
    let nsc = sa("kube-system", "namespace-controller");
    out.push(Injected {
        name: "controller requests a service account token",
        rules: &["baseline/new-verb-resource"],
        events: vec![attack_event(
            &at("2023-01-27T18:30:55", 0),
            &nsc,
            "create",
            "serviceaccounts/token",
            "kube-system",
        )],
        user: nsc,
    });
    // A reader of secrets in one namespace that reads them in many.
    let reader = b
        .identities()
        .filter(|id| id.starts_with("system:serviceaccount:"))
        .filter_map(|id| b.profile(id))
        .filter(|p| !p.learning)
        .find(|p| {
            p.operations
                .iter()
                .any(|o| o.operation == "get secrets" && o.namespaces.len() == 1)
        })
        .expect("an established service account that reads secrets in one namespace");
    let known = &reader
        .operations
        .iter()
        .find(|o| o.operation == "get secrets")
        .unwrap()
        .namespaces[0]
        .value;
    out.push(Injected {
        name: "secret reader reaches into 8 other namespaces",
        rules: &["baseline/new-namespace"],
        events: established
            .iter()
            .filter(|ns| *ns != known)
            .take(8)
            .enumerate()
            .map(|(i, ns)| {
                attack_event(
                    &at("2023-01-27T18:31:05", i as i64 * 100),
                    &reader.identity,
                    "get",
                    "secrets",
                    ns,
                )
            })
            .collect(),
        user: reader.identity.clone(),
    });
    // The gatekeeper's usual request, from a public address with a scripting client.
    let gk = sa("gatekeeper-system", "gatekeeper-admin");
    let usual = b.profile(&gk).unwrap().operations[0].operation.clone();
    let (verb, resource) = usual.split_once(' ').unwrap();
    let stolen = |i: i64| {
        baseline_support::event(
            &at("2023-01-27T18:31:10", i * 200),
            &gk,
            verb,
            resource,
            "",
            "203.0.113.50",
            "python-requests/2.31.0",
        )
    };
    out.push(Injected {
        name: "stolen token used from a public address",
        rules: &["baseline/new-source"],
        events: (0..3).map(stolen).collect(),
        user: gk.clone(),
    });
    out.push(Injected {
        name: "stolen token used with a new client",
        rules: &["baseline/new-user-agent"],
        events: Vec::new(), // the same events as above
        user: gk,
    });
    let rq = sa("kube-system", "resourcequota-controller");
    let usual = b.profile(&rq).unwrap().operations[0].operation.clone();
    let (verb, resource) = usual.split_once(' ').unwrap();
    out.push(Injected {
        name: "controller floods the API",
        rules: &["baseline/rate-spike"],
        events: (0..600)
            .map(|i| attack_event(&at("2023-01-27T18:31:20", i * 15), &rq, verb, resource, ""))
            .collect(),
        user: rq,
    });
    let backdoor = sa("default", "backdoor");
    out.push(Injected {
        name: "new service account dumps secrets and execs",
        rules: &["baseline/new-identity"],
        events: vec![
            attack_event(
                &at("2023-01-27T18:31:40", 0),
                &backdoor,
                "list",
                "secrets",
                "",
            ),
            attack_event(
                &at("2023-01-27T18:31:40", 500),
                &backdoor,
                "create",
                "pods/exec",
                "kube-system",
            ),
        ],
        user: backdoor,
    });
    out
}

#[test]
fn detection_of_injected_behaviour() {
    let events = benign();
    let split = events.len() * 6 / 10;
    let (train, test) = events.split_at(split);
    let mut b = Baselines::new(scaled());
    for e in train {
        b.learn_only(e);
    }
    let mut established: Vec<String> = train
        .iter()
        .filter_map(|e| e.namespace())
        .map(str::to_string)
        .collect();
    established.sort();
    established.dedup();
    let injected = injections(&b, &established);
    let mut stream: Vec<Event> = test.to_vec();
    stream.extend(injected.iter().flat_map(|i| i.events.iter().cloned()));
    stream.sort_by(|a, b| a.time().cmp(&b.time()));
    let alerts = run(&mut b, &stream);

    let mut caught = 0;
    for inj in &injected {
        let hit = alerts.iter().find(|a| {
            a.identity.user.as_deref() == Some(&inj.user) && inj.rules.contains(&a.rule.as_str())
        });
        match hit {
            Some(a) => {
                caught += 1;
                println!(
                    "caught   {}: {} {:.2} {}",
                    inj.name,
                    a.rule,
                    a.score.unwrap(),
                    a.message
                );
            }
            None => println!("MISSED   {}", inj.name),
        }
    }
    let attacker = |a: &Alert| {
        injected
            .iter()
            .any(|i| a.identity.user.as_deref() == Some(&i.user))
    };
    let others = alerts.iter().filter(|a| !attacker(a)).count();
    let extra = alerts.iter().filter(|a| attacker(a)).count();
    println!(
        "detection: {caught} of {} injected behaviours alerted; {} alerts on the injected identities in all, {others} on other identities",
        injected.len(),
        extra
    );
    assert_eq!(caught, injected.len());
    // The injections must not make benign identities noisier than the benign run (10).
    assert!(others <= 10, "{others}");
}

const PANTHER: &str = include_str!("data/corpus/panther-labelled-events.jsonl");

#[test]
fn panther_labelled_events_after_benign_learning() {
    let mut learned = Baselines::new(scaled());
    for e in &benign() {
        learned.learn_only(e);
    }
    // (expected, alerted) -> tests; and rules that fired by label.
    let mut outcome: BTreeMap<(bool, bool), usize> = BTreeMap::new();
    let mut rules: BTreeMap<(bool, String), usize> = BTreeMap::new();
    let mut unreadable = 0;
    for (i, line) in PANTHER.lines().enumerate() {
        let test: Value = serde_json::from_str(line).unwrap();
        let expected = test["expected"].as_bool().unwrap();
        let origin = Origin::new("panther-labelled-events.jsonl", i as u64 + 1);
        // The corpus carries the inner audit event of wrapped logs as k8s_event.
        let log = match &test["k8s_event"] {
            Value::Null => &test["log"],
            inner => inner,
        };
        let Ok(events) = palisade_audit::event::parse(log.to_string(), &origin) else {
            unreadable += 1;
            continue;
        };
        // Each test alone against the benign profiles, so alerts belong to it.
        let mut b = learned.clone();
        let alerts = run(&mut b, &events);
        *outcome.entry((expected, !alerts.is_empty())).or_default() += 1;
        for a in &alerts {
            *rules.entry((expected, a.rule.clone())).or_default() += 1;
        }
    }
    let get = |k| outcome.get(&k).copied().unwrap_or(0);
    let (tp, fn_, fp, tn) = (
        get((true, true)),
        get((true, false)),
        get((false, true)),
        get((false, false)),
    );
    println!(
        "panther: {} tests read as events ({unreadable} not audit events); positives {tp} alerted / {fn_} silent; negatives {fp} alerted / {tn} silent",
        tp + fn_ + fp + tn
    );
    for ((expected, rule), n) in &rules {
        println!(
            "  {} {rule}: {n}",
            if *expected { "positive" } else { "negative" }
        );
    }
    // Measured with the scaled settings: see the report; these are floors and ceilings.
    // Measured: 195 read (GKE Cloud Audit Log entries unwrapped; 7 tests are not audit
    // events), positives 56 alerted / 41 silent, negatives 49 / 49. Most alerts are
    // new-identity: the tests' identities are made up, so this measures novelty, not the
    // rules' attack semantics.
    assert_eq!(tp + fn_ + fp + tn, 195);
    assert!(tp >= 56, "{tp}");
    let rate = |hit: usize, miss: usize| hit as f64 / (hit + miss) as f64;
    assert!(
        rate(tp, fn_) > rate(fp, tn),
        "positives alert more often than negatives"
    );
}

/// Nanoseconds this thread has run on a CPU (Linux), so that other processes on a busy
/// machine do not count; wall time elsewhere.
fn cpu_nanos(wall: std::time::Instant) -> u128 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| wall.elapsed().as_nanos())
}

#[test]
fn throughput() {
    let events = benign();
    let rounds = 20;
    let wall = std::time::Instant::now();
    let started = cpu_nanos(wall);
    let mut alerts = 0;
    for _ in 0..rounds {
        let mut b = Baselines::new(scaled());
        alerts += run(&mut b, &events).len();
    }
    let secs = (cpu_nanos(wall) - started) as f64 / 1e9;
    let rate = (events.len() * rounds) as f64 / secs;
    // For scale: only reading the fields the baselines use, through the event accessors.
    let started = cpu_nanos(wall);
    let mut bytes = 0usize;
    for _ in 0..rounds {
        for e in &events {
            bytes += [
                e.stage(),
                e.time(),
                e.user_name(),
                e.verb(),
                e.resource(),
                e.subresource(),
                e.namespace(),
                e.user_agent(),
            ]
            .iter()
            .map(|s| s.map_or(0, str::len))
            .sum::<usize>()
                + e.source_ips().count();
        }
    }
    let read = (events.len() * rounds) as f64 / ((cpu_nanos(wall) - started) as f64 / 1e9);
    println!(
        "throughput: {rate:.0} events/s of CPU time on one core ({alerts} alerts); reading the fields alone: {read:.0} events/s ({bytes} bytes)"
    );
    // Measured about 500,000 events/s in release builds; the pipeline's budget for all
    // detectors together is 200,000.
    if !cfg!(debug_assertions) {
        assert!(rate > 300_000.0, "{rate}");
    }
}
