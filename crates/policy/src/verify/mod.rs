//! `palisade policy test`: Gatekeeper `gator verify` suites, run with the same semantics.
//!
//! Each test compiles its template and constraint once; each case reviews exactly one object
//! (an `AdmissionReview` is reviewed as its request) with `data.inventory` made of the case's
//! inventory files, and checks the assertions against the messages of all violations.
//! Tests run in parallel.

mod assertion;
mod suite;

pub use assertion::Assertion;
pub use suite::{Case, Suite, Test};

use crate::{Cluster, PolicySet};
use palisade_model::Object;
use rayon::prelude::*;
use regex::Regex;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// Why not.
    Failed(String),
    /// `skip: true`, or not selected.
    Skipped,
}

/// The result of a case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
}

/// The result of a test.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// Test name.
    pub name: String,
    /// `skip: true`, or not selected.
    pub skipped: bool,
    /// Why the test could not run its cases (a template that does not compile, ...).
    pub error: Option<String>,
    /// An `invalid` test whose constraint was rejected by the template's schema, as expected.
    pub rejected: bool,
    /// Its cases.
    pub cases: Vec<CaseResult>,
}

/// The result of a suite.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// Suite file.
    pub path: PathBuf,
    /// `skip: true`.
    pub skipped: bool,
    /// Its tests.
    pub tests: Vec<TestResult>,
}

/// Counts over results. An `invalid` test whose constraint is rejected, as it expects,
/// counts as one passed case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed, and tests that failed as a whole (counted once each).
    pub failed: usize,
    /// Cases, tests and suites skipped.
    pub skipped: usize,
}

impl SuiteResult {
    /// Adds this suite's counts to `totals`.
    pub fn count(&self, totals: &mut Totals) {
        if self.skipped {
            totals.skipped += 1;
        }
        for test in &self.tests {
            if test.skipped {
                totals.skipped += 1;
            } else if test.error.is_some() {
                totals.failed += 1;
            } else if test.rejected {
                totals.passed += 1;
            }
            for case in &test.cases {
                match case.outcome {
                    Outcome::Passed => totals.passed += 1,
                    Outcome::Failed(_) => totals.failed += 1,
                    Outcome::Skipped => totals.skipped += 1,
                }
            }
        }
    }
}

/// Finds the suites under these paths (files, or directories read recursively). Files that
/// cannot be read, and named files that hold no suite, are errors.
pub fn discover(paths: &[PathBuf]) -> (Vec<Suite>, Vec<String>) {
    let mut suites = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|entry| match entry {
                    Ok(e) => Some(e),
                    Err(e) => {
                        errors.push(e.to_string());
                        None
                    }
                })
                .filter(|e| e.file_type().is_file() && is_yaml(e.path()))
                .map(walkdir::DirEntry::into_path)
                .collect();
            files.sort();
            for file in files {
                let text = match read_text(&file) {
                    Ok(text) => text,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                // Most YAML files of a policy library are objects, not suites.
                if text.contains("Suite") && text.contains("test.gatekeeper.sh") {
                    read_suites(&file, &text, &mut suites, &mut errors);
                }
            }
        } else {
            match read_text(path) {
                Ok(text) => {
                    let before = suites.len();
                    read_suites(path, &text, &mut suites, &mut errors);
                    if suites.len() == before {
                        errors.push(format!(
                            "{}: no Suite (test.gatekeeper.sh) in this file",
                            path.display()
                        ));
                    }
                }
                Err(e) => errors.push(e),
            }
        }
    }
    (suites, errors)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn read_suites(path: &Path, text: &str, suites: &mut Vec<Suite>, errors: &mut Vec<String>) {
    let loaded = palisade_loader::load_text(&path.to_string_lossy(), text);
    errors.extend(loaded.errors.iter().map(ToString::to_string));
    suites.extend(
        loaded
            .objects
            .iter()
            .filter(|o| suite::is_suite(&o.value))
            .map(|o| Suite::read(path, &o.value)),
    );
}

/// Runs suites; `filter`, if given, selects the cases whose `test/case` name it matches (the
/// others are skipped).
pub fn run(suites: &[Suite], filter: Option<&Regex>) -> Vec<SuiteResult> {
    let jobs: Vec<(usize, &Test)> = suites
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.skip)
        .flat_map(|(i, s)| s.tests.iter().map(move |t| (i, t)))
        .collect();
    let mut results: Vec<SuiteResult> = suites
        .iter()
        .map(|s| SuiteResult {
            path: s.path.clone(),
            skipped: s.skip,
            tests: Vec::new(),
        })
        .collect();
    let done: Vec<(usize, TestResult)> = jobs
        .par_iter()
        .map(|(i, test)| {
            let dir = suites.get(*i).map_or(Path::new("."), Suite::dir);
            (*i, run_test(dir, test, filter))
        })
        .collect();
    for (i, test) in done {
        if let Some(suite) = results.get_mut(i) {
            suite.tests.push(test);
        }
    }
    results
}

