//! PAL-912, PAL-913: components with a history of cluster takeovers, recognised by image.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const DASHBOARD: Rule = Rule {
    id: "PAL-912",
    target: Target::Workload,
    check: dashboard,
};

pub const TILLER: Rule = Rule {
    id: "PAL-913",
    target: Target::Workload,
    check: tiller,
};

/// The repository path of an image reference, without registry host, tag or digest:
/// `docker.io/kubernetesui/dashboard:v2.7.0` → `kubernetesui/dashboard`.
fn repository(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let name = match without_digest.rsplit_once(':') {
        // A colon after the last slash is a tag; before it, a registry port.
        Some((name, tag)) if !tag.contains('/') => name,
        _ => without_digest,
    };
    match name.split_once('/') {
        Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => rest,
        _ => name,
    }
}

/// Is `repo` the repository `known`, possibly under a mirror's path prefix?
fn is_repository(repo: &str, known: &str) -> bool {
    repo == known
        || repo
            .strip_suffix(known)
            .is_some_and(|prefix| prefix.ends_with('/'))
}

fn dashboard(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        let repo = repository(c.image());
        let last = repo.rsplit('/').next().unwrap_or(repo);
        // The dashboard itself (v2 single image, v3 api/web/auth images), not its metrics
        // scraper.
        let is_dashboard = [
            "kubernetesui/dashboard",
            "kubernetesui/dashboard-api",
            "kubernetesui/dashboard-web",
            "kubernetesui/dashboard-auth",
        ]
        .into_iter()
        .any(|known| is_repository(repo, known))
            || last.starts_with("kubernetes-dashboard");
        if is_dashboard {
            hits.push(
                c.field("/image"),
                format!(
                    "{} runs the Kubernetes Dashboard ({})",
                    c.label(),
                    c.image()
                ),
            );
        }
    }
}

fn tiller(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let mut found = false;
    for c in object.containers() {
        let repo = repository(c.image());
        if repo.rsplit('/').next() == Some("tiller") {
            found = true;
            hits.push(
                c.field("/image"),
                format!(
                    "{} runs Tiller, the Helm v2 server ({})",
                    c.label(),
                    c.image()
                ),
            );
        }
    }
    if found {
        return;
    }
    // `helm init` labels Tiller's pods app=helm, name=tiller, whatever image mirror is used.
    let Some(pod) = object.pod_spec() else {
        return;
    };
    let labels_pointer = format!("{}/labels", pod.metadata_pointer);
    let label = |key: &str| {
        object
            .at(&format!("{labels_pointer}/{key}"))
            .and_then(Value::as_str)
    };
    if label("app") == Some("helm") && label("name") == Some("tiller") {
        hits.push(
            labels_pointer.clone(),
            "the pods are labelled app=helm, name=tiller: this is Tiller, the Helm v2 server",
        );
    }
}
