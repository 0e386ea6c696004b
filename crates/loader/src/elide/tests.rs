use super::*;
use crate::yaml::{Limits, parse};
use serde_json::Value;

const CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  annotations:
    note: |
      openAPIV3Schema:
        not: a schema
spec:
  group: example.com
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        description: 'It''s a widget: with a quote'
        type: object
        properties:
          spec:
            description: >-
              Free text with \"quotes' and [brackets
            type: object

      # a comment
    served: true
";

#[test]
fn blanks_the_schema_lines_only() {
    let out = crd_schemas_blanked(CRD).expect("blanked");
    let before: Vec<&str> = CRD.lines().collect();
    let after: Vec<&str> = out.lines().collect();
    assert_eq!(before.len(), after.len());
    for (n, (b, a)) in before.iter().zip(&after).enumerate() {
        let line = n + 1;
        if (15..=21).contains(&line) {
            assert_eq!(*a, "", "line {line}");
        } else {
            assert_eq!(a, b, "line {line}");
        }
    }
}

#[test]
fn leaves_other_documents_and_block_scalars_alone() {
    let config = "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: y\nspec:\n  openAPIV3Schema:\n    type: object\n";
    assert_eq!(crd_schemas_blanked(config), None);
    let text = format!("{config}---\n{CRD}");
    let out = crd_schemas_blanked(&text).expect("blanked");
    assert!(out.starts_with(config), "the ConfigMap is untouched");
    assert!(out.contains("      openAPIV3Schema:\n        not: a schema\n"));
}

#[test]
fn follows_scalars_and_collections_spanning_lines() {
    // Each of these holds a line that looks like a schema key but is text.
    for text in [
        "a: \"spans \\\" lines\n  openAPIV3Schema:\n    x\"\n",
        "a: 'it''s\n  openAPIV3Schema:\n    x'\n",
        "a: [b, 'c\n  openAPIV3Schema:\n    x', {d: \"]\"} # ] '\n  ]\n",
        "a: plain\n  openAPIV3Schema:\n    x\n",
        "a: |\n  openAPIV3Schema:\n    x\n",
    ] {
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata:\n  {}\nspec:\n  validation:\n    openAPIV3Schema:\n      type: object\n",
            text.trim_end().replace('\n', "\n  ")
        );
        let out = crd_schemas_blanked(&crd).unwrap_or_else(|| panic!("{crd}"));
        assert!(out.contains("openAPIV3Schema:\n      x"), "{out}");
        assert!(out.ends_with("    openAPIV3Schema:\n\n"), "{out}");
        same_objects(&crd);
    }
}

#[test]
fn blanks_only_where_a_crd_keeps_schemas() {
    // Found by fuzzing: `versions` under `metadata` holds no schema.
    let elsewhere = CRD.replace("spec:\n  group: example.com\n", "");
    assert_eq!(crd_schemas_blanked(&elsewhere), None);
    same_objects(&elsewhere);
    let nested = CRD.replace("  - name: v1\n    schema:", "  - - name: v1\n      schema:");
    assert_eq!(crd_schemas_blanked(&nested), None);
    // Compact and indented sequences, and JSON-style keys after the schema.
    let indented: String = CRD
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            11.. if !l.is_empty() => format!("  {l}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    assert!(crd_schemas_blanked(&indented).is_some());
}

#[test]
fn gives_up_on_what_lines_cannot_show() {
    for bad in [
        "--- |\n  text\n",
        "a:\n\tb: c\n",
        "a: b\rc: d\n",
        "a: b\u{2028}c: d\n",
    ] {
        let text = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n{bad}spec:\n  validation:\n    openAPIV3Schema:\n      type: object\n"
        );
        assert_eq!(crd_schemas_blanked(&text), None, "{bad:?}");
    }
}

/// The same objects, schema or no schema, whichever way the text is read.
fn same_objects(text: &str) {
    let whole = parse(text, Limits::default());
    let Some(blanked) = crd_schemas_blanked(text) else {
        return;
    };
    let cut = parse(&blanked, Limits::default());
    if whole.error.is_some() {
        return;
    }
    assert!(cut.error.is_none(), "{:?}\n{blanked}", cut.error);
    let strip = |docs: Vec<crate::yaml::Document>| -> Vec<(Value, u32)> {
        docs.into_iter()
            .map(|mut d| {
                crate::objects::drop_crd_schemas(&mut d.value);
                (d.value, d.line)
            })
            .collect()
    };
    assert_eq!(strip(whole.documents), strip(cut.documents), "{text}");
}

#[test]
fn reading_blanked_text_gives_the_same_objects() {
    same_objects(CRD);
    same_objects(&format!("{CRD}---\n{CRD}...\n---\n{CRD}"));
    same_objects(&CRD.replace('\n', "\r\n"));
    same_objects(&CRD.replace(
        "  versions:\n  - name: v1\n    schema:\n",
        "  validation:\n",
    ));
    for file in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/crds"))
        .expect("CRD samples")
        .flatten()
        .filter(|f| f.path().extension().is_some_and(|e| e == "yaml"))
    {
        let text = std::fs::read_to_string(file.path()).expect("readable");
        assert!(crd_schemas_blanked(&text).is_some(), "{:?}", file.path());
        same_objects(&text);
    }
}
