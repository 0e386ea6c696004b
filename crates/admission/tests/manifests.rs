//! The installation manifests, judged the way a cluster and Palisade itself would judge them:
//! parsed back, scanned with the full catalog, certificates verified as the API server
//! verifies them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use palisade_admission::manifests::{
    Certificates, FailurePolicy, IssuerRef, ManifestError, ManifestOptions, ServingTls, objects,
    render, service_dns_names,
};
use palisade_model::Severity;
use palisade_scan::{ScanOptions, Selection, scan};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

const DAY: Duration = Duration::from_secs(86_400);

fn self_signed_mutating() -> ManifestOptions {
    ManifestOptions {
        mutating: true,
        policy: Some("rules:\n  - id: no-latest\n    deny: true\n".into()),
        ..ManifestOptions::default()
    }
}

fn cert_manager() -> ManifestOptions {
    ManifestOptions {
        mutating: true,
        certificates: Certificates::CertManager { issuer: None },
        ..ManifestOptions::default()
    }
}

/// Key generation is the slow part: one set of material, shared.
fn fixed_tls() -> &'static ServingTls {
    static TLS: OnceLock<ServingTls> = OnceLock::new();
    TLS.get_or_init(|| ServingTls::generate("palisade-system", "palisade-admission", 30).unwrap())
}

fn load(text: &str) -> palisade_loader::Loaded {
    let loaded = palisade_loader::load_text("manifests.yaml", text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    loaded
}

fn find<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found = find(objects, kind);
    assert_eq!(found.len(), 1, "{kind}");
    found[0]
}

fn kinds(objects: &[Value]) -> Vec<&str> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect()
}

fn decode(value: &Value) -> String {
    String::from_utf8(STANDARD.decode(value.as_str().unwrap()).unwrap()).unwrap()
}

// ---- parsing and Palisade's own scan ----

#[test]
fn rendered_yaml_reads_back_as_the_objects() {
    let options = ManifestOptions {
        certificates: Certificates::Provided(fixed_tls().clone()),
        ..self_signed_mutating()
    };
    let text = render(&options).unwrap();
    assert!(text.starts_with("# Palisade admission webhook"), "{text}");
    let loaded = load(&text);
    let read: Vec<Value> = loaded.objects.iter().map(|o| o.value.clone()).collect();
    assert_eq!(read, objects(&options).unwrap());
    assert_eq!(
        kinds(&read),
        [
            "Namespace",
            "ServiceAccount",
            "ConfigMap",
            "Secret",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ]
    );
}

