//! Sigma rules for Kubernetes audit logs (`logsource: product: kubernetes, service: audit`).
//!
//! Rules are read from files or directories, compiled once (regular expressions built,
//! literals lower-cased, wildcards turned into matchers), and run as a [`Detector`]: one
//! [`Alert`] per event and matching rule. Rules for other log sources are reported as not
//! applicable; broken rules are errors with file and line, and the other rules still load.
//! Field names are dotted paths into the audit event (`objectRef.resource`,
//! `responseStatus.code`); names that audit events never have are reported when loading.
//!
//! ```
//! use palisade_audit::sigma::SigmaRules;
//! use palisade_audit::{Detector, Origin};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("exec.yml"), "
//! title: Pod Exec
//! level: medium
//! tags: [attack.t1609]
//! logsource: {product: kubernetes, service: audit}
//! detection:
//!   selection:
//!     verb: create
//!     objectRef.subresource: exec
//!   condition: selection
//! ").unwrap();
//! let (mut rules, diagnostics) = SigmaRules::load(&[dir.path().to_path_buf()]);
//! assert!(diagnostics.is_empty());
//!
//! let line = r#"{"kind":"Event","verb":"create","objectRef":{"resource":"pods","subresource":"exec"}}"#;
//! let event = &palisade_audit::event::parse(line, &Origin::new("audit.log", 1)).unwrap()[0];
//! let mut alerts = Vec::new();
//! rules.observe(event, &mut alerts);
//! assert_eq!(alerts[0].rule, "Pod Exec");
//! assert_eq!(alerts[0].attack, ["T1609"]);
//! ```

mod condition;
mod detection;
mod diagnostic;
mod field;
mod matcher;
mod modifier;
mod rule;
mod schema;
mod value;

pub use diagnostic::{Diagnostic, Level};

use crate::{Alert, Detector, Engine, Event};
use field::{Eval, Interner};
use rule::Rule;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Loading options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Values of `%name%` placeholders for the `expand` modifier, by name (without the `%`).
    /// A rule using a placeholder that has no values here is not loaded.
    pub placeholders: BTreeMap<String, Vec<String>>,
}

/// Compiled Sigma rules, run as one detector.
#[derive(Debug, Default)]
pub struct SigmaRules {
    rules: Vec<Rule>,
    /// The distinct field names of all rules: each is looked up once per event.
    fields: Interner,
}

impl SigmaRules {
    /// Loads the rules in `paths`: files, or directories read recursively for `*.yml` and
    /// `*.yaml` (hidden directories skipped), in a stable order.
    ///
    /// Every problem is a [`Diagnostic`]: errors (the rule is not loaded), warnings (loaded,
    /// but part of it can never match) and rules for other log sources (skipped).
    pub fn load(paths: &[PathBuf]) -> (SigmaRules, Vec<Diagnostic>) {
        SigmaRules::load_with(paths, &Options::default())
    }

    /// [`SigmaRules::load`] with options.
    pub fn load_with(paths: &[PathBuf], options: &Options) -> (SigmaRules, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut rules = Vec::new();
        let mut fields = Interner::default();
        for file in rule_files(paths, &mut diagnostics) {
            rules.extend(rule::load_file(
                &file,
                &options.placeholders,
                &mut fields,
                &mut diagnostics,
            ));
        }
        (SigmaRules { rules, fields }, diagnostics)
    }

    /// Loads the rules of one file's text, named `name` in diagnostics.
    pub fn load_str(name: &str, text: &str) -> (SigmaRules, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut fields = Interner::default();
        let rules = rule::load_text(name, text, &BTreeMap::new(), &mut fields, &mut diagnostics);
        (SigmaRules { rules, fields }, diagnostics)
    }

    /// How many rules loaded.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The titles of the loaded rules, in load order.
    pub fn titles(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.title.as_str())
    }
}

impl Detector for SigmaRules {
    fn engine(&self) -> Engine {
        Engine::Sigma
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        let mut eval = Eval::new(event, self.fields.len());
        for rule in &self.rules {
            if rule.matches(&mut eval) {
                let mut alert = Alert::for_event(
                    rule.title.as_str(),
                    Engine::Sigma,
                    rule.level.as_str(),
                    rule.severity,
                    rule.message.as_str(),
                    event,
                );
                alert.attack.clone_from(&rule.attack);
                alert.tags.clone_from(&rule.tags);
                alerts.push(alert);
            }
        }
    }
}

/// The rule files under `paths`; paths that cannot be read are errors.
fn rule_files(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut fail = |path: &Path, message: String| {
        diagnostics.push(Diagnostic {
            level: Level::Error,
            file: path.display().to_string(),
            line: None,
            rule: None,
            message,
        });
    };
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            fail(path, "no such file or directory".into());
            continue;
        }
        let walker = walkdir::WalkDir::new(path).sort_by_file_name().into_iter();
        for entry in walker
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        {
            match entry {
                Ok(e) if e.file_type().is_file() && is_rule_name(e.path()) => {
                    files.push(e.into_path())
                }
                Ok(_) => {}
                Err(e) => fail(e.path().unwrap_or(path), format!("cannot read: {e}")),
            }
        }
    }
    files
}

fn is_rule_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}
