//! Cloud envelopes around audit events: AKS diagnostic records and GKE Cloud Audit Log
//! entries, unwrapped into the `audit.k8s.io/v1` Event they stand for.
//!
//! AKS carries the API server's own Event as text in `properties.log`, so unwrapping loses
//! nothing. GKE re-encodes the request as a `google.cloud.audit.AuditLog`; the Event is
//! rebuilt from it (the same mapping Falco's GKE plugin makes), and what GKE does not keep
//! (groups, stage, the query string) is inferred or absent, as documented in
//! `docs/audit/input.md`.

use super::Origin;
use super::parse::EventError;
use serde_json::{Map, Value, json};

/// The annotation naming the envelope an event came in: `aks` or `gke`. Native events have
/// none.
pub const FORMAT_ANNOTATION: &str = "palisade.dev/source-format";

/// The annotation naming the cluster, when the envelope says (AKS `resourceId`, GKE
/// `resource.labels.cluster_name`).
pub const CLUSTER_ANNOTATION: &str = "palisade.dev/cluster";

/// The `@type` of a GKE audit entry's payload.
const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

/// The envelope shapes recognised at the top of a JSON object.
pub(super) enum Envelope {
    /// `{"records": [...]}`: a batch of Azure diagnostic records.
    AksBatch,
    /// One Azure diagnostic record, `{"category": ..., "properties": {"log": ...}}`.
    AksRecord,
    /// A Cloud Logging entry with a `protoPayload`.
    Gke,
}

impl Envelope {
    /// The envelope `map` is, if any. Native events never have these keys.
    pub(super) fn of(map: &Map<String, Value>) -> Option<Envelope> {
        if map.contains_key("protoPayload") {
            Some(Envelope::Gke)
        } else if map.contains_key("records") && !map.contains_key("kind") {
            Some(Envelope::AksBatch)
        } else if map.contains_key("category") && map.contains_key("properties") {
            Some(Envelope::AksRecord)
        } else {
            None
        }
    }
}

fn not_an_event(origin: &Origin, message: String) -> EventError {
    EventError::NotAnEvent {
        origin: origin.clone(),
        message,
    }
}

/// The records of an AKS batch.
pub(super) fn aks_records(
    mut map: Map<String, Value>,
    origin: &Origin,
) -> Result<Vec<Value>, EventError> {
    match map.remove("records") {
        Some(Value::Array(records)) => Ok(records),
        Some(other) => Err(not_an_event(
            origin,
            format!(
                "AKS records is a {}, expected an array",
                super::parse::kind_of(&other)
            ),
        )),
        None => Ok(Vec::new()),
    }
}

/// The Event inside one AKS diagnostic record, annotated with its format and cluster.
pub(super) fn aks_record(
    mut map: Map<String, Value>,
    origin: &Origin,
) -> Result<Value, EventError> {
    let category = map.get("category").and_then(Value::as_str).unwrap_or("");
    if category != "kube-audit" && category != "kube-audit-admin" {
        return Err(not_an_event(
            origin,
            format!(
                "AKS record of category {} is not an audit log (expected kube-audit or kube-audit-admin)",
                map.get("category").unwrap_or(&Value::Null)
            ),
        ));
    }
    let log = match map.get_mut("properties") {
        Some(Value::Object(properties)) => properties.remove("log"),
        _ => None,
    };
    // Diagnostic settings write the Event as a string; some forwarders decode it in place.
    let mut event = match log {
        Some(Value::String(text)) => serde_json::from_str::<Value>(&text).map_err(|e| {
            not_an_event(
                origin,
                format!("AKS record properties.log is not JSON: {e}"),
            )
        })?,
        Some(object @ Value::Object(_)) => object,
        Some(other) => {
            return Err(not_an_event(
                origin,
                format!(
                    "AKS record properties.log is a {}, expected the Event as a string",
                    super::parse::kind_of(&other)
                ),
            ));
        }
        None => {
            return Err(not_an_event(
                origin,
                "AKS record has no properties.log".to_string(),
            ));
        }
    };
    let cluster = map.get("resourceId").and_then(Value::as_str);
    annotate(&mut event, "aks", cluster);
    Ok(event)
}

