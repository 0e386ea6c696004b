use std::fmt;

/// A policy that cannot be used, with where it was written. The other policies still run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// File the policy was read from.
    pub file: String,
    /// Line of the offending object or field.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl PolicyError {
    /// An error about an object, at the line of one of its fields.
    pub(crate) fn at(object: &palisade_model::Object, pointer: &str, message: String) -> Self {
        PolicyError {
            file: object.source.file.to_string(),
            line: object.line_of(pointer),
            message,
        }
    }
}
