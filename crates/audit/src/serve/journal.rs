//! The write-ahead journal: append-only segment files of [`record`](super::record)s in
//! `STATE/journal/`, each named by the journal offset of its first byte (20 digits, `.seg`).
//!
//! One writer thread appends the batches handlers give it. It takes every batch waiting,
//! writes them all and syncs once (group commit), then answers each: a batch is acknowledged
//! only once it is on disk. A segment past its size limit is closed and a new one begun; the
//! consumer deletes segments it has finished. On start, [`recover`] checks every record and
//! truncates a torn tail (a crash during a write) with a log line.

use super::ServeError;
use super::metrics::Metrics;
use super::progress::Progress;
use super::record::{self, HEADER, Next};
use axum::body::Bytes;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use tokio::sync::oneshot;

/// Most bytes written under one sync: a bound on the writer's memory, not on throughput.
const MAX_GROUP_BYTES: usize = 64 * 1024 * 1024;

/// A request to the writer thread.
#[derive(Debug)]
pub enum Message {
    /// Append a batch; the answer is the journal's durable end after it, or why not.
    Append {
        /// The batch as posted.
        body: Bytes,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// Finish what is queued before this and stop.
    Stop,
}

/// The file of the segment that begins at `base`.
pub fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.seg"))
}

/// The segments in `dir`, by base offset.
pub fn segments(dir: &Path) -> Result<Vec<u64>, ServeError> {
    let mut bases = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(ServeError::state(dir))?;
    for entry in entries {
        let entry = entry.map_err(ServeError::state(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match name
            .strip_suffix(".seg")
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(base) => bases.push(base),
            None => {
                tracing::warn!(file = %entry.path().display(), "not a journal segment; left alone")
            }
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// What [`recover`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Where analysis resumes.
    pub start: u64,
    /// The end of the intact records: where appends continue.
    pub end: u64,
    /// The segment appends continue in.
    pub last_base: u64,
    /// Bytes cut off torn or damaged records.
    pub truncated: u64,
}

/// Opens the journal in `dir` (made if missing) with the checkpoint at `checkpoint`:
/// deletes segments wholly before it, checks every record of the others and truncates each
/// segment at its first record that is not whole and intact.
pub fn recover(dir: &Path, checkpoint: u64) -> Result<Recovery, ServeError> {
    std::fs::create_dir_all(dir).map_err(ServeError::state(dir))?;
    let mut bases = segments(dir)?;
    while let [first, second, ..] = bases[..] {
        if second > checkpoint {
            break;
        }
        let path = segment_path(dir, first);
        std::fs::remove_file(&path).map_err(ServeError::state(&path))?;
        bases.remove(0);
    }
    let mut start = checkpoint;
    if let Some(&first) = bases.first().filter(|&&first| first > checkpoint) {
        tracing::warn!(
            checkpoint,
            first,
            "the journal begins after the checkpoint (segments removed by hand?): analysis resumes at its start"
        );
        start = first;
    }
    let mut truncated = 0;
    let mut end = None;
    for (i, &base) in bases.iter().enumerate() {
        let tail = i + 1 == bases.len();
        let (len, cut) = check_segment(dir, base, tail)?;
        truncated += cut;
        end = Some((base, base + len));
    }
    let (last_base, end) = match end {
        Some((base, end)) if end >= start => (base, end),
        Some((_, end)) => {
            tracing::warn!(
                checkpoint,
                end,
                "the journal ends before the checkpoint (journal lost?): new records start at the checkpoint"
            );
            new_segment(dir, start)?;
            (start, start)
        }
        None => {
            new_segment(dir, start)?;
            (start, start)
        }
    };
    Ok(Recovery {
        start,
        end,
        last_base,
        truncated,
    })
}

/// Checks one segment's records; truncates it at the first broken one. Its intact length
/// and the bytes cut.
fn check_segment(dir: &Path, base: u64, tail: bool) -> Result<(u64, u64), ServeError> {
    let path = segment_path(dir, base);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(ServeError::state(&path))?;
    let mut reader = BufReader::with_capacity(1 << 20, &file);
    let mut body = Vec::new();
    let mut len = 0u64;
    loop {
        match record::read(&mut reader, &mut body).map_err(ServeError::state(&path))? {
            Next::Record => len += HEADER + body.len() as u64,
            Next::End => return Ok((len, 0)),
            Next::Broken(why) => {
                let size = file.metadata().map_err(ServeError::state(&path))?.len();
                file.set_len(len).map_err(ServeError::state(&path))?;
                file.sync_all().map_err(ServeError::state(&path))?;
                let cut = size - len;
                if tail {
                    tracing::warn!(segment = %path.display(), offset = base + len, bytes = cut,
                        "journal: {why} at the tail, left by a crash during a write (never acknowledged): truncated");
                } else {
                    tracing::error!(segment = %path.display(), offset = base + len, bytes = cut,
                        "journal damaged: {why} inside the journal; the rest of this segment is lost");
                }
                return Ok((len, cut));
            }
        }
    }
}

/// Creates an empty segment at `base` and makes its name durable.
fn new_segment(dir: &Path, base: u64) -> Result<File, ServeError> {
    let path = segment_path(dir, base);
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(ServeError::state(&path))?;
    sync_dir(dir).map_err(ServeError::state(dir))?;
    Ok(file)
}

/// Makes the directory's entries (a new or deleted file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Appends records to the last segment.
#[derive(Debug)]
pub struct Writer {
    dir: PathBuf,
    file: File,
    base: u64,
    len: u64,
    segment_bytes: u64,
}

impl Writer {
    /// A writer continuing the recovered journal.
    pub fn open(dir: &Path, recovery: &Recovery, segment_bytes: u64) -> Result<Writer, ServeError> {
        let path = segment_path(dir, recovery.last_base);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(ServeError::state(&path))?;
        Ok(Writer {
            dir: dir.to_path_buf(),
            file,
            base: recovery.last_base,
            len: recovery.end - recovery.last_base,
            segment_bytes: segment_bytes.max(1),
        })
    }

    /// Writes the bodies as records and syncs once; the new durable end. On failure the
    /// segment is cut back to where it was, so no half-written group stays behind.
    pub fn append(&mut self, bodies: &[&[u8]]) -> Result<u64, String> {
        if self.len >= self.segment_bytes {
            self.rotate()?;
        }
        let before = self.len;
        let mut written = 0u64;
        let result = (|| -> io::Result<()> {
            let mut out = BufWriter::with_capacity(1 << 20, &self.file);
            for body in bodies {
                out.write_all(&record::header(body)?)?;
                out.write_all(body)?;
                written += HEADER + body.len() as u64;
            }
            out.flush()?;
            drop(out);
            self.file.sync_data()
        })();
        match result {
            Ok(()) => {
                self.len += written;
                Ok(self.base + self.len)
            }
            Err(e) => {
                let path = segment_path(&self.dir, self.base);
                match self
                    .file
                    .set_len(before)
                    .and_then(|()| self.file.sync_all())
                {
                    Ok(()) => Err(format!("{}: {e}", path.display())),
                    Err(undo) => Err(format!(
                        "{}: {e}; and it could not be cut back: {undo}",
                        path.display()
                    )),
                }
            }
        }
    }

    fn rotate(&mut self) -> Result<(), String> {
        let base = self.base + self.len;
        self.file = new_segment(&self.dir, base).map_err(|e| e.to_string())?;
        self.base = base;
        self.len = 0;
        Ok(())
    }
}

/// Runs the writer until [`Message::Stop`] or until every sender is gone.
pub fn run(
    mut writer: Writer,
    inbox: Receiver<Message>,
    progress: Arc<Progress>,
    metrics: Arc<Metrics>,
) {
    let mut group: Vec<(Bytes, oneshot::Sender<Result<u64, String>>)> = Vec::new();
    let mut stop = false;
    while !stop {
        match inbox.recv() {
            Ok(Message::Append { body, reply }) => group.push((body, reply)),
            Ok(Message::Stop) | Err(_) => break,
        }
        let mut bytes = group.iter().map(|(b, _)| b.len()).sum::<usize>();
        while bytes < MAX_GROUP_BYTES {
            match inbox.try_recv() {
                Ok(Message::Append { body, reply }) => {
                    bytes += body.len();
                    group.push((body, reply));
                }
                Ok(Message::Stop) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let bodies: Vec<&[u8]> = group.iter().map(|(b, _)| b.as_ref()).collect();
        let result = if progress.failed() {
            Err("the journal failed earlier; see the log".to_string())
        } else {
            writer.append(&bodies)
        };
        match &result {
            Ok(end) => {
                progress.set_durable(*end);
                metrics.journal_sync(group.len());
            }
            Err(e) => {
                tracing::error!(error = %e, batches = group.len(), "journal write failed: batches refused");
                for body in &bodies {
                    progress.release(HEADER + body.len() as u64);
                }
                if e.contains("could not be cut back") {
                    progress.fail();
                }
            }
        }
        for (_, reply) in group.drain(..) {
            let _ = reply.send(result.clone());
        }
    }
    progress.close();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn appends_continue_after_recovery_and_rotate_into_new_segments() {
        let dir = tempfile::tempdir().unwrap();
        let recovery = recover(dir.path(), 0).unwrap();
        assert_eq!((recovery.start, recovery.end), (0, 0));
        let mut writer = Writer::open(dir.path(), &recovery, 30).unwrap();
        let end = writer.append(&[b"{\"a\":1}", b"{\"b\":22}"]).unwrap();
        assert_eq!(end, 8 + 7 + 8 + 8);
        // Past 30 bytes: the next group starts a segment named by its offset.
        let end2 = writer.append(&[b"{}"]).unwrap();
        assert_eq!(end2, end + 10);
        assert_eq!(segments(dir.path()).unwrap(), [0, end]);
        let again = recover(dir.path(), 0).unwrap();
        assert_eq!(
            (again.end, again.last_base, again.truncated),
            (end2, end, 0)
        );
        // A checkpoint past the first segment deletes it.
        let later = recover(dir.path(), end).unwrap();
        assert_eq!(segments(dir.path()).unwrap(), [end]);
        assert_eq!((later.start, later.end), (end, end2));
    }

    #[test]
    fn a_torn_tail_is_truncated_to_the_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer =
            Writer::open(dir.path(), &recover(dir.path(), 0).unwrap(), 1 << 20).unwrap();
        let end = writer.append(&[b"{\"kind\":\"EventList\"}"]).unwrap();
        drop(writer);
        let path = segment_path(dir.path(), 0);
        let mut torn = record::header(b"{\"kind\":\"EventList\",\"items\":[]}")
            .unwrap()
            .to_vec();
        torn.extend_from_slice(b"{\"kind\":\"Ev");
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&torn).unwrap();
        let recovery = recover(dir.path(), 0).unwrap();
        assert_eq!((recovery.end, recovery.truncated), (end, torn.len() as u64));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), end);
    }
}
