//! PolicyRules read the way the API server's RBAC authorizer reads them
//! (`pkg/apis/rbac/v1/evaluation_helpers.go`): `*` matches every verb or API group, a resource
//! entry is `*`, `res`, `res/sub` or `*/sub`, and an empty `resourceNames` means every object.

use crate::Hits;
use crate::util::{items, strings};
use palisade_model::Object;
use serde_json::Value;

/// One PolicyRule of a Role or ClusterRole, with its index in `rules`.
pub(super) struct PolicyRule<'a> {
    pub index: usize,
    value: &'a Value,
}

/// The rules of a Role or ClusterRole as written (skipping entries that are not objects).
pub(super) fn rules_of(object: &Object) -> impl Iterator<Item = PolicyRule<'_>> {
    rules_in(object.at("/rules"))
}

/// The rules of a `rules` array.
pub(super) fn rules_in(rules: Option<&Value>) -> impl Iterator<Item = PolicyRule<'_>> {
    items(rules)
        .filter(|(_, v)| v.is_object())
        .map(|(index, value)| PolicyRule { index, value })
}

impl<'a> PolicyRule<'a> {
    /// The strings of one of the rule's lists, with their index.
    pub fn list(&self, field: &str) -> impl Iterator<Item = (usize, &'a str)> + use<'a> {
        strings(self.value.get(field))
    }

    /// Pointer of an entry of one of the rule's lists.
    pub fn pointer(&self, field: &str, entry: usize) -> String {
        format!("/rules/{}/{field}/{entry}", self.index)
    }

    /// How messages name the rule.
    pub fn label(&self) -> String {
        format!("rules[{}]", self.index)
    }

    fn has(&self, field: &str, wanted: &str) -> bool {
        self.list(field).any(|(_, s)| s == "*" || s == wanted)
    }

    fn names(&self) -> Vec<&'a str> {
        self.list("resourceNames").map(|(_, s)| s).collect()
    }
}

/// A permission to look for: any of `verbs` on `resource` (`res` or `res/sub`) in any of
/// `groups` (`""` is the core group).
pub(super) struct Perm {
    pub groups: &'static [&'static str],
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
}

/// What one resource entry of a rule grants of a set of permissions.
pub(super) struct Grant<'a> {
    /// Pointer of the resource entry.
    pub pointer: String,
    /// The entry as written (`secrets`, `*`, `*/exec`).
    pub entry: &'a str,
    /// The permissions' resources it covers.
    pub resources: Vec<&'static str>,
    /// The verbs granted on them.
    pub verbs: Vec<&'static str>,
    /// True when the verbs come from a `*` verb.
    pub any_verb: bool,
    /// `resourceNames`, when the rule is limited to named objects.
    pub names: Vec<&'a str>,
}

impl Grant<'_> {
    /// `rules[0] grants get, list on secrets (through resources "*")`.
    pub fn describe(&self, rule: &PolicyRule<'_>) -> String {
        let mut through = Vec::new();
        if self.resources.iter().all(|r| *r != self.entry) {
            through.push(format!("resources {:?}", self.entry));
        }
        if self.any_verb {
            through.push("verbs \"*\"".to_string());
        }
        let mut text = sentence(rule, &self.verbs, &self.resources, &through);
        if !self.names.is_empty() {
            text.push_str(&format!(" for objects named {}", self.names.join(", ")));
        }
        text
    }
}

/// `rules[0] grants bind on roles (through verbs "*")`.
fn sentence(
    rule: &PolicyRule<'_>,
    verbs: &[&str],
    resources: &[&str],
    through: &[String],
) -> String {
    let mut text = format!(
        "{} grants {} on {}",
        rule.label(),
        verbs.join(", "),
        resources.join(", ")
    );
    if !through.is_empty() {
        text.push_str(&format!(" (through {})", through.join(", ")));
    }
    text
}

/// Does a rule's resource entry cover a requested `res` or `res/sub`?
fn resource_matches(entry: &str, requested: &str) -> bool {
    if entry == "*" || entry == requested {
        return true;
    }
    match (entry.strip_prefix("*/"), requested.split_once('/')) {
        (Some(sub), Some((_, requested_sub))) => sub == requested_sub,
        _ => false,
    }
}

/// Create and deletecollection requests carry no object name, so a rule limited by
/// `resourceNames` never authorizes them on a top-level resource.
fn name_allows(names: &[&str], verb: &str, resource: &str) -> bool {
    names.is_empty() || resource.contains('/') || !matches!(verb, "create" | "deletecollection")
}

fn push_new(list: &mut Vec<&'static str>, new: &[&'static str]) {
    for item in new {
        if !list.contains(item) {
            list.push(item);
        }
    }
}

