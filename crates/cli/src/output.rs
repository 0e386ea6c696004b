//! Where output goes, and whether it may be coloured.

use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Colour only for a terminal, never with `NO_COLOR` set (<https://no-color.org>).
pub fn use_color(no_color_flag: bool, to_file: bool) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color_flag && !no_color_env && !to_file && std::io::stdout().is_terminal()
}

/// Writes text to a file, or to stdout.
pub fn write(text: &str, file: Option<&Path>) -> anyhow::Result<()> {
    match file {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                // A closed pipe (`palisade scan . | head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to stdout"),
            }
        }
    }
}

/// Opens the destination of a report: a buffered file, or stdout.
pub fn open(file: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match file {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

/// Finishes writing; a closed pipe (`palisade scan . | head`) is not an error.
pub fn finish(result: std::io::Result<()>, mut out: Box<dyn Write>) -> anyhow::Result<()> {
    match result.and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

/// A JSON value as pretty text with a final newline.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}
