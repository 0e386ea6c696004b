//! From parsed documents to Kubernetes objects: `List` kinds are expanded, and documents that
//! are not objects are reported.

use crate::error::LoadError;
use crate::yaml::Document;
use palisade_model::{Object, Source};
use serde_json::Value;
use std::sync::Arc;

/// Objects of one file, and what could not be used.
#[derive(Debug, Default)]
pub struct FileObjects {
    /// Objects found.
    pub objects: Vec<Object>,
    /// Documents that look like objects but are broken (for example `kind` without
    /// `apiVersion`): input errors.
    pub errors: Vec<LoadError>,
    /// Documents that are plain data, not Kubernetes objects (a Helm values file, a config
    /// file): not errors, but reported so nothing is skipped silently.
    pub skipped: Vec<LoadError>,
}

/// Turns a file's documents into objects.
pub fn from_documents(
    file: &Arc<str>,
    documents: Vec<Document>,
    keep_crd_schemas: bool,
) -> FileObjects {
    let mut out = FileObjects::default();
    for mut doc in documents {
        let line = doc.line;
        match classify(&doc.value) {
            Shape::Object => {
                let positions = if !keep_crd_schemas && drop_crd_schemas(&mut doc.value) {
                    doc.fields.positions_within(CRD_LINE_DEPTH)
                } else {
                    doc.fields.positions()
                };
                out.objects.push(Object::new(
                    doc.value,
                    Source {
                        file: Arc::clone(file),
                        line,
                        document: doc.index,
                    },
                    positions,
                ));
            }
            Shape::List => expand_list(file, doc, &mut out),
            Shape::NotObject(message) => out.skipped.push(LoadError::Document { line, message }),
            Shape::Broken(message) => out.errors.push(LoadError::Document { line, message }),
        }
    }
    out
}

/// Lines kept for a CustomResourceDefinition whose schemas were dropped: down to
/// `/spec/versions/N/name`.
const CRD_LINE_DEPTH: u16 = 4;

/// Drops the validation schemas of a CustomResourceDefinition (`spec.versions[].schema`,
/// `spec.validation`), returning whether the object is one.
///
/// A schema describes the custom resource's fields; it is not configuration any control
/// judges, yet on operator bundles it is most of the bytes (two thirds of the nodes of the
/// public manifest corpus). Dropping it while reading keeps large scans small.
pub(crate) fn drop_crd_schemas(value: &mut Value) -> bool {
    if value.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition")
        || !value
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
    {
        return false;
    }
    if let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("validation");
        if let Some(versions) = spec.get_mut("versions").and_then(Value::as_array_mut) {
            for version in versions.iter_mut().filter_map(Value::as_object_mut) {
                version.remove("schema");
            }
        }
    }
    true
}

enum Shape {
    Object,
    List,
    NotObject(String),
    Broken(String),
}

fn classify(value: &Value) -> Shape {
    let Some(map) = value.as_object() else {
        let what = match value {
            Value::Array(_) => "a list",
            Value::String(_) => "a string",
            _ => "a scalar",
        };
        return Shape::NotObject(format!(
            "document is {what}, not a Kubernetes object (a mapping with apiVersion and kind)"
        ));
    };
    let kind = map.get("kind");
    let api = map.get("apiVersion");
    match (api, kind) {
        (None, None) => Shape::NotObject(
            "document has no apiVersion and no kind: not a Kubernetes object".into(),
        ),
        (Some(Value::String(_)), Some(Value::String(k))) if k.is_empty() => {
            Shape::Broken("kind is empty".into())
        }
        (Some(Value::String(_)), Some(Value::String(k))) => {
            if k.ends_with("List") && map.get("items").is_some_and(Value::is_array) {
                Shape::List
            } else {
                Shape::Object
            }
        }
        (Some(Value::String(_)), None) => Shape::Broken("object has apiVersion but no kind".into()),
        (None, Some(_)) => Shape::Broken("object has kind but no apiVersion".into()),
        _ => Shape::Broken("apiVersion and kind must be strings".into()),
    }
}

fn expand_list(file: &Arc<str>, doc: Document, out: &mut FileObjects) {
    let Value::Object(mut map) = doc.value else {
        return;
    };
    let Some(Value::Array(items)) = map.remove("items") else {
        return;
    };
    let positions = doc.fields.item_positions(items.len());
    for ((i, item), positions) in items.into_iter().enumerate().zip(positions) {
        let line = positions.exact("").unwrap_or(doc.line);
        match classify(&item) {
            Shape::Object => out.objects.push(Object::new(
                item,
                Source {
                    file: Arc::clone(file),
                    line,
                    document: doc.index,
                },
                positions,
            )),
            Shape::List => out.errors.push(LoadError::Document {
                line,
                message: "a List inside a List is not supported".into(),
            }),
            Shape::NotObject(m) | Shape::Broken(m) => out.errors.push(LoadError::Document {
                line,
                message: format!("items[{i}] of a List: {m}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse};

    fn objects(text: &str) -> FileObjects {
        let parsed = parse(text, Limits::default());
        assert!(parsed.error.is_none());
        from_documents(&Arc::from("f.yaml"), parsed.documents, false)
    }

    #[test]
    fn expands_lists_with_lines() {
        let out = objects(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n  spec:\n    hostPID: true\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n",
        );
        assert_eq!(out.objects.len(), 2);
        assert_eq!(out.objects[0].source.line, 4);
        assert_eq!(out.objects[0].line_of("/spec/hostPID"), 9);
        assert_eq!(out.objects[1].name(), "b");
        assert_eq!(out.objects[1].source.line, 10);
    }

    #[test]
    fn drops_crd_schemas_only_when_asked() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\nspec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema: {type: object}\n";
        let parsed = parse(text, Limits::default());
        let out = from_documents(&Arc::from("f.yaml"), parsed.documents, false);
        let crd = &out.objects[0];
        assert!(crd.at("/spec/versions/0/schema").is_none());
        assert_eq!(crd.line_of("/spec/versions/0/name"), 7);
        let parsed = parse(text, Limits::default());
        let kept = from_documents(&Arc::from("f.yaml"), parsed.documents, true);
        assert!(
            kept.objects[0]
                .at("/spec/versions/0/schema/openAPIV3Schema")
                .is_some()
        );
    }

    #[test]
    fn classifies_non_objects() {
        let out = objects("replicas: 3\n---\nkind: Pod\n---\n- a\n");
        assert_eq!(out.objects.len(), 0);
        assert_eq!(out.skipped.len(), 2);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].line(), Some(3));
    }
}
