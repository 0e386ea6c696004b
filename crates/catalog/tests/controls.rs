//! Every control has a failing and a passing fixture, and behaves on both.
//!
//! `tests/fixtures/<ID>/fail.yaml` must give at least one finding of the control, and when
//! lines carry a `# finding` comment, findings must be on exactly those lines (this is what
//! keeps "the finding points at the offending field" true). `pass.yaml` must give none.
//! Fixtures may hold several documents: the other objects give cross-object checks context.

use palisade_catalog::{Control, catalog, evaluate};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn run(control: &Control, file: &Path) -> (Vec<u32>, BTreeSet<u32>) {
    let text = std::fs::read_to_string(file);
    assert!(
        text.is_ok(),
        "{}: missing fixture ({text:?})",
        file.display()
    );
    let text = text.unwrap_or_default();
    let loaded = palisade_loader::load_text(&file.display().to_string(), &text);
    assert!(
        loaded.errors.is_empty(),
        "{}: {:?}",
        file.display(),
        loaded.errors
    );
    let result = evaluate(&loaded.objects, &[control]);
    let lines = result.findings.iter().map(|f| f.location.line).collect();
    let marked = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("# finding"))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    (lines, marked)
}

#[test]
fn every_control_fails_and_passes_its_fixtures() {
    let catalog = catalog().unwrap();
    let mut problems = Vec::new();
    for control in catalog.iter() {
        let id = &control.meta.id;
        let dir = fixtures().join(id);
        let (fail_lines, marked) = run(control, &dir.join("fail.yaml"));
        if fail_lines.is_empty() {
            problems.push(format!("{id}: fail.yaml gives no finding"));
        }
        let found: BTreeSet<u32> = fail_lines.iter().copied().collect();
        if !marked.is_empty() && found != marked {
            problems.push(format!(
                "{id}: findings on lines {found:?}, fixture marks lines {marked:?}"
            ));
        }
        let (pass_lines, _) = run(control, &dir.join("pass.yaml"));
        if !pass_lines.is_empty() {
            problems.push(format!(
                "{id}: pass.yaml gives findings on lines {pass_lines:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_fixture_names_a_control() {
    let catalog = catalog().unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            catalog.get(&name).is_some(),
            "fixtures/{name} names no control"
        );
    }
}
