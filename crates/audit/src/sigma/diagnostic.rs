//! What loading reports about each rule file: errors, warnings, and rules that do not apply.

use std::fmt;

/// How much a diagnostic matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// The rule was not loaded.
    Error,
    /// The rule was loaded, but part of it can never match or is questionable.
    Warning,
    /// The rule is for another log source (not Kubernetes audit) and was skipped.
    NotApplicable,
}

impl Level {
    /// The lower-case name, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::NotApplicable => "not applicable",
        }
    }
}

/// One problem found while loading Sigma rules, with the file and line it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error, warning or not applicable.
    pub level: Level,
    /// The rule file, as given or found in a directory.
    pub file: String,
    /// 1-based line, when the problem has one.
    pub line: Option<u32>,
    /// The rule's title, when it was read.
    pub rule: Option<String>,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}: ", self.level.as_str())?;
        if let Some(rule) = &self.rule {
            write!(f, "rule {rule:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Collects the diagnostics of one file, so each need not repeat the file name.
pub(super) struct Sink<'a> {
    pub file: &'a str,
    pub rule: Option<String>,
    pub out: &'a mut Vec<Diagnostic>,
}

impl Sink<'_> {
    pub fn push(&mut self, level: Level, line: Option<u32>, message: impl Into<String>) {
        self.out.push(Diagnostic {
            level,
            file: self.file.to_string(),
            line,
            rule: self.rule.clone(),
            message: message.into(),
        });
    }

    pub fn warn(&mut self, line: Option<u32>, message: impl Into<String>) {
        self.push(Level::Warning, line, message);
    }
}

/// A problem that stops one rule from loading, with the line it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RuleError {
    pub line: Option<u32>,
    pub message: String,
}

impl RuleError {
    pub fn new(line: Option<u32>, message: impl Into<String>) -> RuleError {
        RuleError {
            line,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_file_line_level_rule_and_message() {
        let d = Diagnostic {
            level: Level::Warning,
            file: "rules/a.yml".into(),
            line: Some(12),
            rule: Some("Pod Exec".into()),
            message: "field hostPath is never present".into(),
        };
        assert_eq!(
            d.to_string(),
            "rules/a.yml:12: warning: rule \"Pod Exec\": field hostPath is never present"
        );
        let no_line = Diagnostic {
            line: None,
            rule: None,
            level: Level::Error,
            ..d
        };
        assert_eq!(
            no_line.to_string(),
            "rules/a.yml: error: field hostPath is never present"
        );
    }
}
