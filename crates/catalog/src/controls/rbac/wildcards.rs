//! PAL-603: `*` in a rule's apiGroups, resources, verbs or nonResourceURLs (CIS 5.1.3).

use super::policy::rules_of;
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-603",
    target: Target::Kinds(&["Role", "ClusterRole"]),
    check,
};

/// What a `*` in each list grants, for the message.
const FIELDS: &[(&str, &str)] = &[
    (
        "apiGroups",
        "the listed resources of every API group, present and future",
    ),
    (
        "resources",
        "every resource of the listed API groups, present and future",
    ),
    (
        "verbs",
        "every verb on the listed resources, present and future",
    ),
    ("nonResourceURLs", "every non-resource URL"),
];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for rule in rules_of(object) {
        for (field, meaning) in FIELDS {
            for (i, _) in rule.list(field).filter(|(_, s)| *s == "*") {
                hits.push(
                    rule.pointer(field, i),
                    format!("{} uses \"*\" in {field}: {meaning}", rule.label()),
                );
            }
        }
    }
}
