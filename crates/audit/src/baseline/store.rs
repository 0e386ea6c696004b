//! The learned state on disk: versioned JSON, written atomically.

use super::config::{BaselineConfig, ConfigError};
use super::state::State;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The `format` field of a baseline file.
pub const FORMAT: &str = "palisade-baseline";

/// The format version this build writes and reads. Older versions would be migrated here;
/// newer ones are refused rather than misread.
pub const VERSION: u32 = 1;

/// Why a baseline file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading, writing or renaming failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// Not valid JSON, or not the structure of a baseline file.
    #[error("{}:{line}:{column}: corrupt baseline file: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// JSON, but some other kind of file.
    #[error("{}: not a Palisade baseline file (format {found:?}, expected {FORMAT:?})", path.display())]
    NotABaseline {
        /// The file.
        path: PathBuf,
        /// The `format` it has.
        found: String,
    },
    /// Written by a newer Palisade.
    #[error(
        "{}: baseline format version {found} is newer than this build reads (version {supported}); upgrade Palisade or learn again",
        path.display()
    )]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The settings saved in the file are out of range.
    #[error("{}: {source}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Which setting.
        source: ConfigError,
    },
}

#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: String,
    #[serde(default)]
    version: u32,
}

#[derive(Serialize)]
struct SavedRef<'a> {
    format: &'static str,
    version: u32,
    config: &'a BaselineConfig,
    state: &'a State,
}

#[derive(Deserialize)]
struct Saved {
    config: BaselineConfig,
    state: State,
}

/// Writes `state` to `path`: a temporary file beside it, synced, then renamed over it, so
/// that a crash leaves either the old file or the new one, never half of one.
pub fn save(path: &Path, config: &BaselineConfig, state: &State) -> Result<(), StoreError> {
    let io_error = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "baseline".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let saved = SavedRef {
        format: FORMAT,
        version: VERSION,
        config,
        state,
    };
    let written = write_synced(&temp, &saved).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        // The temporary file is ours and useless now; failing to remove it changes nothing.
        let _ = fs::remove_file(&temp);
        return Err(io_error(e));
    }
    // The rename is durable only once the directory entry is.
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error)
}

fn write_synced(temp: &Path, saved: &SavedRef<'_>) -> io::Result<()> {
    let file = File::create(temp)?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer(&mut out, saved).map_err(io::Error::other)?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Reads a file [`save`] wrote.
pub fn load(path: &Path) -> Result<(BaselineConfig, State), StoreError> {
    let bytes = fs::read(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    // The header first: a newer version may not parse as this one's structure, and should
    // say so rather than report a confusing field error.
    let header: Header = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if header.format != FORMAT {
        return Err(StoreError::NotABaseline {
            path: path.to_path_buf(),
            found: header.format,
        });
    }
    if header.version > VERSION {
        return Err(StoreError::NewerVersion {
            path: path.to_path_buf(),
            found: header.version,
            supported: VERSION,
        });
    }
    let saved: Saved = serde_json::from_slice(&bytes).map_err(corrupt)?;
    saved
        .config
        .validate()
        .map_err(|source| StoreError::Config {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((saved.config, saved.state))
}
