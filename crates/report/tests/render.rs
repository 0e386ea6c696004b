//! Every format, rendered from a realistic report and from an empty one: snapshots, validity
//! against the published schemas, and byte-stability.

// Test code, helpers included: a failed unwrap or index is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use palisade_model::{Finding, ScanReport};
use palisade_report::{Format, RenderOptions, render};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use support::{empty, sample};

const PLAIN: RenderOptions = RenderOptions {
    color: false,
    verbose: true,
};

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- snapshots

#[test]
fn table_snapshot() {
    insta::assert_snapshot!("sample.table", render(&sample(), Format::Table, &PLAIN));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("sample.json", render(&sample(), Format::Json, &PLAIN));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("sample.sarif", render(&sample(), Format::Sarif, &PLAIN));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("sample.junit", render(&sample(), Format::Junit, &PLAIN));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(
        "sample.markdown",
        render(&sample(), Format::Markdown, &PLAIN)
    );
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!("sample.html", render(&sample(), Format::Html, &PLAIN));
}

#[test]
fn empty_report_snapshots() {
    for format in Format::ALL {
        let text = render(&empty(), format, &PLAIN);
        insta::assert_snapshot!(format!("empty.{format}"), text);
    }
}

// ---------------------------------------------------------------- JSON

/// The published schema lets objects gain properties within a version; here every property
/// must be declared, so the schema cannot fall behind the report.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

fn assert_valid(schema: &Value, instance: &Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn json_matches_the_published_schema() {
    let mut schema = read_json(&manifest_dir().join("../../docs/report.schema.json"));
    strict(&mut schema);
    for report in [sample(), empty()] {
        let text = render(&report, Format::Json, &PLAIN);
        assert!(text.ends_with("}\n"));
        assert_valid(&schema, &serde_json::from_str(&text).unwrap());
    }
}

#[test]
fn json_schema_rejects_what_the_report_never_writes() {
    let mut schema = read_json(&manifest_dir().join("../../docs/report.schema.json"));
    strict(&mut schema);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good: Value = serde_json::from_str(&render(&sample(), Format::Json, &PLAIN)).unwrap();

    let mut undeclared = good.clone();
    undeclared["findings"][0]["extra"] = Value::Bool(true);
    assert!(!validator.is_valid(&undeclared));

    let mut bad_severity = good.clone();
    bad_severity["findings"][0]["severity"] = "severe".into();
    assert!(!validator.is_valid(&bad_severity));

    let mut unsuppressed = good;
    unsuppressed["suppressed"][0]
        .as_object_mut()
        .unwrap()
        .remove("suppressed");
    assert!(!validator.is_valid(&unsuppressed));
}

#[test]
fn documented_example_matches_the_schema() {
    let doc = std::fs::read_to_string(manifest_dir().join("../../docs/report-schema.md")).unwrap();
    let start = doc.find("```json\n").unwrap() + "```json\n".len();
    let end = start + doc[start..].find("\n```").unwrap();
    let mut schema = read_json(&manifest_dir().join("../../docs/report.schema.json"));
    strict(&mut schema);
    assert_valid(&schema, &serde_json::from_str(&doc[start..end]).unwrap());
}

#[test]
fn json_round_trips() {
    let report = sample();
    let text = render(&report, Format::Json, &PLAIN);
    let back: ScanReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

// ---------------------------------------------------------------- SARIF

fn sarif_schema() -> Value {
    read_json(&manifest_dir().join("tests/data/sarif-schema-2.1.0.json"))
}

#[test]
fn sarif_matches_the_official_schema() {
    let schema = sarif_schema();
    for report in [sample(), empty()] {
        let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, &PLAIN)).unwrap();
        assert_valid(&schema, &sarif);
    }
}

