//! The admission policy file: which controls and policies act, how (deny, warn, audit), on
//! what, with which exemptions, plus image rules and mutations. One YAML document:
//!
//! ```yaml
//! apiVersion: admission.palisade.dev/v1alpha1
//! kind: AdmissionConfiguration
//! rules:                      # first match wins
//! - controls: [framework:pss-baseline]
//!   action: deny
//! - controls: ["PAL-4*"]
//!   action: warn
//!   namespaces: [shop, "team-*"]
//! defaultAction: warn         # built-in controls no rule matches
//! exemptions:
//! - namespaces: [monitoring]
//!   controls: [PAL-104]
//!   reason: node-exporter reads host PID by design
//! images: {allowedRegistries: [ghcr.io/acme], disallowLatest: true, action: deny}
//! mutations: {seccompRuntimeDefault: true}
//! policies: [policies/]       # Gatekeeper and VAP files, relative to this file
//! ```

use crate::images::ImageRules;
use crate::mutate::Mutations;
use globset::{Glob, GlobMatcher};
use palisade_policy::LabelSelector;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The `apiVersion` of the file.
pub const API_VERSION: &str = "admission.palisade.dev/v1alpha1";
/// The `kind` of the file.
pub const KIND: &str = "AdmissionConfiguration";

/// What happens to a request a control or policy finds a problem in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Refuse the request; the message names the control, the field and the fix.
    Deny,
    /// Allow it, with a warning the client shows (`kubectl` prints it).
    Warn,
    /// Allow it silently; recorded in the audit annotations and metrics only.
    Audit,
    /// Not evaluated.
    Off,
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // YAML 1.1, as Kubernetes reads it, turns an unquoted `off` into false.
        match Value::deserialize(deserializer)? {
            Value::Bool(false) => Ok(Action::Off),
            Value::String(s) => match s.as_str() {
                "deny" => Ok(Action::Deny),
                "warn" => Ok(Action::Warn),
                "audit" => Ok(Action::Audit),
                "off" => Ok(Action::Off),
                other => Err(serde::de::Error::custom(format!(
                    "unknown action `{other}`, expected deny, warn, audit or off"
                ))),
            },
            other => Err(serde::de::Error::custom(format!(
                "an action is deny, warn, audit or off, not {other}"
            ))),
        }
    }
}

