//! Following files as `tail -F` does: read to the end, then look again every poll interval.
//!
//! - Rename rotation (the file moved away, a new one created at the path): the old file is
//!   read to its end first, then the new one from its start.
//! - Copy-and-truncate rotation (the file shrank below what was read): read again from the
//!   start.
//! - The path missing for a while (between rename and create) is waited out.

use super::{Outcome, ReadError, Reader, Text};
use std::fs::{File, Metadata};
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Which file a handle or path is: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId(u64, u64);

impl FileId {
    pub(super) fn of(file: &File) -> Option<FileId> {
        file.metadata().ok().map(|m| FileId::from_metadata(&m))
    }

    #[cfg(unix)]
    fn from_metadata(meta: &Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId(meta.dev(), meta.ino())
    }

    // Without inodes a rename is not seen; a shrinking file still is.
    #[cfg(not(unix))]
    fn from_metadata(_: &Metadata) -> FileId {
        FileId(0, 0)
    }
}

/// A file being followed.
pub(super) struct Tail {
    path: PathBuf,
    text: Text,
    input: BufReader<File>,
    id: Option<FileId>,
    /// The last error looking at the path, said once until it changes.
    said: Option<String>,
}

impl Tail {
    pub(super) fn new(path: &Path, text: Text, input: BufReader<File>, id: Option<FileId>) -> Tail {
        Tail {
            path: path.to_path_buf(),
            text,
            input,
            id,
            said: None,
        }
    }

    /// Reads what was appended, then looks for rotation.
    fn poll(&mut self, reader: &mut Reader<'_>) {
        self.drain(reader);
        match std::fs::metadata(&self.path) {
            Ok(meta) if Some(FileId::from_metadata(&meta)) != self.id => {
                self.said = None;
                self.reopen(reader);
            }
            Ok(meta) if meta.len() < self.text.lines.consumed() => {
                self.said = None;
                // What was held of an unfinished line was copied away with the rest.
                reader.finish(&mut self.text);
                match self.input.seek(SeekFrom::Start(0)) {
                    Ok(_) => {
                        self.text.lines.reset();
                        self.drain(reader);
                    }
                    Err(e) => self.say(reader, &e),
                }
            }
            Ok(_) => self.said = None,
            // Between the rename and the new file's creation.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => self.say(reader, &e),
        }
    }

    /// The path is a new file: the old one is complete, read the new one from its start.
    fn reopen(&mut self, reader: &mut Reader<'_>) {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            // Gone again, or not readable yet: look again at the next poll.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(e) => return self.say(reader, &e),
        };
        // What was written to the old file up to the new one's creation is read first.
        self.drain(reader);
        reader.finish(&mut self.text);
        self.id = FileId::of(&file);
        self.input = BufReader::with_capacity(super::BUFFER_BYTES, file);
        self.text.lines.reset();
        reader.stats.files += 1;
        self.drain(reader);
    }

    fn drain(&mut self, reader: &mut Reader<'_>) {
        match reader.drain(&mut self.text, &mut self.input) {
            Ok(Outcome::End | Outcome::Pending | Outcome::Done) => {}
            Err(e) => self.say(reader, &e),
        }
    }

    fn say(&mut self, reader: &mut Reader<'_>, error: &io::Error) {
        let message = error.to_string();
        if self.said.as_deref() != Some(message.as_str()) {
            reader.error(ReadError::Io {
                path: self.path.display().to_string(),
                message: message.clone(),
            });
            self.said = Some(message);
        }
    }
}

/// Polls every tail until told to stop, then reads each one last time.
pub(super) fn run(reader: &mut Reader<'_>, mut tails: Vec<Tail>) {
    if tails.is_empty() {
        return;
    }
    loop {
        let stopping = reader
            .options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Acquire));
        for tail in &mut tails {
            tail.poll(reader);
        }
        if stopping {
            break;
        }
        std::thread::sleep(reader.options.poll_interval);
    }
    for tail in &mut tails {
        reader.finish(&mut tail.text);
    }
}
