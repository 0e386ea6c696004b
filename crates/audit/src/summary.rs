//! The end-of-run summary: alerts by rule, with engine, severity, count and the first and
//! last time seen; then totals.

use crate::{Alert, Engine};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use palisade_model::Severity;
use std::collections::{BTreeMap, HashMap};

/// Counts gathered during a run: add each alert as it is raised, and set the totals that
/// come from reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    rules: HashMap<(Engine, String), RuleCount>,
    /// Events read.
    pub events: u64,
    /// Input errors (lines or files that could not be read as events).
    pub errors: u64,
    /// Files in directories skipped as not audit logs.
    pub skipped_files: u64,
    /// Alerts the sinks dropped or gave up on.
    pub undelivered: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct RuleCount {
    severity: Severity,
    count: u64,
    first: Option<String>,
    last: Option<String>,
}

impl Summary {
    /// An empty summary.
    pub fn new() -> Summary {
        Summary::default()
    }

    /// Counts one alert.
    pub fn add(&mut self, alert: &Alert) {
        let key = (alert.engine, alert.rule.clone());
        let row = self.rules.entry(key).or_insert_with(|| RuleCount {
            severity: alert.severity,
            count: 0,
            first: None,
            last: None,
        });
        row.count += 1;
        row.severity = row.severity.max(alert.severity);
        if let Some(time) = &alert.time {
            if row
                .first
                .as_ref()
                .is_none_or(|t| time_key(time) < time_key(t))
            {
                row.first = Some(time.clone());
            }
            if row
                .last
                .as_ref()
                .is_none_or(|t| time_key(time) > time_key(t))
            {
                row.last = Some(time.clone());
            }
        }
    }

    /// Alerts counted.
    pub fn alerts(&self) -> u64 {
        self.rules.values().map(|r| r.count).sum()
    }

    /// Alerts counted, by engine.
    pub fn alerts_by_engine(&self) -> BTreeMap<Engine, u64> {
        let mut out = BTreeMap::new();
        for ((engine, _), row) in &self.rules {
            *out.entry(*engine).or_insert(0) += row.count;
        }
        out
    }
}

/// Orders RFC 3339 UTC times as instants: a time with no fraction (`...:34Z`) sorts
/// before one with a fraction in the same second, which plain text order gets wrong.
/// Times in other zones sort by their written clock time.
fn time_key(time: &str) -> (String, String) {
    let (seconds, rest) = time.split_at(time.len().min(19));
    let fraction: String = rest
        .strip_prefix('.')
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (seconds.replace(' ', "T"), format!("{fraction:0<9}"))
}

/// The summary as two text tables: rules (most severe first, then most frequent), then
/// totals.
pub fn summary_table(summary: &Summary) -> String {
    let mut rows: Vec<_> = summary.rules.iter().collect();
    rows.sort_by(|((ea, ra), a), ((eb, rb), b)| {
        b.severity
            .cmp(&a.severity)
            .then(b.count.cmp(&a.count))
            .then(ra.cmp(rb))
            .then(ea.cmp(eb))
    });
    let mut rules = table(["Rule", "Engine", "Severity", "Alerts", "First", "Last"]);
    for ((engine, rule), row) in rows {
        rules.add_row(vec![
            rule.clone(),
            engine.as_str().to_string(),
            row.severity.as_str().to_string(),
            row.count.to_string(),
            row.first.clone().unwrap_or_else(|| "-".into()),
            row.last.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    if let Some(column) = rules.column_mut(3) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    let mut totals = table(["Total", "Count"]);
    totals.add_row(vec!["events read".to_string(), summary.events.to_string()]);
    totals.add_row(vec!["input errors".to_string(), summary.errors.to_string()]);
    if summary.skipped_files > 0 {
        let skipped = summary.skipped_files.to_string();
        totals.add_row(vec!["files skipped (not audit logs)".to_string(), skipped]);
    }
    totals.add_row(vec!["alerts".to_string(), summary.alerts().to_string()]);
    for (engine, count) in summary.alerts_by_engine() {
        totals.add_row(vec![format!("  {}", engine.as_str()), count.to_string()]);
    }
    if summary.undelivered > 0 {
        let undelivered = summary.undelivered.to_string();
        totals.add_row(vec!["alerts not delivered".to_string(), undelivered]);
    }
    if let Some(column) = totals.column_mut(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    let mut out = String::new();
    if !summary.rules.is_empty() {
        out.push_str(&rules.to_string());
        out.push('\n');
    }
    out.push_str(&totals.to_string());
    out.push('\n');
    out
}

fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Event, Origin};

    fn alert(rule: &str, engine: Engine, severity: Severity, time: &str) -> Alert {
        let text = format!(
            r#"{{"kind":"Event","auditID":"a","verb":"get","requestReceivedTimestamp":"{time}"}}"#
        );
        let event: Event = crate::event::parse(&text, &Origin::new("t", 1))
            .unwrap()
            .remove(0);
        Alert::for_event(rule, engine, "P", severity, "m", &event)
    }

    #[test]
    fn counts_by_rule_with_first_and_last() {
        let mut summary = Summary::new();
        summary.events = 1234;
        summary.errors = 2;
        summary.add(&alert(
            "Exec",
            Engine::Falco,
            Severity::Medium,
            "2024-01-01T00:00:01.5Z",
        ));
        summary.add(&alert(
            "Exec",
            Engine::Falco,
            Severity::Medium,
            "2024-01-01T00:00:01Z",
        ));
        summary.add(&alert(
            "Exec",
            Engine::Falco,
            Severity::Medium,
            "2024-01-02T00:00:00Z",
        ));
        summary.add(&alert(
            "Secrets",
            Engine::Sigma,
            Severity::High,
            "2024-01-01T12:00:00Z",
        ));
        let text = summary_table(&summary);
        let exec = text.lines().find(|l| l.contains("Exec")).unwrap();
        assert!(exec.contains("falco") && exec.contains("medium"), "{exec}");
        assert!(
            exec.contains("2024-01-01T00:00:01Z"),
            "first is the earlier instant: {exec}"
        );
        assert!(exec.contains("2024-01-02T00:00:00Z"), "{exec}");
        assert!(exec.contains(" 3 "), "{exec}");
        // Most severe first.
        assert!(
            text.find("Secrets").unwrap() < text.find("Exec").unwrap(),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("events read") && l.contains("1234"))
        );
        assert!(
            text.lines()
                .any(|l| l.contains("input errors") && l.contains(" 2 "))
        );
        assert!(
            text.lines()
                .any(|l| l.contains("  falco") && l.contains(" 3 "))
        );
        assert!(
            text.lines()
                .any(|l| l.contains("  sigma") && l.contains(" 1 "))
        );
        assert_eq!(summary.alerts(), 4);
    }

    #[test]
    fn an_empty_run_has_only_totals() {
        let text = summary_table(&Summary::new());
        assert!(!text.contains("Rule"));
        assert!(text.contains("events read"));
    }
}
