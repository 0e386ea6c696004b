//! The report as JSON, exactly as `docs/report.schema.json` describes it.

use palisade_model::ScanReport;
use serde::Serialize;

pub fn render(report: &ScanReport) -> String {
    pretty(report)
}

/// Streams the report: a large scan's JSON is tens of megabytes, which need not sit in memory.
pub fn write(report: &ScanReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Pretty JSON with a final newline. Object keys keep their declared order, so the same value
/// always gives the same bytes.
pub fn pretty(value: &impl Serialize) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Only a map with non-string keys fails, and the report has none; still, say so as JSON
        // rather than emit nothing.
        Err(e) => format!(
            "{{\"error\": {}}}\n",
            serde_json::Value::String(e.to_string())
        ),
    }
}