/// What a rule grants of the permissions, one entry per resource entry that grants any.
pub(super) fn grants<'a>(rule: &PolicyRule<'a>, perms: &[Perm]) -> Vec<Grant<'a>> {
    let names = rule.names();
    let any_verb = rule.list("verbs").any(|(_, v)| v == "*");
    let mut out: Vec<Grant<'a>> = Vec::new();
    for (i, entry) in rule.list("resources") {
        let mut resources = Vec::new();
        let mut granted = Vec::new();
        for perm in perms {
            if !perm.groups.iter().any(|g| rule.has("apiGroups", g))
                || !resource_matches(entry, perm.resource)
            {
                continue;
            }
            let verbs: Vec<&'static str> = perm
                .verbs
                .iter()
                .copied()
                .filter(|v| rule.has("verbs", v) && name_allows(&names, v, perm.resource))
                .collect();
            if verbs.is_empty() {
                continue;
            }
            push_new(&mut resources, &[perm.resource]);
            push_new(&mut granted, &verbs);
        }
        if !resources.is_empty() {
            out.push(Grant {
                pointer: rule.pointer("resources", i),
                entry,
                resources,
                verbs: granted,
                any_verb,
                names: names.clone(),
            });
        }
    }
    out
}

/// Reports every resource entry of every rule that grants any of the permissions. Grants
/// limited to named objects are reported unless `skip_named`.
pub(super) fn report(object: &Object, hits: &mut Hits, perms: &[Perm], skip_named: bool) {
    for rule in rules_of(object) {
        for grant in grants(&rule, perms) {
            if skip_named && !grant.names.is_empty() {
                continue;
            }
            hits.push(grant.pointer.clone(), grant.describe(&rule));
        }
    }
}

/// Reports every verb entry of every rule that grants any of the permissions: for controls
/// about a verb (`bind`, `impersonate`), the verb is the offending field.
pub(super) fn report_verbs(object: &Object, hits: &mut Hits, perms: &[Perm]) {
    for rule in rules_of(object) {
        let names = rule.names();
        for (j, verb) in rule.list("verbs") {
            let mut verbs: Vec<&'static str> = Vec::new();
            let mut resources: Vec<&'static str> = Vec::new();
            let mut any_resource = false;
            for perm in perms {
                if !perm.groups.iter().any(|g| rule.has("apiGroups", g)) {
                    continue;
                }
                let Some((_, entry)) = rule
                    .list("resources")
                    .find(|(_, e)| resource_matches(e, perm.resource))
                else {
                    continue;
                };
                let granted: Vec<&'static str> = perm
                    .verbs
                    .iter()
                    .copied()
                    .filter(|v| {
                        (verb == "*" || verb == *v) && name_allows(&names, v, perm.resource)
                    })
                    .collect();
                if granted.is_empty() {
                    continue;
                }
                push_new(&mut verbs, &granted);
                push_new(&mut resources, &[perm.resource]);
                any_resource |= entry == "*";
            }
            if verbs.is_empty() {
                continue;
            }
            let mut through = Vec::new();
            if any_resource {
                through.push("resources \"*\"".to_string());
            }
            if verb == "*" {
                through.push("verbs \"*\"".to_string());
            }
            let text = sentence(&rule, &verbs, &resources, &through);
            hits.push(rule.pointer("verbs", j), text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRETS: &[Perm] = &[Perm {
        groups: &[""],
        resource: "secrets",
        verbs: &["get", "list", "watch"],
    }];

    fn first(rules: Value, perms: &[Perm]) -> Vec<String> {
        rules_in(Some(&rules))
            .flat_map(|r| {
                grants(&r, perms)
                    .iter()
                    .map(|g| g.describe(&r))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn wildcards_and_subresources() {
        assert!(resource_matches("*/exec", "pods/exec"));
        assert!(!resource_matches("*/exec", "pods"));
        assert!(!resource_matches("pods", "pods/exec"));
        assert!(resource_matches("*", "nodes/proxy"));
        let found = first(
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
            SECRETS,
        );
        assert_eq!(
            found,
            vec![
                "rules[0] grants get, list, watch on secrets (through resources \"*\", verbs \"*\")"
            ]
        );
    }

    #[test]
    fn api_group_must_match() {
        // metrics.k8s.io "*" is not the core group's secrets.
        let found = first(
            json!([{"apiGroups": ["metrics.k8s.io"], "resources": ["*"], "verbs": ["*"]}]),
            SECRETS,
        );
        assert!(found.is_empty());
    }

    #[test]
    fn named_rules_cannot_create() {
        let pods = &[Perm {
            groups: &[""],
            resource: "pods",
            verbs: &["create"],
        }];
        let found = first(
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"], "resourceNames": ["a"]}]),
            pods,
        );
        assert!(found.is_empty());
    }

    #[test]
    fn tolerates_junk() {
        assert!(first(json!([7, {"resources": "x"}, {"verbs": [1]}]), SECRETS).is_empty());
    }
}
