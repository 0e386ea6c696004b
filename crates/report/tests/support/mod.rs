//! Reports built by hand, as a scan of a small repository would produce them.

use palisade_model::{
    ControlMeta, ExceptionNotice, Finding, FrameworkResult, InputError, Location, ObjectRef,
    RequirementResult, RequirementStatus, SCHEMA_VERSION, ScanReport, Severity, Summary,
    Suppression, Tool,
};
use std::collections::BTreeMap;

fn control(id: &str, title: &str, severity: Severity, category: &str) -> ControlMeta {
    ControlMeta {
        id: id.into(),
        title: title.into(),
        severity,
        category: category.into(),
        rationale: format!("Why {id} matters: {title}."),
        remediation: format!("How to satisfy {id}."),
        references: vec![],
        kinds: vec!["Workload".into()],
    }
}

fn controls() -> Vec<ControlMeta> {
    let mut privileged = control(
        "PAL-101",
        "Containers must not run privileged",
        Severity::Critical,
        "Pod Security Standards (baseline)",
    );
    privileged.rationale = "A privileged container has every capability and access to all host \
        devices; it can load kernel modules, mount the host filesystem and escape to the node."
        .into();
    privileged.remediation = "Remove securityContext.privileged or set it to false on every \
        container, init container and ephemeral container."
        .into();
    privileged.references = vec![
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline".into(),
        "CIS Kubernetes Benchmark v1.12 5.2.2".into(),
    ];
    let mut secrets = control(
        "PAL-602",
        "Roles must not grant get, list or watch on Secrets",
        Severity::High,
        "RBAC",
    );
    secrets.kinds = vec!["Role".into(), "ClusterRole".into()];
    let mut all = vec![
        privileged,
        control(
            "PAL-202",
            "Containers must set allowPrivilegeEscalation to false",
            Severity::High,
            "Pod Security Standards (restricted)",
        ),
        control(
            "PAL-301",
            "Containers must run with a read-only root filesystem",
            Severity::Medium,
            "Workload hardening",
        ),
        control(
            "PAL-401",
            "Images must not use the latest tag or no tag",
            Severity::Medium,
            "Images",
        ),
        control(
            "PAL-402",
            "Images should be pinned by digest",
            Severity::Low,
            "Images",
        ),
        secrets,
        control(
            "PAL-601",
            "The cluster-admin ClusterRole must not be bound to users, groups or service accounts",
            Severity::High,
            "RBAC",
        ),
    ];
    // Reports list controls by id.
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

fn web() -> ObjectRef {
    ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "web".into(),
    }
}

fn finding(
    control: &ControlMeta,
    object: ObjectRef,
    file: &str,
    line: u32,
    pointer: &str,
    message: &str,
) -> Finding {
    Finding {
        control_id: control.id.as_str().into(),
        title: control.title.as_str().into(),
        severity: control.severity,
        object: object.into(),
        location: Location {
            file: file.into(),
            line,
            pointer: pointer.into(),
        },
        message: message.into(),
        suppressed: None,
    }
}

