use crate::context::Context;
use crate::controls;
use crate::hits::Hits;
use palisade_model::{ControlMeta, Object};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Which objects a rule inspects.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Every kind with a pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
    /// ReplicationController, Job, CronJob, PodTemplate).
    Workload,
    /// These kinds.
    Kinds(&'static [&'static str]),
    /// Every namespaced object, custom resources included.
    Namespaced,
    /// Every object.
    Any,
}

impl Target {
    /// True if the rule should look at this object.
    pub fn applies(&self, object: &Object) -> bool {
        match self {
            Target::Workload => object.is_workload(),
            Target::Kinds(kinds) => kinds.contains(&object.kind()),
            Target::Namespaced => is_namespaced(object),
            Target::Any => true,
        }
    }
}

/// Built-in kinds are known; for the core group, only its namespaced kinds count (a kind such
/// as the scheduler's `Policy` file is not an API object). Tool configuration files that look
/// like objects (`*.config.k8s.io`, Skaffold) are not namespaced objects either. For custom
/// resources, a `Cluster` prefix is the convention (ClusterIssuer, ClusterPolicy), everything
/// else is namespaced, which is the CRD default.
fn is_namespaced(object: &Object) -> bool {
    const CORE_NAMESPACED: &[&str] = &[
        "Pod",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Endpoints",
        "PersistentVolumeClaim",
        "ReplicationController",
        "LimitRange",
        "ResourceQuota",
        "Event",
        "PodTemplate",
        "Binding",
    ];
    let (kind, group) = (object.kind(), object.api_group());
    if kind.is_empty() || palisade_model::is_cluster_scoped(kind) {
        return false;
    }
    if group.is_empty() {
        return CORE_NAMESPACED.contains(&kind);
    }
    let tool_config = group.ends_with("config.k8s.io")
        || group.ends_with("config.kubernetes.io")
        || group.starts_with("skaffold");
    // Gatekeeper constraints are cluster-scoped whatever their kind.
    let constraint = group == "constraints.gatekeeper.sh";
    !tool_config && !constraint && !kind.starts_with("Cluster")
}

/// The logic half of a control.
#[derive(Debug)]
pub struct Rule {
    /// Control id; joins the rule to its metadata.
    pub id: &'static str,
    /// Objects it inspects.
    pub target: Target,
    /// Reports each failure on one object. Must not panic on any input.
    pub check: fn(&Object, &Context<'_>, &mut Hits),
}

/// A control: metadata plus logic.
#[derive(Debug)]
pub struct Control {
    /// Reviewed metadata.
    pub meta: ControlMeta,
    /// Logic.
    pub rule: &'static Rule,
}

/// Every built-in control, by id.
#[derive(Debug)]
pub struct Catalog {
    controls: BTreeMap<String, Control>,
}

/// The catalog's data and code disagree: a bug caught by the test suite, never by users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("control catalog is inconsistent: {0}")]
pub struct CatalogError(pub String);

struct Group {
    file: &'static str,
    data: &'static str,
    rules: &'static [Rule],
}

const GROUPS: &[Group] = &[
    Group {
        file: "pss-baseline.yaml",
        data: include_str!("../data/controls/pss-baseline.yaml"),
        rules: controls::pss_baseline::RULES,
    },
    Group {
        file: "pss-restricted.yaml",
        data: include_str!("../data/controls/pss-restricted.yaml"),
        rules: controls::pss_restricted::RULES,
    },
    Group {
        file: "hardening.yaml",
        data: include_str!("../data/controls/hardening.yaml"),
        rules: controls::hardening::RULES,
    },
    Group {
        file: "images.yaml",
        data: include_str!("../data/controls/images.yaml"),
        rules: controls::images::RULES,
    },
    Group {
        file: "reliability.yaml",
        data: include_str!("../data/controls/reliability.yaml"),
        rules: controls::reliability::RULES,
    },
    Group {
        file: "rbac.yaml",
        data: include_str!("../data/controls/rbac.yaml"),
        rules: controls::rbac::RULES,
    },
    Group {
        file: "network.yaml",
        data: include_str!("../data/controls/network.yaml"),
        rules: controls::network::RULES,
    },
    Group {
        file: "secrets.yaml",
        data: include_str!("../data/controls/secrets.yaml"),
        rules: controls::secrets::RULES,
    },
    Group {
        file: "general.yaml",
        data: include_str!("../data/controls/general.yaml"),
        rules: controls::general::RULES,
    },
];

impl Catalog {
    fn build() -> Result<Catalog, CatalogError> {
        let mut controls = BTreeMap::new();
        for group in GROUPS {
            let metas = parse_metadata(group.file, group.data)?;
            let mut rules: BTreeMap<&str, &'static Rule> = BTreeMap::new();
            for rule in group.rules {
                if rules.insert(rule.id, rule).is_some() {
                    return Err(CatalogError(format!(
                        "rule {} is registered twice",
                        rule.id
                    )));
                }
            }
            for meta in metas {
                let rule = rules.remove(meta.id.as_str()).ok_or_else(|| {
                    CatalogError(format!(
                        "{}: {} has metadata but no rule",
                        group.file, meta.id
                    ))
                })?;
                let id = meta.id.clone();
                if controls
                    .insert(id.clone(), Control { meta, rule })
                    .is_some()
                {
                    return Err(CatalogError(format!("control {id} is defined twice")));
                }
            }
            if let Some(id) = rules.keys().next() {
                return Err(CatalogError(format!(
                    "{}: rule {id} has no metadata",
                    group.file
                )));
            }
        }
        Ok(Catalog { controls })
    }

