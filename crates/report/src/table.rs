//! Tables for a person at a terminal.
//!
//! Findings come grouped by object, each group under a `file:line Kind/namespace/name` header
//! line, one row per finding. Then the totals, framework scores, exceptions that need
//! attention, input errors as `file:line:col: message`, and (verbose only) notices.
//!
//! With colour on, the output is going to a terminal: severities are coloured and tables wrap
//! to the terminal's width. Without, the layout is fixed, so the same report gives the same
//! text wherever it is written.

use crate::RenderOptions;
use crate::common::{self, STATUSES, WORST_FIRST, one_line, plural, status_count};
use palisade_model::{ScanReport, Severity};
use std::fmt::Write;

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED,
};

pub fn render(report: &ScanReport, options: &RenderOptions) -> String {
    let paint = Paint(options.color);
    let mut out = String::new();

    let groups = common::by_object(&report.findings);
    if groups.is_empty() {
        let _ = writeln!(out, "{}\n", paint.bold("No findings."));
    }
    for group in &groups {
        // Live objects have no lines: their header is the API address, their rows the field.
        let live = group.line() == 0;
        let place = if live {
            one_line(group.file).to_string()
        } else {
            format!("{}:{}", one_line(group.file), group.line())
        };
        let _ = writeln!(
            out,
            "{}",
            paint.bold(&format!("{place} {}", one_line(&group.object.display())))
        );
        let third = if live { "Field" } else { "Line" };
        let mut table = new_table(options, &["Severity", "Control", third, "Message"]);
        for finding in &group.findings {
            let where_ = if live {
                Cell::new(one_line(&finding.location.pointer))
            } else {
                Cell::new(finding.location.line)
            };
            table.add_row(vec![
                severity_cell(finding.severity, options.color),
                Cell::new(one_line(&finding.control_id)),
                where_,
                Cell::new(one_line(&finding.message)),
            ]);
        }
        if !live {
            right_align(&mut table, &[2]);
        }
        let _ = writeln!(
            out,
            "{table}
"
        );
    }

    summary(&mut out, report, paint);
    frameworks(&mut out, report, options);

    if !report.exceptions.is_empty() {
        let _ = writeln!(out, "{}", paint.bold("Exceptions needing attention"));
        for e in &report.exceptions {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                one_line(&e.source),
                one_line(&e.control_id),
                one_line(&e.status),
                one_line(&e.message)
            );
        }
        out.push('\n');
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "{}", paint.error("Input errors"));
        for e in &report.errors {
            let _ = writeln!(out, "  {}", one_line(&e.to_string()));
        }
        out.push('\n');
    }
    if options.verbose && !report.notices.is_empty() {
        let _ = writeln!(out, "{}", paint.bold("Notices"));
        for n in &report.notices {
            let _ = writeln!(out, "  {}", one_line(&n.to_string()));
        }
        out.push('\n');
    }
    // One trailing newline, however the output ended.
    let end = out.trim_end_matches('\n').len();
    out.truncate(end);
    out.push('\n');
    out
}

fn summary(out: &mut String, report: &ScanReport, paint: Paint) {
    let s = &report.summary;
    let by_severity: Vec<String> = WORST_FIRST
        .iter()
        .map(|&sev| {
            let count = s.by_severity.get(&sev).copied().unwrap_or(0);
            let text = format!("{count} {sev}");
            if count > 0 {
                paint.severity(sev, &text)
            } else {
                text
            }
        })
        .collect();
    let _ = writeln!(out, "{}", paint.bold("Summary"));
    let _ = writeln!(
        out,
        "  {} {}: {}",
        s.findings,
        plural(s.findings, "finding", "findings"),
        by_severity.join(", ")
    );
    let _ = writeln!(
        out,
        "  {} {} in {}, {} {} ran",
        s.objects,
        plural(s.objects, "object", "objects"),
        crate::common::scope(s),
        s.controls,
        plural(s.controls, "control", "controls"),
    );
    if s.suppressed > 0 {
        let _ = writeln!(
            out,
            "  {} {} suppressed by exceptions",
            s.suppressed,
            plural(s.suppressed, "finding", "findings")
        );
    }
    if s.errors > 0 {
        let _ = writeln!(
            out,
            "  {}",
            paint.error(&format!(
                "{} {}",
                s.errors,
                plural(s.errors, "input error", "input errors")
            ))
        );
    }
    out.push('\n');
}

fn frameworks(out: &mut String, report: &ScanReport, options: &RenderOptions) {
    if report.frameworks.is_empty() {
        return;
    }
    let mut table = new_table(
        options,
        &["Framework", "Score", "Pass", "Fail", "Manual", "N/A"],
    );
    for framework in &report.frameworks {
        let mut row = vec![
            Cell::new(one_line(&format!(
                "{} {}",
                framework.title, framework.version
            ))),
            Cell::new(common::score_text(framework.score)),
        ];
        row.extend(
            STATUSES
                .iter()
                .map(|&status| Cell::new(status_count(framework, status))),
        );
        table.add_row(row);
    }
    right_align(&mut table, &[1, 2, 3, 4, 5]);
    let _ = writeln!(out, "{}", Paint(options.color).bold("Frameworks"));
    let _ = writeln!(out, "{table}\n");
}

fn new_table(options: &RenderOptions, header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED.with_rounded_corners())
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    if options.color {
        // Colour means a terminal: follow its width, and style even if stdout is redirected
        // later by the caller.
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

fn right_align(table: &mut Table, columns: &[usize]) {
    for &index in columns {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn severity_cell(severity: Severity, color: bool) -> Cell {
    let cell = Cell::new(severity);
    if !color {
        return cell;
    }
    match severity {
        Severity::Critical => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::High => cell.fg(Color::Red),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low => cell.fg(Color::Blue),
        Severity::Info => cell.add_attribute(Attribute::Dim),
    }
}

/// ANSI styling of text outside tables, when colour is on.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn error(self, text: &str) -> String {
        self.wrap("1;31", text)
    }

    fn severity(self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "34",
            Severity::Info => "2",
        };
        self.wrap(code, text)
    }
}
