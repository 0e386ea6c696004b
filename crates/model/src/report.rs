use crate::control::ControlMeta;
use crate::finding::Finding;
use crate::severity::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON report schema (`docs/report-schema.md`). Bumped on any incompatible
/// change; fields may be added within a version.
pub const SCHEMA_VERSION: &str = "1.0";

/// The tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `palisade`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// An input that could not be read, or read only in part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InputError {
    /// File as the user named it.
    pub file: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// What went wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// An exception that needs attention (expired, or matching nothing).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExceptionNotice {
    /// Where the exception is written.
    pub source: String,
    /// The control it names.
    #[serde(rename = "controlId")]
    pub control_id: String,
    /// `expired` or `unused`.
    pub status: String,
    /// Human explanation.
    pub message: String,
}

/// Status of one framework requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequirementStatus {
    /// Every mapped control was evaluated on at least one object and none failed.
    Pass,
    /// At least one mapped control has an unsuppressed finding.
    Fail,
    /// Needs a person (or node access); not judged from objects.
    Manual,
    /// No scanned object is in scope of any mapped control.
    NotApplicable,
}

/// One requirement's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementResult {
    /// Requirement id as the framework numbers it (`5.2.2`, `CC6.1`, `164.312(a)(1)`).
    pub id: String,
    /// Requirement text.
    pub title: String,
    /// Status.
    pub status: RequirementStatus,
    /// Controls mapped to it.
    pub controls: Vec<String>,
    /// Unsuppressed findings that are its evidence.
    #[serde(rename = "findingCount")]
    pub finding_count: usize,
}

/// One framework's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkResult {
    /// Framework id (`cis-1.12`).
    pub id: String,
    /// Full name.
    pub title: String,
    /// Version of the framework document.
    pub version: String,
    /// `100 × passed / (passed + failed)`, rounded to one decimal; `None` when nothing was
    /// applicable.
    pub score: Option<f64>,
    /// Requirement counts by status.
    pub counts: BTreeMap<RequirementStatus, usize>,
    /// Every requirement.
    pub requirements: Vec<RequirementResult>,
}

/// Totals of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// The cluster read (its kubeconfig context, or `in-cluster`), for a live scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Objects scanned.
    pub objects: usize,
    /// Controls that ran.
    pub controls: usize,
    /// Unsuppressed findings.
    pub findings: usize,
    /// Unsuppressed findings by severity (every severity present, zeros included).
    #[serde(rename = "bySeverity")]
    pub by_severity: BTreeMap<Severity, usize>,
    /// Suppressed findings.
    pub suppressed: usize,
    /// Input errors.
    pub errors: usize,
}

/// Everything a scan produced; what every output format renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// [`SCHEMA_VERSION`].
    #[serde(rename = "schemaVersion")]
    pub schema_version: String,
    /// Who wrote it.
    pub tool: Tool,
    /// Totals.
    pub summary: Summary,
    /// Unsuppressed findings, in deterministic order.
    pub findings: Vec<Finding>,
    /// Findings covered by an exception.
    pub suppressed: Vec<Finding>,
    /// Exceptions that are expired or unused.
    pub exceptions: Vec<ExceptionNotice>,
    /// Inputs that could not be read.
    pub errors: Vec<InputError>,
    /// What was left out on purpose, said out loud: documents that are not Kubernetes
    /// objects, Helm charts, duplicate keys.
    pub notices: Vec<InputError>,
    /// Framework scores, for the frameworks asked for.
    pub frameworks: Vec<FrameworkResult>,
    /// Metadata of every control that ran, by id order.
    pub controls: Vec<ControlMeta>,
}

impl ScanReport {
    /// Metadata of a control by id.
    pub fn control(&self, id: &str) -> Option<&ControlMeta> {
        self.controls
            .binary_search_by(|c| c.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.controls.get(i))
    }
}
