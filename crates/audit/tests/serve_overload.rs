//! Overload: a consumer slower than the clients. Beyond the backlog limit batches are refused
//! with 429 (beyond the in-flight limit with 503), always with `Retry-After`; the backlog never
//! passes its limit, every acknowledged event is analysed once, and memory stays bounded.
//! (Alone in its binary, so that the peak RSS measured is this test's.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

mod serve_support;

use palisade_audit::serve::Echo;
use palisade_audit::{Alert, Detector, Engine, Event};
use serve_support::{Running, Setup, batch, ids, metric, wait_until};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Echoes each event after a pause: a detector slower than the clients.
struct Slow;

impl Detector for Slow {
    fn engine(&self) -> Engine {
        Engine::Palisade
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        std::thread::sleep(Duration::from_micros(200));
        Echo.observe(event, alerts);
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn overload_is_refused_with_retry_after_and_memory_stays_bounded() {
    const BACKLOG: u64 = 2 * 1024 * 1024;
    const THREADS: usize = 8;
    const BATCHES: usize = 40;
    let setup = Setup::new();
    let mut options = setup.options();
    options.max_backlog_bytes = BACKLOG;
    options.max_in_flight = 4;
    options.max_batch_bytes = 1024 * 1024;
    let server = Running::start(options, vec![Box::new(Slow)]);
    let address = server.address;
    let statuses = Arc::new(Mutex::new(HashMap::<u16, usize>::new()));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let running = Arc::new(AtomicBool::new(true));
    let max_backlog = Arc::new(Mutex::new(0.0f64));
    let watcher = {
        let (client, running, max_backlog) = (
            setup.client(address, false),
            Arc::clone(&running),
            Arc::clone(&max_backlog),
        );
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                if let Ok(answer) = client.get("/metrics") {
                    let backlog = metric(&answer.body, "palisade_audit_backlog_bytes");
                    let mut max = max_backlog.lock().unwrap();
                    *max = max.max(backlog);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut offered = 0usize;
    let mut clients = Vec::new();
    for t in 0..THREADS {
        let client = setup.client(address, false);
        let (statuses, acknowledged) = (Arc::clone(&statuses), Arc::clone(&acknowledged));
        let batches: Vec<Vec<String>> = (0..BATCHES)
            .map(|b| ids(&format!("t{t}-b{b}"), 400))
            .collect();
        offered += batches.iter().map(|b| batch(b).len()).sum::<usize>();
        clients.push(std::thread::spawn(move || {
            for ids in batches {
                let code = match client.post(&batch(&ids)) {
                    Ok(answer) => {
                        if matches!(answer.status, 429 | 503) {
                            assert!(
                                answer.head.to_ascii_lowercase().contains("retry-after: 1"),
                                "{answer:?}"
                            );
                        }
                        if answer.status == 200 {
                            acknowledged.lock().unwrap().extend(ids);
                        }
                        answer.status
                    }
                    // Refused before the body was read, the connection may close first.
                    Err(_) => 0,
                };
                *statuses.lock().unwrap().entry(code).or_default() += 1;
            }
        }));
    }
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let client = setup.client(address, false);
    wait_until("every acknowledged event is analysed", || {
        let metrics = client.get("/metrics").unwrap().body;
        metric(&metrics, "palisade_audit_events_processed_total") as usize == acknowledged.len()
    });
    running.store(false, Ordering::Relaxed);
    watcher.join().unwrap();
    server.stop().unwrap();
    let statuses = statuses.lock().unwrap().clone();
    let peak = peak_rss_kib();
    let max_backlog = *max_backlog.lock().unwrap();
    eprintln!(
        "offered {} MiB in {} batches; answers {statuses:?}; acknowledged {} events; peak backlog {max_backlog} bytes; peak RSS {} MiB",
        offered / (1024 * 1024),
        THREADS * BATCHES,
        acknowledged.len(),
        peak / 1024
    );
    assert!(statuses.get(&429).copied().unwrap_or(0) > 0, "{statuses:?}");
    assert!(statuses.get(&200).copied().unwrap_or(0) > 0, "{statuses:?}");
    assert!(max_backlog <= BACKLOG as f64, "backlog {max_backlog}");
    // Every acknowledged event once; nothing refused was analysed.
    let mut echoed = setup.echoed();
    let mut expected = acknowledged.clone();
    echoed.sort();
    expected.sort();
    assert_eq!(echoed.len(), expected.len());
    assert!(
        echoed == expected,
        "the echoed events differ from the acknowledged ones"
    );
    // Offered load is far above the bound; memory is not.
    assert!(offered > 64 * 1024 * 1024, "offered {offered}");
    assert!(peak < 96 * 1024, "peak RSS {} MiB", peak / 1024);
}
