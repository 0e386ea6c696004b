//! A case's assertions: how many violations (matching a message pattern) it must produce,
//! with `gator verify`'s semantics and wording.

use regex::Regex;
use serde_json::Value;

/// One assertion of a case.
#[derive(Debug, Clone)]
pub struct Assertion {
    expected: Expected,
    /// Go regular expression (RE2 syntax) matched against each violation's message.
    message: Option<(String, Regex)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// `yes` (the default): at least one.
    Some,
    /// `no`: none.
    None,
    /// Exactly this many.
    Exactly(u64),
}

impl Assertion {
    /// Reads an assertion (`violations: yes|no|N`, `message: REGEX`).
    pub fn read(value: &Value) -> Result<Assertion, String> {
        const BAD_COUNT: &str =
            r#"assertion.violation, if set, must be a nonnegative integer, "yes", or "no""#;
        let expected = match value.get("violations") {
            None | Some(Value::Null) => Expected::Some,
            Some(Value::String(s)) if s == "yes" => Expected::Some,
            Some(Value::String(s)) if s == "no" => Expected::None,
            // Unquoted `yes` and `no` are booleans in YAML 1.1, as Kubernetes reads it.
            Some(Value::Bool(true)) => Expected::Some,
            Some(Value::Bool(false)) => Expected::None,
            Some(Value::Number(n)) => Expected::Exactly(n.as_u64().ok_or(BAD_COUNT)?),
            Some(_) => return Err(BAD_COUNT.into()),
        };
        let message = match value.get("message") {
            None | Some(Value::Null) => None,
            Some(Value::String(pattern)) => Some((
                pattern.clone(),
                Regex::new(pattern)
                    .map_err(|e| format!("invalid message regular expression {pattern:?}: {e}"))?,
            )),
            Some(other) => return Err(format!("assertion message must be a string, not {other}")),
        };
        Ok(Assertion { expected, message })
    }

    /// Checks the messages of a review's violations; the error says what was wrong.
    pub fn check(&self, messages: &[String]) -> Result<(), String> {
        let matching = messages
            .iter()
            .filter(|m| self.message.as_ref().is_none_or(|(_, re)| re.is_match(m)))
            .count() as u64;
        let containing = self
            .message
            .as_ref()
            .map(|(pattern, _)| format!(" containing {pattern:?}"))
            .unwrap_or_default();
        let want = match self.expected {
            Expected::Some if matching == 0 => "at least 1".to_string(),
            Expected::None if matching > 0 => "none".to_string(),
            Expected::Exactly(n) if matching != n => format!("exactly {n}"),
            _ => return Ok(()),
        };
        Err(format!(
            "got {matching} violations{containing} but want {want}: got messages {messages:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(list: &[&str]) -> Vec<String> {
        list.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn yes_is_the_default_and_needs_one_matching_violation() {
        let a = Assertion::read(&json!({})).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.check(&messages(&["x"])).is_ok());
        let err = a.check(&[]).err().unwrap_or_default();
        assert_eq!(err, "got 0 violations but want at least 1: got messages []");
    }

    #[test]
    fn counts_only_violations_whose_message_matches() {
        let a = Assertion::read(&json!({"violations": 2, "message": "latest$"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            a.check(&messages(&["a uses latest", "b uses latest", "c is fine"]))
                .is_ok()
        );
        let err = a
            .check(&messages(&["a uses latest"]))
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with(r#"got 1 violations containing "latest$" but want exactly 2"#),
            "{err}"
        );
    }

    #[test]
    fn no_forbids_matching_violations_only() {
        let a = Assertion::read(&json!({"violations": "no", "message": "privileged"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(a.check(&messages(&["missing label"])).is_ok());
        assert!(a.check(&messages(&["privileged container"])).is_err());
    }

    #[test]
    fn bad_assertions_are_errors() {
        for bad in [
            json!({"violations": -1}),
            json!({"violations": "maybe"}),
            json!({"violations": 1.5}),
            json!({"message": "("}),
        ] {
            assert!(Assertion::read(&bad).is_err(), "{bad}");
        }
    }
}