fn scan_text(text: &str, options: &ScanOptions) -> palisade_model::ScanReport {
    let loaded = load(text);
    let report = scan(
        &loaded,
        &ScanOptions {
            today: Some("2026-01-01".into()),
            ..options.clone()
        },
    )
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

#[test]
fn nothing_fails_pod_security_restricted() {
    for options in [self_signed_mutating(), cert_manager()] {
        let report = scan_text(
            &render(&options).unwrap(),
            &ScanOptions {
                frameworks: vec!["pss-restricted".into()],
                selection: Selection {
                    frameworks_only: true,
                    ..Selection::default()
                },
                ..ScanOptions::default()
            },
        );
        assert!(report.summary.controls > 10, "{:?}", report.controls);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        let pss = &report.frameworks[0];
        assert_eq!(pss.id, "pss-restricted");
    }
}

/// What the full catalog still reports, each a choice explained in the manifests' docs.
const ACCEPTED: &[(&str, &str)] = &[
    // The release tag, not a digest: the caller may pass a digest-pinned image.
    ("PAL-402", "Deployment"),
    ("PAL-403", "Deployment"),
    // No CPU limit: throttling would surface as webhook timeouts.
    ("PAL-502", "Deployment"),
    // The API server's address is cluster-specific, so ingress to the port is open.
    ("PAL-713", "NetworkPolicy"),
    // The mutating webhook fails open on purpose.
    ("PAL-916", "MutatingWebhookConfiguration"),
    // No LimitRange or ResourceQuota: the one Deployment sets its own resources.
    ("PAL-519", "Namespace"),
    ("PAL-520", "Namespace"),
];

fn findings(options: &ManifestOptions) -> BTreeSet<(String, String)> {
    let report = scan_text(&render(options).unwrap(), &ScanOptions::default());
    for f in &report.findings {
        eprintln!(
            "{} {:?} {} {}: {}",
            f.control_id, f.severity, f.object.kind, f.object.name, f.message
        );
        assert!(
            f.severity < Severity::High,
            "{} is {:?}: {}",
            f.control_id,
            f.severity,
            f.message
        );
    }
    report
        .findings
        .iter()
        .map(|f| (f.control_id.to_string(), f.object.kind.to_string()))
        .collect()
}

fn accepted(extra: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    ACCEPTED
        .iter()
        .chain(extra)
        .map(|(c, k)| (c.to_string(), k.to_string()))
        .collect()
}

#[test]
fn full_catalog_reports_only_the_accepted_findings() {
    // Self-signed: the Secret carries its key, which PAL-806 rightly reports.
    assert_eq!(
        findings(&self_signed_mutating()),
        accepted(&[("PAL-806", "Secret")])
    );
    assert_eq!(findings(&cert_manager()), accepted(&[]));
}

#[test]
fn digest_pinned_images_clear_the_digest_findings() {
    let options = ManifestOptions {
        image: "ghcr.io/palisade-security/palisade@sha256:0000000000000000000000000000000000000000000000000000000000000000".into(),
        ..cert_manager()
    };
    let found = findings(&options);
    assert!(
        !found.iter().any(|(c, _)| c == "PAL-402" || c == "PAL-403"),
        "{found:?}"
    );
}

// ---- the certificates ----

fn verifier(ca_pem: &str) -> Arc<WebPkiServerVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap()
}

fn verify(tls: &ServingTls, name: &str, at: SystemTime) -> Result<(), rustls::Error> {
    let leaf = CertificateDer::from_pem_slice(tls.cert_pem.as_bytes()).unwrap();
    let at = UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).unwrap());
    verifier(&tls.ca_pem)
        .verify_server_cert(
            &leaf,
            &[],
            &ServerName::try_from(name.to_string()).unwrap(),
            &[],
            at,
        )
        .map(|_| ())
}

#[test]
fn the_secret_and_ca_bundles_hold_a_chain_the_api_server_accepts() {
    let all = objects(&self_signed_mutating()).unwrap();
    let secret = one(&all, "Secret");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    assert_eq!(secret["metadata"]["name"], "palisade-admission-tls");
    let tls = ServingTls {
        ca_pem: decode(&secret["data"]["ca.crt"]),
        cert_pem: decode(&secret["data"]["tls.crt"]),
        key_pem: decode(&secret["data"]["tls.key"]),
    };
    // What the API server does: trust the caBundle, check the name it calls.
    let now = SystemTime::now();
    verify(&tls, "palisade-admission.palisade-system.svc", now).unwrap();
    for name in service_dns_names("palisade-system", "palisade-admission") {
        verify(&tls, &name, now).unwrap();
    }
    assert!(verify(&tls, "palisade-admission.other.svc", now).is_err());
    assert!(verify(&tls, "kubernetes.default.svc", now).is_err());

    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let bundle = &one(&all, kind)["webhooks"][0]["clientConfig"]["caBundle"];
        assert_eq!(decode(bundle), tls.ca_pem, "{kind}");
    }

    // The key is the certificate's.
    let key = rcgen::KeyPair::from_pem(&tls.key_pem).unwrap();
    let (_, leaf) = x509_parser::pem::parse_x509_pem(tls.cert_pem.as_bytes()).unwrap();
    let leaf = leaf.parse_x509().unwrap();
    assert_eq!(
        leaf.public_key().subject_public_key.data.as_ref(),
        key.public_key_raw()
    );
}

