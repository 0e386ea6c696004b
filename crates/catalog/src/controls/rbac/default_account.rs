//! PAL-621: bindings that grant a role to a namespace's `default` ServiceAccount (CIS 5.1.5),
//! which every pod of the namespace that names no ServiceAccount runs as. None of the API
//! server's own bootstrap bindings does, so nothing is exempt.

use super::subjects::{role_ref, subjects};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-621",
    target: Target::Kinds(&["ClusterRoleBinding", "RoleBinding"]),
    check,
};

const DEFAULT: &str = "default";

/// The username the API server gives a ServiceAccount's tokens.
const USER_PREFIX: &str = "system:serviceaccount:";

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let role = role_ref(object).map_or_else(|| "its role".to_string(), |r| r.label());
    let scope = match object.kind() {
        "RoleBinding" => format!("in namespace {:?}", object.effective_namespace()),
        _ => "across the cluster".to_string(),
    };
    for subject in subjects(object) {
        let namespace = match subject.kind {
            "ServiceAccount" if subject.name == DEFAULT => {
                // A RoleBinding's ServiceAccount subject without a namespace is in the
                // binding's own.
                let written = object
                    .at(&format!("{}/namespace", subject.pointer()))
                    .and_then(Value::as_str)
                    .filter(|ns| !ns.is_empty());
                match (written, object.kind()) {
                    (Some(ns), _) => ns,
                    (None, "RoleBinding") => object.effective_namespace(),
                    (None, _) => "",
                }
            }
            "User" => match subject
                .name
                .strip_prefix(USER_PREFIX)
                .and_then(|rest| rest.split_once(':'))
            {
                Some((ns, DEFAULT)) => ns,
                _ => continue,
            },
            _ => continue,
        };
        let account = if namespace.is_empty() {
            "the default ServiceAccount".to_string()
        } else {
            format!("the default ServiceAccount of namespace {namespace:?}")
        };
        hits.push(
            subject.pointer(),
            format!(
                "grants {role} {scope} to {account}, which every pod of that namespace runs \
                 as unless it names another ServiceAccount"
            ),
        );
    }
}
