//! `palisade admission`: the webhook server and its install manifests.

use crate::args::{AdmissionCommand, LogFormat, ManifestsArgs, ServeArgs};
use anyhow::Context;
use palisade_admission::manifests::{
    Certificates, FailurePolicy, IssuerRef, ManifestOptions, render,
};
use palisade_admission::server::{ServeOptions, TlsFiles, serve};

/// Runs an admission subcommand.
pub fn run(command: &AdmissionCommand) -> anyhow::Result<u8> {
    match command {
        AdmissionCommand::Serve(args) => run_serve(args),
        AdmissionCommand::Manifests(args) => run_manifests(args),
    }
}

fn run_manifests(args: &ManifestsArgs) -> anyhow::Result<u8> {
    let policy = match &args.policy {
        Some(path) => {
            // Checked now, so that a broken policy never reaches the cluster.
            palisade_admission::server::load_engine(Some(path))
                .map_err(|e| anyhow::anyhow!("--policy: {e}"))?;
            Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            )
        }
        None => None,
    };
    let failure = |value: &str| {
        if value == "Ignore" {
            FailurePolicy::Ignore
        } else {
            FailurePolicy::Fail
        }
    };
    let certificates = if args.cert_manager {
        let issuer = match (&args.issuer, &args.cluster_issuer) {
            (Some(name), _) => Some(IssuerRef::Issuer(name.clone())),
            (None, Some(name)) => Some(IssuerRef::ClusterIssuer(name.clone())),
            (None, None) => None,
        };
        Certificates::CertManager { issuer }
    } else {
        Certificates::SelfSigned {
            validity_days: args.validity_days,
        }
    };
    let mut options = ManifestOptions {
        namespace: args.namespace.clone(),
        name: args.name.clone(),
        replicas: args.replicas,
        certificates,
        mutating: args.mutating,
        validating_failure_policy: failure(&args.validating_failure_policy),
        mutating_failure_policy: failure(&args.mutating_failure_policy),
        timeout_seconds: args.timeout,
        policy,
        opt_out_label: (!args.no_opt_out_label).then(|| args.opt_out_label.clone()),
        priority_class_name: args.priority_class.clone(),
        ..ManifestOptions::default()
    };
    if let Some(image) = &args.image {
        options.image = image.clone();
    }
    let text = render(&options)?;
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

fn run_serve(args: &ServeArgs) -> anyhow::Result<u8> {
    init_logging(args.log_format);
    let mut options = ServeOptions::new(
        args.listen,
        TlsFiles {
            cert: args.tls_cert.clone(),
            key: args.tls_key.clone(),
            client_ca: args.client_ca.clone(),
        },
        args.policy.clone(),
    );
    options.max_review_bytes = args.max_review_size.saturating_mul(1024);
    if let Some(n) = args.max_in_flight {
        options.max_in_flight = n;
    }
    options.read_timeout = std::time::Duration::from_secs(args.read_timeout);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async { serve(options, shutdown_signal()).await })?;
    Ok(0)
}

/// SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// `RUST_LOG` picks the level (default info).
pub(crate) fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}
