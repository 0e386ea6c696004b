//! Ingresses: plain HTTP (PAL-708), backends naming missing Services (PAL-709), and
//! ingress-nginx configuration snippets (PAL-710) carrying known injection payloads
//! (PAL-711), CVE-2021-25742.

use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::{Object, escape_token};
use serde_json::Value;

pub const TLS: Rule = Rule {
    id: "PAL-708",
    target: Target::Kinds(&["Ingress"]),
    check: tls,
};

pub const DANGLING: Rule = Rule {
    id: "PAL-709",
    target: Target::Kinds(&["Ingress"]),
    check: dangling,
};

pub const SNIPPETS: Rule = Rule {
    id: "PAL-710",
    target: Target::Kinds(&["Ingress", "ConfigMap"]),
    check: snippets,
};

pub const INJECTION: Rule = Rule {
    id: "PAL-711",
    target: Target::Kinds(&["Ingress"]),
    check: injection,
};

fn tls(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let entries = items(object.at("/spec/tls")).count();
    if entries == 0 {
        let pointer = match object.at("/spec/tls") {
            Some(_) => "/spec/tls",
            None => "/spec",
        };
        hits.push(
            pointer,
            "Ingress sets no spec.tls: its hosts are served over plain HTTP",
        );
    }
}

/// The Service names of an Ingress's backends with their pointers, for networking.k8s.io/v1
/// (`backend.service.name`) and the older v1beta1 form (`backend.serviceName`).
fn backends(object: &Object) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    let mut add = |backend: &str| {
        for field in ["/service/name", "/serviceName"] {
            let pointer = format!("{backend}{field}");
            if let Some(name) = object.at(&pointer).and_then(Value::as_str) {
                found.push((pointer, name));
            }
        }
    };
    add("/spec/defaultBackend");
    add("/spec/backend");
    for (i, rule) in items(object.at("/spec/rules")) {
        for (j, _) in items(rule.pointer("/http/paths")) {
            add(&format!("/spec/rules/{i}/http/paths/{j}/backend"));
        }
    }
    found
}

/// Only judged when Services of the Ingress's namespace are scanned.
fn dangling(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let namespace = object.effective_namespace();
    if ctx.of_kind_in("Service", namespace).next().is_none() {
        return;
    }
    for (pointer, name) in backends(object) {
        if ctx.named("Service", namespace, name).is_none() {
            hits.push(
                pointer,
                format!(
                    "backend names Service {name:?}, which is not among the {} Service(s) \
                     scanned in namespace {namespace:?}",
                    ctx.of_kind_in("Service", namespace).count()
                ),
            );
        }
    }
}

const NGINX_PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// ingress-nginx snippet annotations: `configuration-snippet`, `server-snippet`,
/// `auth-snippet`, `stream-snippet`, `modsecurity-snippet`.
fn snippet_annotations(object: &Object) -> impl Iterator<Item = (String, &str, &str)> {
    object.annotations().iter().filter_map(|(key, value)| {
        let name = key.strip_prefix(NGINX_PREFIX)?;
        name.contains("snippet").then(|| {
            (
                format!("/metadata/annotations/{}", escape_token(key)),
                key.as_str(),
                value.as_str().unwrap_or(""),
            )
        })
    })
}

fn snippets(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.kind() == "ConfigMap" {
        // The ingress-nginx controller's own setting that lets Ingresses carry snippets.
        let key = "allow-snippet-annotations";
        if object.at(&format!("/data/{key}")).and_then(Value::as_str) == Some("true") {
            hits.push(
                format!("/data/{key}"),
                "allow-snippet-annotations is \"true\": every user who can create an Ingress \
                 can inject NGINX configuration into the controller",
            );
        }
        return;
    }
    for (pointer, key, _) in snippet_annotations(object) {
        hits.push(
            pointer,
            format!(
                "annotation {key} injects raw NGINX configuration into the ingress controller, \
                 which holds every TLS Secret of the cluster"
            ),
        );
    }
}

/// What the published exploits of CVE-2021-25742 put in a snippet: an `alias` directive to
/// serve the controller's files, Lua code, or the service account token path.
fn payload(snippet: &str) -> Option<&str> {
    let words = snippet.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    for word in words {
        let lower = word.to_ascii_lowercase();
        if lower == "alias"
            || lower.starts_with("lua_")
            || lower.ends_with("_lua")
            || lower.contains("_lua_")
        {
            return Some(word);
        }
    }
    snippet.contains("kubernetes.io").then_some("kubernetes.io")
}

fn injection(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (pointer, key, value) in snippet_annotations(object) {
        if let Some(found) = payload(value) {
            hits.push(
                pointer,
                format!(
                    "annotation {key} contains {found:?}, a pattern of CVE-2021-25742 exploits"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::payload;

    #[test]
    fn finds_payloads() {
        assert_eq!(payload("location /x { alias /etc/; }"), Some("alias"));
        assert_eq!(
            payload("content_by_lua_block { ngx.say(1) }"),
            Some("content_by_lua_block")
        );
        assert_eq!(
            payload("return 200 /var/run/secrets/kubernetes.io/serviceaccount/token;"),
            Some("kubernetes.io")
        );
        assert_eq!(payload("more_set_headers \"X-Frame-Options: DENY\";"), None);
        assert_eq!(payload("proxy_set_header X-Aliased 1;"), None);
    }
}
