use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// A compliance framework: a named, versioned list of requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// Stable id used on the command line and in reports (`cis-1.12`).
    pub id: String,
    /// Full name (`CIS Kubernetes Benchmark`).
    pub title: String,
    /// Version of the framework document (`v1.12.0`).
    pub version: String,
    /// Where the framework is published.
    pub url: String,
    /// What the framework is and how Palisade covers it.
    pub description: String,
    /// Every requirement, in the framework's own order.
    pub requirements: Vec<Requirement>,
}

/// One requirement of a framework and the controls that evidence it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Id as the framework numbers it (`5.2.2`, `CC6.1`, `164.312(a)(1)`).
    pub id: String,
    /// Short title.
    pub title: String,
    /// Section of the framework it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Controls whose findings are its evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Needs a person: never judged from objects.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// Where it is judged when not from objects: `node` for control-plane and node settings
    /// that only a node benchmark can read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The only scope the data may name.
const NODE_SCOPE: &str = "node";

impl Requirement {
    /// True when scanning objects cannot judge it, so its status is always Manual.
    pub fn is_manual(&self) -> bool {
        self.manual || self.scope.is_some() || self.controls.is_empty()
    }

    /// Why the requirement is Manual, for people reading a report.
    pub fn manual_reason(&self) -> Option<&'static str> {
        if self.scope.is_some() {
            Some("control-plane or node setting: judged on the nodes, not from objects")
        } else if self.manual {
            Some("needs a person to review")
        } else if self.controls.is_empty() {
            Some("no Palisade control evidences it")
        } else {
            None
        }
    }
}

/// The framework data is invalid: a bug caught by the test suite, never by users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("framework data is invalid: {0}")]
pub struct FrameworkError(pub String);

/// A framework as written in its data file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkFile {
    id: String,
    title: String,
    version: String,
    url: String,
    description: String,
    /// Frameworks whose requirements this one contains, placed first.
    #[serde(default)]
    includes: Vec<String>,
    requirements: Vec<Requirement>,
}

/// Every built-in framework, in the order reports list them. A framework may include only
/// frameworks listed before it.
const FILES: &[(&str, &str)] = &[
    ("cis-1.12.yaml", include_str!("../data/cis-1.12.yaml")),
    (
        "nsa-cisa-1.2.yaml",
        include_str!("../data/nsa-cisa-1.2.yaml"),
    ),
    (
        "pss-baseline.yaml",
        include_str!("../data/pss-baseline.yaml"),
    ),
    (
        "pss-restricted.yaml",
        include_str!("../data/pss-restricted.yaml"),
    ),
    ("soc2.yaml", include_str!("../data/soc2.yaml")),
    ("pci-dss-4.0.yaml", include_str!("../data/pci-dss-4.0.yaml")),
    ("hipaa.yaml", include_str!("../data/hipaa.yaml")),
    ("gdpr.yaml", include_str!("../data/gdpr.yaml")),
    (
        "nist-800-53-r5.yaml",
        include_str!("../data/nist-800-53-r5.yaml"),
    ),
    (
        "mitre-attack-containers.yaml",
        include_str!("../data/mitre-attack-containers.yaml"),
    ),
];

/// Every built-in framework, parsed on first use.
pub fn all() -> Result<&'static [Framework], FrameworkError> {
    static FRAMEWORKS: OnceLock<Result<Vec<Framework>, FrameworkError>> = OnceLock::new();
    FRAMEWORKS
        .get_or_init(|| build(FILES))
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// A built-in framework by id.
pub fn get(id: &str) -> Result<Option<&'static Framework>, FrameworkError> {
    Ok(all()?.iter().find(|f| f.id == id))
}

fn build(files: &[(&str, &str)]) -> Result<Vec<Framework>, FrameworkError> {
    let mut frameworks: Vec<Framework> = Vec::with_capacity(files.len());
    for (file, text) in files {
        let raw = parse(file, text)?;
        if format!("{}.yaml", raw.id) != *file {
            return Err(FrameworkError(format!(
                "{file}: id {} does not match the file name",
                raw.id
            )));
        }
        if frameworks.iter().any(|f| f.id == raw.id) {
            return Err(FrameworkError(format!(
                "{file}: id {} is used twice",
                raw.id
            )));
        }
        let mut requirements = Vec::new();
        for included in &raw.includes {
            let Some(base) = frameworks.iter().find(|f| &f.id == included) else {
                return Err(FrameworkError(format!(
                    "{file}: includes {included}, which is not listed before it"
                )));
            };
            requirements.extend(base.requirements.iter().cloned());
        }
        requirements.extend(raw.requirements);
        let framework = Framework {
            id: raw.id,
            title: raw.title,
            version: raw.version,
            url: raw.url,
            description: raw.description,
            requirements,
        };
        validate(file, &framework)?;
        frameworks.push(framework);
    }
    Ok(frameworks)
}

