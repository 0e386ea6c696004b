//! `palisade audit analyze` as a process, on real files: Falco's k8s_audit traces through
//! the pack, the upstream Falco rules and the SigmaHQ rules; gzip, directories and stdin;
//! broken lines and broken rules reported with file and line while the rest is analysed;
//! exit codes; persisted baselines; following a growing file until SIGTERM; a webhook.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AUDIT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../audit/tests/data");
const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/audit/alert.schema.json"
);

fn traces() -> PathBuf {
    Path::new(AUDIT_DATA).join("falco/traces")
}

fn trace(name: &str) -> PathBuf {
    traces().join(name)
}

fn falco_rules() -> PathBuf {
    Path::new(AUDIT_DATA).join("falco/k8s_audit_rules.yaml")
}

fn sigma_rules() -> PathBuf {
    Path::new(AUDIT_DATA).join("sigma/rules")
}

fn palisade() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command.args(["audit", "analyze"]);
    command
}

/// Runs `palisade audit analyze ARGS` with `stdin`.
fn analyze(args: &[&std::ffi::OsStr], stdin: Option<&[u8]>) -> Output {
    let mut child = palisade()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new(&$a)),*] };
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every stdout line as an alert.
fn alerts(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// (engine, rule, origin file name) of each alert.
fn found(alerts: &[Value]) -> BTreeSet<(String, String, String)> {
    alerts
        .iter()
        .map(|a| {
            let origin = a["origin"].as_str().unwrap_or("");
            let file = Path::new(origin.rsplit_once(':').map_or(origin, |(f, _)| f))
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                a["engine"].as_str().unwrap().to_string(),
                a["rule"].as_str().unwrap().to_string(),
                file,
            )
        })
        .collect()
}

fn has(found: &BTreeSet<(String, String, String)>, engine: &str, rule: &str, file: &str) -> bool {
    found.contains(&(engine.to_string(), rule.to_string(), file.to_string()))
}

