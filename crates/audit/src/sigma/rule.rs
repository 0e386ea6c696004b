//! One Sigma rule file to compiled rules: metadata, log source, searches and condition.

use super::condition::{self, Expr};
use super::detection::{self, Context, Search};
use super::diagnostic::{Diagnostic, Level, RuleError, Sink};
use super::field::{Eval, Interner};
use palisade_loader::{Document, Limits};
use palisade_model::{Positions, Severity};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Largest rule file read: Sigma rules are a few kilobytes.
pub(super) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A compiled rule.
#[derive(Debug)]
pub(super) struct Rule {
    pub title: String,
    /// `level` as written (`medium` when absent).
    pub level: String,
    pub severity: Severity,
    /// Title and the description's first sentence.
    pub message: String,
    pub tags: Vec<String>,
    /// ATT&CK technique ids from the tags, such as `T1552.007`.
    pub attack: Vec<String>,
    searches: Vec<Search>,
    condition: Expr,
}

impl Rule {
    /// True if the event matches the rule's condition.
    pub fn matches(&self, eval: &mut Eval<'_>) -> bool {
        self.condition
            .eval(&mut |i| self.searches.get(i).is_some_and(|s| s.matches(eval)))
    }
}

/// Reads one file; problems go to `out`, every rule that compiles is returned.
pub(super) fn load_file(
    path: &Path,
    placeholders: &BTreeMap<String, Vec<String>>,
    fields: &mut Interner,
    out: &mut Vec<Diagnostic>,
) -> Vec<Rule> {
    let file = path.display().to_string();
    let mut sink = Sink {
        file: &file,
        rule: None,
        out,
    };
    let text = match read(path) {
        Ok(text) => text,
        Err(message) => {
            sink.push(Level::Error, None, message);
            return Vec::new();
        }
    };
    load_text(&file, &text, placeholders, fields, out)
}

/// Reads the rules of one file's text; problems go to `out`.
pub(super) fn load_text(
    file: &str,
    text: &str,
    placeholders: &BTreeMap<String, Vec<String>>,
    fields: &mut Interner,
    out: &mut Vec<Diagnostic>,
) -> Vec<Rule> {
    let mut sink = Sink {
        file,
        rule: None,
        out,
    };
    let parsed = palisade_loader::parse(text, Limits::default());
    for warning in &parsed.warnings {
        sink.warn(warning.line(), warning.to_string());
    }
    let mut rules = Vec::new();
    for doc in &parsed.documents {
        sink.rule = None;
        match compile(doc, placeholders, fields, &mut sink) {
            Ok(Some(rule)) => rules.push(rule),
            Ok(None) => {}
            Err(e) => sink.push(Level::Error, e.line, e.message),
        }
    }
    if let Some(error) = parsed.error {
        sink.rule = None;
        sink.push(Level::Error, error.line(), format!("YAML: {error}"));
    }
    rules
}