fn parse(file: &str, text: &str) -> Result<FrameworkFile, FrameworkError> {
    let parsed = palisade_loader::parse(text, palisade_loader::Limits::default());
    if let Some(e) = parsed.error {
        return Err(FrameworkError(format!("{file}: {e}")));
    }
    let Some(doc) = parsed.documents.into_iter().next() else {
        return Err(FrameworkError(format!("{file}: no framework in the file")));
    };
    serde_json::from_value(doc.value).map_err(|e| FrameworkError(format!("{file}: {e}")))
}

fn validate(file: &str, framework: &Framework) -> Result<(), FrameworkError> {
    let fail = |message: String| Err(FrameworkError(format!("{file}: {message}")));
    for (name, value) in [
        ("title", &framework.title),
        ("version", &framework.version),
        ("url", &framework.url),
        ("description", &framework.description),
    ] {
        if value.trim().is_empty() {
            return fail(format!("{name} is empty"));
        }
    }
    if framework.requirements.is_empty() {
        return fail("no requirements".to_string());
    }
    let mut ids = BTreeSet::new();
    for req in &framework.requirements {
        if req.id.trim().is_empty() || req.title.trim().is_empty() {
            return fail(format!("requirement {:?} has no id or no title", req.id));
        }
        if !ids.insert(req.id.as_str()) {
            return fail(format!("requirement {} is listed twice", req.id));
        }
        if let Some(scope) = &req.scope {
            if scope != NODE_SCOPE {
                return fail(format!(
                    "requirement {}: unknown scope {scope:?} (expected {NODE_SCOPE:?})",
                    req.id
                ));
            }
            if req.manual {
                return fail(format!(
                    "requirement {}: set either manual or scope, not both",
                    req.id
                ));
            }
        }
        let mut controls = BTreeSet::new();
        for control in &req.controls {
            if !is_control_id(control) {
                return fail(format!(
                    "requirement {}: {control:?} is not a control id (PAL-NNN)",
                    req.id
                ));
            }
            if !controls.insert(control.as_str()) {
                return fail(format!(
                    "requirement {}: control {control} is listed twice",
                    req.id
                ));
            }
        }
    }
    Ok(())
}

fn is_control_id(id: &str) -> bool {
    id.strip_prefix("PAL-")
        .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "id: a\ntitle: A\nversion: v1\nurl: https://example.org\ndescription: d\nrequirements:\n  - id: '1'\n    title: One\n    controls: [PAL-101]\n";

    fn build_one(text: &str) -> Result<Vec<Framework>, FrameworkError> {
        build(&[("a.yaml", text)])
    }

    #[test]
    fn minimal_framework_builds() {
        let built = build_one(MINIMAL).unwrap();
        let req = &built[0].requirements[0];
        assert_eq!(req.controls, ["PAL-101"]);
        assert!(!req.is_manual());
        assert_eq!(req.manual_reason(), None);
    }

    #[test]
    fn includes_put_the_base_requirements_first() {
        let derived = "id: b\ntitle: B\nversion: v1\nurl: https://example.org\ndescription: d\nincludes: [a]\nrequirements:\n  - id: '2'\n    title: Two\n    manual: true\n";
        let built = build(&[("a.yaml", MINIMAL), ("b.yaml", derived)]).unwrap();
        let ids: Vec<&str> = built[1]
            .requirements
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, ["1", "2"]);
        assert!(built[1].requirements[1].is_manual());

        let err = build(&[("b.yaml", derived), ("a.yaml", MINIMAL)]).unwrap_err();
        assert!(err.0.contains("not listed before it"), "{err}");
    }

    #[test]
    fn invalid_data_is_rejected_with_the_file_named() {
        let cases = [
            (MINIMAL.replace("id: a\n", "id: b\n"), "does not match"),
            (MINIMAL.replace("PAL-101", "PAL-1x1"), "not a control id"),
            (MINIMAL.replace("[PAL-101]", "[PAL-101, PAL-101]"), "twice"),
            (
                format!("{MINIMAL}  - id: '1'\n    title: Again\n"),
                "listed twice",
            ),
            (format!("{MINIMAL}    scope: cloud\n"), "unknown scope"),
            (
                format!("{MINIMAL}    scope: node\n    manual: true\n"),
                "not both",
            ),
            (format!("{MINIMAL}    typo: 1\n"), "unknown field"),
            (MINIMAL.replace("title: One", "title: ''"), "no title"),
            ("id: a\n".to_string(), "missing field"),
            ("".to_string(), "no framework"),
            ("id: [a\n".to_string(), "a.yaml"),
        ];
        for (text, expected) in cases {
            let err = build_one(&text).unwrap_err();
            assert!(err.0.starts_with("a.yaml"), "{err}");
            assert!(err.0.contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn manual_reasons() {
        let mut req = build_one(MINIMAL).unwrap()[0].requirements[0].clone();
        req.manual = true;
        assert!(req.is_manual());
        assert_eq!(req.manual_reason(), Some("needs a person to review"));
        req.manual = false;
        req.scope = Some("node".to_string());
        assert!(req.manual_reason().unwrap().contains("node"));
        req.scope = None;
        req.controls.clear();
        assert!(req.is_manual());
        assert!(req.manual_reason().unwrap().contains("no Palisade control"));
    }
}
