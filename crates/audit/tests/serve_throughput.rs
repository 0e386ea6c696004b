//! The consumer's rate: a journal filled while analysis is held back, then drained by one
//! thread (read, checksum, parse, one detector, checkpoint). Prints events per second; the
//! floor asserted is loose enough for a debug build on a busy machine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

mod serve_support;

use palisade_audit::{Alert, Detector, Engine, Event};
use serve_support::{Running, Setup, batch, ids, metric, wait_until};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts events; holds the first one until the gate opens.
struct Gated {
    open: Arc<AtomicBool>,
    seen: Arc<AtomicU64>,
    started: Arc<Mutex<Option<Instant>>>,
}

impl Detector for Gated {
    fn engine(&self) -> Engine {
        Engine::Palisade
    }

    fn observe(&mut self, event: &Event, _alerts: &mut Vec<Alert>) {
        while !self.open.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut started = self.started.lock().unwrap();
        started.get_or_insert_with(Instant::now);
        drop(started);
        if event.verb().is_some() {
            self.seen.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn one_thread_drains_the_journal() {
    const BATCHES: usize = 100;
    const EVENTS: usize = 400;
    let setup = Setup::new();
    let (open, seen) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let started = Arc::new(Mutex::new(None));
    let detector = Gated {
        open: Arc::clone(&open),
        seen: Arc::clone(&seen),
        started: Arc::clone(&started),
    };
    let server = Running::start(setup.options(), vec![Box::new(detector)]);
    let client = setup.client(server.address, false);
    for b in 0..BATCHES {
        let answer = client.post(&batch(&ids(&format!("b{b}"), EVENTS))).unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    let metrics = client.get("/metrics").unwrap().body;
    let syncs = metric(&metrics, "palisade_audit_journal_syncs_total");
    open.store(true, Ordering::Relaxed);
    let total = (BATCHES * EVENTS) as u64;
    wait_until("the journal is drained", || {
        seen.load(Ordering::Relaxed) == total
    });
    let elapsed = started.lock().unwrap().unwrap().elapsed();
    let rate = total as f64 / elapsed.as_secs_f64();
    eprintln!(
        "{total} events ({BATCHES} batches of {EVENTS}, {syncs} journal syncs) analysed in {:.3} s: {rate:.0} events/s on one thread",
        elapsed.as_secs_f64()
    );
    server.stop().unwrap();
    assert!(rate > 5_000.0, "{rate:.0} events/s");
}
