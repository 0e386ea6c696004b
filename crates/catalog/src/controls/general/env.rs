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
            let mut scanned = ctx.of_kind_in(r.kind, namespace).peekable();
            // Judge only what is visible: no object of that kind here says nothing.
            if scanned.peek().is_none() {
                continue;
            }
            let target = scanned.find(|o| o.name() == r.name);
            match target {
                None if !provided_elsewhere(ctx, namespace, r.kind, r.name) => hits.push(
                    c.field(&format!("{}/name", r.pointer)),
                    format!(
                        "{} reads {} {:?}, which is not among the scanned {}s of its namespace; the container cannot start without it",
                        c.label(),
                        r.kind,
                        r.name,
                        r.kind
                    ),
                ),
                Some(target) => {
                    if let Some(key) = r.key.filter(|k| !has_key(target, r.kind, k)) {
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
                None => {}
            }
        }
    }
}

/// Does a ConfigMap or Secret hold a key? Secrets whose data a controller fills in (service
/// account tokens) are taken to hold any key.
fn has_key(object: &Object, kind: &str, key: &str) -> bool {
    let in_map = |field: &str| {
        object
            .at(&format!("/{field}"))
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(key))
    };
    match kind {
        "Secret" => {
            object.at("/type").and_then(Value::as_str)
                == Some("kubernetes.io/service-account-token")
                || in_map("data")
                || in_map("stringData")
        }
        _ => in_map("data") || in_map("binaryData"),
    }
}

fn str_at<'a>(object: &'a Object, pointer: &str) -> Option<&'a str> {
    object.at(pointer).and_then(Value::as_str)
}

/// Secrets that operators create at run time from other scanned objects: a Bitnami
/// SealedSecret, an External Secrets ExternalSecret, a cert-manager Certificate.
fn provided_elsewhere(ctx: &Context<'_>, namespace: &str, kind: &str, name: &str) -> bool {
    if kind != "Secret" {
        return false;
    }
    let sealed = ctx
        .of_kind_in("SealedSecret", namespace)
        .any(|o| o.name() == name);
    let external = ctx
        .of_kind_in("ExternalSecret", namespace)
        .any(|o| str_at(o, "/spec/target/name").unwrap_or(o.name()) == name);
    let certificate = ctx
        .of_kind_in("Certificate", namespace)
        .any(|o| str_at(o, "/spec/secretName") == Some(name));
    sealed || external || certificate
}