fn read(path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{size} bytes, over the {MAX_FILE_BYTES}-byte limit for a rule file"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// One YAML document to a rule; `None` when it is not for Kubernetes audit logs (reported).
fn compile(
    doc: &Document,
    placeholders: &BTreeMap<String, Vec<String>>,
    fields: &mut Interner,
    sink: &mut Sink,
) -> Result<Option<Rule>, RuleError> {
    let positions = doc.fields.positions();
    let at = |pointer: &str| positions.line_of(pointer).or(Some(doc.line));
    let Value::Object(map) = &doc.value else {
        return Err(RuleError::new(
            Some(doc.line),
            "not a Sigma rule: a YAML mapping was expected",
        ));
    };
    if let Some(kind) = ["correlation", "filter"]
        .iter()
        .find(|k| map.contains_key(**k))
    {
        sink.rule = map.get("title").and_then(Value::as_str).map(str::to_string);
        sink.push(
            Level::NotApplicable,
            at(&format!("/{kind}")),
            format!("a Sigma {kind} rule: only detection rules are supported, skipped"),
        );
        return Ok(None);
    }
    if let Some(action) = map.get("action") {
        return Err(RuleError::new(
            at("/action"),
            format!("rule collections (action: {action}) are not supported: write each rule whole"),
        ));
    }
    let title = match map.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
        Some(_) => {
            return Err(RuleError::new(
                at("/title"),
                "title must be a non-empty string",
            ));
        }
        None => return Err(RuleError::new(Some(doc.line), "missing title")),
    };
    sink.rule = Some(title.clone());
    if let Some(reason) = not_audit(map.get("logsource")) {
        sink.push(Level::NotApplicable, at("/logsource"), reason);
        return Ok(None);
    }
    let Some(detection) = map.get("detection") else {
        return Err(RuleError::new(Some(doc.line), "missing detection"));
    };
    let Value::Object(detection) = detection else {
        return Err(RuleError::new(
            at("/detection"),
            "detection must be a mapping of searches and a condition",
        ));
    };
    let (searches, names) = searches(detection, &positions, placeholders, fields, sink)?;
    let condition = condition_of(detection, &names, &at)?;
    let (level, severity) = level(map.get("level"), at("/level"), sink);
    let tags: Vec<String> = match map.get("tags") {
        Some(Value::Array(tags)) => tags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let attack = tags.iter().filter_map(|t| attack_id(t)).collect();
    let message = message(&title, map.get("description").and_then(Value::as_str));
    Ok(Some(Rule {
        title,
        level,
        severity,
        message,
        tags,
        attack,
        searches,
        condition,
    }))
}

/// Why a log source is not Kubernetes audit, or `None` if it is.
fn not_audit(logsource: Option<&Value>) -> Option<String> {
    let field = |name: &str| logsource.and_then(|l| l.get(name)).and_then(Value::as_str);
    let product = field("product");
    let service = field("service");
    let is = |v: Option<&str>, want: &str| v.is_some_and(|v| v.eq_ignore_ascii_case(want));
    if is(product, "kubernetes") && is(service, "audit") {
        return None;
    }
    let show = |v: Option<&str>| v.unwrap_or("(none)").to_string();
    Some(format!(
        "logsource product: {}, service: {} is not Kubernetes audit (product: kubernetes, service: audit): skipped",
        show(product),
        show(service)
    ))
}

/// Compiles every search; all their errors are reported and any one fails the rule.
fn searches<'m>(
    detection: &'m Map<String, Value>,
    positions: &Positions,
    placeholders: &BTreeMap<String, Vec<String>>,
    fields: &mut Interner,
    sink: &mut Sink,
) -> Result<(Vec<Search>, Vec<&'m str>), RuleError> {
    let mut searches = Vec::new();
    let mut names = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in detection {
        match name.as_str() {
            "condition" => continue,
            "timeframe" => {
                sink.warn(
                    positions.line_of("/detection/timeframe"),
                    "timeframe belongs to the deprecated aggregation syntax and is ignored",
                );
                continue;
            }
            _ => {}
        }
        let mut cx = Context {
            positions,
            placeholders,
            fields,
            sink,
        };
        match detection::compile(name, value, &mut cx) {
            Ok(search) => {
                searches.push(search);
                names.push(name.as_str());
            }
            Err(e) => errors.push(e),
        }
    }
    // All errors in file order: the last one is returned as the rule's.
    match errors.pop() {
        Some(last) => {
            for e in errors {
                sink.push(Level::Error, e.line, e.message);
            }
            Err(last)
        }
        None => Ok((searches, names)),
    }
}

fn condition_of(
    detection: &Map<String, Value>,
    names: &[&str],
    at: &dyn Fn(&str) -> Option<u32>,
) -> Result<Expr, RuleError> {
    let line = at("/detection/condition");
    let fail = |message: String| RuleError::new(line, format!("condition: {message}"));
    match detection.get("condition") {
        None => Err(RuleError::new(
            at("/detection"),
            "missing detection condition",
        )),
        Some(Value::String(text)) => condition::parse(text, names).map_err(fail),
        // A list of conditions: any of them.
        Some(Value::Array(list)) if !list.is_empty() => {
            let mut items = Vec::with_capacity(list.len());
            for (i, c) in list.iter().enumerate() {
                let text = c
                    .as_str()
                    .ok_or_else(|| fail("every condition must be a string".into()))?;
                let line = at(&format!("/detection/condition/{i}"));
                items.push(
                    condition::parse(text, names)
                        .map_err(|m| RuleError::new(line, format!("condition: {m}")))?,
                );
            }
            Ok(Expr::Or(items))
        }
        Some(_) => Err(fail("must be a string or a list of strings".into())),
    }
}

