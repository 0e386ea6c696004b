//! `palisade controls list|show`.

use crate::args::{ControlsCommand, ListFormat};
use crate::output;
use comfy_table::{ContentArrangement, Table, presets};
use palisade_catalog::{Control, catalog};
use palisade_model::{ControlMeta, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// A control with the framework requirements that map it.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    meta: &'a ControlMeta,
    /// Framework id → requirement ids.
    frameworks: BTreeMap<&'a str, Vec<&'a str>>,
}

/// Runs the subcommand.
pub fn run(cmd: &ControlsCommand) -> anyhow::Result<u8> {
    let catalog = catalog()?;
    let mapping = framework_mapping()?;
    match cmd {
        ControlsCommand::List {
            format,
            framework,
            severity,
        } => {
            if let Some(id) = framework
                && palisade_frameworks::get(id)?.is_none()
            {
                anyhow::bail!("unknown framework {id:?}; see `palisade frameworks list`");
            }
            let controls: Vec<&Control> = catalog
                .iter()
                .filter(|c| severity.is_none_or(|min| c.meta.severity >= min))
                .filter(|c| {
                    framework.as_deref().is_none_or(|f| {
                        mapping
                            .get(c.meta.id.as_str())
                            .is_some_and(|m| m.contains_key(f))
                    })
                })
                .collect();
            let text = match format {
                ListFormat::Json => output::json(&listed(&controls, &mapping))?,
                ListFormat::Table => table(&controls),
            };
            output::write(&text, None)?;
        }
        ControlsCommand::Show { id, format } => {
            let control = catalog.get(id).ok_or_else(|| {
                anyhow::anyhow!("unknown control {id:?}; see `palisade controls list`")
            })?;
            let listed = listed(&[control], &mapping);
            let text = match format {
                ListFormat::Json => output::json(&listed.first())?,
                ListFormat::Table => listed.first().map(show).unwrap_or_default(),
            };
            output::write(&text, None)?;
        }
    }
    Ok(0)
}

type Mapping = BTreeMap<&'static str, BTreeMap<&'static str, Vec<&'static str>>>;

/// control id → framework id → requirement ids.
fn framework_mapping() -> anyhow::Result<Mapping> {
    let mut mapping: Mapping = BTreeMap::new();
    for framework in palisade_frameworks::all()? {
        for requirement in &framework.requirements {
            for control in &requirement.controls {
                mapping
                    .entry(control.as_str())
                    .or_default()
                    .entry(framework.id.as_str())
                    .or_default()
                    .push(requirement.id.as_str());
            }
        }
    }
    Ok(mapping)
}

fn listed<'a>(controls: &[&'a Control], mapping: &'a Mapping) -> Vec<Listed<'a>> {
    controls
        .iter()
        .map(|c| Listed {
            meta: &c.meta,
            frameworks: mapping.get(c.meta.id.as_str()).cloned().unwrap_or_default(),
        })
        .collect()
}

fn table(controls: &[&Control]) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["ID", "Severity", "Category", "Title"]);
    for c in controls {
        table.add_row([
            c.meta.id.as_str(),
            c.meta.severity.as_str(),
            c.meta.category.as_str(),
            c.meta.title.as_str(),
        ]);
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for c in controls {
        *counts.entry(c.meta.severity).or_default() += 1;
    }
    let by_severity: Vec<String> = counts
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    format!(
        "{table}\n{} controls ({})\n",
        controls.len(),
        by_severity.join(", ")
    )
}

fn show(c: &Listed<'_>) -> String {
    let m = c.meta;
    let mut text = format!(
        "{} {}\n\nSeverity:  {}\nCategory:  {}\nApplies to: {}\n\nWhy it matters\n  {}\n\nHow to fix\n  {}\n\nReferences\n",
        m.id,
        m.title,
        m.severity,
        m.category,
        if m.kinds.is_empty() {
            "-".to_string()
        } else {
            m.kinds.join(", ")
        },
        m.rationale.trim(),
        m.remediation.trim(),
    );
    for r in &m.references {
        text.push_str(&format!("  - {r}\n"));
    }
    text.push_str("\nFrameworks\n");
    if c.frameworks.is_empty() {
        text.push_str("  (none)\n");
    }
    for (framework, requirements) in &c.frameworks {
        text.push_str(&format!("  {framework}: {}\n", requirements.join(", ")));
    }
    text
}