/// Adds the format and cluster annotations, unless `annotations` has the wrong type (the
/// event check reports that).
fn annotate(event: &mut Value, format: &str, cluster: Option<&str>) {
    let Some(map) = event.as_object_mut() else {
        return;
    };
    let annotations = map
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if annotations.is_null() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(FORMAT_ANNOTATION.to_string(), format.into());
        if let Some(cluster) = cluster {
            annotations.insert(CLUSTER_ANNOTATION.to_string(), cluster.into());
        }
    }
}

/// The Event a GKE Cloud Audit Log entry stands for.
pub(super) fn gke_entry(
    mut entry: Map<String, Value>,
    origin: &Origin,
) -> Result<Value, EventError> {
    let Some(Value::Object(mut payload)) = entry.remove("protoPayload") else {
        return Err(not_an_event(
            origin,
            "GKE log entry: protoPayload is not an object".to_string(),
        ));
    };
    if let Some(kind) = payload.get("@type")
        && kind.as_str() != Some(AUDIT_LOG_TYPE)
    {
        return Err(not_an_event(
            origin,
            format!("GKE log entry: protoPayload @type {kind} is not {AUDIT_LOG_TYPE}"),
        ));
    }
    let method = match payload.get("methodName").and_then(Value::as_str) {
        Some(m) if m.starts_with("io.k8s.") => m,
        other => {
            return Err(not_an_event(
                origin,
                format!(
                    "GKE log entry: methodName {} is not a Kubernetes API method (service {})",
                    other.map_or("(none)".to_string(), |m| format!("{m:?}")),
                    payload
                        .get("serviceName")
                        .and_then(Value::as_str)
                        .unwrap_or("(none)")
                ),
            ));
        }
    };
    let call = Method::parse(method);
    let name = payload.get("resourceName").and_then(Value::as_str);
    let target = name.map(|n| ResourceName::parse(n, &call));
    let mut event = Map::new();
    event.insert("kind".into(), "Event".into());
    event.insert("apiVersion".into(), "audit.k8s.io/v1".into());
    let has_objects = payload.contains_key("request") || payload.contains_key("response");
    let level = if has_objects {
        "RequestResponse"
    } else {
        "Metadata"
    };
    event.insert("level".into(), level.into());
    if let Some(id) = entry
        .get("insertId")
        .or_else(|| entry.get("operation").and_then(|o| o.get("id")))
        .and_then(Value::as_str)
    {
        event.insert("auditID".into(), id.into());
    }
    let streaming = matches!(call.subresource, Some("exec" | "attach" | "portforward"));
    // GKE logs one entry per request; a streaming request is logged when it starts.
    let stage = if streaming {
        "ResponseStarted"
    } else {
        "ResponseComplete"
    };
    event.insert("stage".into(), stage.into());
    event.insert(
        "requestURI".into(),
        request_uri(&call, target.as_ref(), name).into(),
    );
    event.insert("verb".into(), call.verb.into());
    user_and_client(&payload, &mut event);
    // Some entries name the resource only in their method.
    let object_ref = match &target {
        Some(target) => target.object_ref(&call),
        None => call.object_ref(),
    };
    if let Some(object_ref) = object_ref {
        event.insert("objectRef".into(), object_ref);
    }
    event.insert(
        "responseStatus".into(),
        response_status(payload.get("status"), &call, streaming),
    );
    for (from, to) in [("request", "requestObject"), ("response", "responseObject")] {
        if let Some(mut object) = payload.remove(from) {
            // `@type` is the protobuf wrapper's, not part of the Kubernetes object.
            if let Some(map) = object.as_object_mut() {
                map.remove("@type");
            }
            event.insert(to.into(), object);
        }
    }
    if let Some(time) = entry
        .get("timestamp")
        .or_else(|| entry.get("receiveTimestamp"))
        .and_then(Value::as_str)
    {
        event.insert("requestReceivedTimestamp".into(), time.into());
        event.insert("stageTimestamp".into(), time.into());
    }
    let mut annotations = Map::new();
    // GKE moves the API server's audit annotations (authorization.k8s.io/decision, ...)
    // into the entry's labels.
    if let Some(Value::Object(labels)) = entry.remove("labels") {
        annotations.extend(labels.into_iter().filter(|(_, v)| v.is_string()));
    }
    event.insert("annotations".into(), Value::Object(annotations));
    let mut event = Value::Object(event);
    let cluster = entry
        .get("resource")
        .and_then(|r| r.get("labels"))
        .and_then(|l| l.get("cluster_name"))
        .and_then(Value::as_str);
    annotate(&mut event, "gke", cluster);
    Ok(event)
}

