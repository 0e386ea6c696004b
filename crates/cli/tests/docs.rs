//! docs/controls.md is generated from the catalog and the frameworks; this test fails when it
//! drifts. Regenerate with `PALISADE_UPDATE_DOCS=1 cargo test -p palisade-cli --test docs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

fn generate() -> String {
    let catalog = palisade_catalog::catalog().unwrap();
    let mut mapped: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for f in palisade_frameworks::all().unwrap() {
        for r in &f.requirements {
            for c in &r.controls {
                mapped
                    .entry(c)
                    .or_default()
                    .entry(&f.id)
                    .or_default()
                    .push(&r.id);
            }
        }
    }
    let mut by_category: BTreeMap<&str, Vec<&palisade_catalog::Control>> = BTreeMap::new();
    for c in catalog.iter() {
        by_category.entry(&c.meta.category).or_default().push(c);
    }
    let mut out = String::from(
        "# Built-in controls\n\n<!-- Generated from crates/catalog/data/controls and crates/frameworks/data by crates/cli/tests/docs.rs; do not edit. -->\n\n",
    );
    let _ = writeln!(
        out,
        "{} controls. `palisade controls show ID` prints one of them.\n",
        catalog.len()
    );
    let _ = writeln!(
        out,
        "| id | severity | category | title |\n|---|---|---|---|"
    );
    for c in catalog.iter() {
        let m = &c.meta;
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} |",
            m.id,
            m.id.to_lowercase(),
            m.severity,
            m.category,
            m.title
        );
    }
    for (category, controls) in by_category {
        let _ = writeln!(out, "\n## {category}");
        for c in controls {
            let m = &c.meta;
            let _ = writeln!(
                out,
                "\n### {}\n\n**{}** — severity {}; applies to {}.\n",
                m.id,
                m.title,
                m.severity,
                if m.kinds.is_empty() {
                    "-".to_string()
                } else {
                    m.kinds.join(", ")
                }
            );
            let _ = writeln!(
                out,
                "{}\n\n*Remediation:* {}\n",
                m.rationale.trim(),
                m.remediation.trim()
            );
            let _ = writeln!(out, "*References:* {}\n", m.references.join("; "));
            let frameworks: Vec<String> = mapped
                .get(m.id.as_str())
                .map(|f| {
                    f.iter()
                        .map(|(id, reqs)| format!("{id} {}", reqs.join(", ")))
                        .collect()
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "*Frameworks:* {}",
                if frameworks.is_empty() {
                    "-".to_string()
                } else {
                    frameworks.join("; ")
                }
            );
        }
    }
    out
}

#[test]
fn controls_doc_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/controls.md");
    let fresh = generate();
    if std::env::var_os("PALISADE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "docs/controls.md is stale: run PALISADE_UPDATE_DOCS=1 cargo test -p palisade-cli --test docs"
    );
}
