//! Where the journal stands, shared by the HTTP handlers, the journal writer and the
//! consumer. Positions are journal offsets: bytes since the journal began, across segments.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The journal's offsets.
#[derive(Debug)]
pub struct Progress {
    /// The end of the records on disk (fsynced), and whether the writer has stopped.
    durable: Mutex<(u64, bool)>,
    durable_changed: Condvar,
    /// The end of what handlers have taken on: durable plus being written.
    accepted: AtomicU64,
    /// Where the last checkpoint stands: everything before it has been analysed.
    processed: AtomicU64,
    /// The journal can no longer be written (a failed fsync leaves the page cache in doubt).
    failed: AtomicBool,
}

impl Progress {
    /// A journal whose records end at `end`, analysed up to `processed`.
    pub fn new(end: u64, processed: u64) -> Progress {
        Progress {
            durable: Mutex::new((end, false)),
            durable_changed: Condvar::new(),
            accepted: AtomicU64::new(end),
            processed: AtomicU64::new(processed),
            failed: AtomicBool::new(false),
        }
    }

    /// Takes on `bytes` more unless the backlog would then exceed `limit`.
    pub fn reserve(&self, bytes: u64, limit: u64) -> bool {
        let before = self.accepted.fetch_add(bytes, Ordering::AcqRel);
        let backlog = (before + bytes).saturating_sub(self.processed.load(Ordering::Acquire));
        if backlog > limit {
            self.accepted.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Gives back a reservation whose write failed.
    pub fn release(&self, bytes: u64) {
        self.accepted.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Bytes taken on but not analysed yet.
    pub fn backlog(&self) -> u64 {
        self.accepted
            .load(Ordering::Acquire)
            .saturating_sub(self.processed.load(Ordering::Acquire))
    }

    /// The writer made records durable up to `end`.
    pub fn set_durable(&self, end: u64) {
        let mut durable = lock(&self.durable);
        durable.0 = end;
        self.durable_changed.notify_all();
    }

    /// The writer has stopped: no record will follow.
    pub fn close(&self) {
        lock(&self.durable).1 = true;
        self.durable_changed.notify_all();
    }

    /// Waits (at most `timeout`) for durable records beyond `position`: the durable end and
    /// whether the writer has stopped.
    pub fn wait_beyond(&self, position: u64, timeout: Duration) -> (u64, bool) {
        let guard = lock(&self.durable);
        let (guard, _) =
            match self
                .durable_changed
                .wait_timeout_while(guard, timeout, |(end, closed)| *end <= position && !*closed)
            {
                Ok(waited) => waited,
                Err(poisoned) => poisoned.into_inner(),
            };
        *guard
    }

    /// A checkpoint now stands at `offset`.
    pub fn set_processed(&self, offset: u64) {
        self.processed.store(offset, Ordering::Release);
    }

    /// The journal failed: refuse further batches.
    pub fn fail(&self) {
        self.failed.store(true, Ordering::Release);
    }

    /// Whether the journal failed.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stop_at_the_backlog_limit_and_free_up_when_processed() {
        let progress = Progress::new(1000, 1000);
        assert!(progress.reserve(60, 100));
        assert!(
            !progress.reserve(60, 100),
            "120 bytes over a 100-byte limit"
        );
        assert!(progress.reserve(40, 100));
        assert_eq!(progress.backlog(), 100);
        progress.set_processed(1060);
        assert_eq!(progress.backlog(), 40);
        assert!(progress.reserve(60, 100));
        progress.release(60);
        assert_eq!(progress.backlog(), 40);
    }

    #[test]
    fn a_waiter_wakes_on_new_records_and_on_close() {
        let progress = std::sync::Arc::new(Progress::new(0, 0));
        let writer = std::sync::Arc::clone(&progress);
        let thread = std::thread::spawn(move || writer.set_durable(50));
        let (end, closed) = progress.wait_beyond(0, Duration::from_secs(10));
        assert_eq!((end, closed), (50, false));
        let _ = thread.join();
        progress.close();
        assert_eq!(
            progress.wait_beyond(50, Duration::from_secs(10)),
            (50, true)
        );
    }
}