fn user_and_client(payload: &Map<String, Value>, event: &mut Map<String, Value>) {
    if let Some(user) = payload
        .get("authenticationInfo")
        .and_then(|a| a.get("principalEmail"))
        .and_then(Value::as_str)
    {
        event.insert("user".into(), json!({ "username": user }));
    }
    let Some(meta) = payload.get("requestMetadata") else {
        return;
    };
    // `callerIp` is the documented spelling; some exporters write `callerIP`.
    if let Some(ip) = meta
        .get("callerIp")
        .or_else(|| meta.get("callerIP"))
        .and_then(Value::as_str)
    {
        event.insert("sourceIPs".into(), json!([ip]));
    }
    if let Some(agent) = meta.get("callerSuppliedUserAgent").and_then(Value::as_str) {
        event.insert("userAgent".into(), agent.into());
    }
}

/// `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>`, or
/// `io.k8s.<verb>` for non-resource requests (`/readyz`, `/version`).
#[derive(Debug, PartialEq)]
struct Method<'a> {
    /// The group as GKE spells it (`core`, `apps`, `authorization.rbac`).
    group: Option<String>,
    version: Option<&'a str>,
    resource: Option<&'a str>,
    subresource: Option<&'a str>,
    verb: &'a str,
}

impl<'a> Method<'a> {
    /// The resource the method names, for an entry without `resourceName`: no namespace or
    /// name, and no apiGroup (GKE spells groups its own way, which only the resource name
    /// gives back exactly).
    fn object_ref(&self) -> Option<Value> {
        let resource = self.resource?;
        let mut object = Map::new();
        object.insert("resource".into(), resource.into());
        if let Some(subresource) = self.subresource {
            object.insert("subresource".into(), subresource.into());
        }
        if let Some(version) = self.version {
            object.insert("apiVersion".into(), version.into());
        }
        Some(Value::Object(object))
    }