#[test]
fn certificates_have_the_right_extensions() {
    use x509_parser::extensions::GeneralName;
    let tls = fixed_tls();
    let (_, ca) = x509_parser::pem::parse_x509_pem(tls.ca_pem.as_bytes()).unwrap();
    let ca = ca.parse_x509().unwrap();
    let (_, leaf) = x509_parser::pem::parse_x509_pem(tls.cert_pem.as_bytes()).unwrap();
    let leaf = leaf.parse_x509().unwrap();

    // CA: may sign, end-entity certificates only, P-256.
    let constraints = ca.basic_constraints().unwrap().unwrap().value;
    assert!(constraints.ca);
    assert_eq!(constraints.path_len_constraint, Some(0));
    let usage = ca.key_usage().unwrap().unwrap().value;
    assert!(usage.key_cert_sign());
    assert!(!usage.digital_signature());
    let ec_p256 = x509_parser::oid_registry::OID_EC_P256;
    let curve = |cert: &x509_parser::certificate::X509Certificate<'_>| {
        cert.public_key()
            .algorithm
            .parameters
            .as_ref()
            .unwrap()
            .as_oid()
            .unwrap()
            .to_id_string()
    };
    assert_eq!(curve(&ca), ec_p256.to_id_string());
    assert_eq!(curve(&leaf), ec_p256.to_id_string());

    // Serving certificate (its signature is checked by the verifier tests): not a CA,
    // server authentication only, the Service's names.
    assert_eq!(leaf.issuer(), ca.subject());
    assert!(!leaf.basic_constraints().unwrap().unwrap().value.ca);
    let usage = leaf.key_usage().unwrap().unwrap().value;
    assert!(usage.digital_signature() && !usage.key_cert_sign());
    let eku = leaf.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth);
    let sans: Vec<String> = leaf
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => d.to_string(),
            other => panic!("unexpected SAN {other:?}"),
        })
        .collect();
    assert_eq!(
        sans,
        [
            "palisade-admission.palisade-system.svc",
            "palisade-admission.palisade-system.svc.cluster.local",
            "palisade-admission.palisade-system",
            "palisade-admission",
        ]
    );

    // Valid from an hour ago (clock skew) for 30 days.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for cert in [&ca, &leaf] {
        let from = cert.validity().not_before.timestamp();
        let until = cert.validity().not_after.timestamp();
        assert!(
            (now - 3600 - 300..=now - 3600 + 5).contains(&from),
            "{from} {now}"
        );
        assert!((now + 30 * 86_400 - 300..=now + 30 * 86_400 + 5).contains(&until));
    }
}

#[test]
fn validity_is_enforced_by_the_verifier() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let tls = ServingTls::generate_at("ns", "hook", 10, start).unwrap();
    let name = "hook.ns.svc";
    verify(&tls, name, start).unwrap();
    verify(&tls, name, start + 9 * DAY).unwrap();
    assert!(verify(&tls, name, start + 11 * DAY).is_err());
    assert!(verify(&tls, name, start - DAY).is_err());
    // Each generation is a new CA: another installation's CA does not vouch for this one.
    let other = ServingTls::generate_at("ns", "hook", 10, start).unwrap();
    assert_ne!(other.ca_pem, tls.ca_pem);
    let crossed = ServingTls {
        ca_pem: other.ca_pem,
        ..tls
    };
    assert!(verify(&crossed, name, start).is_err());
}

// ---- the webhook configurations ----

fn webhook<'a>(all: &'a [Value], kind: &str) -> &'a Value {
    let config = one(all, kind);
    let hooks = config["webhooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 1);
    &hooks[0]
}

