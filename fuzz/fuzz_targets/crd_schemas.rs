//! Blanking CRD schemas before parsing must not change any object: whenever the text parses,
//! the blanked text parses to the same documents once schemas are removed from both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_loader::{Limits, crd_schemas_blanked, parse};
use serde_json::Value;

fn without_schemas(mut value: Value) -> Value {
    let is_crd = value.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        && value
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"));
    if is_crd && let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("validation");
        for version in spec
            .get_mut("versions")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            version.remove("schema");
        }
    }
    value
}

fuzz_target!(
    init: {
        // A known libyaml-safer panic the loader turns into an input error.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.location().is_some_and(|l| l.file().contains("libyaml-safer")) {
                return;
            }
            abort_hook(info);
        }));
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let Some(blanked) = crd_schemas_blanked(text) else {
            return;
        };
        let breaks = |t: &str| t.bytes().filter(|b| *b == b'\n').count();
        assert_eq!(breaks(text), breaks(&blanked));
        let whole = parse(text, Limits::default());
        if whole.error.is_some() {
            return;
        }
        let cut = parse(&blanked, Limits::default());
        assert!(cut.error.is_none(), "{:?}", cut.error);
        let documents = |p: palisade_loader::Parsed| -> Vec<(Value, u32)> {
            p.documents
                .into_iter()
                .map(|d| (without_schemas(d.value), d.line))
                .collect()
        };
        assert_eq!(documents(whole), documents(cut));
    }
);