    fn parse(method: &'a str) -> Method<'a> {
        let rest = method.strip_prefix("io.k8s.").unwrap_or(method);
        let parts: Vec<&str> = rest.split('.').collect();
        let verb = parts.last().copied().unwrap_or("");
        let mut call = Method {
            group: None,
            version: None,
            resource: None,
            subresource: None,
            verb,
        };
        let Some(at) = parts.iter().position(|p| is_version(p)) else {
            return call;
        };
        let body = parts
            .get(at + 1..parts.len().saturating_sub(1))
            .unwrap_or(&[]);
        call.group = Some(parts.get(..at).unwrap_or(&[]).join("."));
        call.version = parts.get(at).copied();
        call.resource = body.first().copied();
        call.subresource = body.get(1).copied();
        call
    }
}

/// `v1`, `v1beta1`, `v2alpha3`.
fn is_version(part: &str) -> bool {
    let Some(rest) = part.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let (_, tail) = rest.split_at(digits);
    if tail.is_empty() {
        return true;
    }
    let Some(level) = tail
        .strip_prefix("alpha")
        .or_else(|| tail.strip_prefix("beta"))
    else {
        return false;
    };
    !level.is_empty() && level.bytes().all(|b| b.is_ascii_digit())
}

/// `<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]`, group `core`
/// for the core group.
#[derive(Debug, PartialEq)]
struct ResourceName<'a> {
    group: &'a str,
    version: &'a str,
    namespace: Option<&'a str>,
    resource: Option<&'a str>,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

impl<'a> ResourceName<'a> {
    fn parse(text: &'a str, call: &Method<'_>) -> ResourceName<'a> {
        let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
        let mut name = ResourceName {
            group: "",
            version: "",
            namespace: None,
            resource: None,
            name: None,
            subresource: None,
        };
        let (Some(group), Some(version)) = (parts.first(), parts.get(1)) else {
            return name;
        };
        if !is_version(version) {
            return name;
        }
        name.group = group;
        name.version = version;
        let mut rest = parts.get(2..).unwrap_or(&[]);
        // `namespaces/<ns>/...` scopes what follows, unless the namespace object itself is
        // the target (`core/v1/namespaces/foo`, `.../namespaces/foo/finalize`).
        if rest.first() == Some(&"namespaces")
            && rest.len() >= 3
            && call.resource != Some("namespaces")
        {
            name.namespace = rest.get(1).copied();
            rest = rest.get(2..).unwrap_or(&[]);
        }
        name.resource = rest.first().copied();
        name.name = rest.get(1).copied();
        name.subresource = rest.get(2).copied();
        name
    }

    fn object_ref(&self, call: &Method<'_>) -> Option<Value> {
        if self.version.is_empty() {
            return None;
        }
        let mut object = Map::new();
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                object.insert(key.into(), value.into());
            }
        };
        put("resource", call.resource.or(self.resource));
        put("namespace", self.namespace);
        put("name", self.name);
        // The core group has no apiGroup in a native event.
        put("apiGroup", Some(self.group).filter(|g| *g != "core"));
        put("apiVersion", Some(self.version));
        put("subresource", call.subresource.or(self.subresource));
        Some(Value::Object(object))
    }
}

/// The URI the request was made on, rebuilt from the resource name (GKE drops the query).
fn request_uri(call: &Method<'_>, target: Option<&ResourceName<'_>>, raw: Option<&str>) -> String {
    let Some(target) = target.filter(|t| !t.version.is_empty()) else {
        return format!("/{}", raw.unwrap_or("").trim_start_matches('/'));
    };
    let mut uri = if target.group == "core" {
        format!("/api/{}", target.version)
    } else {
        format!("/apis/{}/{}", target.group, target.version)
    };
    if let Some(ns) = target.namespace {
        uri.push_str("/namespaces/");
        uri.push_str(ns);
    }
    for part in [
        call.resource.or(target.resource),
        target.name,
        call.subresource.or(target.subresource),
    ]
    .into_iter()
    .flatten()
    {
        uri.push('/');
        uri.push_str(part);
    }
    uri
}