#[test]
fn webhooks_are_narrow_and_exempt_what_must_always_start() {
    let all = objects(&self_signed_mutating()).unwrap();
    for (kind, name, path, policy, operations) in [
        (
            "ValidatingWebhookConfiguration",
            "validate.palisade.dev",
            "/validate",
            "Fail",
            json!(["CREATE", "UPDATE"]),
        ),
        (
            "MutatingWebhookConfiguration",
            "mutate.palisade.dev",
            "/mutate",
            "Ignore",
            json!(["CREATE"]),
        ),
    ] {
        let hook = webhook(&all, kind);
        assert_eq!(hook["name"], name);
        assert_eq!(hook["clientConfig"]["service"]["path"], path);
        assert_eq!(
            hook["clientConfig"]["service"]["name"],
            "palisade-admission"
        );
        assert_eq!(
            hook["clientConfig"]["service"]["namespace"],
            "palisade-system"
        );
        assert_eq!(hook["clientConfig"]["service"]["port"], 443);
        assert_eq!(hook["failurePolicy"], policy);
        assert_eq!(hook["sideEffects"], "None");
        assert_eq!(hook["timeoutSeconds"], 5);
        assert_eq!(hook["matchPolicy"], "Equivalent");
        assert_eq!(hook["admissionReviewVersions"], json!(["v1", "v1beta1"]));
        assert_eq!(
            hook["namespaceSelector"],
            json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                "operator": "NotIn", "values": ["kube-system", "palisade-system"]}]})
        );
        assert_eq!(
            hook["objectSelector"],
            json!({"matchExpressions": [{"key": "admission.palisade.dev/ignore",
                "operator": "DoesNotExist"}]})
        );
        let mut resources = BTreeSet::new();
        for rule in hook["rules"].as_array().unwrap() {
            assert_eq!(rule["operations"], operations);
            assert_eq!(rule["scope"], "Namespaced");
            assert_eq!(rule["apiVersions"], json!(["v1"]));
            for r in rule["resources"].as_array().unwrap() {
                let group = rule["apiGroups"][0].as_str().unwrap();
                resources.insert(format!("{group}/{}", r.as_str().unwrap()));
            }
        }
        assert!(!resources.iter().any(|r| r.contains('*')));
        for r in [
            "/pods",
            "/replicationcontrollers",
            "apps/deployments",
            "apps/statefulsets",
            "apps/daemonsets",
            "apps/replicasets",
            "batch/jobs",
            "batch/cronjobs",
        ] {
            assert!(resources.contains(r), "{kind} lacks {r}");
        }
        assert_eq!(
            resources.contains("/pods/ephemeralcontainers"),
            kind.starts_with("Validating")
        );
    }
    let mutate = webhook(&all, "MutatingWebhookConfiguration");
    assert_eq!(mutate["reinvocationPolicy"], "IfNeeded");
    assert!(
        webhook(&all, "ValidatingWebhookConfiguration")
            .get("reinvocationPolicy")
            .is_none()
    );
}

#[test]
fn options_reach_the_webhooks() {
    let options = ManifestOptions {
        mutating: true,
        validating_failure_policy: FailurePolicy::Ignore,
        mutating_failure_policy: FailurePolicy::Fail,
        timeout_seconds: 12,
        opt_out_label: None,
        namespace: "security".into(),
        ..ManifestOptions::default()
    };
    let all = objects(&options).unwrap();
    let validate = webhook(&all, "ValidatingWebhookConfiguration");
    let mutate = webhook(&all, "MutatingWebhookConfiguration");
    assert_eq!(validate["failurePolicy"], "Ignore");
    assert_eq!(mutate["failurePolicy"], "Fail");
    for hook in [validate, mutate] {
        assert_eq!(hook["timeoutSeconds"], 12);
        assert!(hook.get("objectSelector").is_none());
        assert_eq!(
            hook["namespaceSelector"]["matchExpressions"][0]["values"],
            json!(["kube-system", "security"])
        );
    }
    let pod_labels = &one(&all, "Deployment")["spec"]["template"]["metadata"]["labels"];
    assert!(pod_labels.get("admission.palisade.dev/ignore").is_none());
}

