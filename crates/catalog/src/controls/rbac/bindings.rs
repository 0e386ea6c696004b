//! Bindings judged by the role they reference, when that role is among the scanned objects:
//! a role that reads Secrets or uses wildcards (PAL-618), a Role that is missing (PAL-619).

use super::access::READ_SECRETS;
use super::policy::{PolicyRule, grants, rules_of};
use super::subjects::{RoleRef, role_ref, subjects};
use crate::registry::{Rule, Target};
use crate::util::{items, selector_matches};
use crate::{Context, Hits};
use palisade_model::Object;

pub const POWERFUL_ROLE: Rule = Rule {
    id: "PAL-618",
    target: Target::Kinds(&["ClusterRoleBinding", "RoleBinding"]),
    check: powerful_role,
};

pub const MISSING_ROLE: Rule = Rule {
    id: "PAL-619",
    target: Target::Kinds(&["RoleBinding"]),
    check: missing_role,
};

/// The Role (same namespace as the binding) or ClusterRole a binding references.
fn referenced<'a>(object: &Object, role: &RoleRef<'_>, ctx: &Context<'a>) -> Option<&'a Object> {
    match role.kind {
        "Role" if object.kind() == "RoleBinding" => {
            ctx.named("Role", object.effective_namespace(), role.name)
        }
        "ClusterRole" => ctx.named_in_any_namespace("ClusterRole", role.name),
        _ => None,
    }
}

/// The rules a role grants: its own and, for an aggregated ClusterRole, those of the scanned
/// ClusterRoles its selectors pick (what the aggregation controller fills in). Each comes
/// with the name of the role it was written in, when that is another one.
fn effective_rules<'a>(
    role: &'a Object,
    ctx: &Context<'a>,
) -> Vec<(Option<&'a str>, PolicyRule<'a>)> {
    let mut rules: Vec<_> = rules_of(role).map(|r| (None, r)).collect();
    let selectors: Vec<_> = items(role.at("/aggregationRule/clusterRoleSelectors"))
        .map(|(_, s)| s)
        .collect();
    if selectors.is_empty() {
        return rules;
    }
    for part in ctx.of_kind("ClusterRole") {
        if std::ptr::eq(part, role) || !selectors.iter().any(|s| selector_matches(s, part.labels()))
        {
            continue;
        }
        rules.extend(rules_of(part).map(|r| (Some(part.name()), r)));
    }
    rules
}

fn powerful_role(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(role) = role_ref(object) else {
        return;
    };
    // Bindings of cluster-admin are PAL-601's.
    if role.is_cluster_role("cluster-admin") {
        return;
    }
    if subjects(object).next().is_none() {
        return;
    }
    let Some(target) = referenced(object, &role, ctx) else {
        return;
    };
    let mut powers = Vec::new();
    for (from, rule) in effective_rules(target, ctx) {
        let prefix = from
            .map(|name| format!("aggregated ClusterRole {name:?} "))
            .unwrap_or_default();
        for grant in grants(&rule, READ_SECRETS) {
            if grant.names.is_empty() {
                powers.push(format!("{prefix}{}", grant.describe(&rule)));
            }
        }
        for field in ["resources", "verbs"] {
            if rule.list(field).any(|(_, s)| s == "*") {
                powers.push(format!("{prefix}{} uses \"*\" in {field}", rule.label()));
            }
        }
    }
    if !powers.is_empty() {
        let who: Vec<String> = subjects(object).map(|s| s.label()).collect();
        hits.push(
            "/roleRef/name",
            format!(
                "binds {} to {}: {}",
                who.join(", "),
                role.label(),
                powers.join("; ")
            ),
        );
    }
}

fn missing_role(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(role) = role_ref(object) else {
        return;
    };
    if role.kind != "Role" {
        return;
    }
    let namespace = object.effective_namespace();
    let scanned = ctx.of_kind_in("Role", namespace).count();
    // Without any Role of the namespace in the scan, absence says nothing.
    if scanned == 0 || referenced(object, &role, ctx).is_some() {
        return;
    }
    hits.push(
        "/roleRef/name",
        format!(
            "roleRef names Role {:?}, which is not among the {scanned} Role(s) scanned in \
             namespace {namespace:?}; whoever creates a Role of that name grants its rules to \
             this binding's subjects",
            role.name
        ),
    );
}