fn level(value: Option<&Value>, line: Option<u32>, sink: &mut Sink) -> (String, Severity) {
    let Some(value) = value else {
        return ("medium".into(), Severity::Medium);
    };
    let text = value.as_str().unwrap_or_default().to_ascii_lowercase();
    let severity = match text.as_str() {
        "informational" => Severity::Info,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        _ => {
            sink.warn(
                line,
                format!("level {value} is not informational, low, medium, high or critical: medium is used"),
            );
            return ("medium".into(), Severity::Medium);
        }
    };
    (text, severity)
}

/// `attack.t1552.007` → `T1552.007`.
fn attack_id(tag: &str) -> Option<String> {
    let id = tag.strip_prefix("attack.")?;
    let (technique, sub) = match id.split_once('.') {
        Some((t, s)) => (t, Some(s)),
        None => (id, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let number = technique.strip_prefix(['t', 'T'])?;
    (digits(number, 4) && sub.is_none_or(|s| digits(s, 3))).then(|| id.to_ascii_uppercase())
}

/// `Title: first sentence of the description.`
fn message(title: &str, description: Option<&str>) -> String {
    let Some(sentence) = description.map(first_sentence).filter(|s| !s.is_empty()) else {
        return title.to_string();
    };
    format!("{title}: {sentence}")
}

/// The description up to the first full stop that ends a sentence (one followed by the end
/// or by a capital letter, so "e.g. the" does not end it), with line breaks as spaces.
fn first_sentence(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut end = flat.len();
    for (i, c) in flat.char_indices() {
        if matches!(c, '.' | '!' | '?') {
            let rest = flat.get(i + 1..).unwrap_or_default();
            let next = rest.trim_start().chars().next();
            if rest.is_empty() || (rest.starts_with(' ') && next.is_some_and(char::is_uppercase)) {
                end = i + 1;
                break;
            }
        }
    }
    flat.get(..end).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_ids_from_tags() {
        assert_eq!(attack_id("attack.t1552.007").as_deref(), Some("T1552.007"));
        assert_eq!(attack_id("attack.t1609").as_deref(), Some("T1609"));
        assert_eq!(attack_id("attack.execution"), None);
        assert_eq!(attack_id("attack.t15"), None);
        assert_eq!(attack_id("attack.t1552.07"), None);
        assert_eq!(attack_id("cve.2021-44228"), None);
    }

    #[test]
    fn the_first_sentence_survives_abbreviations_and_line_breaks() {
        assert_eq!(
            first_sentence(
                "Detects attempts to execute remote commands, within a Pod's container using e.g. the \"kubectl exec\" command.\n"
            ),
            "Detects attempts to execute remote commands, within a Pod's container using e.g. the \"kubectl exec\" command."
        );
        assert_eq!(
            first_sentence(
                "Detects when a Kubernetes CronJob or Job is created or modified.\nA Kubernetes Job creates pods."
            ),
            "Detects when a Kubernetes CronJob or Job is created or modified."
        );
        assert_eq!(first_sentence("No full stop"), "No full stop");
        assert_eq!(message("T", None), "T");
        assert_eq!(message("T", Some("Detects x. More.")), "T: Detects x.");
    }

    #[test]
    fn only_kubernetes_audit_applies() {
        let ls = |v: Value| not_audit(Some(&v));
        assert_eq!(
            ls(serde_json::json!({"product": "kubernetes", "service": "audit"})),
            None
        );
        assert_eq!(
            ls(
                serde_json::json!({"category": "application", "product": "Kubernetes", "service": "Audit"})
            ),
            None
        );
        let windows = ls(serde_json::json!({"product": "windows", "category": "process_creation"}))
            .unwrap_or_default();
        assert!(
            windows.contains("product: windows, service: (none) is not Kubernetes audit"),
            "{windows}"
        );
        assert!(not_audit(None).is_some());
    }
}
