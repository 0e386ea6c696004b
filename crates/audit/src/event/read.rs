//! Audit logs in: files (plain or gzip, told by their first bytes), directories, stdin; JSON
//! lines or one pretty-printed JSON document; and, with `follow`, files that keep growing
//! and get rotated.
//!
//! Bad input is reported and reading goes on: every error names the file and line, and a
//! line that cannot be read costs that line only.

mod document;
mod follow;
mod lines;

use super::{Event, EventError, Origin, parse_with_warnings};
use lines::{Line, LineReader};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Lines longer than this are skipped (up to their newline, never held in memory) with an
/// error: 16 MiB, far above any event the API server writes.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// A pretty-printed (multi-line) JSON file is read whole; larger ones are refused.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024 * 1024;

/// Read buffer per input: large enough that reading costs few system calls.
const BUFFER_BYTES: usize = 256 * 1024;

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// After reading to the end, keep reading what is appended, across rotation (`tail -F`).
    pub follow: bool,
    /// How often a followed file is looked at again.
    pub poll_interval: Duration,
    /// The longest line read; see [`MAX_LINE_BYTES`].
    pub max_line_bytes: usize,
    /// The largest pretty-printed document read; see [`MAX_DOCUMENT_BYTES`].
    pub max_document_bytes: usize,
    /// When set (to true), following stops after one last read of every file.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            follow: false,
            poll_interval: Duration::from_millis(250),
            max_line_bytes: MAX_LINE_BYTES,
            max_document_bytes: MAX_DOCUMENT_BYTES,
            stop: None,
        }
    }
}

/// Why part of the input was not read as events. Reading goes on after each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A file or directory could not be opened or read (reading of it stops).
    #[error("{path}: {message}")]
    Io {
        /// The path, or `-`.
        path: String,
        /// What the system said, and after which line.
        message: String,
    },
    /// A file in a directory whose first record is not an audit event: not read further.
    /// Files named on their own are always read in full.
    #[error("{path}: skipped, not an audit log: {reason}")]
    NotAuditLog {
        /// The file.
        path: String,
        /// What its first record was.
        reason: String,
    },
    /// A line over [`ReadOptions::max_line_bytes`], skipped.
    #[error("{origin}: line longer than {limit} bytes, skipped")]
    LineTooLong {
        /// Where.
        origin: Origin,
        /// The limit.
        limit: usize,
    },
    /// A line that is not UTF-8.
    #[error("{origin}: not UTF-8 (invalid byte at column {column})")]
    Utf8 {
        /// Where.
        origin: Origin,
        /// 1-based byte column of the first invalid byte.
        column: usize,
    },
    /// The input ended inside an event: its last line is incomplete.
    #[error("{origin}: truncated: the input ends inside this line's event")]
    Truncated {
        /// Where.
        origin: Origin,
    },
    /// A line or document that is JSON but not events, or not JSON.
    #[error(transparent)]
    Event(#[from] EventError),
}

/// What was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Files (and stdin) read.
    pub files: u64,
    /// Files in directories skipped as not audit logs.
    pub skipped_files: u64,
    /// Lines read.
    pub lines: u64,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Events delivered.
    pub events: u64,
    /// Errors reported (not counting skipped files).
    pub errors: u64,
}

/// Reads every path in order: a file, a directory (its files, recursively, sorted by path),
/// or `-` for stdin. Each event goes to `on_event`, each problem to `on_error`.
///
/// With [`ReadOptions::follow`], plain files are then followed until
/// [`ReadOptions::stop`] is set (forever without one).
pub fn read_paths<P: AsRef<Path>>(
    paths: &[P],
    options: &ReadOptions,
    mut on_event: impl FnMut(Event),
    mut on_error: impl FnMut(ReadError),
) -> ReadStats {
    let mut reader = Reader {
        options,
        on_event: &mut on_event,
        on_error: &mut on_error,
        stats: ReadStats::default(),
    };
    let mut tails = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            reader.stream(io::stdin(), "-");
        } else if path.is_dir() {
            reader.directory(path, &mut tails);
        } else {
            reader.file(path, false, &mut tails);
        }
    }
    if options.follow {
        follow::run(&mut reader, tails);
    }
    reader.stats
}

/// Reads one stream (plain or gzip) as `source`. Never follows.
pub fn read_stream(
    input: impl Read,
    source: &str,
    options: &ReadOptions,
    mut on_event: impl FnMut(Event),
    mut on_error: impl FnMut(ReadError),
) -> ReadStats {
    let mut reader = Reader {
        options,
        on_event: &mut on_event,
        on_error: &mut on_error,
        stats: ReadStats::default(),
    };
    reader.stream(input, source);
    reader.stats
}

/// One input being read as text.
struct Text {
    source: Arc<str>,
    lines: LineReader,
    /// No record read yet: the first decides between lines and a document.
    first: bool,
    /// A file found in a directory: if its first record is not an event, skip it.
    sniff: bool,
}

