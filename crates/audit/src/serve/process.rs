//! The consumer: one thread that reads the journal in order from the checkpoint, runs the
//! detectors on every event, writes their alerts and then moves the checkpoint.
//!
//! Exactly once: for each round of records, the alerts are written and synced *before* the
//! checkpoint (journal offset plus output length) is synced. A crash before the checkpoint
//! leaves alerts for records that will be analysed again; on start the [`Sink`] cuts the
//! output back to the checkpoint's length, so those alerts are written once, by the rerun.

use super::ServeError;
use super::checkpoint::Checkpoint;
use super::journal::{segment_path, segments, sync_dir};
use super::metrics::Metrics;
use super::progress::Progress;
use super::record::{self, HEADER, Next};
use super::sink::Sink;
use crate::{Alert, Detector, Origin, event};
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Records analysed between two checkpoints, at most: a checkpoint costs two syncs, so
/// rounds are large under load and a single batch when idle.
const ROUND_BYTES: u64 = 16 * 1024 * 1024;

/// Reads the journal and runs the detectors.
pub struct Consumer {
    dir: PathBuf,
    detectors: Vec<Box<dyn Detector>>,
    sink: Sink,
    checkpoint: Checkpoint,
    progress: Arc<Progress>,
    metrics: Arc<Metrics>,
    segment: u64,
    reader: BufReader<File>,
    position: u64,
    finished: Vec<u64>,
    body: Vec<u8>,
    alerts: Vec<Alert>,
    source: Arc<str>,
}

/// What the consumer is given.
pub struct Parts {
    /// The journal directory.
    pub dir: PathBuf,
    /// Where analysis resumes.
    pub start: u64,
    /// The detectors, in the order they run.
    pub detectors: Vec<Box<dyn Detector>>,
    /// The alert output, agreeing with the checkpoint.
    pub sink: Sink,
    /// The checkpoint file.
    pub checkpoint: Checkpoint,
    /// Shared offsets.
    pub progress: Arc<Progress>,
    /// Shared metrics.
    pub metrics: Arc<Metrics>,
}

impl Consumer {
    /// A consumer at `parts.start`.
    pub fn new(parts: Parts) -> Result<Consumer, ServeError> {
        let bases = segments(&parts.dir)?;
        let segment = bases
            .iter()
            .rev()
            .find(|&&b| b <= parts.start)
            .or(bases.first())
            .copied()
            .unwrap_or(parts.start);
        let position = parts.start.max(segment);
        let reader = open_at(&parts.dir, segment, position - segment)?;
        Ok(Consumer {
            dir: parts.dir,
            detectors: parts.detectors,
            sink: parts.sink,
            checkpoint: parts.checkpoint,
            progress: parts.progress,
            metrics: parts.metrics,
            segment,
            reader,
            position,
            finished: Vec::new(),
            body: Vec::new(),
            alerts: Vec::new(),
            source: Arc::from("webhook"),
        })
    }

    /// Analyses records as they become durable, until the writer has stopped and every
    /// record is analysed; then flushes the detectors' windows.
    pub fn run(mut self) -> Result<(), ServeError> {
        // A first checkpoint names the output and its length now: a crash before the next
        // one then cuts back exactly what this run wrote.
        self.commit()?;
        loop {
            let (durable, closed) = self
                .progress
                .wait_beyond(self.position, Duration::from_millis(250));
            if self.position < durable {
                self.analyse_until(durable)?;
                self.commit()?;
            } else if closed {
                break;
            }
        }
        for detector in &mut self.detectors {
            detector.finish(&mut self.alerts);
        }
        self.write_alerts()?;
        self.commit()
    }

    /// Analyses records from the position up to `durable` (or a round's worth).
    fn analyse_until(&mut self, durable: u64) -> Result<(), ServeError> {
        let round_end = self.position.saturating_add(ROUND_BYTES);
        while self.position < durable && self.position < round_end {
            let path = segment_path(&self.dir, self.segment);
            match record::read(&mut self.reader, &mut self.body)
                .map_err(ServeError::state(&path))?
            {
                Next::Record => {
                    let offset = self.position;
                    self.position += HEADER + self.body.len() as u64;
                    self.analyse(offset)?;
                }
                Next::End => self.next_segment(durable)?,
                Next::Broken(why) => {
                    // Only damage after start can do this (start-up checks every record).
                    tracing::error!(segment = %path.display(), offset = self.position,
                        "journal damaged: {why}; skipping the rest of the segment");
                    self.next_segment(durable)?;
                }
            }
        }
        Ok(())
    }

    /// Moves to the segment after the current one; with none, skips to `durable`.
    fn next_segment(&mut self, durable: u64) -> Result<(), ServeError> {
        let next = segments(&self.dir)?.into_iter().find(|&b| b > self.segment);
        match next {
            Some(base) => {
                self.reader = open_at(&self.dir, base, 0)?;
                self.finished.push(self.segment);
                self.segment = base;
                self.position = base;
            }
            None => {
                let path = segment_path(&self.dir, self.segment);
                tracing::error!(segment = %path.display(), from = self.position, to = durable,
                    "journal records missing from the segment; skipped");
                self.reader = open_at(&self.dir, self.segment, durable - self.segment)?;
                self.position = durable;
            }
        }
        Ok(())
    }

    /// Runs the detectors on the events of the record read at `offset`.
    fn analyse(&mut self, offset: u64) -> Result<(), ServeError> {
        let origin = Origin::new(Arc::clone(&self.source), offset);
        match event::parse_with_warnings(&self.body, &origin) {
            Ok((events, warnings)) => {
                for warning in warnings {
                    tracing::warn!("{warning}");
                }
                for event in &events {
                    for detector in &mut self.detectors {
                        detector.observe(event, &mut self.alerts);
                    }
                }
                self.metrics.processed(events.len() as u64);
            }
            Err(e) => {
                // The handler checked the batch's shape; an event inside it may still be
                // malformed. The batch was acknowledged, so say loudly that it is not analysed.
                tracing::error!(error = %e, "batch acknowledged but not analysed");
                self.metrics.invalid_batch();
            }
        }
        self.write_alerts()
    }

    fn write_alerts(&mut self) -> Result<(), ServeError> {
        for alert in self.alerts.drain(..) {
            self.metrics.alert(alert.engine.as_str());
            self.sink.write(&alert)?;
        }
        Ok(())
    }

    /// Alerts synced, then the checkpoint; then finished segments can go.
    fn commit(&mut self) -> Result<(), ServeError> {
        let mark = self.sink.sync(self.position)?;
        self.checkpoint.write(mark)?;
        self.progress.set_processed(self.position);
        if !self.finished.is_empty() {
            for base in self.finished.drain(..) {
                let path = segment_path(&self.dir, base);
                std::fs::remove_file(&path).map_err(ServeError::state(&path))?;
            }
            sync_dir(&self.dir).map_err(ServeError::state(&self.dir))?;
        }
        Ok(())
    }
}

fn open_at(dir: &Path, base: u64, at: u64) -> Result<BufReader<File>, ServeError> {
    let path = segment_path(dir, base);
    let mut file = File::open(&path).map_err(ServeError::state(&path))?;
    file.seek(SeekFrom::Start(at))
        .map_err(ServeError::state(&path))?;
    Ok(BufReader::with_capacity(1 << 20, file))
}