#[test]
fn the_mutating_webhook_is_only_there_when_asked_for() {
    let all = objects(&ManifestOptions::default()).unwrap();
    assert!(find(&all, "MutatingWebhookConfiguration").is_empty());
    assert_eq!(find(&all, "ValidatingWebhookConfiguration").len(), 1);
}

#[test]
fn cert_manager_injects_the_ca_and_the_output_is_deterministic() {
    let options = cert_manager();
    let text = render(&options).unwrap();
    assert_eq!(text, render(&options).unwrap());
    let all = objects(&options).unwrap();
    assert!(find(&all, "Secret").is_empty());
    assert_eq!(
        kinds(&all),
        [
            "Namespace",
            "ServiceAccount",
            "Issuer",
            "Certificate",
            "Issuer",
            "Certificate",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
        ]
    );
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let config = one(&all, kind);
        assert_eq!(
            config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            "palisade-system/palisade-admission"
        );
        assert!(
            config["webhooks"][0]["clientConfig"]
                .get("caBundle")
                .is_none()
        );
    }
    // The annotation names the serving Certificate, which writes the mounted Secret.
    let serving = find(&all, "Certificate")
        .into_iter()
        .find(|c| c["metadata"]["name"] == "palisade-admission")
        .unwrap();
    assert_eq!(serving["spec"]["secretName"], "palisade-admission-tls");
    assert_eq!(
        serving["spec"]["dnsNames"],
        json!(service_dns_names("palisade-system", "palisade-admission"))
    );
    assert_eq!(
        serving["spec"]["issuerRef"]["name"],
        "palisade-admission-ca"
    );
    let ca = find(&all, "Certificate")
        .into_iter()
        .find(|c| c["metadata"]["name"] == "palisade-admission-ca")
        .unwrap();
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(
        ca["spec"]["issuerRef"]["name"],
        "palisade-admission-selfsigned"
    );
    let volumes = &one(&all, "Deployment")["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[0]["secret"]["secretName"], "palisade-admission-tls");
}

#[test]
fn a_given_issuer_replaces_the_private_ca() {
    let options = ManifestOptions {
        certificates: Certificates::CertManager {
            issuer: Some(IssuerRef::ClusterIssuer("corp-ca".into())),
        },
        ..ManifestOptions::default()
    };
    let all = objects(&options).unwrap();
    assert!(find(&all, "Issuer").is_empty());
    let certificate = one(&all, "Certificate");
    assert_eq!(
        certificate["spec"]["issuerRef"],
        json!({"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "corp-ca"})
    );
}

#[test]
fn provided_certificates_render_deterministically() {
    let options = ManifestOptions {
        certificates: Certificates::Provided(fixed_tls().clone()),
        ..ManifestOptions::default()
    };
    assert_eq!(render(&options).unwrap(), render(&options).unwrap());
    let all = objects(&options).unwrap();
    let bundle = &webhook(&all, "ValidatingWebhookConfiguration")["clientConfig"]["caBundle"];
    assert_eq!(decode(bundle), fixed_tls().ca_pem);
}

// ---- the workload ----

#[test]
fn the_deployment_is_hardened_and_mounts_what_the_server_reloads() {
    let all = objects(&self_signed_mutating()).unwrap();
    let deployment = one(&all, "Deployment");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(
        spec["strategy"]["rollingUpdate"],
        json!({"maxUnavailable": 0, "maxSurge": 1})
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["serviceAccountName"], "palisade-admission");
    assert!(pod.get("priorityClassName").is_none());
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        json!([
            "admission",
            "serve",
            "--listen",
            "0.0.0.0:8443",
            "--tls-cert",
            "/etc/palisade/tls/tls.crt",
            "--tls-key",
            "/etc/palisade/tls/tls.key",
            "--policy",
            "/etc/palisade/policy/policy.yaml"
        ])
    );
    assert_eq!(
        container["image"],
        palisade_admission::manifests::DEFAULT_IMAGE
    );
    assert_eq!(container["ports"][0]["containerPort"], 8443);
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["livenessProbe"]["httpGet"]["scheme"], "HTTPS");
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    for mount in container["volumeMounts"].as_array().unwrap() {
        assert_eq!(mount["readOnly"], true);
        // subPath mounts are never refreshed, which would defeat the hot reload.
        assert!(mount.get("subPath").is_none());
    }
    let config_map = one(&all, "ConfigMap");
    assert_eq!(
        config_map["data"]["policy.yaml"],
        "rules:\n  - id: no-latest\n    deny: true\n"
    );
    assert_eq!(
        pod["volumes"][1]["configMap"]["name"],
        config_map["metadata"]["name"]
    );
    let service = one(&all, "Service");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}])
    );
    assert_eq!(one(&all, "PodDisruptionBudget")["spec"]["minAvailable"], 1);
    let namespace = one(&all, "Namespace");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert_eq!(
        one(&all, "ServiceAccount")["automountServiceAccountToken"],
        false
    );
}