/// `responseStatus` from the entry's `google.rpc.Status`. An OK entry is given the code
/// the API server sends for that request: 101 for a stream, 201 for a create, else 200.
fn response_status(status: Option<&Value>, call: &Method<'_>, streaming: bool) -> Value {
    let rpc = status
        .and_then(|s| s.get("code"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let code = match rpc {
        0 if streaming => 101,
        0 if call.verb == "create" => 201,
        other => http_code(other),
    };
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(Map::new()));
    out.insert("code".into(), code.into());
    if let Some(message) = status
        .and_then(|s| s.get("message"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    {
        out.insert("message".into(), message.into());
    }
    Value::Object(out)
}

/// google.rpc.Code to HTTP, as `google/rpc/code.proto` pairs them.
fn http_code(rpc: i64) -> i64 {
    match rpc {
        0 => 200,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500, // 2 UNKNOWN, 13 INTERNAL, 15 DATA_LOSS and codes not in the table
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_method_alone_still_names_its_resource() {
        let m = Method::parse("io.k8s.core.v1.pods.exec.create");
        assert_eq!(
            m.object_ref(),
            Some(
                serde_json::json!({"resource": "pods", "subresource": "exec", "apiVersion": "v1"})
            )
        );
        assert_eq!(Method::parse("io.k8s.get").object_ref(), None);
    }

    #[test]
    fn methods_split_into_group_version_resource_subresource_verb() {
        let m = Method::parse("io.k8s.core.v1.pods.exec.create");
        assert_eq!(
            (
                m.group.as_deref(),
                m.version,
                m.resource,
                m.subresource,
                m.verb
            ),
            (
                Some("core"),
                Some("v1"),
                Some("pods"),
                Some("exec"),
                "create"
            )
        );
        let m = Method::parse("io.k8s.authorization.rbac.v1.clusterrolebindings.create");
        assert_eq!(m.group.as_deref(), Some("authorization.rbac"));
        assert_eq!(m.resource, Some("clusterrolebindings"));
        assert_eq!(m.subresource, None);
        let m = Method::parse("io.k8s.apps.v1beta2.deployments.scale.patch");
        assert_eq!(
            (m.version, m.subresource, m.verb),
            (Some("v1beta2"), Some("scale"), "patch")
        );
        let m = Method::parse("io.k8s.get");
        assert_eq!((m.resource, m.verb), (None, "get"));
    }

    #[test]
    fn versions_are_recognised() {
        for v in ["v1", "v1beta1", "v2alpha3", "v10"] {
            assert!(is_version(v), "{v}");
        }
        for v in ["v", "vx", "version", "pods", "v1gamma1", "core"] {
            assert!(!is_version(v), "{v}");
        }
    }

    #[test]
    fn resource_names_split_by_scope() {
        let exec = Method::parse("io.k8s.core.v1.pods.exec.create");
        let r = ResourceName::parse("core/v1/namespaces/istio-system/pods/opa-1/exec", &exec);
        assert_eq!(
            (r.namespace, r.resource, r.name, r.subresource),
            (
                Some("istio-system"),
                Some("pods"),
                Some("opa-1"),
                Some("exec")
            )
        );
        let list = Method::parse("io.k8s.core.v1.secrets.list");
        let r = ResourceName::parse("core/v1/secrets", &list);
        assert_eq!(
            (r.namespace, r.resource, r.name),
            (None, Some("secrets"), None)
        );
        let ns = Method::parse("io.k8s.core.v1.namespaces.finalize.update");
        let r = ResourceName::parse("core/v1/namespaces/foo/finalize", &ns);
        assert_eq!(
            (r.namespace, r.resource, r.name, r.subresource),
            (None, Some("namespaces"), Some("foo"), Some("finalize"))
        );
        let r = ResourceName::parse("readyz", &Method::parse("io.k8s.get"));
        assert_eq!(r.version, "");
    }

    #[test]
    fn rpc_codes_map_to_http() {
        let get = Method::parse("io.k8s.core.v1.pods.get");
        let create = Method::parse("io.k8s.core.v1.pods.create");
        let code = |status: Value, call: &Method<'_>, streaming| {
            response_status(Some(&status), call, streaming)["code"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(code(json!({}), &get, false), 200);
        assert_eq!(code(json!({"code": 0}), &create, false), 201);
        assert_eq!(code(json!({}), &create, true), 101);
        assert_eq!(
            code(json!({"code": 7, "message": "forbidden"}), &get, false),
            403
        );
        assert_eq!(code(json!({"code": 16}), &get, false), 401);
        assert_eq!(code(json!({"code": 5}), &get, false), 404);
        assert_eq!(code(json!({"code": 8}), &get, false), 429);
        assert_eq!(code(json!({"code": 13}), &get, false), 500);
        assert_eq!(
            response_status(
                Some(&json!({"code": 7, "message": "forbidden"})),
                &get,
                false
            )["message"],
            "forbidden"
        );
    }
}
