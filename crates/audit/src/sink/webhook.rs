//! Alerts POSTed as JSON to an HTTP(S) endpoint, from a bounded queue drained by one
//! delivery thread, so alerts arrive in order and a slow endpoint never slows reading
//! (unless asked to, with [`WhenFull::Block`]).
//!
//! Connection errors, timeouts, 429 and 5xx are retried with exponential backoff (a
//! `Retry-After` in seconds is honoured); other statuses are not, since repeating the
//! same request cannot change them.

mod http;

use super::{Sink, SinkError, SinkStats};
use crate::Alert;
use http::{Answer, Endpoint};
use hyper::body::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

/// What [`Webhook::send`] does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Wait for room: nothing is lost, and reading waits for the endpoint.
    #[default]
    Block,
    /// Drop the new alert and count it in [`SinkStats::dropped`]: reading never waits.
    Drop,
}

/// How to reach the endpoint and how hard to try.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// `http://` or `https://` URL.
    pub url: String,
    /// PEM file of CA certificates to trust for HTTPS, instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// Headers added to every request, such as `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Alerts per request: 1 posts each alert as a JSON object; more posts JSON arrays of
    /// up to this many (what is queued when a request starts).
    pub batch_size: usize,
    /// Alerts the queue holds.
    pub queue_capacity: usize,
    /// What happens when it is full.
    pub when_full: WhenFull,
    /// Tries per request, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled at each retry up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest wait between tries (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Time allowed to connect, send and get the response status.
    pub timeout: Duration,
}

impl WebhookOptions {
    /// Defaults for `url`: one alert a request, a queue of 10,000 that blocks when full,
    /// 8 tries from 500 ms up to 30 s apart, 10 s per try.
    pub fn new(url: &str) -> WebhookOptions {
        WebhookOptions {
            url: url.to_string(),
            ca_file: None,
            headers: Vec::new(),
            batch_size: 1,
            queue_capacity: 10_000,
            when_full: WhenFull::Block,
            max_attempts: 8,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
}

impl Counters {
    fn stats(&self) -> SinkStats {
        SinkStats {
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

/// The webhook sink.
#[derive(Debug)]
pub struct Webhook {
    queue: Option<SyncSender<Bytes>>,
    worker: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    when_full: WhenFull,
    url: String,
}

impl Webhook {
    /// Checks the URL and TLS settings and starts the delivery thread.
    pub fn new(options: WebhookOptions) -> Result<Webhook, SinkError> {
        let endpoint = Endpoint::new(&options)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SinkError::Config(format!("webhook runtime: {e}")))?;
        let (queue, incoming) = std::sync::mpsc::sync_channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let delivery = Delivery {
            endpoint,
            options: options.clone(),
            counters: Arc::clone(&counters),
        };
        let worker = std::thread::Builder::new()
            .name("palisade-webhook".into())
            .spawn(move || delivery.run(&runtime, &incoming))
            .map_err(|e| SinkError::Config(format!("webhook thread: {e}")))?;
        Ok(Webhook {
            queue: Some(queue),
            worker: Some(worker),
            counters,
            when_full: options.when_full,
            url: options.url,
        })
    }

    /// What became of the alerts so far.
    pub fn stats(&self) -> SinkStats {
        self.counters.stats()
    }
}

impl Sink for Webhook {
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        let Some(queue) = &self.queue else {
            return Err(SinkError::Closed(self.url.clone()));
        };
        // Serialised here, so the queue holds bytes and the alert is not cloned.
        let body = serde_json::to_vec(alert)
            .map_err(|e| SinkError::Config(format!("alert as JSON: {e}")))?;
        let sent = match self.when_full {
            WhenFull::Block => queue.send(Bytes::from(body)).is_ok(),
            WhenFull::Drop => match queue.try_send(Bytes::from(body)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            },
        };
        if sent {
            Ok(())
        } else {
            Err(SinkError::Closed(self.url.clone()))
        }
    }

    fn close(&mut self) -> Result<SinkStats, SinkError> {
        // Dropping the sender ends the delivery loop once the queue is empty.
        self.queue = None;
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            return Err(SinkError::Closed(format!(
                "{}: delivery thread failed",
                self.url
            )));
        }
        Ok(self.counters.stats())
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The delivery thread's side.
struct Delivery {
    endpoint: Endpoint,
    options: WebhookOptions,
    counters: Arc<Counters>,
}

impl Delivery {
    fn run(mut self, runtime: &tokio::runtime::Runtime, incoming: &Receiver<Bytes>) {
        let limit = self.options.batch_size.max(1);
        while let Ok(first) = incoming.recv() {
            let mut batch = vec![first];
            while batch.len() < limit {
                match incoming.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let count = batch.len() as u64;
            let body = if limit == 1 {
                batch.pop().unwrap_or_default()
            } else {
                json_array(&batch)
            };
            let counter = if runtime.block_on(self.deliver(body)) {
                &self.counters.sent
            } else {
                &self.counters.failed
            };
            counter.fetch_add(count, Ordering::Relaxed);
        }
    }

    /// Posts one body until it is taken, refused for good, or the tries run out.
    async fn deliver(&mut self, body: Bytes) -> bool {
        let mut backoff = self.options.initial_backoff;
        for attempt in 1..=self.options.max_attempts.max(1) {
            let answer =
                tokio::time::timeout(self.options.timeout, self.endpoint.post(body.clone()))
                    .await
                    .unwrap_or(Answer::Unreachable);
            let wait = match answer {
                Answer::Accepted => return true,
                Answer::Refused => return false,
                Answer::Retry(after) => after.unwrap_or(backoff),
                Answer::Unreachable => {
                    self.endpoint.disconnect();
                    backoff
                }
            };
            if attempt == self.options.max_attempts {
                break;
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait.min(self.options.max_backoff)).await;
            backoff = (backoff * 2).min(self.options.max_backoff);
        }
        false
    }
}

fn json_array(items: &[Bytes]) -> Bytes {
    let size = items.iter().map(Bytes::len).sum::<usize>() + items.len() + 1;
    let mut out = Vec::with_capacity(size);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    Bytes::from(out)
}