impl Text {
    fn new(source: Arc<str>, options: &ReadOptions, sniff: bool) -> Text {
        Text {
            source,
            lines: LineReader::new(options.max_line_bytes),
            first: true,
            sniff,
        }
    }

    fn origin(&self, line: u64) -> Origin {
        Origin::new(Arc::clone(&self.source), line)
    }
}

/// How far [`Reader::drain`] got.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The end of the input, at a line boundary.
    End,
    /// The end of the input, inside a line (kept in the line reader).
    Pending,
    /// The input is done with: a whole document was read, or it is not an audit log.
    Done,
}

/// What one line turned out to be.
enum Verdict {
    Read,
    /// The first line opens a multi-line JSON document.
    Document,
    /// A sniffed file's first record is not an event.
    NotAuditLog(String),
}

struct Reader<'a> {
    options: &'a ReadOptions,
    on_event: &'a mut dyn FnMut(Event),
    on_error: &'a mut dyn FnMut(ReadError),
    stats: ReadStats,
}

impl Reader<'_> {
    fn event(&mut self, event: Event) {
        self.stats.events += 1;
        (self.on_event)(event);
    }

    fn error(&mut self, error: impl Into<ReadError>) {
        self.stats.errors += 1;
        (self.on_error)(error.into());
    }

    fn io_error(&mut self, path: &str, line: Option<u64>, error: &io::Error) {
        let message = match line {
            Some(line) if line > 0 => format!("{error} (after line {line})"),
            _ => error.to_string(),
        };
        self.error(ReadError::Io {
            path: path.to_string(),
            message,
        });
    }

    fn directory(&mut self, dir: &Path, tails: &mut Vec<follow::Tail>) {
        let walk = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walk {
            match entry {
                Ok(entry) if entry.file_type().is_file() => self.file(entry.path(), true, tails),
                Ok(_) => {}
                Err(e) => {
                    let path = e.path().unwrap_or(dir).display().to_string();
                    let message = e
                        .io_error()
                        .map_or_else(|| e.to_string(), ToString::to_string);
                    self.error(ReadError::Io { path, message });
                }
            }
        }
    }

    fn file(&mut self, path: &Path, sniff: bool, tails: &mut Vec<follow::Tail>) {
        let source: Arc<str> = path.display().to_string().into();
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return self.io_error(&source, None, &e),
        };
        let id = follow::FileId::of(&file);
        let mut input = BufReader::with_capacity(BUFFER_BYTES, file);
        let gzip = match input.fill_buf() {
            Ok(start) => start.starts_with(&[0x1f, 0x8b]),
            Err(e) => return self.io_error(&source, None, &e),
        };
        self.stats.files += 1;
        let mut text = Text::new(source, self.options, sniff);
        if gzip {
            // Rotated logs are often gzip; several members (concatenated .gz) are one stream.
            let decoder = flate2::bufread::MultiGzDecoder::new(input);
            let mut decoded = BufReader::with_capacity(BUFFER_BYTES, decoder);
            self.read_all(&mut text, &mut decoded);
            return;
        }
        match self.drain(&mut text, &mut input) {
            Ok(Outcome::Done) => {}
            Ok(_) if self.options.follow => tails.push(follow::Tail::new(path, text, input, id)),
            Ok(_) => self.finish(&mut text),
            Err(e) => self.io_error(&text.source, Some(text.lines.line()), &e),
        }
    }

    fn stream(&mut self, input: impl Read, source: &str) {
        self.stats.files += 1;
        let mut text = Text::new(source.into(), self.options, false);
        let mut input = BufReader::with_capacity(BUFFER_BYTES, input);
        match input.fill_buf() {
            Ok([0x1f, 0x8b, ..]) => {
                let decoder = flate2::bufread::MultiGzDecoder::new(input);
                let mut decoded = BufReader::with_capacity(BUFFER_BYTES, decoder);
                self.read_all(&mut text, &mut decoded);
            }
            Ok(_) => self.read_all(&mut text, &mut input),
            Err(e) => self.io_error(source, None, &e),
        }
    }

    /// Reads an input to its end, once.
    fn read_all(&mut self, text: &mut Text, input: &mut impl BufRead) {
        match self.drain(text, input) {
            Ok(Outcome::Done) => {}
            Ok(_) => self.finish(text),
            Err(e) => self.io_error(&text.source, Some(text.lines.line()), &e),
        }
    }

    /// Reads every complete line there is.
    fn drain(&mut self, text: &mut Text, input: &mut impl BufRead) -> io::Result<Outcome> {
        let before = text.lines.consumed();
        let outcome = self.drain_lines(text, input);
        self.stats.bytes += text.lines.consumed().saturating_sub(before);
        outcome
    }

    fn drain_lines(&mut self, text: &mut Text, input: &mut impl BufRead) -> io::Result<Outcome> {
        loop {
            match text.lines.next(input)? {
                Line::Complete(number, bytes) => {
                    self.stats.lines += 1;
                    let first = text.first;
                    match self.line(&text.source, number, bytes, first, text.sniff) {
                        Verdict::Read => {}
                        Verdict::Document => {
                            let mut doc = bytes.to_vec();
                            doc.push(b'\n');
                            self.document(text, number, doc, input)?;
                            return Ok(Outcome::Done);
                        }
                        Verdict::NotAuditLog(reason) => {
                            self.not_an_audit_log(&text.source, reason);
                            return Ok(Outcome::Done);
                        }
                    }
                    if first && !bytes.trim_ascii().is_empty() {
                        text.first = false;
                    }
                }
                Line::TooLong(_) if text.first && text.sniff => {
                    let reason = format!("line 1 is over {} bytes", self.options.max_line_bytes);
                    self.not_an_audit_log(&text.source, reason);
                    return Ok(Outcome::Done);
                }
                Line::TooLong(number) => {
                    self.stats.lines += 1;
                    let origin = text.origin(number);
                    let limit = self.options.max_line_bytes;
                    self.error(ReadError::LineTooLong { origin, limit });
                }
                Line::Partial => return Ok(Outcome::Pending),
                Line::End => return Ok(Outcome::End),
            }
        }
    }

    fn not_an_audit_log(&mut self, source: &str, reason: String) {
        self.stats.skipped_files += 1;
        (self.on_error)(ReadError::NotAuditLog {
            path: source.to_string(),
            reason,
        });
    }

    /// One line's events. The first record of an input also decides what the input is.
    fn line(
        &mut self,
        source: &Arc<str>,
        number: u64,
        bytes: &[u8],
        first: bool,
        sniff: bool,
    ) -> Verdict {
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() {
            return Verdict::Read;
        }
        if let Err(e) = std::str::from_utf8(bytes) {
            if first && sniff {
                return Verdict::NotAuditLog("line 1 is not UTF-8 text".to_string());
            }
            let origin = Origin::new(Arc::clone(source), number);
            self.error(ReadError::Utf8 {
                origin,
                column: e.valid_up_to() + 1,
            });
            return Verdict::Read;
        }
        if first && document::opens(bytes) {
            return Verdict::Document;
        }
        let origin = Origin::new(Arc::clone(source), number);
        match parse_with_warnings(bytes, &origin) {
            Ok((events, warnings)) if first && sniff && events.is_empty() => {
                let reason = warnings
                    .first()
                    .map_or_else(|| "no events".to_string(), ToString::to_string);
                Verdict::NotAuditLog(reason)
            }
            Ok((events, warnings)) => {
                events.into_iter().for_each(|e| self.event(e));
                warnings.into_iter().for_each(|w| self.error(w));
                Verdict::Read
            }
            Err(e) if first && sniff => Verdict::NotAuditLog(e.to_string()),
            Err(e) => {
                self.error(e);
                Verdict::Read
            }
        }
    }

    /// The end of an input inside a line: that last line is read if it is whole JSON (a
    /// file need not end with a newline), else it is truncated.
    fn finish(&mut self, text: &mut Text) {
        let first = text.first;
        let sniff = text.sniff;
        let Some((number, bytes)) = text.lines.take_pending() else {
            return;
        };
        self.stats.lines += 1;
        if document::truncated(bytes) {
            let origin = Origin::new(Arc::clone(&text.source), number);
            self.error(ReadError::Truncated { origin });
            return;
        }
        let bytes = bytes.to_vec();
        match self.line(&text.source, number, &bytes, first, sniff) {
            Verdict::Read => {}
            Verdict::Document => {
                let mut input: &[u8] = &[];
                if let Err(e) = self.document(text, number, bytes, &mut input) {
                    self.io_error(&text.source, Some(number), &e);
                }
            }
            Verdict::NotAuditLog(reason) => self.not_an_audit_log(&text.source, reason),
        }
    }

    /// A multi-line JSON document: its first line, then the rest of the input.
    fn document(
        &mut self,
        text: &Text,
        first_line: u64,
        mut doc: Vec<u8>,
        input: &mut impl BufRead,
    ) -> io::Result<()> {
        let limit = self.options.max_document_bytes;
        let room = (limit + 1).saturating_sub(doc.len()) as u64;
        let head = doc.len();
        input.take(room).read_to_end(&mut doc)?;
        let rest = doc.get(head..).unwrap_or_default();
        self.stats.bytes += rest.len() as u64;
        self.stats.lines += rest.iter().filter(|&&b| b == b'\n').count() as u64;
        if doc.len() > limit {
            self.error(ReadError::Io {
                path: text.source.to_string(),
                message: format!(
                    "a multi-line JSON document over {limit} bytes is not read; write it as JSON lines (one event a line)"
                ),
            });
            return Ok(());
        }
        document::read(self, text, first_line, &doc);
        Ok(())
    }
}