#[test]
fn sarif_results_point_at_their_rules() {
    let report = sample();
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, &PLAIN)).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), report.controls.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        report.findings.len() + report.suppressed.len()
    );
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }

    let privileged = &rules[0];
    assert_eq!(privileged["name"], "ContainersMustNotRunPrivileged");
    assert_eq!(privileged["properties"]["security-severity"], "9.0");
    assert_eq!(
        privileged["helpUri"],
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"
    );

    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "warning", "error", "note", "warning"]);
    let suppressed = &results[4];
    assert_eq!(suppressed["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed["suppressions"][0]["justification"],
        "Pinned by the release pipeline before promotion"
    );
    let location = &results[0]["locations"][0];
    assert_eq!(
        location["physicalLocation"]["artifactLocation"],
        serde_json::json!({ "uri": "deploy/web.yaml", "uriBaseId": "%SRCROOT%" })
    );
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 22);
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "Deployment/shop/web"
    );

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notifications[0]["level"], "error");
    assert_eq!(
        notifications[0]["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({ "startLine": 7, "startColumn": 3 })
    );
}

#[test]
fn sarif_fingerprints_follow_the_finding_not_its_line() {
    let fingerprints = |report: &ScanReport| -> Vec<String> {
        let sarif: Value = serde_json::from_str(&render(report, Format::Sarif, &PLAIN)).unwrap();
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["palisadeFindingHash/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let report = sample();
    let before = fingerprints(&report);
    let distinct: std::collections::BTreeSet<&String> = before.iter().collect();
    assert_eq!(
        distinct.len(),
        before.len(),
        "fingerprints collide: {before:?}"
    );

    let mut moved = report.clone();
    moved
        .findings
        .iter_mut()
        .for_each(|f| f.location.line += 10);
    assert_eq!(fingerprints(&moved), before);

    let mut renamed = report;
    std::sync::Arc::make_mut(&mut renamed.findings[0].object).name = "web-v2".into();
    assert_ne!(fingerprints(&renamed)[0], before[0]);
}

#[test]
fn sarif_without_errors_is_successful() {
    let sarif: Value = serde_json::from_str(&render(&empty(), Format::Sarif, &PLAIN)).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

// ---------------------------------------------------------------- JUnit

/// Element counts, and the attributes of the `testsuites` root, of a well-formed document.
fn parse_xml(text: &str) -> (BTreeMap<String, usize>, BTreeMap<String, String>) {
    let mut reader = Reader::from_str(text);
    let mut counts = BTreeMap::new();
    let mut root = BTreeMap::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                if name == "testsuites" {
                    for attr in e.attributes() {
                        let attr = attr.unwrap();
                        let value = attr.normalized_value(XmlVersion::Explicit1_0).unwrap();
                        root.insert(attr.key.as_ref().to_string(), value.into_owned());
                    }
                }
                *counts.entry(name).or_insert(0) += 1;
            }
            Event::GeneralRef(r) => {
                let known = if r.is_char_ref() {
                    r.resolve_char_ref().unwrap().is_some()
                } else {
                    ["amp", "lt", "gt", "quot", "apos"].contains(&&*r.into_inner())
                };
                assert!(known, "unknown entity reference");
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (counts, root)
}

#[test]
fn junit_is_well_formed_and_counts_match() {
    let report = sample();
    let (counts, root) = parse_xml(&render(&report, Format::Junit, &PLAIN));
    let count = |name: &str| counts.get(name).copied().unwrap_or(0);
    // One suite per control, one for input errors.
    assert_eq!(count("testsuite"), report.controls.len() + 1);
    // Three objects × controls with findings (web has three, backup one), the suppressed-only
    // object, two controls with no findings, one input error.
    assert_eq!(count("failure"), 4);
    assert_eq!(count("skipped"), 1);
    assert_eq!(count("error"), 1);
    assert_eq!(count("testcase"), 4 + 1 + 2 + 1);
    assert_eq!(root["tests"], count("testcase").to_string());
    assert_eq!(root["failures"], count("failure").to_string());
    assert_eq!(root["errors"], count("error").to_string());
    assert_eq!(root["skipped"], count("skipped").to_string());

    let (counts, root) = parse_xml(&render(&empty(), Format::Junit, &PLAIN));
    assert_eq!(counts.get("testsuites"), Some(&1));
    assert_eq!(root["tests"], "0");
}

// ---------------------------------------------------------------- hostile input

fn hostile() -> ScanReport {
    let mut report = sample();
    let f: &mut Finding = &mut report.findings[0];
    f.message =
        "</td></table><script>alert(1)</script> & \"q\" 'a' | `x` \u{1b}[31mred\u{0}\n@all".into();
    std::sync::Arc::make_mut(&mut f.object).name = "web<img src=x onerror=alert(1)>".into();
    f.location.file = "dir with space/ü|x.yaml".into();
    report
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let report = hostile();

    let html = render(&report, Format::Html, &PLAIN);
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;/td&gt;&lt;/table&gt;&lt;script&gt;"));
    assert!(!html.contains('\u{0}') && !html.contains('\u{1b}'));

    let junit = render(&report, Format::Junit, &PLAIN);
    parse_xml(&junit);
    assert!(!junit.contains('\u{0}') && !junit.contains('\u{1b}'));

    let table = render(&report, Format::Table, &PLAIN);
    assert!(!table.contains('\u{1b}') && !table.contains('\u{0}'));

    let markdown = render(&report, Format::Markdown, &PLAIN);
    assert!(markdown.contains("\\<script\\>"));
    assert!(markdown.contains("\\| \\`x\\`"));
    let row = markdown.lines().find(|l| l.contains("alert(1)")).unwrap();
    assert!(
        !row.replace("\\<", "").contains('<'),
        "unescaped markup: {row}"
    );
    assert_eq!(
        row.matches(" | ").count(),
        3,
        "the message must stay in its cell: {row}"
    );

    for format in [Format::Json, Format::Sarif] {
        let text = render(&report, format, &PLAIN);
        serde_json::from_str::<Value>(&text).unwrap();
    }
    assert_valid(
        &sarif_schema(),
        &serde_json::from_str(&render(&report, Format::Sarif, &PLAIN)).unwrap(),
    );
}

// ---------------------------------------------------------------- table and options

#[test]
fn table_colours_only_when_asked() {
    let report = sample();
    let plain = render(&report, Format::Table, &PLAIN);
    assert!(!plain.contains('\u{1b}'));
    let coloured = render(
        &report,
        Format::Table,
        &RenderOptions {
            color: true,
            verbose: false,
        },
    );
    assert!(coloured.contains("\u{1b}["));
}

#[test]
fn notices_only_when_verbose() {
    let report = sample();
    let quiet = RenderOptions::default();
    for format in [Format::Table, Format::Markdown, Format::Html] {
        assert!(render(&report, format, &PLAIN).contains("helm template"));
        assert!(!render(&report, format, &quiet).contains("helm template"));
    }
}

#[test]
fn html_is_self_contained() {
    let html = render(&sample(), Format::Html, &PLAIN);
    for external in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn html_caps_evidence_per_requirement() {
    let mut report = sample();
    let template = report.findings[2].clone();
    assert_eq!(&*template.control_id, "PAL-101");
    report.findings = (0..45)
        .map(|i| {
            let mut f = template.clone();
            std::sync::Arc::make_mut(&mut f.object).name = format!("web-{i:02}");
            f
        })
        .collect();
    let html = render(&report, Format::Html, &PLAIN);
    assert!(html.contains("and 25 more"));
}

// ---------------------------------------------------------------- determinism

#[test]
fn every_format_is_byte_stable() {
    let options = RenderOptions::default();
    for format in Format::ALL {
        let first = render(&sample(), format, &options);
        let again = render(&sample(), format, &options);
        assert_eq!(first, again, "{format}");
        // A report read back from its JSON renders the same.
        let back: ScanReport =
            serde_json::from_str(&render(&sample(), Format::Json, &options)).unwrap();
        assert_eq!(render(&back, format, &options), first, "{format}");
    }
}
