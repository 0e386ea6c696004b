//! PAL-908, PAL-909: environment variables of containers.

use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::{ContainerRef, Object};
use serde_json::Value;
use std::collections::HashMap;

pub const DUPLICATE: Rule = Rule {
    id: "PAL-908",
    target: Target::Workload,
    check: duplicate,
};

pub const MISSING_SOURCE: Rule = Rule {
    id: "PAL-909",
    target: Target::Workload,
    check: missing_source,
};

fn duplicate(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, var) in items(c.get("env")) {
            let Some(name) = var.get("name").and_then(Value::as_str) else {
                continue;
            };
            if let Some(earlier) = first.get(name) {
                hits.push(
                    c.field(&format!("/env/{i}/name")),
                    format!(
                        "{} sets environment variable {name:?} twice (env[{earlier}] and env[{i}]); only the last value takes effect",
                        c.label()
                    ),
                );
            } else {
                first.insert(name, i);
            }
        }
    }
}

/// A reference to a ConfigMap or Secret from a container's environment.
struct Reference<'a> {
    kind: &'static str,
    name: &'a str,
    key: Option<&'a str>,
    /// Relative pointer of the reference object (`/env/0/valueFrom/configMapKeyRef`).
    pointer: String,
}

fn references<'a>(c: &ContainerRef<'a>) -> Vec<Reference<'a>> {
    let mut found = Vec::new();
    let mut add = |kind, value: &'a Value, pointer: String, with_key: bool| {
        if value.get("optional").and_then(Value::as_bool) == Some(true) {
            return;
        }
        let Some(name) = value.get("name").and_then(Value::as_str) else {
            return;
        };
        let key = if with_key {
            value.get("key").and_then(Value::as_str)
        } else {
            None
        };
        found.push(Reference {
            kind,
            name,
            key,
            pointer,
        });
    };
    for (i, var) in items(c.get("env")) {
        for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
            if let Some(r) = var.get("valueFrom").and_then(|v| v.get(field)) {
                add(kind, r, format!("/env/{i}/valueFrom/{field}"), true);
            }
        }
    }
    for (i, source) in items(c.get("envFrom")) {
        for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
            if let Some(r) = source.get(field) {
                add(kind, r, format!("/envFrom/{i}/{field}"), false);
            }
        }
    }
    found
}

fn missing_source(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let namespace = object.effective_namespace();
    for c in object.containers() {
        for r in references(&c) {
            // Judge only what is visible: no object of that kind here says nothing.
            if ctx.of_kind_in(r.kind, namespace).next().is_none() {
                continue;
            }
            match ctx.named(r.kind, namespace, r.name) {
                // Secrets are often, and preferably, kept out of manifests (created by a
                // pipeline, a Job, an operator or an external store), so only a missing
                // ConfigMap is taken for a mistake.
                None if r.kind == "ConfigMap" => hits.push(
                    c.field(&format!("{}/name", r.pointer)),
                    format!(
                        "{} reads ConfigMap {:?}, which is not among the scanned ConfigMaps of its namespace; the container cannot start without it",
                        c.label(),
                        r.name
                    ),
                ),
                None => {}
                Some(target) => {
                    if let Some(key) = r.key.filter(|k| lacks_key(target, r.kind, k)) {
                        hits.push(
                            c.field(&format!("{}/key", r.pointer)),
                            format!(
                                "{} reads key {key:?} of {} {:?}, which has no such key; the container cannot start without it",
                                c.label(),
                                r.kind,
                                r.name
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Does a ConfigMap or Secret that declares data lack a key? Objects declaring no data at
/// all are placeholders filled at run time, and service account token Secrets are filled by
/// the token controller: neither is judged.
fn lacks_key(object: &Object, kind: &str, key: &str) -> bool {
    let fields: &[&str] = match kind {
        "Secret" => {
            if object.at("/type").and_then(Value::as_str)
                == Some("kubernetes.io/service-account-token")
            {
                return false;
            }
            &["data", "stringData"]
        }
        _ => &["data", "binaryData"],
    };
    let maps: Vec<_> = fields
        .iter()
        .filter_map(|f| object.at(&format!("/{f}")).and_then(Value::as_object))
        .filter(|m| !m.is_empty())
        .collect();
    !maps.is_empty() && !maps.iter().any(|m| m.contains_key(key))
}
