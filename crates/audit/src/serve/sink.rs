//! Where alerts go: JSON lines on standard output or appended to a file. The file's length is
//! part of each checkpoint; on start, alerts written after the last checkpoint (whose records
//! will be analysed again) are cut off, so that each alert is in the file once.

use super::ServeError;
use super::checkpoint::{Mark, output_id};
use crate::Alert;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The alert output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standard output: a pipe or a terminal, which cannot be cut back, so alerts of records
    /// analysed after the last checkpoint may be written again after a crash.
    Stdout,
    /// A file, appended to: exactly once across crashes.
    File(PathBuf),
}

/// Writes alerts and tells the checkpoint how far it got.
#[derive(Debug)]
pub struct Sink {
    out: Writer,
    id: u64,
    len: u64,
    line: Vec<u8>,
}

#[derive(Debug)]
enum Writer {
    Stdout(BufWriter<std::io::Stdout>),
    File(PathBuf, BufWriter<File>),
}

impl Sink {
    /// Opens the output and makes it agree with the checkpoint `mark`.
    pub fn open(output: &Output, mark: &Mark) -> Result<Sink, ServeError> {
        let path = match output {
            Output::Stdout => {
                return Ok(Sink {
                    out: Writer::Stdout(BufWriter::with_capacity(1 << 16, std::io::stdout())),
                    id: 0,
                    len: 0,
                    line: Vec::new(),
                });
            }
            Output::File(path) => path,
        };
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(ServeError::state(path))?;
        let id = output_id(path);
        let mut len = file.metadata().map_err(ServeError::state(path))?.len();
        if mark.output == id && len > mark.output_len {
            tracing::info!(
                output = %path.display(),
                bytes = len - mark.output_len,
                "removing alerts written after the last checkpoint: their records are analysed again"
            );
            file.set_len(mark.output_len)
                .and_then(|()| file.sync_all())
                .map_err(ServeError::state(path))?;
            len = mark.output_len;
        } else if mark.output == id && len < mark.output_len {
            tracing::warn!(
                output = %path.display(),
                "the output is shorter than at the last checkpoint (rotated or replaced?): appending to it as it is"
            );
        }
        Ok(Sink {
            out: Writer::File(path.clone(), BufWriter::with_capacity(1 << 20, file)),
            id,
            len,
            line: Vec::new(),
        })
    }

    /// Writes one alert as a JSON line (buffered).
    pub fn write(&mut self, alert: &Alert) -> Result<(), ServeError> {
        self.line.clear();
        // An alert is plain data; serialising it cannot fail short of a bug.
        if let Err(e) = serde_json::to_writer(&mut self.line, alert) {
            tracing::error!(error = %e, rule = %alert.rule, "alert not serialisable; dropped");
            return Ok(());
        }
        self.line.push(b'\n');
        let result = match &mut self.out {
            Writer::Stdout(out) => out.write_all(&self.line),
            Writer::File(_, out) => out.write_all(&self.line),
        };
        result.map_err(ServeError::state(self.path()))?;
        self.len += self.line.len() as u64;
        Ok(())
    }

    /// Makes everything written so far durable (a file) or delivered (stdout); the
    /// checkpoint mark for `offset`.
    pub fn sync(&mut self, offset: u64) -> Result<Mark, ServeError> {
        let result = match &mut self.out {
            Writer::Stdout(out) => out.flush(),
            Writer::File(_, out) => out.flush().and_then(|()| out.get_ref().sync_data()),
        };
        result.map_err(ServeError::state(self.path()))?;
        Ok(Mark {
            offset,
            output: self.id,
            output_len: self.len,
        })
    }

    fn path(&self) -> &Path {
        match &self.out {
            Writer::Stdout(_) => Path::new("-"),
            Writer::File(path, _) => path,
        }
    }
}
