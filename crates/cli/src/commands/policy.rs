//! `palisade policy test`: Gatekeeper `gator verify` suites, printed like a test runner.

use crate::args::{ListFormat, PolicyCommand, PolicyTestArgs};
use crate::{EXIT_ERROR, EXIT_FINDINGS, output};
use palisade_policy::verify::{self, Outcome, SuiteResult, Totals};
use serde_json::json;
use std::fmt::Write as _;
use std::time::Instant;

/// Runs the subcommand.
pub fn run(cmd: &PolicyCommand) -> anyhow::Result<u8> {
    match cmd {
        PolicyCommand::Test(args) => test(args),
    }
}

fn test(args: &PolicyTestArgs) -> anyhow::Result<u8> {
    let filter = args
        .run
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--run: {e}"))?;
    let start = Instant::now();
    let (suites, errors) = verify::discover(&args.paths);
    for error in &errors {
        eprintln!("palisade: error: {error}");
    }
    if suites.is_empty() {
        if errors.is_empty() {
            eprintln!("palisade: error: no Suite (test.gatekeeper.sh) found under the paths given");
        }
        return Ok(EXIT_ERROR);
    }
    let results = verify::run(&suites, filter.as_ref());
    let elapsed = start.elapsed();
    let mut totals = Totals::default();
    results.iter().for_each(|s| s.count(&mut totals));
    let text = match args.format {
        ListFormat::Table => text_report(
            &results,
            totals,
            elapsed,
            &Style::new(args.no_color),
            args.quiet,
        ),
        ListFormat::Json => output::json(&json_report(&results, totals))?,
    };
    output::write(&text, None)?;
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if totals.failed > 0 {
        EXIT_FINDINGS
    } else {
        0
    })
}

struct Style {
    color: bool,
}

impl Style {
    fn new(no_color: bool) -> Style {
        Style {
            color: output::use_color(no_color, false),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }
}

fn text_report(
    results: &[SuiteResult],
    totals: Totals,
    elapsed: std::time::Duration,
    style: &Style,
    quiet: bool,
) -> String {
    let mut out = String::new();
    let (ok, fail, skip) = (
        style.paint("32", "ok  "),
        style.paint("31;1", "FAIL"),
        style.paint("33", "skip"),
    );
    for suite in results {
        let mut lines = String::new();
        if suite.skipped {
            let _ = writeln!(lines, "  {skip}  (suite skipped)");
        }
        for test in &suite.tests {
            if test.skipped {
                if !quiet {
                    let _ = writeln!(lines, "  {skip}  {}", test.name);
                }
                continue;
            }
            if let Some(error) = &test.error {
                let _ = writeln!(lines, "  {fail}  {}\n        {error}", test.name);
            } else if test.rejected && !quiet {
                let _ = writeln!(
                    lines,
                    "  {ok}  {} (constraint rejected, as expected)",
                    test.name
                );
            }
            for case in &test.cases {
                let name = format!("{}/{}", test.name, case.name);
                let ms = case.duration.as_secs_f64() * 1000.0;
                match &case.outcome {
                    Outcome::Passed if !quiet => {
                        let _ = writeln!(lines, "  {ok}  {name} ({ms:.1} ms)");
                    }
                    Outcome::Failed(why) => {
                        let _ = writeln!(lines, "  {fail}  {name} ({ms:.1} ms)\n        {why}");
                    }
                    Outcome::Skipped if !quiet => {
                        let _ = writeln!(lines, "  {skip}  {name}");
                    }
                    _ => {}
                }
            }
        }
        if !lines.is_empty() {
            let _ = writeln!(out, "{}\n{lines}", suite.path.display());
        }
    }
    let tests: usize = results.iter().map(|s| s.tests.len()).sum();
    let summary = format!(
        "{} passed, {} failed, {} skipped ({} suites, {tests} tests) in {:.2} s",
        totals.passed,
        totals.failed,
        totals.skipped,
        results.len(),
        elapsed.as_secs_f64()
    );
    let code = if totals.failed > 0 { "31;1" } else { "32" };
    let _ = writeln!(out, "{}", style.paint(code, &summary));
    out
}

fn json_report(results: &[SuiteResult], totals: Totals) -> serde_json::Value {
    let suites: Vec<serde_json::Value> = results
        .iter()
        .map(|suite| {
            let tests: Vec<serde_json::Value> = suite
                .tests
                .iter()
                .map(|test| {
                    let cases: Vec<serde_json::Value> = test
                        .cases
                        .iter()
                        .map(|case| {
                            let (outcome, reason) = match &case.outcome {
                                Outcome::Passed => ("passed", None),
                                Outcome::Failed(why) => ("failed", Some(why)),
                                Outcome::Skipped => ("skipped", None),
                            };
                            json!({
                                "name": case.name,
                                "outcome": outcome,
                                "reason": reason,
                                "seconds": case.duration.as_secs_f64(),
                            })
                        })
                        .collect();
                    json!({
                        "name": test.name,
                        "skipped": test.skipped,
                        "error": test.error,
                        "rejected": test.rejected,
                        "cases": cases,
                    })
                })
                .collect();
            json!({"path": suite.path, "skipped": suite.skipped, "tests": tests})
        })
        .collect();
    json!({
        "passed": totals.passed,
        "failed": totals.failed,
        "skipped": totals.skipped,
        "suites": suites,
    })
}