    /// A control by id.
    pub fn get(&self, id: &str) -> Option<&Control> {
        self.controls.get(id)
    }

    /// Every control, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Control> {
        self.controls.values()
    }

    /// Number of controls.
    pub fn len(&self) -> usize {
        self.controls.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.controls.is_empty()
    }
}

fn parse_metadata(file: &str, text: &str) -> Result<Vec<ControlMeta>, CatalogError> {
    let parsed = palisade_loader::parse(text, palisade_loader::Limits::default());
    if let Some(e) = parsed.error {
        return Err(CatalogError(format!("{file}: {e}")));
    }
    let Some(doc) = parsed.documents.into_iter().next() else {
        return Ok(Vec::new());
    };
    serde_json::from_value(doc.value).map_err(|e| CatalogError(format!("{file}: {e}")))
}

/// The built-in catalog, built on first use.
pub fn catalog() -> Result<&'static Catalog, CatalogError> {
    static CATALOG: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();
    CATALOG
        .get_or_init(Catalog::build)
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_means_a_namespaced_api_object() {
        let object = |api: &str, kind: &str| {
            palisade_model::Object::new(
                serde_json::json!({"apiVersion": api, "kind": kind}),
                palisade_model::Source::file("x.yaml", 1),
                palisade_model::Positions::default(),
            )
        };
        assert!(is_namespaced(&object("v1", "Pod")));
        assert!(is_namespaced(&object(
            "monitoring.coreos.com/v1",
            "ServiceMonitor"
        )));
        assert!(!is_namespaced(&object(
            "cert-manager.io/v1",
            "ClusterIssuer"
        )));
        assert!(!is_namespaced(&object("v1", "Policy")));
        assert!(!is_namespaced(&object("skaffold/v2beta26", "Config")));
        assert!(!is_namespaced(&object(
            "kubescheduler.config.k8s.io/v1",
            "KubeSchedulerConfiguration"
        )));
        assert!(!is_namespaced(&object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole"
        )));
    }

    #[test]
    fn catalog_is_consistent() {
        let catalog = catalog().unwrap();
        for control in catalog.iter() {
            let m = &control.meta;
            assert!(m.id.starts_with("PAL-"), "{}", m.id);
            assert!(!m.title.is_empty(), "{} has no title", m.id);
            assert!(!m.rationale.trim().is_empty(), "{} has no rationale", m.id);
            assert!(
                !m.remediation.trim().is_empty(),
                "{} has no remediation",
                m.id
            );
            assert!(!m.references.is_empty(), "{} has no references", m.id);
            assert!(!m.category.is_empty(), "{} has no category", m.id);
        }
    }
}
