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

mod log;

use crate::common;
use crate::json::pretty;
use log::*;
use palisade_model::{ControlMeta, Finding, InputError, ScanReport, Severity, pointer_hash};
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

pub fn render(report: &ScanReport) -> String {
    let controls = common::controls(report);
    let index: BTreeMap<&str, usize> = controls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let results = report
        .findings
        .iter()
        .chain(&report.suppressed)
        .map(|f| result(f, index.get(&*f.control_id).copied()))
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "Palisade",
                    information_uri: INFORMATION_URI,
                    version: &report.tool.version,
                    rules: controls.iter().map(|c| rule(c)).collect(),
                },
            },
            invocations: vec![invocation(report)],
            results,
        }],
    };
    pretty(&log)
}

fn rule(control: &ControlMeta) -> Rule<'_> {
    let mut tags = vec!["security".to_string()];
    if !control.category.is_empty() {
        tags.push(control.category.clone());
    }
    Rule {
        id: &control.id,
        name: rule_name(control),
        short_description: Text {
            text: title(control),
        },
        full_description: Text {
            text: if control.rationale.is_empty() {
                title(control)
            } else {
                &control.rationale
            },
        },
        help: Help {
            text: help_text(control),
            markdown: help_markdown(control),
        },
        help_uri: common::urls(control).next(),
        default_configuration: Configuration {
            level: level(control.severity),
        },
        properties: RuleProperties {
            tags,
            precision: "very-high",
            security_severity: security_severity(control.severity),
        },
    }
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

fn result(finding: &Finding, rule_index: Option<usize>) -> SarifResult<'_> {
    let suppressions = finding
        .suppressed
        .iter()
        .map(|s| Suppression {
            kind: if s.kind == "annotation" {
                "inSource"
            } else {
                "external"
            },
            status: "accepted",
            justification: &s.reason,
            properties: SuppressionProperties {
                source: &s.source,
                expires: s.expires.as_deref(),
            },
        })
        .collect();
    SarifResult {
        rule_id: &finding.control_id,
        rule_index,
        level: level(finding.severity),
        message: OwnedText {
            text: message(finding),
        },
        locations: vec![ResultLocation {
            physical_location: physical_location(
                &finding.location.file,
                Some(finding.location.line),
                None,
            ),
            logical_locations: vec![LogicalLocation {
                name: &finding.object.name,
                fully_qualified_name: finding.object.display(),
                kind: "resource",
            }],
        }],
        partial_fingerprints: Fingerprints {
            finding_hash: fingerprint(finding),
        },
        suppressions,
        properties: ResultProperties {
            severity: finding.severity.as_str(),
            pointer: &finding.location.pointer,
        },
    }
}

/// The message names the object, since a file often holds several.
fn message(finding: &Finding) -> String {
    let what = if finding.message.is_empty() {
        &*finding.title
    } else {
        finding.message.as_str()
    };
    format!("{}: {what}", finding.object.display())
}

/// FNV-1a of control, object and pointer: stable across runs and line moves. The key's
/// `/v1` names this recipe; a different recipe needs a new key.
fn fingerprint(finding: &Finding) -> String {
    let o = &finding.object;
    let key = [
        &finding.control_id,
        o.api_version.as_str(),
        o.kind.as_str(),
        o.namespace.as_deref().unwrap_or(""),
        o.name.as_str(),
        finding.location.pointer.as_str(),
    ]
    .join("\u{0}");
    format!("{:016x}", pointer_hash(&key))
}

fn invocation(report: &ScanReport) -> Invocation {
    Invocation {
        execution_successful: report.errors.is_empty(),
        tool_execution_notifications: report
            .errors
            .iter()
            .map(|e| notification(e, "error"))
            .chain(report.notices.iter().map(|n| notification(n, "note")))
            .collect(),
        tool_configuration_notifications: report
            .exceptions
            .iter()
            .map(|e| Notification {
                level: "warning",
                message: OwnedText {
                    text: format!(
                        "{} ({}): {}: {}",
                        e.source, e.control_id, e.status, e.message
                    ),
                },
                locations: Vec::new(),
            })
            .collect(),
    }
}

fn notification(error: &InputError, level: &'static str) -> Notification {
    Notification {
        level,
        message: OwnedText {
            text: error.to_string(),
        },
        locations: vec![NotificationLocation {
            physical_location: physical_location(&error.file, error.line, error.column),
        }],
    }
}

fn physical_location(file: &str, line: Option<u32>, column: Option<u32>) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: artifact_location(file),
        // SARIF lines and columns start at 1; 0 means unknown, so the region is left out.
        region: line.filter(|l| *l > 0).map(|start_line| Region {
            start_line,
            start_column: column.filter(|c| *c > 0),
        }),
    }
}

/// A relative path becomes a URI relative to `%SRCROOT%` (the checkout, for GitHub); an
/// absolute one a `file:` URI.
fn artifact_location(file: &str) -> ArtifactLocation {
    let path = file.replace('\\', "/");
    let drive = path.as_bytes().get(..3).is_some_and(|p| {
        p.first().is_some_and(u8::is_ascii_alphabetic)
            && p.get(1) == Some(&b':')
            && p.get(2) == Some(&b'/')
    });
    if drive {
        let (letter, rest) = path.split_at(2);
        ArtifactLocation {
            uri: format!("file:///{letter}{}", encode(rest)),
            uri_base_id: None,
        }
    } else if let Some(address) = path.strip_prefix("cluster://") {
        // A live object: its API address, already a URI of its own scheme.
        ArtifactLocation {
            uri: format!("cluster://{}", encode(address)),
            uri_base_id: None,
        }
    } else if path.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", encode(&path)),
            uri_base_id: None,
        }
    } else {
        let mut relative = path.as_str();
        while let Some(rest) = relative.strip_prefix("./") {
            relative = rest;
        }
        ArtifactLocation {
            uri: encode(relative),
            uri_base_id: Some("%SRCROOT%"),
        }
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
        assert_eq!(
            rule_name(&meta("hostPath volumes (read-write)")),
            "HostPathVolumesReadWrite"
        );
        assert_eq!(rule_name(&meta(" -- ")), "PAL-101");
    }

    fn uri(file: &str) -> (String, Option<&'static str>) {
        let location = artifact_location(file);
        (location.uri, location.uri_base_id)
    }

    #[test]
    fn paths_become_uris() {
        let root = Some("%SRCROOT%");
        assert_eq!(
            uri("./deploy/web app.yaml"),
            ("deploy/web%20app.yaml".into(), root)
        );
        assert_eq!(uri("k8s\\a:b.yaml"), ("k8s/a%3Ab.yaml".into(), root));
        assert_eq!(
            uri("/srv/k8s/pod.yaml"),
            ("file:///srv/k8s/pod.yaml".into(), None)
        );
        assert_eq!(
            uri("C:\\k8s\\pod.yaml"),
            ("file:///C:/k8s/pod.yaml".into(), None)
        );
        assert_eq!(
            uri("ünï/100%.yaml"),
            ("%C3%BCn%C3%AF/100%25.yaml".into(), root)
        );
    }
}
