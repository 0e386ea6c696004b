//! `palisade audit serve`: the audit webhook.

use super::detectors::build;
use crate::args::AuditServeArgs;
use crate::commands::admission::{init_logging, shutdown_signal};
use palisade_audit::serve::{Echo, Output, ServeOptions, TlsFiles, serve};
use std::time::Duration;

/// Serves until SIGTERM or Ctrl-C.
pub fn run(args: &AuditServeArgs) -> anyhow::Result<u8> {
    init_logging(args.log_format);
    let mut options = ServeOptions::new(
        args.listen,
        TlsFiles {
            cert: args.tls_cert.clone(),
            key: args.tls_key.clone(),
            client_ca: args.client_ca.clone(),
        },
        args.state_dir.clone(),
    );
    options.output = match &args.output {
        Some(path) => Output::File(path.clone()),
        None => Output::Stdout,
    };
    let mib = 1024 * 1024;
    options.max_batch_bytes = usize::try_from(args.max_batch_size.saturating_mul(1024))?;
    options.max_backlog_bytes = args.max_backlog.saturating_mul(mib);
    options.max_in_flight = usize::try_from(args.max_in_flight)?;
    options.segment_bytes = args.segment_size.saturating_mul(mib);
    options.read_timeout = Duration::from_secs(args.read_timeout);
    let built = build(&args.rules, false)?;
    for line in &built.loaded {
        tracing::info!("{line}");
    }
    for warning in &built.warnings {
        tracing::warn!("{warning}");
    }
    if !built.errors.is_empty() {
        for error in &built.errors {
            tracing::error!("{error}");
        }
        anyhow::bail!(
            "{} rule problems: not serving with rules left out",
            built.errors.len()
        );
    }
    let mut detectors = built.detectors;
    if args.echo_events {
        detectors.push(Box::new(Echo));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(options, detectors, shutdown_signal()))?;
    Ok(0)
}
