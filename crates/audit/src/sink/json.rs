//! Alerts as JSON lines: one alert, one line, flushed as it is written so that a follower
//! of the output (or of `--follow` input) sees each alert at once.

use super::{Sink, SinkError, SinkStats};
use crate::Alert;
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes each alert as one line of JSON.
pub struct JsonLines {
    out: Option<BufWriter<Box<dyn Write + Send>>>,
    name: String,
    sent: u64,
}

impl std::fmt::Debug for JsonLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines")
            .field("name", &self.name)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl JsonLines {
    /// To standard output.
    pub fn stdout() -> JsonLines {
        JsonLines::new(Box::new(std::io::stdout()), "stdout")
    }

    /// Appended to a file, created if missing (with its directory).
    pub fn append(path: &Path) -> Result<JsonLines, SinkError> {
        let error = |e: std::io::Error| SinkError::Io {
            target: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(error)?;
        Ok(JsonLines::new(Box::new(file), &path.display().to_string()))
    }

    /// To any writer, named `name` in errors.
    pub fn new(out: Box<dyn Write + Send>, name: &str) -> JsonLines {
        JsonLines {
            out: Some(BufWriter::new(out)),
            name: name.to_string(),
            sent: 0,
        }
    }

    fn io(&self, e: impl std::fmt::Display) -> SinkError {
        SinkError::Io {
            target: self.name.clone(),
            message: e.to_string(),
        }
    }
}

impl Sink for JsonLines {
    fn send(&mut self, alert: &Alert) -> Result<(), SinkError> {
        let Some(out) = self.out.as_mut() else {
            return Err(SinkError::Closed(self.name.clone()));
        };
        let written = serde_json::to_writer(&mut *out, alert)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        written.map_err(|e| self.io(e))?;
        self.sent += 1;
        Ok(())
    }

    fn close(&mut self) -> Result<SinkStats, SinkError> {
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| self.io(e))?;
        }
        Ok(SinkStats {
            sent: self.sent,
            ..SinkStats::default()
        })
    }
}
