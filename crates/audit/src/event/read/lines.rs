//! Lines from a buffered reader into one reused buffer, with a hard cap on a line's length:
//! a longer line is skipped up to its newline without being held in memory.
//!
//! A line cut short by the end of the input is kept and completed by the next call, which
//! is what following a growing file needs.

use std::io::{self, BufRead, Read};

/// What [`LineReader::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line<'a> {
    /// A whole line, with its number, without its `\n` (or `\r\n`).
    Complete(u64, &'a [u8]),
    /// A line over the cap, with its number: it was (or is being) skipped.
    TooLong(u64),
    /// The input ended inside a line, whose bytes are kept: [`LineReader::pending`] has
    /// them, and the next call goes on from there.
    Partial,
    /// The input ended at a line boundary.
    End,
}

/// Reads lines, counting them (1-based) and the bytes consumed.
#[derive(Debug)]
pub(super) struct LineReader {
    buf: Vec<u8>,
    cap: usize,
    /// The number of the line last returned (or being read, while skipping).
    line: u64,
    /// Bytes consumed from the reader since the start (or the last [`LineReader::reset`]).
    consumed: u64,
    /// `buf` holds the start of a line that the input has not finished yet.
    pending: bool,
    /// Inside a line over the cap: discard up to its newline.
    skipping: bool,
}

impl LineReader {
    pub(super) fn new(cap: usize) -> LineReader {
        LineReader {
            buf: Vec::with_capacity(64 * 1024),
            cap,
            line: 0,
            consumed: 0,
            pending: false,
            skipping: false,
        }
    }

    /// The number of the line last returned.
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Bytes consumed since the start.
    pub(super) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The unfinished line kept after [`Line::Partial`], if any, as its line number and
    /// bytes; taking it forgets it.
    pub(super) fn take_pending(&mut self) -> Option<(u64, &[u8])> {
        if !self.pending {
            return None;
        }
        self.pending = false;
        Some((self.line + 1, &self.buf))
    }

    /// Starts over, as on a new input (a truncated file read again from its start).
    pub(super) fn reset(&mut self) {
        self.buf.clear();
        self.line = 0;
        self.consumed = 0;
        self.pending = false;
        self.skipping = false;
    }

    /// The next line.
    pub(super) fn next<R: BufRead>(&mut self, reader: &mut R) -> io::Result<Line<'_>> {
        if self.skipping && !self.skip(reader)? {
            return Ok(Line::End);
        }
        if !self.pending {
            self.buf.clear();
        }
        let room = (self.cap + 1).saturating_sub(self.buf.len()) as u64;
        let read = reader
            .by_ref()
            .take(room)
            .read_until(b'\n', &mut self.buf)?;
        self.consumed += read as u64;
        if self.buf.last() == Some(&b'\n') {
            self.pending = false;
            self.line += 1;
            let mut end = self.buf.len() - 1;
            if end > 0 && self.buf.get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
            return Ok(Line::Complete(
                self.line,
                self.buf.get(..end).unwrap_or_default(),
            ));
        }
        if self.buf.len() > self.cap {
            self.line += 1;
            self.pending = false;
            self.buf.clear();
            self.skipping = true;
            self.skip(reader)?;
            return Ok(Line::TooLong(self.line));
        }
        if self.buf.is_empty() {
            self.pending = false;
            return Ok(Line::End);
        }
        self.pending = true;
        Ok(Line::Partial)
    }

    /// Discards input up to and including the next newline; false if the input ended first
    /// (the skipping goes on at the next call).
    fn skip<R: BufRead>(&mut self, reader: &mut R) -> io::Result<bool> {
        loop {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                return Ok(false);
            }
            let (used, found) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            reader.consume(used);
            self.consumed += used as u64;
            if found {
                self.skipping = false;
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::BufReader;

    fn all(input: &[u8], cap: usize, capacity: usize) -> Vec<String> {
        let mut reader = BufReader::with_capacity(capacity, input);
        let mut lines = LineReader::new(cap);
        let mut out = Vec::new();
        loop {
            match lines.next(&mut reader).unwrap() {
                Line::Complete(n, l) => out.push(format!("{n}:{}", String::from_utf8_lossy(l))),
                Line::TooLong(n) => out.push(format!("{n}:too long")),
                Line::Partial => {
                    let (n, rest) = lines.take_pending().unwrap();
                    out.push(format!("{n}:partial {}", String::from_utf8_lossy(rest)));
                    break;
                }
                Line::End => break,
            }
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        assert_eq!(
            all(b"a\r\nbb\n\nccc\n", 10, 4),
            ["1:a", "2:bb", "3:", "4:ccc"]
        );
        assert_eq!(all(b"a\nlast", 10, 2), ["1:a", "2:partial last"]);
        assert!(all(b"", 10, 2).is_empty());
    }

    #[test]
    fn a_long_line_is_skipped_and_numbered() {
        let input = format!("ok\n{}\nafter\n{}", "x".repeat(100), "y".repeat(50));
        assert_eq!(
            all(input.as_bytes(), 10, 8),
            ["1:ok", "2:too long", "3:after", "4:too long"]
        );
        // Exactly the cap fits.
        assert_eq!(all(b"0123456789\n", 10, 3), ["1:0123456789"]);
    }

    #[test]
    fn a_partial_line_is_completed_by_later_input() {
        let mut lines = LineReader::new(100);
        let mut first: &[u8] = b"one\ntw";
        assert_eq!(lines.next(&mut first).unwrap(), Line::Complete(1, b"one"));
        assert_eq!(lines.next(&mut first).unwrap(), Line::Partial);
        let mut second: &[u8] = b"o\n";
        assert_eq!(lines.next(&mut second).unwrap(), Line::Complete(2, b"two"));
        assert_eq!(lines.line(), 2);
        assert_eq!(lines.consumed(), 8);
    }

    #[test]
    fn skipping_a_long_line_continues_across_inputs() {
        let mut lines = LineReader::new(4);
        let mut first: &[u8] = b"abcdefgh";
        assert_eq!(lines.next(&mut first).unwrap(), Line::TooLong(1));
        let mut second: &[u8] = b"ijk\nok\n";
        assert_eq!(lines.next(&mut second).unwrap(), Line::Complete(2, b"ok"));
        assert_eq!(lines.line(), 2);
    }
}
