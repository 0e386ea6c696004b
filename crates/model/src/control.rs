use crate::severity::Severity;
use serde::{Deserialize, Serialize};

/// What a control is: its metadata, reviewed as data. The logic lives in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMeta {
    /// Stable id, e.g. `PAL-101`.
    pub id: String,
    /// One line saying what must hold, e.g. "Containers must not run privileged".
    pub title: String,
    /// Default severity.
    pub severity: Severity,
    /// Group shown in reports, e.g. "Pod Security Standards (baseline)".
    pub category: String,
    /// Why it matters.
    pub rationale: String,
    /// How to fix it.
    pub remediation: String,
    /// Documents that state the rule (URLs or benchmark section numbers).
    #[serde(default)]
    pub references: Vec<String>,
    /// Kinds the control inspects, for documentation (`Workload` means every kind with a pod
    /// template).
    #[serde(default)]
    pub kinds: Vec<String>,
}
