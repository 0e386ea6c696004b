//! The hkerma benign corpus (a Logstash CSV export of an audit log) back into audit events.
//!
//! Columns, from the dataset's Logstash configuration: host, requestReceivedTimestamp,
//! user.username, verb, objectRef.resource, objectRef.subresource, objectRef.name,
//! responseObject.metadata.name, requestURI, auditID, stage, responseStatus.code, and three
//! uid columns. The export dropped objectRef.namespace, sourceIPs and userAgent: the
//! namespace and API group are read back from requestURI the way the API server derives
//! them, and sources and user agents are synthesised, one fixed value per identity (see
//! [`synthetic_client`]), so that the source and user-agent rules have something to learn.

use palisade_audit::{Event, Origin};
use serde_json::{Map, Value, json};

/// Columns in a complete row.
const COLUMNS: usize = 15;

/// A row that is not a complete record.
#[derive(Debug, PartialEq)]
pub struct RowError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The events of the CSV text, in file order, and the rows that could not be read.
pub fn events(csv: &str, source: &str) -> (Vec<Event>, Vec<RowError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        let n = i + 1;
        match fields(line).and_then(|f| to_event(&f)) {
            Ok(v) => events.push(Event::new(v, Origin::new(source, n as u64))),
            Err(message) => errors.push(RowError { line: n, message }),
        }
    }
    (events, errors)
}

/// The fields of one CSV line (RFC 4180 quoting, no line breaks inside fields: the export
/// has none).
fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    out.push(field);
    Ok(out)
}

fn to_event(f: &[String]) -> Result<Value, String> {
    if f.len() != COLUMNS {
        return Err(format!("{} columns, expected {COLUMNS}", f.len()));
    }
    let col = |i: usize| f[i].as_str();
    let code: i64 = col(11)
        .parse()
        .map_err(|_| format!("responseStatus.code {:?} is not a number", col(11)))?;
    let uri = col(8);
    let user = col(2);
    let mut object = Map::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            object.insert(k.into(), json!(v));
        }
    };
    put("resource", col(4));
    put("subresource", col(5));
    put("name", if col(6).is_empty() { col(7) } else { col(6) });
    let (group, namespace) = from_uri(uri);
    if !col(4).is_empty() {
        put("namespace", namespace);
        put("apiGroup", group);
    }
    let (ip, agent) = synthetic_client(user);
    let mut e = json!({
        "apiVersion": "audit.k8s.io/v1", "kind": "Event", "level": "Metadata",
        "auditID": col(9), "stage": col(10), "requestURI": uri, "verb": col(3),
        "user": {"username": user}, "sourceIPs": [ip], "userAgent": agent,
        "responseStatus": {"code": code}, "requestReceivedTimestamp": col(1),
    });
    if !object.is_empty() {
        e["objectRef"] = Value::Object(object);
    }
    Ok(e)
}

/// The API group and namespace of a resource URI: `/apis/GROUP/VERSION/namespaces/NS/...`
/// or `/api/v1/namespaces/NS/...` (the core group has none).
fn from_uri(uri: &str) -> (&str, &str) {
    let path = uri.split('?').next().unwrap_or(uri);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["apis", group, _version, rest @ ..] => (*group, rest),
        ["api", _version, rest @ ..] => ("", rest),
        _ => return ("", ""),
    };
    match rest {
        ["namespaces", ns, ..] => (group, ns),
        _ => (group, ""),
    }
}

/// A fixed, plausible client per identity (the export removed the real ones): the control
/// plane and nodes on the node network 10.0.0.0/24, pods on the pod network 10.244.N.0/24 (N
/// from the service account's namespace), the administrator on 192.168.1.0/24 with Helm.
pub fn synthetic_client(user: &str) -> (String, String) {
    let build = "(linux/amd64) kubernetes/8f94681";
    if let Some(node) = user.strip_prefix("system:node:") {
        let host = 10 + node.len() % 200;
        return (format!("10.0.0.{host}"), format!("kubelet/v1.26.1 {build}"));
    }
    if let Some(sa) = user.strip_prefix("system:serviceaccount:") {
        let (ns, name) = sa.split_once(':').unwrap_or((sa, sa));
        let net = ns.bytes().map(usize::from).sum::<usize>() % 3;
        let host = 2 + name.len() % 250;
        return (
            format!("10.244.{net}.{host}"),
            format!("{name}/v0.0.0 {build}"),
        );
    }
    match user {
        "kubernetes-admin" => ("192.168.1.10".into(), "Helm/3.11.0".into()),
        "system:anonymous" => ("10.0.0.1".into(), "kube-probe/1.26".into()),
        other => {
            let component = other.strip_prefix("system:").unwrap_or(other);
            ("10.0.0.1".into(), format!("{component}/v1.26.1 {build}"))
        }
    }
}

#[test]
fn reads_quoted_fields_and_namespaces_from_uris() {
    let line = r#""{""name"":""m""}",2023-01-27T18:28:08.129781Z,system:node:n1,watch,configmaps,,kube-flannel-cfg,,/api/v1/namespaces/kube-flannel/configmaps?watch=true,a1,ResponseStarted,403,,,"#;
    let (events, errors) = events(line, "x.csv");
    assert!(errors.is_empty(), "{errors:?}");
    let e = &events[0];
    assert_eq!(e.namespace(), Some("kube-flannel"));
    assert_eq!(e.resource(), Some("configmaps"));
    assert_eq!(e.name(), Some("kube-flannel-cfg"));
    assert_eq!(e.response_code(), Some(403));
    assert_eq!(e.api_group(), None);
    assert_eq!(
        from_uri("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x"),
        ("coordination.k8s.io", "kube-system")
    );
    assert_eq!(from_uri("/readyz"), ("", ""));
}

#[test]
fn short_and_broken_rows_are_errors_with_their_line() {
    let (events, errors) = events("a,b\n\"open", "x.csv");
    assert!(events.is_empty());
    assert_eq!(
        errors,
        vec![
            RowError {
                line: 1,
                message: "2 columns, expected 15".into()
            },
            RowError {
                line: 2,
                message: "unterminated quoted field".into()
            }
        ]
    );
}
