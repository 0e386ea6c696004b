//! Loading Sigma rules: directories, other log sources, and broken rules reported with file
//! and line while the other rules still load.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use palisade_audit::sigma::{Diagnostic, Level, Options, SigmaRules};
use std::path::{Path, PathBuf};

const GOOD: &str = "title: Good
logsource: {product: kubernetes, service: audit}
detection:
  selection:
    verb: delete
  condition: selection
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Loads one rule text beside a good rule; returns the count loaded and the diagnostics.
fn load_beside_good(text: &str) -> (usize, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a_good.yml", GOOD);
    write(dir.path(), "b_rule.yml", text);
    let (rules, diagnostics) = SigmaRules::load(&[dir.path().to_path_buf()]);
    (rules.rule_count(), diagnostics)
}

fn only_error(text: &str) -> Diagnostic {
    let (count, diagnostics) = load_beside_good(text);
    assert_eq!(count, 1, "the good rule still loads: {diagnostics:#?}");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = diagnostics.into_iter().next().unwrap();
    assert_eq!(d.level, Level::Error, "{d}");
    assert!(d.file.ends_with("b_rule.yml"), "{d}");
    d
}

#[test]
fn malformed_rules_are_errors_with_file_and_line() {
    let cases: [(&str, u32, &str); 10] = [
        ("title: Bad YAML\ndetection: [unclosed\n", 3, "YAML:"),
        (
            "title: No Detection\nlogsource: {product: kubernetes, service: audit}\n",
            1,
            "missing detection",
        ),
        (
            "title: No Condition\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb: get\n",
            3,
            "missing detection condition",
        ),
        (
            "title: Unknown Modifier\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb|startswit: get\n  condition: selection\n",
            5,
            "verb|startswit: unknown modifier \"startswit\"",
        ),
        (
            "title: Syntax\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb: get\n  condition: selection and (\n",
            6,
            "condition: the condition ends where a search was expected",
        ),
        (
            "title: Undefined\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb: get\n  condition: selection and not filter\n",
            6,
            "condition: the condition names \"filter\", which is not a search of this rule",
        ),
        (
            "title: Bad Regex\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    requestURI|re: '(?<=exec)x'\n  condition: selection\n",
            5,
            "does not compile",
        ),
        (
            "logsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb: get\n  condition: selection\n",
            1,
            "missing title",
        ),
        (
            "title: Placeholder\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    user.username|expand: '%Administrators%'\n  condition: selection\n",
            5,
            "placeholder %Administrators% has no values",
        ),
        (
            "title: Aggregation\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb: get\n  condition: selection | count() > 10\n",
            6,
            "pipe (aggregation) syntax",
        ),
    ];
    for (text, line, says) in cases {
        let d = only_error(text);
        assert_eq!(d.line, Some(line), "{d}");
        assert!(d.message.contains(says), "{d}");
        assert!(
            d.to_string()
                .contains(&format!("b_rule.yml:{line}: error: ")),
            "{d}"
        );
    }
}

#[test]
fn every_broken_search_of_a_rule_is_reported() {
    let (count, diagnostics) = load_beside_good(
        "title: Two Bad\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  one:\n    verb|nope: get\n  two:\n    verb|cidr|re: x\n  condition: one or two\n",
    );
    assert_eq!(count, 1);
    let lines: Vec<_> = diagnostics.iter().map(|d| (d.level, d.line)).collect();
    assert_eq!(lines, [(Level::Error, Some(5)), (Level::Error, Some(7))]);
    assert!(
        diagnostics
            .iter()
            .all(|d| d.rule.as_deref() == Some("Two Bad"))
    );
}

#[test]
fn other_log_sources_are_not_applicable_and_skipped() {
    let (count, diagnostics) = load_beside_good(
        "title: Windows Thing\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    Image|endswith: '\\\\cmd.exe'\n  condition: selection\n",
    );
    assert_eq!(count, 1);
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d.level, Level::NotApplicable);
    assert_eq!(d.line, Some(2));
    assert!(
        d.message
            .contains("product: windows, service: (none) is not Kubernetes audit"),
        "{d}"
    );
    assert!(
        d.to_string()
            .contains(": not applicable: rule \"Windows Thing\": "),
        "{d}"
    );
}