impl Action {
    /// `deny`, `warn`, `audit`, `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Audit => "audit",
            Action::Off => "off",
        }
    }
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    rules: Vec<RuleSpec>,
    #[serde(default)]
    default_action: Option<Action>,
    #[serde(default)]
    exemptions: Vec<ExemptionSpec>,
    #[serde(default)]
    images: Option<ImageSpec>,
    #[serde(default)]
    mutations: Mutations,
    #[serde(default)]
    policies: Vec<PathBuf>,
    #[serde(default)]
    allow_existing_violations: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RuleSpec {
    controls: Vec<String>,
    action: Action,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    excluded_namespaces: Vec<String>,
    #[serde(default)]
    object_selector: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExemptionSpec {
    #[serde(default)]
    controls: Vec<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    object_selector: Option<Value>,
    reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ImageSpec {
    #[serde(flatten)]
    rules: ImageRules,
    #[serde(default = "deny")]
    action: Action,
}

fn deny() -> Action {
    Action::Deny
}

/// Which controls an entry names: ids and globs of ids (`PAL-1*`, `K8sRequiredLabels/*`),
/// `framework:ID` for the controls a framework maps, `*` for all.
#[derive(Debug, Clone)]
pub struct ControlSet {
    globs: Vec<GlobMatcher>,
    frameworks: Vec<&'static palisade_frameworks::Framework>,
}

impl ControlSet {
    fn read(entries: &[String], at: &str) -> Result<ControlSet, ConfigError> {
        let mut set = ControlSet {
            globs: Vec::new(),
            frameworks: Vec::new(),
        };
        for entry in entries {
            if let Some(id) = entry.strip_prefix("framework:") {
                let framework = palisade_frameworks::get(id)
                    .map_err(|e| ConfigError::new(format!("{at}: {e}")))?
                    .ok_or_else(|| {
                        ConfigError::new(format!(
                            "{at}: no framework {id:?} (see `palisade frameworks list`)"
                        ))
                    })?;
                set.frameworks.push(framework);
            } else {
                let glob = Glob::new(entry)
                    .map_err(|e| ConfigError::new(format!("{at}: {entry:?}: {e}")))?;
                set.globs.push(glob.compile_matcher());
            }
        }
        Ok(set)
    }

    /// Every control.
    fn all() -> ControlSet {
        ControlSet::read(&["*".to_string()], "").unwrap_or(ControlSet {
            globs: Vec::new(),
            frameworks: Vec::new(),
        })
    }

    /// True when the entry names this control.
    pub fn contains(&self, id: &str) -> bool {
        self.globs.iter().any(|g| g.is_match(id))
            || self.frameworks.iter().any(|f| {
                f.requirements
                    .iter()
                    .any(|r| r.controls.iter().any(|c| c == id))
            })
    }
}

/// Namespaces, as globs; empty includes all.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    include: Vec<GlobMatcher>,
    exclude: Vec<GlobMatcher>,
}

impl Namespaces {
    fn read(include: &[String], exclude: &[String], at: &str) -> Result<Namespaces, ConfigError> {
        let compile = |list: &[String]| -> Result<Vec<GlobMatcher>, ConfigError> {
            list.iter()
                .map(|p| {
                    Glob::new(p)
                        .map(|g| g.compile_matcher())
                        .map_err(|e| ConfigError::new(format!("{at}: namespace {p:?}: {e}")))
                })
                .collect()
        };
        Ok(Namespaces {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    /// True for a namespace in scope (`""` for cluster-scoped objects).
    pub fn contains(&self, namespace: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|g| g.is_match(namespace)))
            && !self.exclude.iter().any(|g| g.is_match(namespace))
    }
}

/// One rule: for these controls, on these objects, this action.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The controls.
    pub controls: ControlSet,
    /// The action.
    pub action: Action,
    /// Where it applies.
    pub namespaces: Namespaces,
    /// Which objects, by their labels.
    pub object_selector: LabelSelector,
}

/// Requests that no finding of these controls stops.
#[derive(Debug, Clone)]
pub struct Exemption {
    /// Controls (all when none are named).
    pub controls: ControlSet,
    /// Namespaces (all when none are named).
    pub namespaces: Namespaces,
    /// Requesting users, globs (`system:serviceaccount:argo:*`).
    pub users: Vec<GlobMatcher>,
    /// Requesting groups, globs.
    pub groups: Vec<GlobMatcher>,
    /// Objects by their labels.
    pub object_selector: LabelSelector,
    /// Why: recorded with every request it exempts.
    pub reason: String,
}

/// Image rules and what a violation does.
#[derive(Debug, Clone)]
pub struct Images {
    /// The rules.
    pub rules: ImageRules,
    /// Deny by default.
    pub action: Action,
}

/// The admission configuration, checked and compiled.
#[derive(Debug, Clone)]
pub struct AdmissionConfig {
    /// First match wins.
    pub rules: Vec<Rule>,
    /// For built-in controls no rule names. Users' policies keep their own action
    /// (Gatekeeper `enforcementAction`, VAP binding `validationActions`) unless a rule names them.
    pub default_action: Action,
    /// Exemptions.
    pub exemptions: Vec<Exemption>,
    /// Image rules.
    pub images: Option<Images>,
    /// Mutations of the `/mutate` endpoint.
    pub mutations: Mutations,
    /// Gatekeeper and VAP files, resolved against the file's directory.
    pub policies: Vec<PathBuf>,
    /// On UPDATE, a problem the old object had already is a warning, not a denial: an
    /// existing object can still be scaled or fixed one problem at a time.
    pub allow_existing_violations: bool,
    /// Where it was read from (`built-in default` without a file).
    pub origin: String,
}

/// A policy file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// What and where.
    pub message: String,
}

impl ConfigError {
    fn new(message: String) -> ConfigError {
        ConfigError { message }
    }
}

