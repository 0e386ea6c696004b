//! `palisade frameworks list|show`.

use crate::args::{FrameworksCommand, ListFormat};
use crate::output;
use comfy_table::{ContentArrangement, Table, presets};
use palisade_frameworks::{Framework, Requirement};
use serde::Serialize;

#[derive(Serialize)]
struct Summary<'a> {
    id: &'a str,
    title: &'a str,
    version: &'a str,
    requirements: usize,
    automated: usize,
    manual: usize,
}

fn automated(r: &Requirement) -> bool {
    !r.manual && r.scope.is_none() && !r.controls.is_empty()
}

fn summary(f: &Framework) -> Summary<'_> {
    let automated = f.requirements.iter().filter(|r| automated(r)).count();
    Summary {
        id: &f.id,
        title: &f.title,
        version: &f.version,
        requirements: f.requirements.len(),
        automated,
        manual: f.requirements.len() - automated,
    }
}

/// Runs the subcommand.
pub fn run(cmd: &FrameworksCommand) -> anyhow::Result<u8> {
    let all = palisade_frameworks::all()?;
    let text = match cmd {
        FrameworksCommand::List { format } => {
            let rows: Vec<Summary<'_>> = all.iter().map(summary).collect();
            match format {
                ListFormat::Json => output::json(&rows)?,
                ListFormat::Table => list_table(&rows),
            }
        }
        FrameworksCommand::Show { id, format } => {
            let framework = all.iter().find(|f| f.id == *id).ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
                anyhow::anyhow!("unknown framework {id:?}; known: {}", known.join(", "))
            })?;
            match format {
                ListFormat::Json => output::json(framework)?,
                ListFormat::Table => show_table(framework),
            }
        }
    };
    output::write(&text, None)?;
    Ok(0)
}

fn list_table(rows: &[Summary<'_>]) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "ID",
            "Framework",
            "Version",
            "Requirements",
            "Automated",
            "Manual",
        ]);
    for r in rows {
        table.add_row([
            r.id.to_string(),
            r.title.to_string(),
            r.version.to_string(),
            r.requirements.to_string(),
            r.automated.to_string(),
            r.manual.to_string(),
        ]);
    }
    format!("{table}\n")
}

fn show_table(f: &Framework) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["Requirement", "Title", "Checked by", "Controls"]);
    for r in &f.requirements {
        let how = if let Some(scope) = &r.scope {
            format!("manual ({scope} check)")
        } else if automated(r) {
            "controls".to_string()
        } else {
            "manual".to_string()
        };
        table.add_row([r.id.clone(), r.title.clone(), how, r.controls.join(", ")]);
    }
    let s = summary(f);
    format!(
        "{} {} ({})\n{}\n{table}\n{} requirements: {} automated, {} manual\n",
        f.id, f.title, f.version, f.url, s.requirements, s.automated, s.manual
    )
}