fn run_test(dir: &Path, test: &Test, filter: Option<&Regex>) -> TestResult {
    let selected =
        |case: &Case| filter.is_none_or(|re| re.is_match(&format!("{}/{}", test.name, case.name)));
    let mut result = TestResult {
        name: test.name.clone(),
        skipped: test.skip || !test.cases.iter().any(selected) && filter.is_some(),
        error: None,
        rejected: false,
        cases: Vec::new(),
    };
    if result.skipped {
        return result;
    }
    let policies = match compile(dir, test) {
        Ok(policies) => policies,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let Some(policies) = policies else {
        result.rejected = true; // an invalid constraint, rejected as expected
        return result;
    };
    result.cases = test
        .cases
        .iter()
        .map(|case| {
            let start = Instant::now();
            let outcome = if case.skip || !selected(case) {
                Outcome::Skipped
            } else {
                match run_case(dir, &policies, case) {
                    Ok(()) => Outcome::Passed,
                    Err(e) => Outcome::Failed(e),
                }
            };
            CaseResult {
                name: case.name.clone(),
                outcome,
                duration: start.elapsed(),
            }
        })
        .collect();
    result
}

/// The test's template and constraint, compiled; `None` for an `invalid` test whose
/// constraint was rejected as expected.
fn compile(dir: &Path, test: &Test) -> Result<Option<PolicySet>, String> {
    if let Some(expansion) = &test.expansion {
        return Err(format!(
            "expansion {expansion:?}: expanding generated resources is not supported"
        ));
    }
    if test.template.is_empty() {
        return Err("invalid suite: missing template".into());
    }
    if test.constraint.is_empty() {
        return Err("invalid suite: missing constraint".into());
    }
    let mut objects = read_objects(&dir.join(&test.template))?;
    if objects.len() != 1 {
        return Err(format!(
            "{}: defines {} objects, want one ConstraintTemplate",
            test.template,
            objects.len()
        ));
    }
    let constraint = read_objects(&dir.join(&test.constraint))?;
    if constraint.len() != 1 {
        return Err(format!(
            "{}: defines {} objects, want one constraint",
            test.constraint,
            constraint.len()
        ));
    }
    objects.extend(constraint);
    let set = PolicySet::from_objects(&objects);
    let errors: Vec<String> = set.errors.iter().map(ToString::to_string).collect();
    if set.templates.is_empty() && errors.is_empty() {
        return Err(format!("{}: not a ConstraintTemplate", test.template));
    }
    if test.invalid {
        return if errors.is_empty() {
            Err(
                "the constraint is valid, but the test expects its parameters to be rejected"
                    .into(),
            )
        } else {
            Ok(None)
        };
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    if set.constraints.is_empty() {
        return Err(format!(
            "{}: not a constraint of the template's kind",
            test.constraint
        ));
    }
    Ok(Some(set))
}

fn run_case(dir: &Path, policies: &PolicySet, case: &Case) -> Result<(), String> {
    if case.object.is_empty() {
        return Err("invalid case: must define object".into());
    }
    let assertions = case.assertions.as_ref().map_err(Clone::clone)?;
    if assertions.is_empty() {
        return Err("invalid case: assertions must be non-empty".into());
    }
    let objects = read_objects(&dir.join(&case.object))?;
    let [object] = objects.as_slice() else {
        return Err(format!(
            "{:?} defines {} objects, want exactly one",
            case.object,
            objects.len()
        ));
    };
    check_admission_review(object)?;
    let mut inventory = Vec::new();
    for file in &case.inventory {
        inventory.extend(read_objects(&dir.join(file))?);
    }
    let cluster = Cluster::from_objects(&inventory);
    let (violations, errors) = policies.review_with_errors(object, &cluster);
    if let Some(error) = errors.first() {
        return Err(error.message.clone());
    }
    let messages: Vec<String> = violations.into_iter().map(|v| v.message).collect();
    assertions.iter().try_for_each(|a| a.check(&messages))
}

/// gator rejects an AdmissionReview without a request, or whose request has neither object
/// nor oldObject.
fn check_admission_review(object: &Object) -> Result<(), String> {
    if object.kind() != "AdmissionReview" || object.api_group() != "admission.k8s.io" {
        return Ok(());
    }
    let request = object
        .at("/request")
        .filter(|r| r.is_object())
        .ok_or("the AdmissionReview has no request")?;
    let present = |field: &str| request.get(field).is_some_and(|o| !o.is_null());
    if !present("object") && !present("oldObject") {
        return Err("the AdmissionRequest has neither object nor oldObject to review".into());
    }
    if request.get("operation").and_then(|o| o.as_str()) == Some("DELETE") && !present("oldObject")
    {
        return Err("a DELETE AdmissionRequest must carry oldObject".into());
    }
    Ok(())
}

fn read_objects(path: &Path) -> Result<Vec<Object>, String> {
    let text = read_text(path)?;
    let loaded = palisade_loader::load_text(&path.to_string_lossy(), &text);
    if let Some(error) = loaded.errors.first() {
        return Err(error.to_string());
    }
    if loaded.objects.is_empty() {
        return Err(format!("{}: defines no objects", path.display()));
    }
    Ok(loaded.objects)
}

/// A file's text; files past the loader's size limit, and files that are not UTF-8, are
/// errors.
fn read_text(path: &Path) -> Result<String, String> {
    let limit = palisade_loader::Options::default().max_file_size;
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if size > limit {
        return Err(format!(
            "{}: {size} bytes, more than the {limit} a policy test file may have",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: not UTF-8 text (byte {} is invalid)",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}
