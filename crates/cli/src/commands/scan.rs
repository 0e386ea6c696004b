//! `palisade scan`: load → scan pipeline → render → exit code.

use crate::args::{OutputFormat, ScanArgs};
use crate::output;
use crate::{EXIT_ERROR, EXIT_FINDINGS};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_model::{ScanReport, Severity};
use palisade_report::{Format, RenderOptions};
use palisade_scan::{Exceptions, ScanOptions, Selection};
use std::io::IsTerminal;

/// Runs a scan and returns the exit status.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let fail_on = parse_fail_on(&args.fail_on)?;
    let exceptions = match &args.exceptions {
        Some(path) => Some(read_exceptions(path)?),
        None => None,
    };
    let options = palisade_loader::Options {
        max_file_size: args.max_file_size.saturating_mul(1024 * 1024),
        ..palisade_loader::Options::default()
    };
    let (mut loaded, cluster) = if args.cluster {
        let (loaded, name) = super::cluster::read(args)?;
        (loaded, Some(name))
    } else {
        let inputs = palisade_loader::expand(&args.paths);
        let progress = progress_bar(args, inputs.len());
        let loaded = palisade_loader::load_inputs(&inputs, &options, &|| progress.inc(1));
        progress.finish_and_clear();
        (loaded, None)
    };
    let policies = read_policies(&args.policy, &options, &mut loaded.errors);

    let scan_options = ScanOptions {
        selection: Selection {
            include: args.include.clone(),
            exclude: args.exclude.clone(),
            min_severity: args.severity,
            frameworks_only: !args.frameworks.is_empty(),
        },
        frameworks: args.frameworks.clone(),
        exceptions,
        today: None,
        policies,
    };
    let mut report = palisade_scan::scan(&loaded, &scan_options)?;
    report.summary.cluster = cluster;

    let render = RenderOptions {
        color: output::use_color(args.no_color, args.output.is_some()),
        verbose: args.verbose,
    };
    let mut out = output::open(args.output.as_deref())?;
    let written = palisade_report::render_to(&report, format(args.format), &render, &mut out);
    output::finish(written, out)?;
    if args.format != OutputFormat::Table || args.output.is_some() {
        for e in &report.errors {
            eprintln!("palisade: error: {e}");
        }
    }
    let status = exit_status(&report, fail_on);
    // The process ends here: freeing every object and finding one by one costs a tenth of
    // a large scan and gives nothing back.
    std::mem::forget(loaded);
    std::mem::forget(report);
    Ok(status)
}

/// Reads and compiles the policies; what cannot be read or used becomes an input error of
/// the scan, and the rest still runs.
fn read_policies(
    paths: &[std::path::PathBuf],
    options: &palisade_loader::Options,
    errors: &mut Vec<palisade_model::InputError>,
) -> Option<std::sync::Arc<palisade_policy::PolicySet>> {
    if paths.is_empty() {
        return None;
    }
    let read = palisade_loader::load_inputs(&palisade_loader::expand_files(paths), options, &|| {});
    errors.extend(read.errors);
    let set = palisade_policy::PolicySet::from_objects(&read.objects);
    errors.extend(palisade_scan::policy_errors(&set));
    Some(std::sync::Arc::new(set))
}

fn exit_status(report: &ScanReport, fail_on: Option<Severity>) -> u8 {
    if !report.errors.is_empty() {
        return EXIT_ERROR;
    }
    let failing = fail_on.is_some_and(|min| report.findings.iter().any(|f| f.severity >= min));
    if failing { EXIT_FINDINGS } else { 0 }
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

fn read_exceptions(path: &std::path::Path) -> anyhow::Result<Exceptions> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read exceptions file {}", path.display()))?;
    Exceptions::parse(&path.to_string_lossy(), &text).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid exceptions file:\n  {}", lines.join("\n  "))
    })
}

pub(crate) fn progress_bar(args: &ScanArgs, inputs: usize) -> ProgressBar {
    if args.no_progress || inputs < 50 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(inputs as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} reading {pos}/{len} files {wide_bar} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

fn format(f: OutputFormat) -> Format {
    match f {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Junit => Format::Junit,
        OutputFormat::Markdown => Format::Markdown,
        OutputFormat::Html => Format::Html,
    }
}
