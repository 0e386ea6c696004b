//! A file that is one pretty-printed JSON value (or several, as `jq` writes them): events,
//! an EventList, an array, or cloud envelopes, each with the line it starts on.

use super::{ReadError, Reader, Text};
use crate::event::Origin;
use crate::event::parse::{EventError, parse_value};
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::error::Category;
use std::sync::Arc;

/// Whether a first line opens a JSON value that later lines finish.
pub(super) fn opens(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'{' | b'[')) && truncated(line)
}

/// Whether a text is the start of JSON cut off before its end.
pub(super) fn truncated(text: &[u8]) -> bool {
    let text = text.trim_ascii();
    !text.is_empty()
        && serde_json::from_slice::<IgnoredAny>(text).is_err_and(|e| e.classify() == Category::Eof)
}

/// Reads the values of `doc`, whose first byte is on line `first_line`.
pub(super) fn read(reader: &mut Reader<'_>, text: &Text, first_line: u64, doc: &[u8]) {
    let mut values = serde_json::Deserializer::from_slice(doc).into_iter::<Value>();
    let mut line = first_line;
    let mut counted = 0;
    let mut first = true;
    loop {
        let after = values.byte_offset();
        let rest = doc.get(after..).unwrap_or_default();
        let Some(skip) = rest.iter().position(|b| !b.is_ascii_whitespace()) else {
            return;
        };
        let start = after + skip;
        line += newlines(doc.get(counted..start).unwrap_or_default());
        counted = start;
        let origin = Origin::new(Arc::clone(&text.source), line);
        match values.next() {
            None => return,
            Some(Ok(value)) => {
                let size = values.byte_offset().saturating_sub(start);
                match parse_value(value, size, &origin) {
                    Ok((events, _)) if first && text.sniff && events.is_empty() => {
                        let reason = format!("{origin}: no audit events");
                        return reader.not_an_audit_log(&text.source, reason);
                    }
                    Ok((events, warnings)) => {
                        events.into_iter().for_each(|e| reader.event(e));
                        warnings.into_iter().for_each(|w| reader.error(w));
                    }
                    Err(e) if first && text.sniff => {
                        return reader.not_an_audit_log(&text.source, e.to_string());
                    }
                    Err(e) => reader.error(e),
                }
            }
            Some(Err(e)) => {
                let error = match e.classify() {
                    // Said of the line the cut-off value starts on.
                    Category::Eof => ReadError::Truncated { origin },
                    _ => {
                        // The document's line plus where the error is within it.
                        let at = first_line + (e.line() as u64).saturating_sub(1);
                        let origin = Origin::new(Arc::clone(&text.source), at);
                        let message = without_position(&e.to_string(), e.column());
                        ReadError::Event(EventError::Json { origin, message })
                    }
                };
                // A syntax error leaves no way to find where the next value starts.
                return reader.error(error);
            }
        }
        first = false;
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// serde_json's message ends with its own (document-relative) line; the origin has the
/// file's line, so only the column is kept.
fn without_position(message: &str, column: usize) -> String {
    match message.rfind(" at line ") {
        Some(at) => format!(
            "{} at column {column}",
            message.get(..at).unwrap_or(message)
        ),
        None => message.to_string(),
    }
}