impl AdmissionConfig {
    /// The documented default: deny what violates Pod Security Standards baseline, warn on
    /// restricted and on every other control.
    pub fn default_policy() -> AdmissionConfig {
        let rule = |framework: &str, action| Rule {
            controls: ControlSet::read(&[format!("framework:{framework}")], "default")
                .unwrap_or_else(|_| ControlSet::all()),
            action,
            namespaces: Namespaces::default(),
            object_selector: LabelSelector::default(),
        };
        AdmissionConfig {
            rules: vec![
                rule("pss-baseline", Action::Deny),
                rule("pss-restricted", Action::Warn),
            ],
            default_action: Action::Warn,
            exemptions: Vec::new(),
            images: None,
            mutations: Mutations::default(),
            policies: Vec::new(),
            allow_existing_violations: true,
            origin: "built-in default".to_string(),
        }
    }

    /// Reads a policy file.
    pub fn read(path: &Path) -> Result<AdmissionConfig, ConfigError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ConfigError::new(format!("{name}: {e}")))?;
        let loaded =
            palisade_loader::load_bytes(&name, bytes, &palisade_loader::Options::default());
        if let Some(error) = loaded.errors.first() {
            return Err(ConfigError::new(error.to_string()));
        }
        let [object] = loaded.objects.as_slice() else {
            return Err(ConfigError::new(format!(
                "{name}: expected one {KIND} document, found {} objects",
                loaded.objects.len()
            )));
        };
        let at = |pointer: &str| format!("{name}:{}", object.line_of(pointer));
        let file: File = serde_json::from_value(object.value.clone())
            .map_err(|e| ConfigError::new(format!("{}: {e}", at(""))))?;
        if file.api_version != API_VERSION || file.kind != KIND {
            return Err(ConfigError::new(format!(
                "{}: expected apiVersion {API_VERSION} and kind {KIND}, found {} {}",
                at("/kind"),
                file.api_version,
                file.kind
            )));
        }
        let _ = file.metadata;
        let base = path.parent().unwrap_or(Path::new("."));
        let rules = file
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let here = at(&format!("/rules/{i}"));
                if r.controls.is_empty() {
                    return Err(ConfigError::new(format!("{here}: rule names no controls")));
                }
                Ok(Rule {
                    controls: ControlSet::read(&r.controls, &here)?,
                    action: r.action,
                    namespaces: Namespaces::read(&r.namespaces, &r.excluded_namespaces, &here)?,
                    object_selector: selector(r.object_selector.as_ref(), &here)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let exemptions = file
            .exemptions
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let here = at(&format!("/exemptions/{i}"));
                if e.reason.trim().is_empty() {
                    return Err(ConfigError::new(format!(
                        "{here}: an exemption needs a reason"
                    )));
                }
                let controls = if e.controls.is_empty() {
                    ControlSet::all()
                } else {
                    ControlSet::read(&e.controls, &here)?
                };
                Ok(Exemption {
                    controls,
                    namespaces: Namespaces::read(&e.namespaces, &[], &here)?,
                    users: globs(&e.users, &here)?,
                    groups: globs(&e.groups, &here)?,
                    object_selector: selector(e.object_selector.as_ref(), &here)?,
                    reason: e.reason.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let images = file.images.map(|i| Images {
            rules: i.rules,
            action: i.action,
        });
        if let Some(images) = &images {
            images
                .rules
                .compile()
                .map_err(|e| ConfigError::new(format!("{}: {e}", at("/images"))))?;
        }
        Ok(AdmissionConfig {
            rules,
            default_action: file.default_action.unwrap_or(Action::Warn),
            exemptions,
            images,
            mutations: file.mutations,
            policies: file.policies.iter().map(|p| base.join(p)).collect(),
            allow_existing_violations: file.allow_existing_violations.unwrap_or(true),
            origin: name,
        })
    }
}

fn selector(value: Option<&Value>, at: &str) -> Result<LabelSelector, ConfigError> {
    value
        .map(LabelSelector::read)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| ConfigError::new(format!("{at}: objectSelector: {e}")))
}

fn globs(patterns: &[String], at: &str) -> Result<Vec<GlobMatcher>, ConfigError> {
    patterns
        .iter()
        .map(|p| {
            Glob::new(p)
                .map(|g| g.compile_matcher())
                .map_err(|e| ConfigError::new(format!("{at}: {p:?}: {e}")))
        })
        .collect()
}