fn one_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_directory_of_falco_traces_through_every_engine_validates_against_the_schema() {
    let out = analyze(
        args![
            "--format",
            "json",
            "--falco-rules",
            falco_rules(),
            "--sigma",
            sigma_rules(),
            traces()
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alerts = alerts(&out);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for alert in &alerts {
        let errors: Vec<String> = validator
            .iter_errors(alert)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{alert}: {errors:?}");
    }
    let found = found(&alerts);
    for (engine, rule, file) in [
        ("falco", "Attach/Exec Pod", "exec_pod.json"),
        ("palisade", "PAL-A101", "exec_pod.json"),
        (
            "sigma",
            "Potential Remote Command Execution In Pod Container",
            "exec_pod.json",
        ),
        (
            "falco",
            "Attach to cluster-admin Role",
            "attach_cluster_admin_role.json",
        ),
        ("palisade", "PAL-A130", "attach_cluster_admin_role.json"),
        (
            "falco",
            "Create Privileged Pod",
            "create_nginx_pod_privileged.json",
        ),
        (
            "sigma",
            "Kubernetes Rolebinding Modification",
            "attach_cluster_admin_role.json",
        ),
    ] {
        assert!(
            has(&found, engine, rule, file),
            "no {engine} {rule} on {file}: {found:?}"
        );
    }
    let engines: BTreeSet<&str> = alerts
        .iter()
        .map(|a| a["engine"].as_str().unwrap())
        .collect();
    assert_eq!(engines, BTreeSet::from(["falco", "palisade", "sigma"]));
    // What loaded is said on stderr, one line per engine.
    let err = stderr(&out);
    assert!(
        err.contains("falco: ") && err.contains("sigma: 16 rules"),
        "{err}"
    );
}

#[test]
fn gzip_and_stdin_are_read_like_plain_files() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("exec.log.gz");
    let status = Command::new("gzip")
        .arg("-c")
        .arg(trace("exec_pod.json"))
        .stdout(std::fs::File::create(&gz).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let binding = std::fs::read(trace("attach_cluster_admin_role.json")).unwrap();
    let out = analyze(
        args!["--format", "json", "--falco-rules", falco_rules(), gz, "-"],
        Some(&binding),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alerts = alerts(&out);
    let origins: BTreeSet<&str> = alerts
        .iter()
        .map(|a| a["origin"].as_str().unwrap())
        .collect();
    let gz_origin = format!("{}:1", gz.display());
    assert!(origins.contains(gz_origin.as_str()), "{origins:?}");
    assert!(origins.contains("-:1"), "{origins:?}");
    let found = found(&alerts);
    assert!(
        has(&found, "falco", "Attach/Exec Pod", "exec.log.gz"),
        "{found:?}"
    );
    assert!(
        has(&found, "falco", "Attach to cluster-admin Role", "-"),
        "{found:?}"
    );
}

#[test]
fn bad_lines_are_errors_with_file_and_line_and_the_rest_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let exec = one_line(&trace("exec_pod.json"));
    let binding = one_line(&trace("attach_cluster_admin_role.json"));
    // Line 2 is not JSON; line 4 is an event cut short by the end of the file.
    let text = format!(
        "{exec}\nthis is not json\n{binding}\n{}",
        &binding[..binding.len() / 2]
    );
    std::fs::write(&path, text).unwrap();
    let out = analyze(args!["--format", "json", path], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let name = path.display().to_string();
    assert!(err.contains(&format!("error: {name}:2: ")), "{err}");
    assert!(
        err.contains(&format!("error: {name}:4: truncated")),
        "{err}"
    );
    let origins: BTreeSet<String> = alerts(&out)
        .iter()
        .map(|a| a["origin"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        origins,
        BTreeSet::from([format!("{name}:1"), format!("{name}:3")]),
        "the good lines around the bad ones are analysed"
    );
}

#[test]
fn fail_on_sets_the_exit_status() {
    // PAL-A130 (a binding to cluster-admin) is high.
    let file = trace("attach_cluster_admin_role.json");
    let high = analyze(args!["--fail-on", "high", file], None);
    assert_eq!(high.status.code(), Some(1), "{}", stderr(&high));
    // The table and the summary are still printed.
    assert!(stdout(&high).contains("PAL-A130"), "{}", stdout(&high));
    let critical = analyze(args!["--fail-on", "critical", file], None);
    assert_eq!(critical.status.code(), Some(0), "{}", stderr(&critical));
    let none = analyze(args![file], None);
    assert_eq!(none.status.code(), Some(0));
}

#[test]
fn a_falco_rules_file_with_a_syntax_error_is_reported_and_the_rest_runs() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("my_rules.yaml");
    // The second rule's condition (line 9) misses a parenthesis; the first rule is fine.
    std::fs::write(
        &rules,
        "- rule: Exec seen\n  desc: any exec\n  condition: ka.target.subresource=exec\n  output: exec by %ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n- rule: Broken\n  desc: broken\n  condition: (ka.verb=create\n  output: never\n  priority: NOTICE\n  source: k8s_audit\n",
    )
    .unwrap();
    let out = analyze(
        args![
            "--format",
            "json",
            "--no-builtin",
            "--falco-rules",
            rules,
            trace("exec_pod.json")
        ],
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // The condition's own line (9) and the column of the missing parenthesis.
    let name = rules.display().to_string();
    let located = format!("error: falco: {name}:9: rule 'Broken': column 16:");
    assert!(err.lines().any(|l| l.starts_with(&located)), "{err}");
    assert!(err.contains("falco: 1 rules"), "{err}");
    let alerts = alerts(&out);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule"], "Exec seen");
    assert_eq!(alerts[0]["message"], "exec by minikube-user");
}

/// An event of `user` doing `verb resource` in `namespace` at `time`.
fn event(id: usize, user: &str, verb: &str, resource: &str, namespace: &str, time: &str) -> String {
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": format!("e{id}"), "stage": "ResponseComplete",
        "requestURI": format!("/api/v1/namespaces/{namespace}/{resource}"),
        "verb": verb, "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"], "userAgent": "kubectl/v1.30.0",
        "objectRef": {"resource": resource, "namespace": namespace, "apiVersion": "v1"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": time, "stageTimestamp": time,
    })
    .to_string()
}

#[test]
fn baselines_are_learned_saved_and_then_alert_on_novel_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.log");
    let today = dir.path().join("today.log");
    let baseline = dir.path().join("baseline.json");
    // Three weeks of alice listing pods in `shop`, twice a day.
    let mut lines = Vec::new();
    for day in 1..=21 {
        for hour in [9, 15] {
            let time = format!("2025-03-{day:02}T{hour:02}:00:00Z");
            lines.push(event(lines.len(), "alice", "list", "pods", "shop", &time));
        }
    }
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();
    let learn = analyze(
        args!["--learn", "--no-builtin", "--baseline", baseline, history],
        None,
    );
    assert_eq!(learn.status.code(), Some(0), "{}", stderr(&learn));
    assert!(
        stdout(&learn).is_empty(),
        "learning alerts nothing: {}",
        stdout(&learn)
    );
    assert!(
        stderr(&learn).contains("learned from 42 events"),
        "{}",
        stderr(&learn)
    );
    assert!(baseline.exists(), "the baselines were not saved");

    // The next day: what she always does, then secrets, which she never read.
    let usual = event(100, "alice", "list", "pods", "shop", "2025-03-22T09:00:00Z");
    let novel = event(
        101,
        "alice",
        "list",
        "secrets",
        "shop",
        "2025-03-22T09:05:00Z",
    );
    std::fs::write(&today, format!("{usual}\n{novel}\n")).unwrap();
    let judge = analyze(
        args![
            "--format",
            "json",
            "--no-builtin",
            "--baseline",
            baseline,
            today
        ],
        None,
    );
    assert_eq!(judge.status.code(), Some(0), "{}", stderr(&judge));
    let alerts = alerts(&judge);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["engine"], "baseline");
    assert_eq!(alert["rule"], "baseline/new-verb-resource");
    assert_eq!(alert["identity"]["user"], "alice");
    assert_eq!(alert["events"][0]["auditID"], "e101");
    assert!(
        stderr(&judge).contains("identities known"),
        "{}",
        stderr(&judge)
    );
}

