//! JUnit XML, for CI dashboards that show test results.
//!
//! The shape:
//!
//! ```xml
//! <testsuites name="Palisade" tests="…" failures="…" errors="…" skipped="…">
//!   <!-- one suite per control that ran, by id -->
//!   <testsuite name="PAL-101: Containers must not run privileged" tests="…" failures="…" errors="0" skipped="…">
//!     <!-- one failing case per object with findings of this control -->
//!     <testcase classname="PAL-101" name="Deployment/shop/web" file="deploy/web.yaml">
//!       <failure message="container &quot;app&quot; runs privileged" type="critical">…</failure>
//!     </testcase>
//!     <!-- one skipped case per object whose findings are all suppressed -->
//!     <testcase …><skipped message="suppressed: reason"/></testcase>
//!     <!-- or, when the control found nothing at all, one passing case -->
//!     <testcase classname="PAL-101" name="no findings"/>
//!   </testsuite>
//!   <!-- when inputs failed: one erroring case per input error -->
//!   <testsuite name="input errors" …><testcase classname="input" name="file"><error …/></testcase></testsuite>
//! </testsuites>
//! ```
//!
//! A failure's `type` is the highest severity among the object's findings, its `message` the
//! first finding's message, and its text every finding as `file:line: message`. Objects that
//! passed are not listed one by one: the report does not carry them.

use crate::common::{self, ObjectGroup, escape_markup};
use palisade_model::{Finding, ScanReport, Severity};
use std::fmt::Write;

pub fn render(report: &ScanReport) -> String {
    let failing = common::by_control(&report.findings);
    let suppressed = common::by_control(&report.suppressed);
    let mut suites: Vec<Suite> = common::controls(report)
        .iter()
        .map(|control| {
            let mut suite = Suite::new(if control.title.is_empty() {
                control.id.clone()
            } else {
                format!("{}: {}", control.id, control.title)
            });
            let id = control.id.as_str();
            for group in common::by_object(failing.get(id).into_iter().flatten().copied()) {
                suite.failure(id, &group);
            }
            for group in common::by_object(suppressed.get(id).into_iter().flatten().copied()) {
                let failed_too = failing.get(id).is_some_and(|fs| {
                    fs.iter()
                        .any(|f| *f.object == *group.object && &*f.location.file == group.file)
                });
                if !failed_too {
                    suite.skipped(id, &group);
                }
            }
            if suite.tests == 0 {
                suite.passed(id);
            }
            suite
        })
        .collect();
    if !report.errors.is_empty() {
        let mut suite = Suite::new("input errors".to_string());
        for error in &report.errors {
            suite.error(&error.file, &error.message, &error.to_string());
        }
        suites.push(suite);
    }

    let total = |count: fn(&Suite) -> usize| suites.iter().map(count).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"Palisade\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        total(|s| s.tests),
        total(|s| s.failures),
        total(|s| s.errors),
        total(|s| s.skipped),
    );
    for suite in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            attr(&suite.name),
            suite.tests,
            suite.failures,
            suite.errors,
            suite.skipped,
        );
        out.push_str(&suite.body);
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// One `<testsuite>` being written.
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    body: String,
}

impl Suite {
    fn new(name: String) -> Self {
        Suite {
            name,
            tests: 0,
            failures: 0,
            errors: 0,
            skipped: 0,
            body: String::new(),
        }
    }

    fn open_case(&mut self, classname: &str, name: &str, file: Option<&str>) {
        self.tests += 1;
        let _ = write!(
            self.body,
            "    <testcase classname=\"{}\" name=\"{}\"",
            attr(classname),
            attr(name)
        );
        if let Some(file) = file {
            let _ = write!(self.body, " file=\"{}\"", attr(file));
        }
    }

    fn failure(&mut self, control: &str, group: &ObjectGroup<'_>) {
        self.failures += 1;
        self.open_case(control, &group.object.display(), Some(group.file));
        let worst = group
            .findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info);
        let message = group
            .findings
            .first()
            .map(|f| f.message.as_str())
            .unwrap_or_default();
        let text: Vec<String> = group.findings.iter().map(|f| finding_line(f)).collect();
        let _ = writeln!(
            self.body,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
            attr(message),
            worst,
            escape_markup(&text.join("\n"))
        );
    }

    fn skipped(&mut self, control: &str, group: &ObjectGroup<'_>) {
        self.skipped += 1;
        self.open_case(control, &group.object.display(), Some(group.file));
        let reasons: Vec<&str> = group
            .findings
            .iter()
            .filter_map(|f| f.suppressed.as_ref().map(|s| s.reason.as_str()))
            .collect();
        let _ = writeln!(
            self.body,
            ">\n      <skipped message=\"suppressed: {}\"/>\n    </testcase>",
            attr(&reasons.join("; "))
        );
    }

    fn passed(&mut self, control: &str) {
        self.open_case(control, "no findings", None);
        self.body.push_str("/>\n");
    }

    fn error(&mut self, file: &str, message: &str, text: &str) {
        self.errors += 1;
        self.open_case("input", file, Some(file));
        let _ = writeln!(
            self.body,
            ">\n      <error message=\"{}\" type=\"input-error\">{}</error>\n    </testcase>",
            attr(message),
            escape_markup(text)
        );
    }
}

fn finding_line(finding: &Finding) -> String {
    format!(
        "{}: [{}] {}",
        common::location(finding),
        finding.severity,
        finding.message
    )
}

/// An attribute value on one line (parsers turn line breaks in attributes into spaces anyway).
fn attr(text: &str) -> String {
    escape_markup(&text.replace(['\n', '\r', '\t'], " ")).into_owned()
}
