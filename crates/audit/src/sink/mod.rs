//! Where alerts go: JSON lines to stdout or a file, or an HTTP(S) webhook.
//!
//! Every sink takes alerts one at a time, in stream order, and is closed once at the end;
//! closing delivers what is still queued and says what became of every alert.

mod json;
mod webhook;

pub use json::JsonLines;
pub use webhook::{Webhook, WebhookOptions, WhenFull};

use crate::Alert;

/// A destination for alerts.
pub trait Sink: Send {
    /// Delivers one alert, or queues it for delivery.
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError>;

    /// Delivers what is queued and stops; what became of the alerts. Later sends fail.
    fn close(&mut self) -> Result<SinkStats, SinkError>;
}

/// What became of the alerts given to a sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Delivered (written, or accepted by the webhook with a 2xx).
    pub sent: u64,
    /// Dropped because the queue was full ([`WhenFull::Drop`]).
    pub dropped: u64,
    /// Given up on: retries exhausted, or refused with a status that retrying cannot fix.
    pub failed: u64,
    /// Requests repeated after a connection error, a timeout, 429 or 5xx.
    pub retries: u64,
}

/// A sink that cannot be set up, or cannot take more alerts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Writing failed (the file, stdout).
    #[error("{target}: {message}")]
    Io {
        /// The file, or `stdout`.
        target: String,
        /// What the system said.
        message: String,
    },
    /// The sink's settings are wrong (URL, CA file).
    #[error("{0}")]
    Config(String),
    /// The sink was closed, or its delivery thread stopped.
    #[error("{0}: closed")]
    Closed(String),
}
