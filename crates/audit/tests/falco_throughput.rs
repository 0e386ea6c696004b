//! Throughput of the Falco engine with the upstream k8s_audit rules loaded: the Falco test
//! traces, replicated, through `observe`. Prints events per second; asserts only a floor far
//! below the target so a slow machine or a debug build does not fail it. Measure with
//! `cargo test --release -p palisade-audit --test falco_throughput -- --nocapture`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::falco::FalcoRules;
use palisade_audit::{Detector, Origin, event};
use std::path::Path;
use std::time::Instant;

/// CPU seconds this thread has used (Linux; `None` elsewhere): on a loaded machine wall time
/// measures the scheduler, CPU time measures the engine on one core.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[test]
fn events_per_second_with_upstream_rules() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/falco");
    let (mut rules, _) = FalcoRules::load(&[data.join("k8s_audit_rules.yaml")]).unwrap();
    let mut events = Vec::new();
    for entry in std::fs::read_dir(data.join("traces")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            events.extend(event::parse(line, &Origin::new("trace", 1)).unwrap());
        }
    }
    assert!(events.len() >= 40);
    let rounds = if cfg!(debug_assertions) { 200 } else { 5000 };
    // Matching alone: the conditions, every field extracted at most once per event.
    let cpu_start = thread_cpu_seconds();
    let start = Instant::now();
    let mut matched = 0;
    for _ in 0..rounds {
        for ev in &events {
            matched += rules.matching(ev).len();
        }
    }
    let match_rate = (rounds * events.len()) as f64 / start.elapsed().as_secs_f64();
    if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
        println!(
            "falco matching, per CPU second: {:.0} events/s",
            (rounds * events.len()) as f64 / (b - a).max(0.01)
        );
    }
    println!(
        "falco matching: {match_rate:.0} events/s ({:.2} µs/event, {:.2} matches/event)",
        1e6 / match_rate,
        matched as f64 / (rounds * events.len()) as f64
    );
    let mut alerts = Vec::new();
    let cpu_start = thread_cpu_seconds();
    let start = Instant::now();
    for _ in 0..rounds {
        for ev in &events {
            rules.observe(ev, &mut alerts);
        }
        alerts.clear();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = rounds * events.len();
    let rate = total as f64 / elapsed;
    if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
        println!(
            "falco with alerts, per CPU second: {:.0} events/s",
            total as f64 / (b - a).max(0.01)
        );
    }
    println!(
        "falco with alerts: {total} events, {} rules, {} fields: {rate:.0} events/s ({:.2} µs/event)",
        rules.rule_count(),
        rules.field_count(),
        1e6 / rate
    );
    assert!(rate > 1_000.0, "{rate} events/s");
}
