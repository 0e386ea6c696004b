//! PAL-806: Secret manifests that carry their data, so the values live wherever the manifest
//! is stored and copied. Encrypted forms pass: a SealedSecret is another kind, and values
//! SOPS encrypted in place read `ENC[...]`.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-806",
    target: Target::Kinds(&["Secret"]),
    check,
};

/// Reported by PAL-805 instead.
const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";

/// Is this a value someone committed, rather than an empty placeholder, a template
/// expression filled in at deploy time, or a SOPS-encrypted value?
fn committed(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return !value.is_null();
    };
    let v = text.trim();
    let templated = v.contains("${")
        || v.contains("$(")
        || v.contains("{{")
        || (v.starts_with('<') && v.ends_with('>'));
    !(v.is_empty() || templated || v.starts_with("ENC["))
}

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    // Read from a live cluster, the data is where a Secret keeps it.
    if object.source.is_live()
        || object.at("/type").and_then(Value::as_str) == Some(SERVICE_ACCOUNT_TOKEN)
    {
        return;
    }
    for (field, how) in [
        ("data", "base64 is an encoding anyone can reverse"),
        ("stringData", "the values are in clear text"),
    ] {
        let Some(map) = object.at(&format!("/{field}")).and_then(Value::as_object) else {
            continue;
        };
        let keys: Vec<&str> = map
            .iter()
            .filter(|(_, v)| committed(v))
            .map(|(k, _)| k.as_str())
            .collect();
        if keys.is_empty() {
            continue;
        }
        hits.push(
            format!("/{field}"),
            format!(
                "Secret {:?} carries the values of {field} key(s) {} in the manifest: {how}",
                object.name(),
                keys.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Positions, Source};
    use serde_json::json;

    #[test]
    fn placeholders_are_not_committed() {
        assert!(committed(&json!("cGFzc3dvcmQ=")));
        assert!(committed(&json!("/9j/4AAQSkZJRg==")));
        assert!(!committed(&json!("")));
        assert!(!committed(&json!("  ")));
        assert!(!committed(&json!(null)));
        assert!(!committed(&json!("${DB_PASSWORD}")));
        assert!(!committed(&json!("{{ .Values.password }}")));
        assert!(!committed(&json!("<password>")));
        assert!(!committed(&json!(
            "ENC[AES256_GCM,data:8xw=,iv:a,tag:b,type:str]"
        )));
    }

    #[test]
    fn live_objects_are_not_judged() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "cGFzcw=="}});
        let judge = |file: &str| {
            let object = Object::new(secret.clone(), Source::file(file, 1), Positions::default());
            let objects = [object];
            let ctx = Context::new(&objects);
            let mut hits = Hits::default();
            if let Some(o) = objects.first() {
                check(o, &ctx, &mut hits);
            }
            hits.is_empty()
        };
        assert!(!judge("secrets/db.yaml"));
        assert!(judge("cluster://prod/shop/secrets/db"));
    }
}
