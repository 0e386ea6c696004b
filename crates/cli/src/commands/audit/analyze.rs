//! `palisade audit analyze`: audit logs in, alerts out.

use super::detectors::build;
use crate::args::{AuditAnalyzeArgs, AuditFormat};
use palisade_audit::Alert;
use palisade_audit::event::EventError;
use palisade_audit::event::read::{ReadError, ReadOptions, read_paths};
use palisade_audit::sink::{JsonLines, Sink, Webhook, WebhookOptions};
use palisade_audit::summary::{Summary, summary_table};
use palisade_model::Severity;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const EXIT_ALERTS: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// Reads every path, runs the detectors on each event in order, and reports.
pub fn run(args: &AuditAnalyzeArgs) -> anyhow::Result<u8> {
    let fail_on = parse_fail_on(&args.fail_on)?;
    let built = build(&args.rules, args.learn)?;
    for line in &built.loaded {
        eprintln!("{line}");
    }
    for warning in &built.warnings {
        eprintln!("warning: {warning}");
    }
    for error in &built.errors {
        eprintln!("error: {error}");
    }
    let mut detectors = built.detectors;
    if detectors.is_empty() {
        anyhow::bail!(
            "nothing to run: --no-builtin leaves no detections (add --falco-rules, --sigma or --baseline)"
        );
    }
    let mut out = Output::new(args)?;
    let stop = Arc::new(AtomicBool::new(false));
    if args.follow {
        stop_on_signal(Arc::clone(&stop));
    }
    let options = ReadOptions {
        follow: args.follow,
        stop: Some(stop),
        ..ReadOptions::default()
    };
    let mut alerts: Vec<Alert> = Vec::new();
    let mut input_errors = 0u64;
    let stats = read_paths(
        &args.paths,
        &options,
        |event| {
            for detector in detectors.iter_mut() {
                detector.observe(&event, &mut alerts);
            }
            if !alerts.is_empty() {
                out.emit(&mut alerts);
            }
        },
        |error| {
            // Skipped files and events kept without their objects are worth a word, not an
            // error status.
            let benign = matches!(
                error,
                ReadError::NotAuditLog { .. } | ReadError::Event(EventError::Oversized { .. })
            );
            if benign {
                eprintln!("warning: {error}");
            } else {
                input_errors += 1;
                eprintln!("error: {error}");
            }
        },
    );
    for detector in detectors.iter_mut() {
        detector.finish(&mut alerts);
    }
    out.emit(&mut alerts);
    out.summary.events = stats.events;
    out.summary.errors = input_errors;
    out.summary.skipped_files = stats.skipped_files;
    let failing = fail_on.is_some_and(|min| out.worst.is_some_and(|worst| worst >= min));
    out.close()?;
    if input_errors > 0 || !built.errors.is_empty() {
        return Ok(EXIT_ERROR);
    }
    Ok(if failing { EXIT_ALERTS } else { 0 })
}

/// Where alerts go: stdout (a line each, or JSON), and the optional file and webhook.
struct Output {
    format: AuditFormat,
    min_severity: Option<Severity>,
    stdout: std::io::BufWriter<std::io::Stdout>,
    sinks: Vec<Box<dyn Sink>>,
    summary: Summary,
    worst: Option<Severity>,
    learn_only: bool,
}

impl Output {
    fn new(args: &AuditAnalyzeArgs) -> anyhow::Result<Output> {
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if let Some(path) = &args.output {
            sinks.push(Box::new(JsonLines::append(path)?));
        }
        if let Some(url) = &args.webhook {
            let mut options = WebhookOptions::new(url);
            options.ca_file = args.webhook_ca.clone();
            sinks.push(Box::new(Webhook::new(options)?));
        }
        Ok(Output {
            format: args.format,
            min_severity: args.min_severity,
            stdout: std::io::BufWriter::new(std::io::stdout()),
            sinks,
            summary: Summary::new(),
            worst: None,
            learn_only: args.learn,
        })
    }

    fn emit(&mut self, alerts: &mut Vec<Alert>) {
        for alert in alerts.drain(..) {
            if self.min_severity.is_some_and(|min| alert.severity < min) {
                continue;
            }
            self.worst = self.worst.max(Some(alert.severity));
            self.summary.add(&alert);
            let written = match self.format {
                AuditFormat::Json => serde_json::to_writer(&mut self.stdout, &alert)
                    .map_err(std::io::Error::other)
                    .and_then(|()| self.stdout.write_all(b"\n")),
                AuditFormat::Table => writeln!(
                    self.stdout,
                    "{}  {:<8}  {:<8}  {}  {}",
                    alert.time.as_deref().unwrap_or("-"),
                    alert.severity.as_str(),
                    alert.engine.as_str(),
                    alert.rule,
                    alert.message
                ),
            };
            if let Err(e) = written {
                eprintln!("error: cannot write to stdout: {e}");
            }
            for sink in &mut self.sinks {
                if let Err(e) = sink.send(&alert) {
                    self.summary.undelivered += 1;
                    eprintln!("error: {e}");
                }
            }
        }
    }

    fn close(mut self) -> anyhow::Result<()> {
        for sink in &mut self.sinks {
            match sink.close() {
                Ok(stats) => self.summary.undelivered += stats.dropped + stats.failed,
                Err(e) => {
                    eprintln!("error: {e}");
                }
            }
        }
        if self.format == AuditFormat::Table && !self.learn_only {
            write!(self.stdout, "{}", summary_table(&self.summary))?;
        } else if self.learn_only {
            eprintln!("learned from {} events", self.summary.events);
        }
        self.stdout.flush()?;
        Ok(())
    }
}

/// Ctrl-C or SIGTERM ends following: the files are read one last time, open windows are
/// reported and the baselines saved.
fn stop_on_signal(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(crate::commands::admission::shutdown_signal());
        }
        stop.store(true, Ordering::SeqCst);
    });
}

fn parse_fail_on(value: &str) -> anyhow::Result<Option<Severity>> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|e: String| anyhow::anyhow!("--fail-on: {e} (or none)"))
}
