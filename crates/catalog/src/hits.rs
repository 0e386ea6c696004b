/// One failure a rule reports: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// JSON pointer of the offending field (absolute, within the object). When the problem is
    /// a missing field, the pointer of where it belongs: the line falls back to the parent.
    pub pointer: String,
    /// What is wrong, naming the container and the value found.
    pub message: String,
}

/// Where a rule writes its failures.
#[derive(Debug, Default)]
pub struct Hits(pub(crate) Vec<Hit>);

impl Hits {
    /// Reports a failure at a field.
    pub fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(Hit {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
