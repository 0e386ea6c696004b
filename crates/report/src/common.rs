//! What several formats compute the same way: groupings, labels and escaping.

use palisade_model::{
    ControlMeta, Finding, FrameworkResult, ObjectRef, RequirementStatus, ScanReport, Severity,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// Severities, worst first: the order people read them in.
pub const WORST_FIRST: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

/// Requirement statuses in the order reports list them.
pub const STATUSES: [RequirementStatus; 4] = [
    RequirementStatus::Pass,
    RequirementStatus::Fail,
    RequirementStatus::Manual,
    RequirementStatus::NotApplicable,
];

/// `Critical`, `High`, …: a severity as a heading.
pub fn severity_title(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// Short label of a requirement status.
pub fn status_label(status: RequirementStatus) -> &'static str {
    match status {
        RequirementStatus::Pass => "pass",
        RequirementStatus::Fail => "fail",
        RequirementStatus::Manual => "manual",
        RequirementStatus::NotApplicable => "n/a",
    }
}

/// How many requirements of a framework have `status`.
pub fn status_count(framework: &FrameworkResult, status: RequirementStatus) -> usize {
    framework.counts.get(&status).copied().unwrap_or(0)
}

/// `62.5%`, or `n/a` when nothing was applicable.
pub fn score_text(score: Option<f64>) -> String {
    match score {
        Some(score) if score.is_finite() => format!("{score:.1}%"),
        _ => "n/a".to_string(),
    }
}

/// `one` or `many`, by `count`.
pub fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

/// `file:line`, or the object's address alone when the line is unknown (live objects).
pub fn location(finding: &Finding) -> String {
    match finding.location.line {
        0 => finding.location.file.to_string(),
        line => format!("{}:{line}", finding.location.file),
    }
}

/// What was read: `3 files`, or `cluster prod`.
pub fn scope(summary: &palisade_model::Summary) -> String {
    match &summary.cluster {
        Some(cluster) => format!("cluster {cluster}"),
        None => format!(
            "{} {}",
            summary.files,
            plural(summary.files, "file", "files")
        ),
    }
}

/// Unsuppressed findings of one severity, in report order.
pub fn of_severity(report: &ScanReport, severity: Severity) -> impl Iterator<Item = &Finding> {
    report
        .findings
        .iter()
        .filter(move |f| f.severity == severity)
}

/// Findings by control id, each list in report order.
pub fn by_control(findings: &[Finding]) -> BTreeMap<&str, Vec<&Finding>> {
    let mut map: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        map.entry(&*finding.control_id).or_default().push(finding);
    }
    map
}

/// Findings of one object in one file, in report order.
pub struct ObjectGroup<'a> {
    /// File the object is in.
    pub file: &'a str,
    /// The object.
    pub object: &'a ObjectRef,
    /// Its findings.
    pub findings: Vec<&'a Finding>,
}

impl ObjectGroup<'_> {
    /// The first line any finding points at: the closest the report gets to the object's line.
    pub fn line(&self) -> u32 {
        self.findings
            .iter()
            .map(|f| f.location.line)
            .min()
            .unwrap_or(0)
    }
}

/// Findings grouped by (file, object), groups in order of their first finding.
pub fn by_object<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Vec<ObjectGroup<'a>> {
    let mut index: BTreeMap<(&str, &ObjectRef), usize> = BTreeMap::new();
    let mut groups: Vec<ObjectGroup<'_>> = Vec::new();
    for finding in findings {
        let key = (&*finding.location.file, &*finding.object);
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push(ObjectGroup {
                file: key.0,
                object: key.1,
                findings: Vec::new(),
            });
            groups.len() - 1
        });
        if let Some(group) = groups.get_mut(slot) {
            group.findings.push(finding);
        }
    }
    groups
}

/// Controls to describe: every control that ran, then any control a finding names that the
/// report has no metadata for (so every finding has a control to point at), by id.
pub fn controls(report: &ScanReport) -> Vec<Cow<'_, ControlMeta>> {
    let ids: BTreeSet<&str> = report.controls.iter().map(|c| c.id.as_str()).collect();
    let mut missing: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in report.findings.iter().chain(&report.suppressed) {
        if !ids.contains(&*finding.control_id) {
            missing.entry(&*finding.control_id).or_insert(finding);
        }
    }
    let mut known: Vec<Cow<'_, ControlMeta>> = report.controls.iter().map(Cow::Borrowed).collect();
    known.extend(missing.into_values().map(|f| {
        Cow::Owned(ControlMeta {
            id: f.control_id.to_string(),
            title: f.title.to_string(),
            severity: f.severity,
            category: String::new(),
            rationale: String::new(),
            remediation: String::new(),
            references: Vec::new(),
            kinds: Vec::new(),
        })
    }));
    known
}

/// References that are web addresses.
pub fn urls(control: &ControlMeta) -> impl Iterator<Item = &str> {
    control
        .references
        .iter()
        .map(String::as_str)
        .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
}

/// Escapes text for XML and HTML content and attribute values. Characters XML 1.0 cannot carry
/// at all (most control characters) become U+FFFD, so hostile input still yields a
/// well-formed document.
pub fn escape_markup(text: &str) -> Cow<'_, str> {
    let clean = |c: char| !matches!(c, '&' | '<' | '>' | '"' | '\'') && xml_char(c);
    if text.chars().all(clean) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    Cow::Owned(out)
}

/// Text on one line with no control characters: input names and messages reach a terminal, and
/// an escape sequence in a manifest must not reach it as one.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\n' | '\r' | '\t' => ' ',
                c if c.is_control() => '\u{FFFD}',
                c => c,
            })
            .collect(),
    )
}

/// Whether XML 1.0 allows `c` in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(escape_markup("plain"), "plain");
        assert_eq!(
            escape_markup(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            escape_markup("a\u{0}b\u{1b}c\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(escape_markup("tab\tnew\nline"), "tab\tnew\nline");
    }

    #[test]
    fn one_line_removes_breaks_and_escapes() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        assert_eq!(one_line("red\u{1b}[31m"), "red\u{FFFD}[31m");
        assert_eq!(one_line("plain ünï"), "plain ünï");
    }

    #[test]
    fn scores_read_as_percentages() {
        assert_eq!(score_text(Some(62.5)), "62.5%");
        assert_eq!(score_text(Some(100.0)), "100.0%");
        assert_eq!(score_text(None), "n/a");
        assert_eq!(score_text(Some(f64::NAN)), "n/a");
    }
}
