//! Secrets and environment variables: Secrets consumed as variables (PAL-801, CIS 5.4.1) and
//! credentials written into the manifest as variable values (PAL-802).

use super::names::is_sensitive_name;
use super::values::{credential_in, is_literal};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const FROM_SECRET: Rule = Rule {
    id: "PAL-801",
    target: Target::Workload,
    check: from_secret,
};

pub const LITERAL: Rule = Rule {
    id: "PAL-802",
    target: Target::Workload,
    check: literal,
};

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("?")
}

fn from_secret(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        for (i, env) in items(c.get("env")) {
            if let Some(reference) = env.get("valueFrom").and_then(|v| v.get("secretKeyRef")) {
                hits.push(
                    c.field(&format!("/env/{i}/valueFrom/secretKeyRef")),
                    format!(
                        "{} reads key {:?} of Secret {:?} into environment variable {}",
                        c.label(),
                        text(reference, "/key"),
                        text(reference, "/name"),
                        text(env, "/name"),
                    ),
                );
            }
        }
        for (i, source) in items(c.get("envFrom")) {
            if let Some(reference) = source.get("secretRef") {
                hits.push(
                    c.field(&format!("/envFrom/{i}/secretRef")),
                    format!(
                        "{} loads every key of Secret {:?} into environment variables",
                        c.label(),
                        text(reference, "/name"),
                    ),
                );
            }
        }
    }
}

fn literal(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        for (i, env) in items(c.get("env")) {
            let name = text(env, "/name");
            let Some(value) = env.get("value").and_then(Value::as_str) else {
                continue;
            };
            let what = match credential_in(value) {
                Some(kind) => format!("a literal value containing {kind}"),
                None if is_sensitive_name(name) && is_literal(value) => {
                    "a literal value; its name says it is a credential".to_string()
                }
                None => continue,
            };
            hits.push(
                c.field(&format!("/env/{i}/value")),
                format!("{} sets environment variable {name} to {what}", c.label()),
            );
        }
    }
}
