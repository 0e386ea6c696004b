//! The sentence each baseline alert carries: what is usual, what happened, with the numbers.

use super::time::{describe_span, format};
use super::window::{Context, Rule, Window};

/// Names of namespaces or values a sentence lists before "and N more".
const LISTED: usize = 3;

/// The alert's sentence, for the identity `identity`.
pub fn sentence(w: &Window, identity: &str) -> String {
    let act = action(&w.key);
    let where_ = namespaces(w);
    let count = times(w.count);
    match (&w.context, w.rule) {
        (Context::Operation { span, .. }, Rule::NewVerbResource) => format!(
            "{identity} never {act} in {}; now {act} {count}{where_}.",
            describe_span(*span)
        ),
        (Context::Operation { seen, span }, _) => format!(
            "{identity} {act} only {} in {}; now {count}{where_}.",
            times(*seen),
            describe_span(*span)
        ),
        (Context::Namespace { known, span }, _) => format!(
            "{identity} {act} only in {} in {}; now in {}{}, {}.",
            plural(*known as u64, "namespace"),
            describe_span(*span),
            plural(w.namespace_count(), "new namespace"),
            listing(&w.namespaces, w.more_namespaces),
            plural(w.count, "request")
        ),
        (
            Context::Source {
                ip,
                public,
                known,
                known_count,
                span,
            },
            _,
        ) => format!(
            "{identity} came from {}{} in {}; now {} from the {} network {} ({ip}).",
            plural(*known_count as u64, "source network"),
            listing_strings(known, *known_count),
            describe_span(*span),
            plural(w.count, "request"),
            if *public { "public" } else { "private" },
            w.key
        ),
        (
            Context::Agent {
                full,
                known,
                known_count,
                span,
            },
            _,
        ) => format!(
            "{identity} used {}{} in {}; now {} from {} ({full:?}).",
            plural(*known_count as u64, "client"),
            listing_strings(known, *known_count),
            describe_span(*span),
            plural(w.count, "request"),
            w.key
        ),
        (
            Context::Spike {
                mean,
                sd,
                active,
                bucket,
                width,
                ..
            },
            _,
        ) => {
            let unit = bucket_name(*width);
            format!(
                "{identity} made {} in the {unit} from {}; its usual active {unit} has {mean:.0} ± {sd:.0} (over {active} active {unit}s).",
                plural(w.count, "request"),
                format(*bucket),
            )
        }
        (Context::Identity { top, .. }, _) => format!(
            "{identity} first appeared after the learning period: {} in {}{where_}; most sensitive: {}.",
            plural(w.count, "request"),
            describe_span(w.deadline - w.opened),
            action(top)
        ),
    }
}

/// `list secrets` as `listed secrets`.
pub fn action(operation: &str) -> String {
    let (verb, target) = operation.split_once(' ').unwrap_or((operation, ""));
    let past = match verb {
        "get" => "read",
        "list" => "listed",
        "watch" => "watched",
        "create" => "created",
        "update" => "updated",
        "patch" => "patched",
        "delete" => "deleted",
        "deletecollection" => "deleted all",
        "impersonate" => "impersonated",
        "" => "requested",
        other => return format!("used {other} on {target}"),
    };
    format!("{past} {target}")
}

fn namespaces(w: &Window) -> String {
    match w.namespace_count() {
        0 => String::new(),
        n => format!(
            " in {}{}",
            plural(n, "namespace"),
            listing(&w.namespaces, w.more_namespaces)
        ),
    }
}

fn listing(names: &[Box<str>], more: u64) -> String {
    let shown: Vec<&str> = names.iter().take(LISTED).map(|n| &**n).collect();
    let rest = (names.len() - shown.len()) as u64 + more;
    listed(&shown, rest)
}

fn listing_strings(names: &[String], total: usize) -> String {
    let shown: Vec<&str> = names.iter().take(LISTED).map(String::as_str).collect();
    listed(&shown, total.saturating_sub(shown.len()) as u64)
}

fn listed(shown: &[&str], rest: u64) -> String {
    if shown.is_empty() {
        return String::new();
    }
    let names = shown.join(", ");
    if rest == 0 {
        format!(" ({names})")
    } else {
        format!(" ({names} and {rest} more)")
    }
}

