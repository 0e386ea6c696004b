//! The AdmissionReview wire format, `admission.k8s.io/v1` and `v1beta1`: what is read of a
//! request, and the response, in the version it came in.
//!
//! The request is kept as JSON rather than decoded into typed structs: the object is what the
//! controls and policies read, as JSON, and Gatekeeper's matching reads the request as written.

use base64::Engine as _;
use serde_json::{Map, Value, json};

/// `admission.k8s.io/v1`.
pub const V1: &str = "admission.k8s.io/v1";
/// `admission.k8s.io/v1beta1`.
pub const V1BETA1: &str = "admission.k8s.io/v1beta1";

/// A review as received.
#[derive(Debug, Clone)]
pub struct Review {
    /// The apiVersion it came in, answered in kind.
    pub api_version: &'static str,
    /// The whole review, as written (Gatekeeper policies read it).
    pub value: Value,
}

/// Why a body is not a review we can answer (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadReview(pub String);

impl Review {
    /// Reads a request body.
    pub fn parse(body: &[u8]) -> Result<Review, BadReview> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| BadReview(format!("the body is not JSON: {e}")))?;
        let api_version = match value.get("apiVersion").and_then(Value::as_str) {
            Some(V1) => V1,
            Some(V1BETA1) => V1BETA1,
            Some(other) => {
                return Err(BadReview(format!(
                    "apiVersion {other:?} is not {V1} or {V1BETA1}"
                )));
            }
            None => return Err(BadReview("no apiVersion: not an AdmissionReview".into())),
        };
        if value.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
            return Err(BadReview("kind is not AdmissionReview".into()));
        }
        let request = value
            .get("request")
            .and_then(Value::as_object)
            .ok_or_else(|| BadReview("the AdmissionReview has no request".into()))?;
        if request
            .get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(BadReview("request.uid is missing".into()));
        }
        if operation(request).is_empty() {
            return Err(BadReview("request.operation is missing".into()));
        }
        for field in ["object", "oldObject"] {
            if let Some(v) = request.get(field)
                && !(v.is_null() || v.is_object())
            {
                return Err(BadReview(format!("request.{field} is not an object")));
            }
        }
        Ok(Review { api_version, value })
    }

    fn request(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        self.value
            .get("request")
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY)
    }

    fn text(&self, key: &str) -> &str {
        self.request()
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `request.uid`.
    pub fn uid(&self) -> &str {
        self.text("uid")
    }

    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`.
    pub fn operation(&self) -> &str {
        operation(self.request())
    }

    /// `request.namespace` (`""` for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        self.text("namespace")
    }

    /// `request.subResource`.
    pub fn sub_resource(&self) -> &str {
        self.text("subResource")
    }

    /// `request.dryRun`.
    pub fn dry_run(&self) -> bool {
        self.request().get("dryRun").and_then(Value::as_bool) == Some(true)
    }

    /// `request.userInfo.username`.
    pub fn username(&self) -> &str {
        self.request()
            .get("userInfo")
            .and_then(|u| u.get("username"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `request.userInfo.groups`.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.request()
            .get("userInfo")
            .and_then(|u| u.get("groups"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// `request.object`, when present.
    pub fn object(&self) -> Option<&Value> {
        self.request().get("object").filter(|v| v.is_object())
    }

    /// `request.oldObject`, when present.
    pub fn old_object(&self) -> Option<&Value> {
        self.request().get("oldObject").filter(|v| v.is_object())
    }
}

fn operation(request: &Map<String, Value>) -> &str {
    request
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A decision, before it is written in a review's version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// Allowed or not.
    pub allowed: bool,
    /// The denial's message (`status.message`), shown to the client.
    pub message: String,
    /// Warnings (each under 120 characters).
    pub warnings: Vec<String>,
    /// Recorded in the API server's audit event, prefixed with the webhook's name.
    pub audit_annotations: Map<String, Value>,
    /// RFC 6902 operations, for the mutating endpoint.
    pub patch: Option<Value>,
}

impl Response {
    /// The response review, as bytes, in the request's version.
    pub fn to_review(&self, review: &Review) -> Vec<u8> {
        let mut response = json!({"uid": review.uid(), "allowed": self.allowed});
        if let Some(fields) = response.as_object_mut() {
            if !self.allowed {
                fields.insert(
                    "status".into(),
                    json!({"code": 403, "reason": "Forbidden", "message": self.message}),
                );
            }
            if !self.warnings.is_empty() {
                fields.insert("warnings".into(), json!(self.warnings));
            }
            if !self.audit_annotations.is_empty() {
                fields.insert(
                    "auditAnnotations".into(),
                    Value::Object(self.audit_annotations.clone()),
                );
            }
            if let Some(patch) = &self.patch {
                let encoded = base64::engine::general_purpose::STANDARD.encode(patch.to_string());
                fields.insert("patchType".into(), json!("JSONPatch"));
                fields.insert("patch".into(), json!(encoded));
            }
        }
        let out = json!({
            "apiVersion": review.api_version,
            "kind": "AdmissionReview",
            "response": response,
        });
        serde_json::to_vec(&out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn review(version: &str) -> Vec<u8> {
        json!({"apiVersion": version, "kind": "AdmissionReview", "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "operation": "CREATE",
            "namespace": "shop", "dryRun": true,
            "userInfo": {"username": "alice", "groups": ["dev", "system:authenticated"]},
            "object": {"apiVersion": "v1", "kind": "Pod"}, "oldObject": null}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn answers_in_the_version_asked() {
        for version in [V1, V1BETA1] {
            let r = Review::parse(&review(version)).unwrap();
            assert_eq!(r.uid(), "705ab4f5-6393-11e8-b7cc-42010a800002");
            assert!(r.dry_run());
            assert_eq!(
                r.groups().collect::<Vec<_>>(),
                ["dev", "system:authenticated"]
            );
            assert!(r.old_object().is_none());
            let response = Response {
                allowed: false,
                message: "no".into(),
                warnings: vec!["w".into()],
                patch: Some(json!([{"op": "add", "path": "/a", "value": 1}])),
                ..Response::default()
            };
            let out: Value = serde_json::from_slice(&response.to_review(&r)).unwrap();
            assert_eq!(out["apiVersion"], version);
            assert_eq!(out["response"]["uid"], r.uid());
            assert_eq!(out["response"]["allowed"], false);
            assert_eq!(out["response"]["status"]["code"], 403);
            assert_eq!(out["response"]["patchType"], "JSONPatch");
            let patch = base64::engine::general_purpose::STANDARD
                .decode(out["response"]["patch"].as_str().unwrap())
                .unwrap();
            assert_eq!(patch, br#"[{"op":"add","path":"/a","value":1}]"#);
        }
    }

    #[test]
    fn rejects_what_is_not_a_review() {
        let cases: [(&[u8], &str); 7] = [
            (b"{", "not JSON"),
            (b"[]", "no apiVersion"),
            (br#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview"}"#, "is not"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#, "kind is not"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "no request"),
            (
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#,
                "uid",
            ),
            (
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":"x"}}"#,
                "not an object",
            ),
        ];
        for (body, expected) in cases {
            let error = Review::parse(body).unwrap_err();
            assert!(
                error.0.contains(expected),
                "{}: {error}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
