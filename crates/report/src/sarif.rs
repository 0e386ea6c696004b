//! SARIF 2.1.0, shaped for GitHub code scanning.
//!
//! One run. `tool.driver.rules` describes every control that ran (and any control a finding
//! names without metadata), so each result's `ruleIndex` is valid. Results are the unsuppressed
//! findings, then the suppressed ones carrying `suppressions` (`external` for the exceptions
//! file, `inSource` for annotations). Each result has a `partialFingerprints` entry hashed
//! from control, object and JSON pointer, not the line, so an alert survives edits that move
//! it. Input errors and notices are `toolExecutionNotifications` of the one invocation, whose
//! `executionSuccessful` is false when any input failed; exceptions that need attention are
//! `toolConfigurationNotifications`.

use crate::common;
use crate::json::pretty;
use palisade_model::{ControlMeta, Finding, InputError, ScanReport, Severity, pointer_hash};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
/// Key of the fingerprint in `partialFingerprints`; the suffix versions the hash recipe.
const FINGERPRINT_KEY: &str = "palisadeFindingHash/v1";

pub fn render(report: &ScanReport) -> String {
    let controls = common::controls(report);
    let index: BTreeMap<&str, usize> = controls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let rules: Vec<Value> = controls.iter().map(|c| rule(c)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .chain(&report.suppressed)
        .map(|f| result(f, index.get(f.control_id.as_str()).copied()))
        .collect();

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "Palisade",
                    "informationUri": INFORMATION_URI,
                    "version": report.tool.version,
                    "rules": rules,
                }
            },
            "invocations": [invocation(report)],
            "results": results,
        }]
    });
    pretty(&log)
}

fn rule(control: &ControlMeta) -> Value {
    let mut rule = Map::new();
    rule.insert("id".into(), json!(control.id));
    rule.insert("name".into(), json!(rule_name(control)));
    rule.insert("shortDescription".into(), json!({ "text": title(control) }));
    let full = if control.rationale.is_empty() {
        title(control)
    } else {
        &control.rationale
    };
    rule.insert("fullDescription".into(), json!({ "text": full }));
    rule.insert(
        "help".into(),
        json!({ "text": help_text(control), "markdown": help_markdown(control) }),
    );
    if let Some(url) = common::urls(control).next() {
        rule.insert("helpUri".into(), json!(url));
    }
    rule.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(control.severity) }),
    );
    let mut tags = vec!["security".to_string()];
    if !control.category.is_empty() {
        tags.push(control.category.clone());
    }
    rule.insert(
        "properties".into(),
        json!({
            "tags": tags,
            "precision": "very-high",
            "security-severity": security_severity(control.severity),
        }),
    );
    Value::Object(rule)
}

fn title(control: &ControlMeta) -> &str {
    if control.title.is_empty() {
        &control.id
    } else {
        &control.title
    }
}

/// `Containers must not run privileged` → `ContainersMustNotRunPrivileged`; the id when the
/// title has no letters or digits.
fn rule_name(control: &ControlMeta) -> String {
    let name: String = control
        .title
        .split(|c: char| !c.is_alphanumeric())
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .chain(chars)
        })
        .collect();
    if name.is_empty() {
        control.id.clone()
    } else {
        name
    }
}

fn help_text(control: &ControlMeta) -> String {
    let mut parts = vec![title(control).to_string()];
    if !control.rationale.is_empty() {
        parts.push(control.rationale.clone());
    }
    if !control.remediation.is_empty() {
        parts.push(format!("Remediation: {}", control.remediation));
    }
    if !control.references.is_empty() {
        let refs: Vec<String> = control
            .references
            .iter()
            .map(|r| format!("- {r}"))
            .collect();
        parts.push(format!("References:\n{}", refs.join("\n")));
    }
    parts.join("\n\n")
}

fn help_markdown(control: &ControlMeta) -> String {
    let mut parts = vec![format!("**{}**", title(control))];
    if !control.rationale.is_empty() {
        parts.push(control.rationale.clone());
    }
    if !control.remediation.is_empty() {
        parts.push(format!("**Remediation:** {}", control.remediation));
    }
    if !control.references.is_empty() {
        let refs: Vec<String> = control
            .references
            .iter()
            .map(|r| {
                if r.starts_with("https://") || r.starts_with("http://") {
                    format!("- <{r}>")
                } else {
                    format!("- {r}")
                }
            })
            .collect();
        parts.push(format!("**References**\n\n{}", refs.join("\n")));
    }
    parts.join("\n\n")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The CVSS-like score GitHub maps to critical (9.0+), high (7.0+), medium (4.0+) and low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.0",
        Severity::High => "7.0",
        Severity::Medium => "5.0",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(finding.control_id));
    if let Some(index) = rule_index {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("level".into(), json!(level(finding.severity)));
    result.insert("message".into(), json!({ "text": message(finding) }));
    result.insert(
        "locations".into(),
        json!([{
            "physicalLocation": physical_location(&finding.location.file, Some(finding.location.line), None),
            "logicalLocations": [{
                "name": finding.object.name,
                "fullyQualifiedName": finding.object.display(),
                "kind": "resource",
            }],
        }]),
    );
    result.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint(finding) }),
    );
    if let Some(suppression) = &finding.suppressed {
        let kind = if suppression.kind == "annotation" {
            "inSource"
        } else {
            "external"
        };
        let mut properties = Map::new();
        properties.insert("source".into(), json!(suppression.source));
        if let Some(expires) = &suppression.expires {
            properties.insert("expires".into(), json!(expires));
        }
        result.insert(
            "suppressions".into(),
            json!([{
                "kind": kind,
                "status": "accepted",
                "justification": suppression.reason,
                "properties": properties,
            }]),
        );
    }
    result.insert(
        "properties".into(),
        json!({ "severity": finding.severity.as_str(), "pointer": finding.location.pointer }),
    );
    Value::Object(result)
}