/// Waits for `path` to hold a line containing `needle`.
fn wait_for(path: &Path, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn follow_reads_what_is_appended_and_sigterm_ends_with_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let out = dir.path().join("alerts.jsonl");
    std::fs::write(&log, one_line(&trace("exec_pod.json")) + "\n").unwrap();
    let child = palisade()
        .arg("--follow")
        .arg("--output")
        .arg(&out)
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(&out, "PAL-A101"),
        "the first event was not analysed"
    );
    // The file grows after the program reached its end.
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(
        file,
        "{}",
        one_line(&trace("attach_cluster_admin_role.json"))
    )
    .unwrap();
    drop(file);
    assert!(
        wait_for(&out, "PAL-A130"),
        "the appended event was not analysed"
    );
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        text.contains("events read") && text.contains("PAL-A130"),
        "{text}"
    );
    let events_read = text
        .lines()
        .find(|l| l.contains("events read"))
        .and_then(|l| l.split_whitespace().rev().nth(1))
        .unwrap();
    assert_eq!(events_read, "2", "{text}");
}

/// A plain HTTP/1.1 server on loopback that answers 200 to every request and keeps the
/// bodies.
fn webhook_server() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let kept = Arc::clone(&kept);
            std::thread::spawn(move || serve_connection(stream, &kept));
        }
    });
    (url, bodies)
}

fn serve_connection(stream: std::net::TcpStream, kept: &Mutex<Vec<Value>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        // Headers, up to the empty line.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        kept.lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap());
        writer
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    }
}

#[test]
fn a_webhook_receives_every_alert() {
    let (url, bodies) = webhook_server();
    let out = analyze(
        args![
            "--format",
            "json",
            "--webhook",
            url,
            trace("exec_pod.json"),
            trace("attach_cluster_admin_role.json")
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = alerts(&out);
    assert!(!printed.is_empty());
    // Everything is delivered before the program exits.
    let received = bodies.lock().unwrap().clone();
    assert_eq!(
        received, printed,
        "the webhook got what stdout shows, in order"
    );
    let rules: BTreeSet<&str> = received
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains("PAL-A101") && rules.contains("PAL-A130"),
        "{rules:?}"
    );
}
