//! Rule priorities and how they map to Palisade's severity scale.

use palisade_model::Severity;

/// Falco's eight priorities, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// System unusable.
    Emergency,
    /// Act immediately.
    Alert,
    /// Critical conditions.
    Critical,
    /// Error conditions.
    Error,
    /// Warning conditions.
    Warning,
    /// Normal but significant.
    Notice,
    /// Informational (`INFO`).
    Informational,
    /// Debugging.
    Debug,
}

impl Priority {
    /// Parses a priority, ignoring case; `INFO` is `INFORMATIONAL`, as in Falco.
    pub fn parse(text: &str) -> Option<Priority> {
        Some(match text.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The severity an alert of this priority carries.
    pub fn severity(self) -> Severity {
        match self {
            Priority::Emergency | Priority::Alert | Priority::Critical => Severity::Critical,
            Priority::Error => Severity::High,
            Priority::Warning => Severity::Medium,
            Priority::Notice => Severity::Low,
            Priority::Informational | Priority::Debug => Severity::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_with_info_alias() {
        assert_eq!(Priority::parse("WARNING"), Some(Priority::Warning));
        assert_eq!(Priority::parse("warning"), Some(Priority::Warning));
        assert_eq!(Priority::parse("Info"), Some(Priority::Informational));
        assert_eq!(
            Priority::parse("INFORMATIONAL"),
            Some(Priority::Informational)
        );
        assert_eq!(Priority::parse("urgent"), None);
    }

    #[test]
    fn maps_to_severity() {
        assert_eq!(Priority::Emergency.severity(), Severity::Critical);
        assert_eq!(Priority::Alert.severity(), Severity::Critical);
        assert_eq!(Priority::Critical.severity(), Severity::Critical);
        assert_eq!(Priority::Error.severity(), Severity::High);
        assert_eq!(Priority::Warning.severity(), Severity::Medium);
        assert_eq!(Priority::Notice.severity(), Severity::Low);
        assert_eq!(Priority::Informational.severity(), Severity::Info);
        assert_eq!(Priority::Debug.severity(), Severity::Info);
    }
}