/// The message names the object, since a file often holds several.
fn message(finding: &Finding) -> String {
    if finding.message.is_empty() {
        format!("{}: {}", finding.object.display(), finding.title)
    } else {
        format!("{}: {}", finding.object.display(), finding.message)
    }
}

/// FNV-1a of control, object and pointer: stable across runs and line moves.
fn fingerprint(finding: &Finding) -> String {
    let o = &finding.object;
    let key = [
        finding.control_id.as_str(),
        o.api_version.as_str(),
        o.kind.as_str(),
        o.namespace.as_deref().unwrap_or(""),
        o.name.as_str(),
        finding.location.pointer.as_str(),
    ]
    .join("\u{0}");
    format!("{:016x}", pointer_hash(&key))
}

fn invocation(report: &ScanReport) -> Value {
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| notification(e, "error"))
        .chain(report.notices.iter().map(|n| notification(n, "note")))
        .collect();
    let configuration: Vec<Value> = report
        .exceptions
        .iter()
        .map(|e| {
            json!({
                "level": "warning",
                "message": { "text": format!("{} ({}): {}: {}", e.source, e.control_id, e.status, e.message) },
            })
        })
        .collect();
    json!({
        "executionSuccessful": report.errors.is_empty(),
        "toolExecutionNotifications": notifications,
        "toolConfigurationNotifications": configuration,
    })
}

fn notification(error: &InputError, level: &str) -> Value {
    json!({
        "level": level,
        "message": { "text": error.to_string() },
        "locations": [{ "physicalLocation": physical_location(&error.file, error.line, error.column) }],
    })
}

fn physical_location(file: &str, line: Option<u32>, column: Option<u32>) -> Value {
    let mut location = Map::new();
    location.insert("artifactLocation".into(), artifact_location(file));
    // SARIF lines and columns start at 1; 0 means unknown, so the region is left out.
    if let Some(line) = line.filter(|l| *l > 0) {
        let mut region = Map::new();
        region.insert("startLine".into(), json!(line));
        if let Some(column) = column.filter(|c| *c > 0) {
            region.insert("startColumn".into(), json!(column));
        }
        location.insert("region".into(), Value::Object(region));
    }
    Value::Object(location)
}

/// A relative path becomes a URI relative to `%SRCROOT%` (the checkout, for GitHub); an
/// absolute one a `file:` URI.
fn artifact_location(file: &str) -> Value {
    let path = file.replace('\\', "/");
    let drive = path.as_bytes().get(..3).is_some_and(|p| {
        p.first().is_some_and(u8::is_ascii_alphabetic)
            && p.get(1) == Some(&b':')
            && p.get(2) == Some(&b'/')
    });
    if drive {
        let (letter, rest) = path.split_at(2);
        json!({ "uri": format!("file:///{letter}{}", encode(rest)) })
    } else if path.starts_with('/') {
        json!({ "uri": format!("file://{}", encode(&path)) })
    } else {
        let mut relative = path.as_str();
        while let Some(rest) = relative.strip_prefix("./") {
            relative = rest;
        }
        json!({ "uri": encode(relative), "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encodes everything a URI path may not hold as is (RFC 3986 `pchar` and `/`). `:` is
/// encoded too, so that a relative path is never read as a scheme.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(title: &str) -> ControlMeta {
        ControlMeta {
            id: "PAL-101".into(),
            title: title.into(),
            severity: Severity::High,
            category: String::new(),
            rationale: String::new(),
            remediation: String::new(),
            references: vec![],
            kinds: vec![],
        }
    }

    #[test]
    fn rule_names_are_camel_case() {
        assert_eq!(
            rule_name(&meta("Containers must not run privileged")),
            "ContainersMustNotRunPrivileged"
        );
        assert_eq!(rule_name(&meta("hostPath volumes (read-write)")), "HostPathVolumesReadWrite");
        assert_eq!(rule_name(&meta(" -- ")), "PAL-101");
    }

    #[test]
    fn paths_become_uris() {
        assert_eq!(
            artifact_location("./deploy/web app.yaml"),
            json!({ "uri": "deploy/web%20app.yaml", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact_location("k8s\\a:b.yaml"),
            json!({ "uri": "k8s/a%3Ab.yaml", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact_location("/srv/k8s/pod.yaml"),
            json!({ "uri": "file:///srv/k8s/pod.yaml" })
        );
        assert_eq!(
            artifact_location("C:\\k8s\\pod.yaml"),
            json!({ "uri": "file:///C:/k8s/pod.yaml" })
        );
        assert_eq!(
            artifact_location("ünï/100%.yaml"),
            json!({ "uri": "%C3%BCn%C3%AF/100%25.yaml", "uriBaseId": "%SRCROOT%" })
        );
    }
}
