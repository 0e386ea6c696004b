//! Load-time problems (errors and warnings) with the file and line they point at.

use std::fmt;

/// A problem found while loading rule files: where it is and what it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostic {
    /// The rules file (as given to the loader).
    pub file: String,
    /// 1-based line of the item or field, 0 when the whole file is meant.
    pub line: u32,
    /// 1-based column inside a condition or output, when the problem is in one.
    pub column: Option<u32>,
    /// The item, such as `rule 'Create Privileged Pod'`, when there is one.
    pub item: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A load error: the item it names is not loaded.
pub type Error = Diagnostic;

/// A load warning: the item loads, but something in it is ignored or suspicious.
pub type Warning = Diagnostic;

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": ")?;
        if let Some(item) = &self.item {
            write!(f, "{item}: ")?;
        }
        if let Some(column) = self.column {
            write!(f, "column {column}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Where an item or field was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Loc {
    pub file: std::sync::Arc<str>,
    pub line: u32,
    pub item: Option<String>,
}

impl Loc {
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.to_string(),
            line: self.line,
            column: None,
            item: self.item.clone(),
            message: message.into(),
        }
    }

    pub fn diag_at(&self, column: u32, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            column: Some(column),
            ..self.diag(message)
        }
    }

    pub fn at_line(&self, line: u32) -> Loc {
        Loc {
            line,
            ..self.clone()
        }
    }
}

/// Errors and warnings collected while loading.
#[derive(Debug, Default)]
pub(crate) struct Diags {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}
