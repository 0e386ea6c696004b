//! Paginated lists of each resource, a few at a time, as [`Object`]s.

use crate::connect::{Target, chain};
use crate::discover::Resource;
use crate::{Progress, Unreadable, redact};
use futures::StreamExt;
use kube::api::{DynamicObject, ListParams};
use kube::core::{Request, Resource as _};
use palisade_model::{Object, Positions, Source};
use serde_json::Value;

/// Lists in flight at once: enough to hide round trips, few enough not to load the server.
const CONCURRENT_LISTS: usize = 4;

/// Lists every resource; each entry is its objects or why it could not be read, in the
/// order of `resources`.
pub async fn all(
    target: &Target,
    resources: &[Resource],
    namespace: Option<&str>,
    page_size: u32,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<Result<Vec<Object>, Unreadable>> {
    futures::stream::iter(resources)
        .map(|resource| async move {
            let listed = list(target, resource, namespace, page_size).await;
            progress(Progress::Listed {
                resource: resource.label(),
                objects: listed.as_ref().map_or(0, Vec::len),
            });
            listed
        })
        .buffered(CONCURRENT_LISTS)
        .collect()
        .await
}

/// The Namespace object of a namespaced scan (`None` when it does not exist).
pub async fn namespace(target: &Target, name: &str) -> Result<Option<Object>, Unreadable> {
    let api = kube::discovery::ApiResource {
        group: String::new(),
        version: "v1".to_string(),
        api_version: "v1".to_string(),
        kind: "Namespace".to_string(),
        plural: "namespaces".to_string(),
    };
    let path = format!("{}/{name}", DynamicObject::url_path(&api, None));
    let request = Request::new(DynamicObject::url_path(&api, None))
        .get(name, &kube::api::GetParams::default())
        .map_err(|e| unreadable("namespaces", &kube::Error::BuildRequest(e)))?;
    match target.client.request::<Value>(request).await {
        Ok(mut value) => {
            prepare(&mut value, &api);
            Ok(Some(object(target, value, &path)))
        }
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(e) => Err(unreadable("namespaces", &e)),
    }
}

async fn list(
    target: &Target,
    resource: &Resource,
    namespace: Option<&str>,
    page_size: u32,
) -> Result<Vec<Object>, Unreadable> {
    let label = resource.label();
    let scope = if resource.namespaced { namespace } else { None };
    let collection = DynamicObject::url_path(&resource.api, scope);
    let mut objects = Vec::new();
    let mut params = ListParams::default().limit(page_size);
    loop {
        let request = Request::new(&collection)
            .list(&params)
            .map_err(|e| unreadable(&label, &kube::Error::BuildRequest(e)))?;
        let mut page: Value = target
            .client
            .request(request)
            .await
            .map_err(|e| unreadable(&label, &e))?;
        let next = page
            .pointer("/metadata/continue")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(str::to_string);
        if let Some(Value::Array(items)) = page.get_mut("items").map(Value::take) {
            for mut item in items {
                prepare(&mut item, &resource.api);
                let path = item_path(&resource.api, resource.namespaced, &item);
                objects.push(object(target, item, &path));
            }
        }
        match next {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    Ok(objects)
}

/// List items carry neither apiVersion nor kind; managedFields is bookkeeping no control
/// reads and a third of a live object's size; Secret values are blanked.
fn prepare(item: &mut Value, api: &kube::discovery::ApiResource) {
    let Some(map) = item.as_object_mut() else {
        return;
    };
    // apiVersion and kind first, as in a manifest.
    let rest = std::mem::take(map);
    map.insert(
        "apiVersion".to_string(),
        Value::String(api.api_version.clone()),
    );
    map.insert("kind".to_string(), Value::String(api.kind.clone()));
    for (key, value) in rest {
        if key != "apiVersion" && key != "kind" {
            map.insert(key, value);
        }
    }
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        meta.remove("managedFields");
    }
    if api.group.is_empty() && api.kind == "Secret" {
        redact::secret(item);
    }
}

fn item_path(api: &kube::discovery::ApiResource, namespaced: bool, item: &Value) -> String {
    let meta = item.get("metadata");
    let field = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str);
    let namespace = if namespaced { field("namespace") } else { None };
    format!(
        "{}/{}",
        DynamicObject::url_path(api, namespace),
        field("name").unwrap_or("")
    )
}

fn object(target: &Target, value: Value, path: &str) -> Object {
    let source = Source::file(format!("cluster://{}{path}", target.name), 0);
    Object::new(value, source, Positions::default())
}

fn unreadable(resource: &str, error: &kube::Error) -> Unreadable {
    let (reason, denied) = match error {
        kube::Error::Api(status) => (
            format!("{} ({}): {}", status.reason, status.code, status.message),
            matches!(status.code, 401 | 403),
        ),
        other => (chain(other), false),
    };
    Unreadable {
        resource: resource.to_string(),
        reason,
        denied,
    }
}