#[test]
fn without_a_policy_the_built_in_one_runs() {
    let all = objects(&ManifestOptions::default()).unwrap();
    assert!(find(&all, "ConfigMap").is_empty());
    let container = &one(&all, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert!(
        !container["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--policy"))
    );
    assert_eq!(container["volumeMounts"].as_array().unwrap().len(), 1);
}

#[test]
fn one_replica_gets_no_disruption_budget_and_a_priority_class_is_passed_on() {
    let options = ManifestOptions {
        replicas: 1,
        priority_class_name: Some("palisade-critical".into()),
        ..ManifestOptions::default()
    };
    let all = objects(&options).unwrap();
    assert!(find(&all, "PodDisruptionBudget").is_empty());
    let pod = &one(&all, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["priorityClassName"], "palisade-critical");
}

#[test]
fn every_object_carries_the_labels() {
    for options in [self_signed_mutating(), cert_manager()] {
        for object in objects(&options).unwrap() {
            let labels = &object["metadata"]["labels"];
            assert_eq!(labels["app.kubernetes.io/name"], "palisade", "{object}");
            assert_eq!(labels["app.kubernetes.io/component"], "admission");
            assert_eq!(
                labels["app.kubernetes.io/version"],
                env!("CARGO_PKG_VERSION")
            );
        }
    }
}

#[test]
fn bad_options_are_refused() {
    let bad = [
        ManifestOptions {
            namespace: "Palisade".into(),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            namespace: "kube-system".into(),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            namespace: "default".into(),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            name: "1webhook".into(),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            image: "".into(),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            image: "a b".into(),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            replicas: 0,
            ..ManifestOptions::default()
        },
        ManifestOptions {
            timeout_seconds: 0,
            ..ManifestOptions::default()
        },
        ManifestOptions {
            timeout_seconds: 31,
            ..ManifestOptions::default()
        },
        ManifestOptions {
            opt_out_label: Some("bad key!".into()),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            priority_class_name: Some("Bad".into()),
            ..ManifestOptions::default()
        },
        ManifestOptions {
            certificates: Certificates::SelfSigned { validity_days: 0 },
            ..ManifestOptions::default()
        },
        ManifestOptions {
            certificates: Certificates::CertManager {
                issuer: Some(IssuerRef::Issuer("".into())),
            },
            ..ManifestOptions::default()
        },
        ManifestOptions {
            certificates: Certificates::Provided(ServingTls {
                ca_pem: "x".into(),
                cert_pem: "y".into(),
                key_pem: "z".into(),
            }),
            ..ManifestOptions::default()
        },
    ];
    for options in bad {
        let err = render(&options).unwrap_err();
        assert!(matches!(err, ManifestError::InvalidOption { .. }), "{err}");
    }
}