fn times(n: u64) -> String {
    if n == 1 {
        "once".to_string()
    } else {
        format!("{n} times")
    }
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn bucket_name(width: i64) -> String {
    match width {
        60 => "minute".to_string(),
        3_600 => "hour".to_string(),
        86_400 => "day".to_string(),
        w => format!("{w}-second bucket"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, Origin};
    use serde_json::json;

    fn window(rule: Rule, key: &str, context: Context, namespaces: &[&str]) -> Window {
        let mut w = None::<Window>;
        for ns in namespaces
            .iter()
            .chain(namespaces.is_empty().then_some(&""))
        {
            let e = Event::new(
                json!({"verb": "list", "user": {"username": "u"},
                       "objectRef": {"resource": "secrets", "namespace": ns}}),
                Origin::new("audit.log", 7),
            );
            match &mut w {
                None => w = Some(Window::open(rule, key, (0, 3600), 1.0, context.clone(), &e)),
                Some(w) => w.join(&e),
            }
        }
        w.unwrap()
    }

    #[test]
    fn new_operation_names_the_history_and_the_breadth() {
        let names: Vec<String> = (1..=12).map(|i| format!("ns{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let w = window(
            Rule::NewVerbResource,
            "list secrets",
            Context::Operation {
                seen: 0,
                span: 14 * 86_400,
            },
            &names,
        );
        assert_eq!(
            sentence(&w, "system:serviceaccount:ci:builder"),
            "system:serviceaccount:ci:builder never listed secrets in 14 days; now listed secrets 12 times in 12 namespaces (ns1, ns2, ns3 and 9 more)."
        );
    }

    #[test]
    fn rare_operation_says_how_rare() {
        let w = window(
            Rule::RareVerbResource,
            "list secrets",
            Context::Operation {
                seen: 1,
                span: 3 * 86_400,
            },
            &["a"],
        );
        assert_eq!(
            sentence(&w, "alice"),
            "alice listed secrets only once in 3 days; now once in 1 namespace (a)."
        );
    }

    #[test]
    fn other_rules_read_as_sentences() {
        let w = window(
            Rule::NewNamespace,
            "list secrets",
            Context::Namespace {
                known: 1,
                span: 86_400 * 2,
            },
            &["a", "b"],
        );
        assert_eq!(
            sentence(&w, "alice"),
            "alice listed secrets only in 1 namespace in 2 days; now in 2 new namespaces (a, b), 2 requests."
        );
        let w = window(
            Rule::NewSource,
            "203.0.113.0/24",
            Context::Source {
                ip: "203.0.113.7".into(),
                public: true,
                known: vec!["10.0.0.0/24".into()],
                known_count: 1,
                span: 7_200,
            },
            &[],
        );
        assert_eq!(
            sentence(&w, "alice"),
            "alice came from 1 source network (10.0.0.0/24) in 2 hours; now 1 request from the public network 203.0.113.0/24 (203.0.113.7)."
        );
        let w = window(
            Rule::RateSpike,
            "",
            Context::Spike {
                upper: 50.0,
                mean: 20.0,
                sd: 5.0,
                active: 30,
                bucket: 0,
                width: 3_600,
            },
            &[],
        );
        assert_eq!(
            sentence(&w, "alice"),
            "alice made 1 request in the hour from 1970-01-01T00:00:00Z; its usual active hour has 20 ± 5 (over 30 active hours)."
        );
        let w = window(
            Rule::NewIdentity,
            "",
            Context::Identity {
                top: "create pods/exec".into(),
                weight: 1.0,
            },
            &["prod"],
        );
        assert_eq!(
            sentence(&w, "mallory"),
            "mallory first appeared after the learning period: 1 request in 60 minutes in 1 namespace (prod); most sensitive: created pods/exec."
        );
    }

    #[test]
    fn actions_are_past_tense() {
        assert_eq!(action("get secrets"), "read secrets");
        assert_eq!(action("deletecollection pods"), "deleted all pods");
        assert_eq!(
            action("escalate clusterroles"),
            "used escalate on clusterroles"
        );
    }
}