/// Four findings of four severities in two files, one suppressed finding, an expired
/// exception, an input error, a notice, and a framework with a requirement of each status.
pub fn sample() -> ScanReport {
    let controls = controls();
    let by_id = |id: &str| controls.iter().find(|c| c.id == id).cloned().unwrap();
    let container = "/spec/template/spec/containers/0";
    let backup = ObjectRef {
        api_version: "batch/v1".into(),
        kind: "CronJob".into(),
        namespace: Some("ops".into()),
        name: "nightly-backup".into(),
    };
    let findings = vec![
        finding(
            &by_id("PAL-202"),
            web(),
            "deploy/web.yaml",
            22,
            &format!("{container}/securityContext"),
            "container \"app\" does not set allowPrivilegeEscalation to false",
        ),
        finding(
            &by_id("PAL-301"),
            web(),
            "deploy/web.yaml",
            22,
            &format!("{container}/securityContext"),
            "container \"app\" does not set readOnlyRootFilesystem to true",
        ),
        finding(
            &by_id("PAL-101"),
            web(),
            "deploy/web.yaml",
            24,
            &format!("{container}/securityContext/privileged"),
            "container \"app\" runs privileged (securityContext.privileged: true)",
        ),
        finding(
            &by_id("PAL-402"),
            backup,
            "jobs/backup.yaml",
            18,
            "/spec/jobTemplate/spec/template/spec/containers/0/image",
            "container \"backup\" image \"registry.example.com/tools/backup:1.4\" is not pinned \
             by digest (expected <image>@sha256:<digest>)",
        ),
    ];
    let mut latest = finding(
        &by_id("PAL-401"),
        web(),
        "deploy/web.yaml",
        21,
        &format!("{container}/image"),
        "container \"app\" uses image \"nginx:latest\"",
    );
    latest.suppressed = Some(Box::new(Suppression {
        kind: "exceptions-file".into(),
        reason: "Pinned by the release pipeline before promotion".into(),
        source: ".palisade-exceptions.yaml:4".into(),
        expires: Some("2026-12-31".into()),
    }));

    let requirement =
        |id: &str, title: &str, status, controls: &[&str], finding_count| RequirementResult {
            id: id.into(),
            title: title.into(),
            status,
            controls: controls.iter().map(|c| c.to_string()).collect(),
            finding_count,
        };
    let cis = FrameworkResult {
        id: "cis-1.12".into(),
        title: "CIS Kubernetes Benchmark".into(),
        version: "v1.12".into(),
        score: Some(50.0),
        counts: BTreeMap::from([
            (RequirementStatus::Pass, 1),
            (RequirementStatus::Fail, 1),
            (RequirementStatus::Manual, 1),
            (RequirementStatus::NotApplicable, 1),
        ]),
        requirements: vec![
            requirement(
                "5.1.1",
                "Ensure that the cluster-admin role is only used where required",
                RequirementStatus::NotApplicable,
                &["PAL-601"],
                0,
            ),
            requirement(
                "5.1.2",
                "Minimize access to secrets",
                RequirementStatus::Pass,
                &["PAL-602"],
                0,
            ),
            requirement(
                "5.2.2",
                "Minimize the admission of privileged containers",
                RequirementStatus::Fail,
                &["PAL-101"],
                1,
            ),
            requirement(
                "5.5.1",
                "Configure Image Provenance using ImagePolicyWebhook admission controller",
                RequirementStatus::Manual,
                &[],
                0,
            ),
        ],
    };

    ScanReport {
        schema_version: SCHEMA_VERSION.into(),
        tool: Tool {
            name: "palisade".into(),
            version: "0.1.0".into(),
        },
        summary: Summary {
            files: 3,
            cluster: None,
            objects: 4,
            controls: controls.len(),
            findings: findings.len(),
            by_severity: Severity::ALL
                .iter()
                .map(|&s| (s, findings.iter().filter(|f| f.severity == s).count()))
                .collect(),
            suppressed: 1,
            errors: 1,
        },
        findings,
        suppressed: vec![latest],
        exceptions: vec![ExceptionNotice {
            source: ".palisade-exceptions.yaml:12".into(),
            control_id: "PAL-103".into(),
            status: "expired".into(),
            message: "exception expired on 2025-01-31; its findings are reported again \
                      (reason was: legacy ingress controller)"
                .into(),
        }],
        errors: vec![InputError {
            file: "deploy/broken.yaml".into(),
            line: Some(7),
            column: Some(3),
            message: "did not find expected key while parsing a block mapping; found `|` \
                      where a value was expected"
                .into(),
        }],
        notices: vec![InputError {
            file: "charts/api".into(),
            line: None,
            column: None,
            message: "Helm chart not scanned: render it with `helm template charts/api` and \
                      scan the output"
                .into(),
        }],
        frameworks: vec![cis],
        controls,
    }
}

/// A scan that read nothing and found nothing.
pub fn empty() -> ScanReport {
    ScanReport {
        schema_version: SCHEMA_VERSION.into(),
        tool: Tool {
            name: "palisade".into(),
            version: "0.1.0".into(),
        },
        summary: Summary {
            by_severity: Severity::ALL.iter().map(|&s| (s, 0)).collect(),
            ..Summary::default()
        },
        findings: vec![],
        suppressed: vec![],
        exceptions: vec![],
        errors: vec![],
        notices: vec![],
        frameworks: vec![],
        controls: vec![],
    }
}
