//! The checkpoint: how far the journal has been analysed, and how long the alert output was
//! then. Two slots, written in turn, each with a sequence number and a checksum: a write torn
//! by a crash spoils only the slot being written, and the other still holds the checkpoint
//! before it.

use super::ServeError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const SLOT: usize = 40;

/// One checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    /// Journal offset: every record before it has been analysed and its alerts written.
    pub offset: u64,
    /// Which output the alerts went to ([`output_id`]); 0 for standard output.
    pub output: u64,
    /// The output's length once those alerts were written.
    pub output_len: u64,
}

/// The checkpoint file.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    file: File,
    seq: u64,
}

impl Checkpoint {
    /// Opens (or creates) the file and reads the newest intact slot; no slot yet is offset 0.
    pub fn open(path: &Path) -> Result<(Checkpoint, Mark), ServeError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(ServeError::state(path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(ServeError::state(path))?;
        let slots = bytes.chunks(SLOT).filter_map(decode);
        let (seq, mark) = match slots.max_by_key(|(seq, _)| *seq) {
            Some(newest) => newest,
            None if bytes.iter().all(|&b| b == 0) => (0, Mark::default()),
            None => {
                return Err(ServeError::Corrupt(format!(
                    "{}: no intact checkpoint; remove the file to analyse the whole journal again (alerts already written would be repeated)",
                    path.display()
                )));
            }
        };
        let checkpoint = Checkpoint {
            path: path.to_path_buf(),
            file,
            seq,
        };
        Ok((checkpoint, mark))
    }

    /// Writes `mark` durably, into the slot not holding the current checkpoint.
    pub fn write(&mut self, mark: Mark) -> Result<(), ServeError> {
        let seq = self.seq + 1;
        let slot = (seq % 2) * SLOT as u64;
        let bytes = encode(seq, mark);
        self.file
            .seek(SeekFrom::Start(slot))
            .and_then(|_| self.file.write_all(&bytes))
            .and_then(|()| self.file.sync_data())
            .map_err(ServeError::state(&self.path))?;
        self.seq = seq;
        Ok(())
    }
}

fn encode(seq: u64, mark: Mark) -> [u8; SLOT] {
    let mut bytes = [0u8; SLOT];
    let fields = [seq, mark.offset, mark.output, mark.output_len];
    for (chunk, field) in bytes.chunks_mut(8).zip(fields) {
        chunk.copy_from_slice(&field.to_le_bytes());
    }
    let crc = crc32fast::hash(bytes.get(..32).unwrap_or_default());
    if let Some(tail) = bytes.get_mut(32..36) {
        tail.copy_from_slice(&crc.to_le_bytes());
    }
    bytes
}

fn decode(bytes: &[u8]) -> Option<(u64, Mark)> {
    let body = bytes.get(..32)?;
    let crc = u32::from_le_bytes(bytes.get(32..36)?.try_into().ok()?);
    if crc32fast::hash(body) != crc {
        return None;
    }
    let field = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(
            body.get(i * 8..i * 8 + 8)?.try_into().ok()?,
        ))
    };
    let seq = field(0)?;
    // Sequences start at 1: a slot with 0 was never written.
    (seq > 0).then_some(())?;
    Some((
        seq,
        Mark {
            offset: field(1)?,
            output: field(2)?,
            output_len: field(3)?,
        },
    ))
}

/// A stable number for an output file (FNV-1a of its absolute path): the checkpoint's
/// output length applies only to the file it was measured on.
pub fn output_id(path: &Path) -> u64 {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in absolute.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash.max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_newest_intact_slot_wins_and_a_torn_one_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        let (mut checkpoint, mark) = Checkpoint::open(&path).unwrap();
        assert_eq!(mark, Mark::default());
        let first = Mark {
            offset: 100,
            output: 7,
            output_len: 10,
        };
        let second = Mark {
            offset: 250,
            output: 7,
            output_len: 30,
        };
        checkpoint.write(first).unwrap();
        checkpoint.write(second).unwrap();
        assert_eq!(Checkpoint::open(&path).unwrap().1, second);
        // Tear the slot of the newest write: the one before it is found.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[3] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (mut reopened, mark) = Checkpoint::open(&path).unwrap();
        assert_eq!(mark, first);
        // And writing goes on in the other slot, with a newer sequence.
        reopened.write(second).unwrap();
        assert_eq!(Checkpoint::open(&path).unwrap().1, second);
    }

    #[test]
    fn a_file_of_garbage_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        std::fs::write(&path, b"not a checkpoint at all, just text").unwrap();
        let error = Checkpoint::open(&path).unwrap_err().to_string();
        assert!(error.contains("no intact checkpoint"), "{error}");
    }
}
