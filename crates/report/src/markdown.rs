//! Markdown for a pull-request comment (GitHub-flavoured: tables and `<details>`).
//!
//! Totals, framework scores, a findings table per severity (worst first, capped so the comment
//! stays within comment size limits), suppressed findings folded away, exceptions that need
//! attention and input errors. Every piece of input text is escaped, so a manifest cannot
//! inject markup, break a table or mention anyone.

use crate::RenderOptions;
use crate::common::{self, STATUSES, WORST_FIRST, one_line, status_count};
use palisade_model::{Finding, ScanReport};
use std::fmt::Write;

/// Rows per severity table; the rest is counted, not listed.
const MAX_ROWS: usize = 100;

pub fn render(report: &ScanReport, options: &RenderOptions) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Palisade scan: {} {}\n",
        s.findings,
        if s.findings == 1 {
            "finding"
        } else {
            "findings"
        }
    );

    out.push_str(
        "| Critical | High | Medium | Low | Info | Suppressed | Objects | Files | Input errors |\n",
    );
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    out.push('|');
    for severity in WORST_FIRST {
        let _ = write!(
            out,
            " {} |",
            s.by_severity.get(&severity).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(
        out,
        " {} | {} | {} | {} |\n",
        s.suppressed, s.objects, s.files, s.errors
    );

    if !report.frameworks.is_empty() {
        out.push_str("### Compliance\n\n");
        out.push_str("| Framework | Score | Pass | Fail | Manual | N/A |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|\n");
        for framework in &report.frameworks {
            let _ = write!(
                out,
                "| {} {} | {} |",
                escape(&framework.title),
                escape(&framework.version),
                common::score_text(framework.score)
            );
            for status in STATUSES {
                let _ = write!(out, " {} |", status_count(framework, status));
            }
            out.push('\n');
        }
        out.push('\n');
    }

    if report.findings.is_empty() {
        out.push_str("No findings.\n\n");
    } else {
        out.push_str("### Findings\n\n");
    }
    for severity in WORST_FIRST {
        let findings: Vec<&Finding> = common::of_severity(report, severity).collect();
        if findings.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "#### {} ({})\n",
            common::severity_title(severity),
            findings.len()
        );
        out.push_str("| Control | Object | Location | Message |\n|---|---|---|---|\n");
        for f in findings.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| **{}** {} | {} | {} | {} |",
                escape(&f.control_id),
                escape(&f.title),
                escape(&f.object.display()),
                escape(&common::location(f)),
                escape(&f.message)
            );
        }
        if findings.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n_…and {} more {severity} findings: see the full report._",
                findings.len() - MAX_ROWS
            );
        }
        out.push('\n');
    }

    if !report.suppressed.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>Suppressed findings ({})</summary>\n",
            report.suppressed.len()
        );
        out.push_str("| Control | Object | Location | Reason |\n|---|---|---|---|\n");
        for f in report.suppressed.iter().take(MAX_ROWS) {
            let reason = f.suppressed.as_ref().map(|s| s.reason.as_str());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(&f.control_id),
                escape(&f.object.display()),
                escape(&common::location(f)),
                escape(reason.unwrap_or_default())
            );
        }
        if report.suppressed.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n_…and {} more: see the full report._",
                report.suppressed.len() - MAX_ROWS
            );
        }
        out.push_str("\n</details>\n\n");
    }

    if !report.exceptions.is_empty() {
        out.push_str("### Exceptions needing attention\n\n");
        for e in &report.exceptions {
            let _ = writeln!(
                out,
                "- **{}** {} ({}): {}",
                escape(&e.status),
                escape(&e.control_id),
                escape(&e.source),
                escape(&e.message)
            );
        }
        out.push('\n');
    }
    if !report.errors.is_empty() {
        out.push_str("### Input errors\n\n");
        for e in &report.errors {
            let _ = writeln!(out, "- {}", escape(&e.to_string()));
        }
        out.push('\n');
    }
    if options.verbose && !report.notices.is_empty() {
        out.push_str("### Notices\n\n");
        for n in &report.notices {
            let _ = writeln!(out, "- {}", escape(&n.to_string()));
        }
        out.push('\n');
    }
    let end = out.trim_end_matches('\n').len();
    out.truncate(end);
    out.push('\n');
    out
}

/// Text on one line with every Markdown-significant character backslash-escaped (CommonMark
/// lets any ASCII punctuation be escaped), so it reads literally, also inside table cells.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '&' | '@'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a|b `c`"), "a\\|b \\`c\\`");
        assert_eq!(escape("<script>\n@team"), "\\<script\\> \\@team");
        assert_eq!(escape("plain text."), "plain text.");
    }
}
