//! The report as JSON, exactly as `docs/report.schema.json` describes it.

use palisade_model::ScanReport;
use serde::Serialize;

pub fn render(report: &ScanReport) -> String {
    pretty(report)
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