#[test]
fn correlation_rules_and_collections_are_reported() {
    let (count, diagnostics) = load_beside_good(
        "title: Many Failures\ncorrelation:\n  type: event_count\n  rules: [x]\n  timespan: 5m\n---\naction: global\ntitle: Collection\n",
    );
    assert_eq!(count, 1);
    assert_eq!(diagnostics[0].level, Level::NotApplicable);
    assert_eq!(diagnostics[0].line, Some(2));
    assert!(diagnostics[0].message.contains("correlation rule"));
    assert_eq!(diagnostics[1].level, Level::Error);
    assert_eq!(diagnostics[1].line, Some(7));
    assert!(
        diagnostics[1]
            .message
            .contains("rule collections (action: \"global\")")
    );
}

#[test]
fn several_rules_in_one_file_each_load() {
    let text = format!("{GOOD}---\n{}", GOOD.replace("Good", "Second"));
    let (count, diagnostics) = load_beside_good(&text);
    assert_eq!(count, 3);
    assert!(diagnostics.is_empty());
}

#[test]
fn directories_are_read_recursively_for_yml_and_yaml_only() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yml", GOOD);
    write(dir.path(), "deep/er/b.yaml", &GOOD.replace("Good", "B"));
    write(dir.path(), "notes.txt", "not a rule");
    write(dir.path(), "c.json", "{}");
    write(dir.path(), ".hidden/d.yml", "title: [broken");
    let (rules, diagnostics) =
        SigmaRules::load(&[dir.path().to_path_buf(), dir.path().join("missing.yml")]);
    assert_eq!(rules.titles().collect::<Vec<_>>(), ["Good", "B"]);
    assert_eq!(diagnostics.len(), 1);
    assert!(
        diagnostics[0]
            .to_string()
            .ends_with("missing.yml: error: no such file or directory")
    );
}

#[test]
fn placeholders_expand_with_values_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "admins.yml",
        "title: Admin Deletes\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    verb: delete\n    user.username|expand: '%Administrators%'\n  condition: selection\n",
    );
    let mut options = Options::default();
    options.placeholders.insert(
        "Administrators".into(),
        vec!["root".into(), "admin-*".into()],
    );
    let (mut rules, diagnostics) = SigmaRules::load_with(&[path], &options);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let event = |user: &str| {
        let text = format!(r#"{{"kind":"Event","verb":"delete","user":{{"username":"{user}"}}}}"#);
        palisade_audit::event::parse(text, &palisade_audit::Origin::new("t", 1))
            .unwrap()
            .remove(0)
    };
    use palisade_audit::Detector;
    let mut alerts = Vec::new();
    for user in ["root", "admin-bob", "bob"] {
        rules.observe(&event(user), &mut alerts);
    }
    let users: Vec<_> = alerts
        .iter()
        .map(|a| a.identity.user.clone().unwrap())
        .collect();
    assert_eq!(users, ["root", "admin-bob"]);
}

#[test]
fn unknown_levels_are_warnings_and_medium() {
    let (count, diagnostics) =
        load_beside_good(&GOOD.replace("title: Good", "title: Odd\nlevel: severe"));
    assert_eq!(count, 2);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].level, Level::Warning);
    assert_eq!(diagnostics[0].line, Some(2));
    assert!(diagnostics[0].message.contains("medium is used"));
}

#[test]
fn a_field_typed_as_integer_warns_about_impossible_values() {
    let (count, diagnostics) = load_beside_good(
        "title: Codes\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  selection:\n    responseStatus.code:\n      - 403\n      - '40*'\n      - Forbidden\n  condition: selection\n",
    );
    assert_eq!(count, 2);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert!(
        diagnostics[0]
            .message
            .contains("the value \"Forbidden\" can never match")
    );
}
