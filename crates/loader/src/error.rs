use palisade_model::InputError;

/// Why (part of) an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The text is not valid YAML/JSON, or breaks a safety limit.
    #[error("{message}")]
    Syntax {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// A document is valid YAML but not a Kubernetes object.
    #[error("{message}")]
    Document {
        /// Line of the document.
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read at all.
    #[error("{0}")]
    File(String),
}

impl LoadError {
    pub(crate) fn syntax(line: u32, column: u32, message: String) -> Self {
        LoadError::Syntax {
            line,
            column,
            message,
        }
    }

    /// Line the error points at, if any.
    pub fn line(&self) -> Option<u32> {
        match self {
            LoadError::Syntax { line, .. } | LoadError::Document { line, .. } => Some(*line),
            LoadError::File(_) => None,
        }
    }

    /// The error as it appears in a report, for a file.
    pub fn into_input_error(self, file: &str) -> InputError {
        let (line, column) = match &self {
            LoadError::Syntax { line, column, .. } => (Some(*line), Some(*column)),
            LoadError::Document { line, .. } => (Some(*line), None),
            LoadError::File(_) => (None, None),
        };
        InputError {
            file: file.to_string(),
            line,
            column,
            message: self.to_string(),
        }
    }
}
