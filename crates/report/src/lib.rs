/*!
Renders a [`ScanReport`] for people and for machines.

# Brief overview

One function, [`render`], turns a report into text in one of six [`Format`]s:

| format | for | shape |
|---|---|---|
| `table` | a person at a terminal | findings grouped by object, then totals, framework scores, exceptions and input errors |
| `json` | scripts | the report itself, as described by `docs/report.schema.json` |
| `sarif` | GitHub code scanning and other SARIF 2.1.0 consumers | one run, one rule per control, one result per finding |
| `junit` | CI test dashboards | a test suite per control, a failing test case per object with findings |
| `markdown` | a pull-request comment | totals, framework scores, findings by severity, errors |
| `html` | an auditor | one self-contained compliance report: every framework requirement with its evidence |

Every format but `table` is byte-stable: the same report always renders to the same bytes (no
timestamps, no hash-map order), so reports can be committed and diffed. The `table` format is
too, unless [`RenderOptions::color`] is set: colour means a terminal, whose width the layout
then follows.

```
use palisade_model::{SCHEMA_VERSION, ScanReport, Summary, Tool};
use palisade_report::{Format, RenderOptions, render};

let report = ScanReport {
    schema_version: SCHEMA_VERSION.to_string(),
    tool: Tool { name: "palisade".into(), version: "0.1.0".into() },
    summary: Summary::default(),
    findings: vec![],
    suppressed: vec![],
    exceptions: vec![],
    errors: vec![],
    notices: vec![],
    frameworks: vec![],
    controls: vec![],
};
let format: Format = "sarif".parse()?;
let sarif = render(&report, format, &RenderOptions::default());
assert!(sarif.contains("\"version\": \"2.1.0\""));
# Ok::<(), palisade_report::UnknownFormat>(())
```
*/

mod common;
mod html;
mod json;
mod junit;
mod markdown;
mod sarif;
mod table;

use palisade_model::ScanReport;
use std::fmt;
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Tables for a terminal.
    Table,
    /// The report as JSON (`docs/report-schema.md`).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// Markdown for a pull-request comment.
    Markdown,
    /// A self-contained HTML compliance report.
    Html,
}

impl Format {
    /// Every format, in the order they are documented.
    pub const ALL: [Format; 6] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Html,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: expected table, json, sarif, junit, markdown or html")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// How to render. The caller decides colour (a terminal, `NO_COLOR`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours in the `table` format; also lets the table follow the terminal's width.
    pub color: bool,
    /// Also show notices: inputs left out on purpose (documents that are not Kubernetes
    /// objects, Helm charts, duplicate keys). Machine formats always carry them.
    pub verbose: bool,
}

/// Renders `report` in `format`. Never fails: every report has a rendering, even an empty one.
/// Renders into a writer; JSON is streamed, the other formats are built and then written.
pub fn render_to(
    report: &ScanReport,
    format: Format,
    options: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, out),
        other => out.write_all(render(report, other, options).as_bytes()),
    }
}

/// Renders a report in a format.
pub fn render(report: &ScanReport, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, options),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report, options),
        Format::Html => html::render(report, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("expected table, json"));
    }
}
