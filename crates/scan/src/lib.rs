/*!
The scan pipeline, stage by stage: select controls → evaluate → filter (exceptions) → score
frameworks → report.

# Brief overview

[`scan`] takes what the loader read and [`ScanOptions`] (frameworks, severity, include and
exclude lists, exceptions, today's date) and returns the [`ScanReport`] every output format
renders. Exceptions come from a YAML file ([`Exceptions::parse`]) or from an object's
`ignore.palisade.dev/<CONTROL>` annotation, always with a reason; expired ones stop applying
and are reported.

```
use palisade_scan::{ScanOptions, scan};
let loaded = palisade_loader::load_text("pod.yaml",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  hostPID: true\n  containers: [{name: a, image: nginx}]\n");
let report = scan(&loaded, &ScanOptions::default()).unwrap();
assert!(report.summary.findings > 0);
```
*/

mod date;
mod exceptions;
mod policies;
mod select;

pub use date::today;
pub use exceptions::{ExceptionError, Exceptions};
pub use policies::policy_errors;
pub use select::Selection;

use palisade_catalog::{Control, catalog, evaluate};
use palisade_loader::Loaded;
use palisade_model::{
    ExceptionNotice, Finding, FrameworkResult, InputError, SCHEMA_VERSION, ScanReport, Severity,
    Summary, Tool,
};

/// What to run and how to judge.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Which controls run.
    pub selection: Selection,
    /// Frameworks to score (ids); empty means every framework.
    pub frameworks: Vec<String>,
    /// Exceptions from a file.
    pub exceptions: Option<Exceptions>,
    /// Today, `YYYY-MM-DD`, for exception expiry (defaults to the system date).
    pub today: Option<String>,
    /// Users' Gatekeeper constraints, run over the objects beside the built-in controls.
    pub policies: Option<std::sync::Arc<palisade_policy::PolicySet>>,
}

/// Why a scan could not run at all (bad options; input problems are in the report instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The built-in catalog is inconsistent.
    #[error(transparent)]
    Catalog(#[from] palisade_catalog::CatalogError),
    /// The built-in frameworks are inconsistent.
    #[error("{0}")]
    Frameworks(String),
    /// An option names something that does not exist.
    #[error("{0}")]
    Usage(String),
}

/// Runs the whole pipeline over loaded objects.
pub fn scan(loaded: &Loaded, options: &ScanOptions) -> Result<ScanReport, ScanError> {
    // 1. Select the controls.
    let frameworks = resolve_frameworks(&options.frameworks)?;
    let catalog = catalog()?;
    let controls: Vec<&Control> = options.selection.apply(catalog, &frameworks)?;

    // 2. Evaluate.
    let mut evaluation = evaluate(&loaded.objects, &controls);
    let policy = options
        .policies
        .as_deref()
        .map(|set| policies::evaluate(set, &loaded.objects))
        .unwrap_or_default();
    if !policy.findings.is_empty() {
        evaluation.findings.extend(policy.findings);
        evaluation
            .findings
            .sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }

    let uninspected = uninspected_kinds(&loaded.objects, &evaluation.uninspected);

    // 3. Filter: exceptions from the file and from annotations.
    let today = options.today.clone().unwrap_or_else(today);
    let (findings, suppressed, notices) = exceptions::apply(
        evaluation.findings,
        &loaded.objects,
        options.exceptions.as_ref(),
        &today,
    );

    // 4. Score the frameworks.
    let found = palisade_frameworks::findings_per_control(&findings);
    let framework_results: Vec<FrameworkResult> = frameworks
        .iter()
        .map(|f| palisade_frameworks::score_counts(f, &found, &evaluation.applicable))
        .collect();

    // 5. Assemble the report.
    let mut report = assemble(
        loaded,
        &controls,
        findings,
        suppressed,
        notices,
        framework_results,
    );
    report.notices.extend(uninspected);
    report.notices.sort();
    report.summary.controls += policy.controls.len();
    report.controls.extend(policy.controls);
    if !policy.errors.is_empty() {
        report.errors.extend(policy.errors);
        report.errors.sort();
        report.summary.errors = report.errors.len();
    }
    Ok(report)
}

/// Objects no selected control inspects are not errors (custom resources are normal), but
/// they are said out loud, one notice per kind, at its first object.
fn uninspected_kinds(objects: &[palisade_model::Object], indexes: &[usize]) -> Vec<InputError> {
    let mut kinds: std::collections::BTreeMap<(&str, &str), (usize, &palisade_model::Object)> =
        std::collections::BTreeMap::new();
    for object in indexes.iter().filter_map(|i| objects.get(*i)) {
        kinds
            .entry((object.api_version(), object.kind()))
            .or_insert((0, object))
            .0 += 1;
    }
    kinds
        .into_iter()
        .map(|((api_version, kind), (count, first))| InputError {
            file: first.source.file.to_string(),
            line: Some(first.source.line),
            column: None,
            message: format!(
                "{kind} ({api_version}): no selected control inspects this kind beyond its \
                 metadata; {count} object(s) read"
            ),
        })
        .collect()
}

fn resolve_frameworks(
    ids: &[String],
) -> Result<Vec<&'static palisade_frameworks::Framework>, ScanError> {
    let all = palisade_frameworks::all().map_err(|e| ScanError::Frameworks(e.to_string()))?;
    if ids.is_empty() {
        return Ok(all.iter().collect());
    }
    ids.iter()
        .map(|id| {
            all.iter().find(|f| f.id == *id).ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
                ScanError::Usage(format!(
                    "unknown framework {id:?}; known frameworks: {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

fn assemble(
    loaded: &Loaded,
    controls: &[&Control],
    findings: Vec<Finding>,
    suppressed: Vec<Finding>,
    exceptions: Vec<ExceptionNotice>,
    frameworks: Vec<FrameworkResult>,
) -> ScanReport {
    let mut by_severity = Severity::ALL
        .iter()
        .map(|s| (*s, 0))
        .collect::<std::collections::BTreeMap<_, _>>();
    for f in &findings {
        *by_severity.entry(f.severity).or_default() += 1;
    }
    let mut errors = loaded.errors.clone();
    errors.sort();
    let mut notices = loaded.notices.clone();
    notices.sort();
    let summary = Summary {
        files: loaded.files,
        cluster: None,
        objects: loaded.objects.len(),
        controls: controls.len(),
        findings: findings.len(),
        by_severity,
        suppressed: suppressed.len(),
        errors: errors.len(),
    };
    ScanReport {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool {
            name: "palisade".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        summary,
        findings,
        suppressed,
        exceptions,
        errors,
        notices,
        frameworks,
        controls: controls.iter().map(|c| c.meta.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_no_control_inspects_are_noticed() {
        let loaded = palisade_loader::load_text(
            "mon.yaml",
            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: a, namespace: m}\n---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: b, namespace: m}\n",
        );
        let report = scan(&loaded, &ScanOptions::default()).unwrap();
        let notice = report
            .notices
            .iter()
            .find(|n| n.message.starts_with("ServiceMonitor"))
            .expect("notice");
        assert_eq!(notice.line, Some(1));
        assert!(notice.message.contains("2 object(s)"), "{}", notice.message);
        assert!(report.errors.is_empty());
    }

    #[test]
    fn unknown_framework_is_a_usage_error() {
        let loaded = palisade_loader::load_text("x.yaml", "");
        let options = ScanOptions {
            frameworks: vec!["iso-27001".into()],
            ..ScanOptions::default()
        };
        let err = scan(&loaded, &options).unwrap_err();
        assert!(err.to_string().contains("unknown framework"), "{err}");
    }
}
