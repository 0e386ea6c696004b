//! Secrets and service-account tokens.

use super::cx::Cx;

/// A controller's informer: a list served from the watch cache (`resourceVersion=0`) or a
/// watch with bookmarks. kubectl and scripts send neither.
fn is_informer(uri: &str) -> bool {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .any(|p| p == "resourceVersion=0" || p == "allowWatchBookmarks=true")
}

pub(super) fn list_all_namespaces(cx: &Cx<'_>) -> Option<String> {
    let dump =
        cx.resource == "secrets" && matches!(cx.verb, "list" | "watch") && cx.namespace.is_empty();
    if !dump || !cx.ok() || cx.trusted || cx.event.request_uri().is_some_and(is_informer) {
        return None;
    }
    Some(format!(
        "{} {}ed secrets in all namespaces",
        cx.who(),
        cx.verb
    ))
}

pub(super) fn access_denied(cx: &Cx<'_>) -> Option<String> {
    let read = cx.resource == "secrets" && matches!(cx.verb, "get" | "list" | "watch");
    if !read || !cx.denied() || cx.trusted {
        return None;
    }
    let what = if cx.name.is_empty() {
        let ns = if cx.namespace.is_empty() {
            "all namespaces"
        } else {
            cx.namespace
        };
        format!("secrets in {ns}")
    } else {
        format!("secret {}", cx.target())
    };
    Some(format!(
        "{} was refused ({}) to {} {what}",
        cx.who(),
        cx.code.unwrap_or_default(),
        cx.verb
    ))
}

pub(super) fn token_request(cx: &Cx<'_>) -> Option<String> {
    let minted =
        cx.verb == "create" && cx.resource == "serviceaccounts" && cx.subresource == "token";
    (minted && cx.ok() && !cx.trusted).then(|| {
        format!(
            "{} requested a token for service account {}",
            cx.who(),
            cx.target()
        )
    })
}

pub(super) fn token_secret(cx: &Cx<'_>) -> Option<String> {
    if cx.verb != "create" || cx.resource != "secrets" || !cx.ok() || cx.trusted {
        return None;
    }
    let object = cx.object()?;
    if object.get("type")?.as_str()? != "kubernetes.io/service-account-token" {
        return None;
    }
    let account = object
        .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
        .and_then(|v| v.as_str())
        .unwrap_or("(unnamed)");
    Some(format!(
        "{} created long-lived token secret {} for service account {account}",
        cx.who(),
        cx.target()
    ))
}

#[cfg(test)]
mod tests {
    use super::is_informer;

    #[test]
    fn informers_are_known_by_their_query() {
        assert!(is_informer("/api/v1/secrets?limit=500&resourceVersion=0"));
        assert!(is_informer(
            "/api/v1/secrets?allowWatchBookmarks=true&watch=true"
        ));
        assert!(!is_informer("/api/v1/secrets?limit=500"));
        assert!(!is_informer("/api/v1/secrets"));
    }
}
