//! Every value modifier, value form and condition form, end to end: a rule's detection
//! compiled from YAML and run on audit events.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use palisade_audit::sigma::SigmaRules;
use palisade_audit::{Detector, Origin};

/// Compiles a rule with this `detection:` body (indented by four spaces) and returns a
/// function telling whether an event (JSON) matches it.
fn rule(detection: &str) -> impl FnMut(&str) -> bool + use<> {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "title: T\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n{detection}"
    );
    let path = dir.path().join("rule.yml");
    std::fs::write(&path, text).unwrap();
    let (mut rules, diagnostics) = SigmaRules::load(&[path]);
    assert!(
        diagnostics
            .iter()
            .all(|d| d.level != palisade_audit::sigma::Level::Error),
        "{diagnostics:#?}"
    );
    assert_eq!(rules.rule_count(), 1);
    move |json: &str| {
        let event = palisade_audit::event::parse(json, &Origin::new("t", 1))
            .unwrap()
            .remove(0);
        let mut alerts = Vec::new();
        rules.observe(&event, &mut alerts);
        !alerts.is_empty()
    }
}

fn ev(fields: &str) -> String {
    format!(r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1",{fields}}}"#)
}

#[test]
fn a_map_is_and_a_value_list_is_or() {
    let mut m = rule(
        "  sel:\n    verb: [create, update]\n    objectRef.resource: secrets\n  condition: sel\n",
    );
    assert!(m(&ev(
        r#""verb":"create","objectRef":{"resource":"secrets"}"#
    )));
    assert!(m(&ev(
        r#""verb":"UPDATE","objectRef":{"resource":"Secrets"}"#
    )));
    assert!(!m(&ev(
        r#""verb":"create","objectRef":{"resource":"configmaps"}"#
    )));
    assert!(!m(&ev(
        r#""verb":"get","objectRef":{"resource":"secrets"}"#
    )));
}

#[test]
fn a_list_of_maps_is_or() {
    let mut m = rule(
        "  sel:\n    - verb: delete\n      objectRef.resource: events\n    - objectRef.subresource: exec\n  condition: sel\n",
    );
    assert!(m(&ev(
        r#""verb":"delete","objectRef":{"resource":"events"}"#
    )));
    assert!(m(&ev(
        r#""verb":"create","objectRef":{"resource":"pods","subresource":"exec"}"#
    )));
    assert!(!m(&ev(
        r#""verb":"delete","objectRef":{"resource":"pods"}"#
    )));
}

#[test]
fn keywords_search_every_string_of_the_event() {
    let mut m = rule("  keywords:\n    - 'xmrig'\n    - 'stratum+tcp'\n  condition: keywords\n");
    assert!(m(&ev(
        r#""verb":"create","requestObject":{"spec":{"containers":[{"args":["--url","Stratum+TCP://pool:3333"]}]}}"#
    )));
    assert!(m(&ev(r#""verb":"create","userAgent":"XMRig/6.0""#)));
    assert!(!m(&ev(
        r#""verb":"create","requestObject":{"spec":{"replicas":3}}"#
    )));
    let mut all = rule(
        "  keywords:\n    '|all':\n      - 'curl'\n      - '169.254.169.254'\n  condition: keywords\n",
    );
    assert!(all(&ev(
        r#""requestURI":"/exec?command=curl&command=http%3A%2F%2F169.254.169.254%2F""#
    )));
    assert!(!all(&ev(
        r#""requestURI":"/exec?command=curl&command=example.com""#
    )));
}

#[test]
fn contains_startswith_endswith_and_all() {
    let mut m = rule(
        "  sel:\n    requestURI|contains|all: ['/exec', 'command=']\n    user.username|startswith: 'system:serviceaccount:'\n    objectRef.name|endswith: '-debug'\n  condition: sel\n",
    );
    let hit = ev(
        r#""requestURI":"/api/v1/namespaces/x/pods/web-debug/exec?command=sh","user":{"username":"system:serviceaccount:ci:runner"},"objectRef":{"name":"web-debug"}"#,
    );
    assert!(m(&hit));
    assert!(
        !m(&hit.replace("command=sh", "container=sh")),
        "all values needed"
    );
    assert!(!m(&hit.replace("system:serviceaccount:ci", "alice")));
    assert!(!m(
        &hit.replace(r#""name":"web-debug""#, r#""name":"web-debug-2""#)
    ));
}

#[test]
fn wildcards_escapes_and_case() {
    let mut m = rule("  sel:\n    objectRef.name: 'kube-proxy-?????'\n  condition: sel\n");
    assert!(m(&ev(r#""objectRef":{"name":"KUBE-PROXY-bv61v"}"#)));
    assert!(!m(&ev(r#""objectRef":{"name":"kube-proxy-bv61"}"#)));
    let mut star = rule("  sel:\n    objectRef.name: 'a\\*b'\n  condition: sel\n");
    assert!(star(&ev(r#""objectRef":{"name":"a*b"}"#)));
    assert!(!star(&ev(r#""objectRef":{"name":"axxb"}"#)));
    let mut cased = rule("  sel:\n    user.username|cased: Alice\n  condition: sel\n");
    assert!(cased(&ev(r#""user":{"username":"Alice"}"#)));
    assert!(!cased(&ev(r#""user":{"username":"alice"}"#)));
}

#[test]
fn regular_expressions_and_their_flags() {
    let mut plain = rule("  sel:\n    requestURI|re: 'command=(sh|bash)&'\n  condition: sel\n");
    assert!(plain(&ev(r#""requestURI":"/exec?command=bash&tty=1""#)));
    assert!(
        !plain(&ev(r#""requestURI":"/exec?command=BASH&tty=1""#)),
        "case-sensitive"
    );
    let mut i = rule("  sel:\n    requestURI|re|i: 'command=(sh|bash)&'\n  condition: sel\n");
    assert!(i(&ev(r#""requestURI":"/exec?command=BASH&tty=1""#)));
    let mut multiline =
        rule("  sel:\n    responseStatus.message|re|m: '^denied$'\n  condition: sel\n");
    assert!(multiline(&ev(
        r#""responseStatus":{"message":"first\ndenied\nlast"}"#
    )));
    let mut no_m = rule("  sel:\n    responseStatus.message|re: '^denied$'\n  condition: sel\n");
    assert!(!no_m(&ev(
        r#""responseStatus":{"message":"first\ndenied\nlast"}"#
    )));
    let mut dotall =
        rule("  sel:\n    responseStatus.message|re|s: 'first.denied'\n  condition: sel\n");
    assert!(dotall(&ev(
        r#""responseStatus":{"message":"first\ndenied"}"#
    )));
    let mut no_s =
        rule("  sel:\n    responseStatus.message|re: 'first.denied'\n  condition: sel\n");
    assert!(!no_s(&ev(
        r#""responseStatus":{"message":"first\ndenied"}"#
    )));
}

#[test]
fn cidr_on_source_ips() {
    let mut m = rule(
        "  sel:\n    sourceIPs|cidr:\n      - 10.0.0.0/8\n      - fd00::/8\n  condition: sel\n",
    );
    assert!(m(&ev(r#""sourceIPs":["203.0.113.9","10.2.3.4"]"#)));
    assert!(m(&ev(r#""sourceIPs":["fd00::12"]"#)));
    assert!(!m(&ev(r#""sourceIPs":["203.0.113.9"]"#)));
    assert!(!m(&ev(r#""sourceIPs":["not-an-ip"]"#)));
}

#[test]
fn exists_and_null() {
    let mut exists = rule("  sel:\n    impersonatedUser.username|exists: true\n  condition: sel\n");
    assert!(exists(&ev(
        r#""impersonatedUser":{"username":"system:admin"}"#
    )));
    assert!(!exists(&ev(r#""user":{"username":"alice"}"#)));
    let mut absent = rule("  sel:\n    requestObject|exists: false\n  condition: sel\n");
    assert!(absent(&ev(r#""verb":"get""#)));
    assert!(
        !absent(&ev(r#""requestObject":null"#)),
        "present as null still exists"
    );
    let mut null = rule(
        "  sel:\n    verb: get\n  no_user:\n    user.username: null\n  condition: sel and no_user\n",
    );
    assert!(null(&ev(r#""verb":"get""#)));
    assert!(null(&ev(r#""verb":"get","user":{"username":null}"#)));
    assert!(!null(&ev(r#""verb":"get","user":{"username":"alice"}"#)));
}

#[test]
fn numbers_and_numeric_comparisons() {
    let mut codes = rule("  sel:\n    responseStatus.code: [401, '403']\n  condition: sel\n");
    assert!(codes(&ev(r#""responseStatus":{"code":401}"#)));
    assert!(codes(&ev(r#""responseStatus":{"code":403}"#)));
    assert!(!codes(&ev(r#""responseStatus":{"code":200}"#)));
    let mut range = rule(
        "  sel:\n    responseStatus.code|gte: 500\n  low:\n    responseStatus.code|lt: 200\n  condition: sel or low\n",
    );
    assert!(range(&ev(r#""responseStatus":{"code":503}"#)));
    assert!(range(&ev(r#""responseStatus":{"code":101}"#)));
    assert!(!range(&ev(r#""responseStatus":{"code":404}"#)));
    let mut gt = rule(
        "  sel:\n    responseStatus.details.retryAfterSeconds|gt: 10\n  le:\n    responseStatus.details.retryAfterSeconds|lte: 1\n  condition: sel or le\n",
    );
    assert!(gt(&ev(
        r#""responseStatus":{"details":{"retryAfterSeconds":11}}"#
    )));
    assert!(gt(&ev(
        r#""responseStatus":{"details":{"retryAfterSeconds":1}}"#
    )));
    assert!(!gt(&ev(
        r#""responseStatus":{"details":{"retryAfterSeconds":10}}"#
    )));
}

#[test]
fn base64_and_base64offset_with_utf16() {
    // `echo L2Jpbi9zaA==` is /bin/sh; base64offset finds it inside a longer encoded text.
    let mut b64 = rule("  sel:\n    requestURI|base64|contains: '/bin/sh'\n  condition: sel\n");
    assert!(b64(&ev(
        r#""requestURI":"/exec?command=echo&command=L2Jpbi9zaA==""#
    )));
    assert!(!b64(&ev(r#""requestURI":"/exec?command=/bin/sh""#)));
    let mut offset = rule(
        "  sel:\n    requestObject.spec.containers.args|base64offset|contains: 'http://'\n  condition: sel\n",
    );
    for text in ["http://x", "a http://x", "ab http://x"] {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        assert!(
            offset(&ev(&format!(
                r#""requestObject":{{"spec":{{"containers":[{{"args":["{encoded}"]}}]}}}}"#
            ))),
            "{text}"
        );
    }
    assert!(!offset(&ev(
        r#""requestObject":{"spec":{"containers":[{"args":["aGVsbG8="]}]}}"#
    )));
    // PowerShell's -EncodedCommand is base64 of UTF-16LE.
    let mut wide =
        rule("  sel:\n    requestURI|wide|base64offset|contains: 'Invoke-'\n  condition: sel\n");
    use base64::Engine as _;
    let utf16: Vec<u8> = "IEX; Invoke-Expression"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(utf16);
    assert!(wide(&ev(&format!(
        r#""requestURI":"/exec?command=pwsh&command=-enc&command={encoded}""#
    ))));
    let mut be = rule("  sel:\n    requestURI|utf16be|base64: 'ls'\n  condition: sel\n");
    assert!(be(&ev(r#""requestURI":"AGwAcw==""#)));
}

#[test]
fn windash_matches_either_flag_spelling() {
    let mut m = rule("  sel:\n    requestURI|windash|contains: ' -enc '\n  condition: sel\n");
    assert!(m(&ev(r#""requestURI":"powershell -enc AAA""#)));
    assert!(m(&ev(r#""requestURI":"powershell /enc AAA""#)));
    assert!(m(&ev(r#""requestURI":"powershell –enc AAA""#)));
    assert!(!m(&ev(r#""requestURI":"powershell enc AAA""#)));
}

#[test]
fn fieldref_compares_two_fields() {
    let mut same =
        rule("  sel:\n    objectRef.namespace|fieldref: user.username\n  condition: sel\n");
    assert!(same(&ev(
        r#""user":{"username":"team-a"},"objectRef":{"namespace":"team-a"}"#
    )));
    assert!(!same(&ev(
        r#""user":{"username":"team-a"},"objectRef":{"namespace":"team-b"}"#
    )));
    let mut contains =
        rule("  sel:\n    requestURI|fieldref|contains: objectRef.name\n  condition: sel\n");
    assert!(contains(&ev(
        r#""requestURI":"/api/v1/pods/web","objectRef":{"name":"web"}"#
    )));
    assert!(!contains(&ev(
        r#""requestURI":"/api/v1/pods/db","objectRef":{"name":"web"}"#
    )));
}

#[test]
fn neq_negates_the_item() {
    let mut m = rule(
        "  sel:\n    verb: create\n    objectRef.namespace|neq: [default, kube-system]\n  condition: sel\n",
    );
    assert!(m(&ev(
        r#""verb":"create","objectRef":{"namespace":"prod"}"#
    )));
    assert!(!m(&ev(
        r#""verb":"create","objectRef":{"namespace":"default"}"#
    )));
}

#[test]
fn conditions_and_or_not_parentheses_and_selectors() {
    let detection = "  sel_exec:\n    objectRef.subresource: exec\n  sel_attach:\n    objectRef.subresource: attach\n  filter_admin:\n    user.username: admin\n  filter_ci:\n    user.username: ci\n";
    let event = |sub: &str, user: &str| {
        ev(&format!(
            r#""objectRef":{{"subresource":"{sub}"}},"user":{{"username":"{user}"}}"#
        ))
    };
    let mut one_of = rule(&format!(
        "{detection}  condition: 1 of sel_* and not 1 of filter_*\n"
    ));
    assert!(one_of(&event("exec", "mallory")));
    assert!(one_of(&event("attach", "mallory")));
    assert!(!one_of(&event("exec", "admin")));
    assert!(!one_of(&event("log", "mallory")));
    let mut parens = rule(&format!(
        "{detection}  condition: (sel_exec or sel_attach) and not (filter_admin or filter_ci)\n"
    ));
    assert!(parens(&event("attach", "bob")));
    assert!(!parens(&event("attach", "ci")));
    let mut all_of = rule(&format!(
        "{detection}  condition: all of sel_exec* and not filter_admin\n"
    ));
    assert!(all_of(&event("exec", "bob")));
    let mut them = rule(
        "  a:\n    verb: get\n  b:\n    objectRef.resource: secrets\n  _helper:\n    verb: list\n  condition: all of them\n",
    );
    assert!(
        them(&ev(r#""verb":"get","objectRef":{"resource":"secrets"}"#)),
        "_helper is not part of them"
    );
    let mut any_of_them = rule(
        "  a:\n    verb: get\n  b:\n    objectRef.resource: secrets\n  condition: 1 of them\n",
    );
    assert!(any_of_them(&ev(
        r#""verb":"watch","objectRef":{"resource":"secrets"}"#
    )));
    assert!(!any_of_them(&ev(
        r#""verb":"watch","objectRef":{"resource":"pods"}"#
    )));
    let mut list =
        rule("  a:\n    verb: get\n  b:\n    verb: list\n  condition:\n    - a\n    - b\n");
    assert!(list(&ev(r#""verb":"list""#)));
    assert!(!list(&ev(r#""verb":"watch""#)));
}

#[test]
fn arrays_on_the_path_match_if_any_element_does() {
    let mut m = rule(
        "  sel:\n    requestObject.spec.containers.securityContext.privileged: 'true'\n    user.groups: system:masters\n  condition: sel\n",
    );
    assert!(m(&ev(
        r#""user":{"groups":["system:authenticated","system:masters"]},"requestObject":{"spec":{"containers":[{"name":"a"},{"securityContext":{"privileged":true}}]}}"#
    )));
    assert!(!m(&ev(
        r#""user":{"groups":["system:authenticated"]},"requestObject":{"spec":{"containers":[{"securityContext":{"privileged":true}}]}}"#
    )));
}

#[test]
fn annotations_with_dotted_keys() {
    let mut m =
        rule("  sel:\n    annotations.authorization.k8s.io/decision: forbid\n  condition: sel\n");
    assert!(m(&ev(
        r#""annotations":{"authorization.k8s.io/decision":"forbid"}"#
    )));
    assert!(!m(&ev(
        r#""annotations":{"authorization.k8s.io/decision":"allow"}"#
    )));
}
