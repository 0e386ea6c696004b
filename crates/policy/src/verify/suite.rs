//! `Suite` files (test.gatekeeper.sh/v1alpha1), as `gator verify` reads them.

use super::assertion::Assertion;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A suite: tests that each pair a template with a constraint and review cases.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite file.
    pub path: PathBuf,
    /// `skip: true`.
    pub skip: bool,
    /// Its tests, in order.
    pub tests: Vec<Test>,
}

/// A template and a constraint, and the cases reviewed with them.
#[derive(Debug, Clone)]
pub struct Test {
    /// `name`.
    pub name: String,
    /// Template file, relative to the suite.
    pub template: String,
    /// Constraint file, relative to the suite.
    pub constraint: String,
    /// `invalid: true`: the constraint must be rejected by the template's schema.
    pub invalid: bool,
    /// `skip: true`.
    pub skip: bool,
    /// `expansion`, which Palisade does not support (the test fails saying so).
    pub expansion: Option<String>,
    /// Its cases, in order.
    pub cases: Vec<Case>,
}

/// One object reviewed, with the inventory present and the assertions on the result.
#[derive(Debug, Clone)]
pub struct Case {
    /// `name`.
    pub name: String,
    /// Object file (exactly one object), relative to the suite.
    pub object: String,
    /// Files whose objects form `data.inventory`.
    pub inventory: Vec<String>,
    /// Assertions, or why they could not be read.
    pub assertions: Result<Vec<Assertion>, String>,
    /// `skip: true`.
    pub skip: bool,
}

/// Whether a document is a gator Suite.
pub fn is_suite(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("Suite")
        && value
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("test.gatekeeper.sh/"))
}

impl Suite {
    /// Reads a Suite document read from `path`.
    pub fn read(path: &Path, value: &Value) -> Suite {
        Suite {
            path: path.to_path_buf(),
            skip: flag(value, "skip"),
            tests: list(value, "tests").map(test).collect(),
        }
    }

    /// The directory its file paths are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

fn test(value: &Value) -> Test {
    Test {
        name: text(value, "name"),
        template: text(value, "template"),
        constraint: text(value, "constraint"),
        invalid: flag(value, "invalid"),
        skip: flag(value, "skip"),
        expansion: value
            .get("expansion")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_string),
        cases: list(value, "cases").map(case).collect(),
    }
}

fn case(value: &Value) -> Case {
    Case {
        name: text(value, "name"),
        object: text(value, "object"),
        inventory: list(value, "inventory")
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        assertions: list(value, "assertions").map(Assertion::read).collect(),
        skip: flag(value, "skip"),
    }
}

fn list<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}
