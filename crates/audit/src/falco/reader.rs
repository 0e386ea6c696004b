//! Rule files (YAML) to collector definitions, item by item, with Falco's keys, messages and
//! warnings. A bad item is reported with its file and line and skipped; the rest of the file
//! still loads.

use super::collector::{Collector, ListInfo, MacroInfo, RuleInfo, RuleUpdate};
use super::diag::{Diags, Loc};
use super::exceptions::{Entry, Exception};
use super::priority::Priority;
use palisade_loader::Limits;
use palisade_model::Positions;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// Reads one rules file into the collector.
pub fn read(file: &str, text: &str, collector: &mut Collector, diags: &mut Diags) {
    let file: Arc<str> = Arc::from(file);
    let top = Loc {
        file: file.clone(),
        line: 0,
        item: None,
    };
    let parsed = palisade_loader::parse(text, Limits::default());
    for warning in parsed.warnings {
        diags.warnings.push(
            top.at_line(warning.line().unwrap_or(0))
                .diag(warning.to_string()),
        );
    }
    for doc in &parsed.documents {
        let positions = doc.fields.positions();
        let items = match &doc.value {
            Value::Null => continue,
            Value::Array(items) => items,
            _ => {
                diags.errors.push(
                    top.at_line(doc.line)
                        .diag("Rules content is not yaml array of objects"),
                );
                continue;
            }
        };
        for (i, value) in items.iter().enumerate() {
            let pointer = format!("/{i}");
            let line = positions.line_of(&pointer).unwrap_or(doc.line);
            let reader = ItemReader {
                loc: top.at_line(line),
                pointer,
                positions: &positions,
            };
            if value.is_null() {
                continue;
            }
            reader.read(value, collector, diags);
        }
    }
    if let Some(error) = parsed.error {
        diags.errors.push(
            top.at_line(error.line().unwrap_or(0))
                .diag(format!("invalid YAML: {error}")),
        );
    }
}

struct ItemReader<'a> {
    loc: Loc,
    pointer: String,
    positions: &'a Positions,
}

type Res<T> = Result<T, String>;

impl ItemReader<'_> {
    fn loc_of(&self, key: &str) -> Loc {
        let line = self
            .positions
            .line_of(&format!("{}/{key}", self.pointer))
            .unwrap_or(self.loc.line);
        self.loc.at_line(line)
    }

    fn read(mut self, value: &Value, collector: &mut Collector, diags: &mut Diags) {
        let Some(map) = value.as_object() else {
            diags.errors.push(
                self.loc.diag(
                    "Unexpected element type. Each element should be a yaml associative array.",
                ),
            );
            return;
        };
        let (kind, expected): (&str, &[&str]) = if map.contains_key("required_engine_version") {
            ("required_engine_version", &["required_engine_version"])
        } else if map.contains_key("required_plugin_versions") {
            ("required_plugin_versions", &["required_plugin_versions"])
        } else if map.contains_key("list") {
            ("list", &["list", "items", "append", "override"])
        } else if map.contains_key("macro") {
            ("macro", &["macro", "condition", "append", "override"])
        } else if map.contains_key("rule") {
            ("rule", &RULE_KEYS)
        } else {
            diags.warnings.push(self.loc.diag("Unknown top level item"));
            return;
        };
        if let Some(name) = map
            .get(kind)
            .and_then(scalar)
            .filter(|_| matches!(kind, "list" | "macro" | "rule"))
        {
            self.loc.item = Some(format!("{kind} '{name}'"));
        }
        let result = match kind {
            "required_engine_version" => engine_version(map),
            "required_plugin_versions" => plugin_versions(map),
            "list" => self.list(map, collector, diags),
            "macro" => self.macro_item(map, collector, diags),
            _ => self.rule(map, collector, diags),
        };
        if let Err(message) = result {
            diags.errors.push(self.loc.diag(message));
        }
        for key in map.keys().filter(|k| !expected.contains(&k.as_str())) {
            diags.warnings.push(
                self.loc_of(key)
                    .diag(format!("Unknown key '{key}'. The key will be ignored.")),
            );
        }
    }

    fn list(
        &self,
        map: &Map<String, Value>,
        collector: &mut Collector,
        diags: &mut Diags,
    ) -> Res<()> {
        let name = required_str(map, "list")?;
        if !is_bare_str(&name) {
            diags.warnings.push(self.loc.diag("List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)"));
        }
        let items = match map.get("items") {
            None => return Err("Item has no mapping for key 'items'".into()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| scalar(v).ok_or_else(|| "sequence value is not scalar".to_string()))
                .collect::<Res<Vec<_>>>()?,
            Some(Value::Null) => Vec::new(),
            Some(_) => return Err("Value is not a sequence".into()),
        };
        let append = self.append_flag(map, diags)?;
        let (o_append, o_replace) = overrides(map, &["items"], &["items"])?;
        if append && (!o_append.is_empty() || !o_replace.is_empty()) {
            return Err(OVERRIDE_APPEND.into());
        }
        if append || o_append.contains("items") {
            collector.append_list(&name, items)
        } else {
            collector.define_list(ListInfo {
                name,
                items,
                loc: self.loc.clone(),
                index: 0,
                visibility: 0,
            });
            Ok(())
        }
    }

    fn macro_item(
        &self,
        map: &Map<String, Value>,
        collector: &mut Collector,
        diags: &mut Diags,
    ) -> Res<()> {
        let name = required_str(map, "macro")?;
        if super::condition::parser::identifier_len(name.as_bytes()) != name.len() {
            diags.warnings.push(self.loc.diag("Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)"));
        }
        let cond = required_str(map, "condition")?;
        let append = self.append_flag(map, diags)?;
        let (o_append, o_replace) = overrides(map, &["condition"], &["condition"])?;
        if append && (!o_append.is_empty() || !o_replace.is_empty()) {
            return Err(OVERRIDE_APPEND.into());
        }
        if append || o_append.contains("condition") {
            collector.append_macro(&name, &cond)
        } else {
            collector.define_macro(MacroInfo {
                name,
                cond,
                loc: self.loc_of("condition"),
            });
            Ok(())
        }
    }

    fn append_flag(&self, map: &Map<String, Value>, diags: &mut Diags) -> Res<bool> {
        let append = optional_bool(map, "append")?.unwrap_or(false);
        if append {
            diags.warnings.push(self.loc.diag("'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."));
        }
        Ok(append)
    }

    fn rule(
        &self,
        map: &Map<String, Value>,
        collector: &mut Collector,
        diags: &mut Diags,
    ) -> Res<()> {
        let name = required_str(map, "rule")?;
        let source = match map.get("source") {
            None | Some(Value::Null) => None,
            Some(v) => Some(scalar(v).ok_or("Value is not a scalar value")?),
        };
        let append = self.append_flag(map, diags)?;
        let (o_append, o_replace) = overrides(map, &RULE_APPENDABLE, &RULE_REPLACEABLE)?;
        let has_overrides = !o_append.is_empty() || !o_replace.is_empty();
        if append && has_overrides {
            return Err(OVERRIDE_APPEND.into());
        }
        if has_overrides {
            let mut expected: BTreeSet<&str> = RULE_APPENDABLE
                .iter()
                .chain(RULE_REPLACEABLE.iter())
                .copied()
                .filter(|k| map.contains_key(*k))
                .collect();
            for (ops, is_append) in [(&o_append, true), (&o_replace, false)] {
                if ops.is_empty() {
                    continue;
                }
                for key in ops.iter() {
                    if !expected.remove(key.as_str()) {
                        let kind = if is_append { "append" } else { "replace" };
                        return Err(format!(
                            "An {kind} override for '{key}' was specified but '{key}' is not defined"
                        ));
                    }
                }
                let update = self.update(map, ops, is_append, diags)?;
                if is_append {
                    collector.append_rule(&name, source.as_deref(), update)?;
                } else {
                    collector.replace_rule(&name, source.as_deref(), update)?;
                }
            }
            if let Some(key) = expected.first() {
                return Err(format!(
                    "Unexpected key '{key}': no corresponding entry under 'override' is defined."
                ));
            }
            return Ok(());
        }
        if append {
            let update = RuleUpdate {
                cond: map
                    .get("condition")
                    .map(|_| required_str(map, "condition"))
                    .transpose()?,
                exceptions: map
                    .get("exceptions")
                    .map(|_| self.exceptions(map, true, diags))
                    .transpose()?,
                ..RuleUpdate::default()
            };
            return collector.append_rule(&name, source.as_deref(), update);
        }
        if !["condition", "output", "desc", "priority"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            let enabled =
                optional_bool(map, "enabled")?.ok_or("Item has no mapping for key 'enabled'")?;
            diags.warnings.push(self.loc.diag("The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace')."));
            return collector.enable_rule(&name, enabled);
        }
        let cond = required_str(map, "condition")?;
        let output = required_str(map, "output")?.trim().to_string();
        let desc = required_str(map, "desc")?;
        let priority_text = required_str(map, "priority")?;
        let priority = Priority::parse(&priority_text)
            .ok_or_else(|| format!("Invalid priority '{priority_text}'"))?;
        let source = match source {
            Some(s) if !s.is_empty() => s,
            _ => "syscall".to_string(),
        };
        let rule = RuleInfo {
            name,
            cond,
            output,
            desc,
            priority,
            priority_text: priority_text.to_ascii_uppercase(),
            source,
            enabled: optional_bool(map, "enabled")?.unwrap_or(true),
            tags: tags(map)?.unwrap_or_default(),
            exceptions: self.exceptions(map, false, diags)?,
            loc: self.loc.clone(),
            cond_loc: self.loc_of("condition"),
            output_loc: self.loc_of("output"),
        };
        collector.define_rule(rule)
    }

    fn update(
        &self,
        map: &Map<String, Value>,
        keys: &BTreeSet<String>,
        append: bool,
        diags: &mut Diags,
    ) -> Res<RuleUpdate> {
        let mut update = RuleUpdate::default();
        for key in keys {
            match key.as_str() {
                "condition" => {
                    update.cond = Some(required_str(map, "condition")?);
                    update.cond_loc = Some(self.loc_of("condition"));
                }
                "output" => update.output = Some(required_str(map, "output")?),
                "desc" => update.desc = Some(required_str(map, "desc")?),
                "tags" => update.tags = tags(map)?,
                "exceptions" => update.exceptions = Some(self.exceptions(map, append, diags)?),
                "priority" => {
                    let text = required_str(map, "priority")?;
                    let p = Priority::parse(&text)
                        .ok_or_else(|| format!("Invalid priority '{text}'"))?;
                    update.priority = Some((p, text.to_ascii_uppercase()));
                }
                "enabled" => update.enabled = optional_bool(map, "enabled")?,
                // capture, capture_duration, warn_evttypes, skip-if-unknown-filter: syscall
                // options with no effect on audit events.
                _ => {}
            }
        }
        Ok(update)
    }

    fn exceptions(
        &self,
        map: &Map<String, Value>,
        append: bool,
        diags: &mut Diags,
    ) -> Res<Vec<Exception>> {
        let list = match map.get("exceptions") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(list)) => list,
            Some(_) => return Err("Rule exceptions must be a sequence".into()),
        };
        let mut out: Vec<Exception> = Vec::new();
        for ex in list {
            let ex = ex.as_object().ok_or("Rule exception must be a mapping")?;
            let name = required_str(ex, "name")?;
            if out.iter().any(|e| e.name == name) {
                diags.warnings.push(self.loc_of("exceptions").diag(format!(
                    "Multiple definitions of exception '{name}' in the same rule"
                )));
            }
            let fields = match ex.get("fields") {
                None if append => None,
                None => {
                    return Err(format!(
                        "exception '{name}': Item has no mapping for key 'fields'"
                    ));
                }
                Some(v) => Some(entry(v).map_err(|e| format!("exception '{name}': fields: {e}"))?),
            };
            let comps = ex
                .get("comps")
                .map(entry)
                .transpose()
                .map_err(|e| format!("exception '{name}': comps: {e}"))?;
            let values = match ex.get("values") {
                None => {
                    if append {
                        diags.warnings.push(
                            self.loc_of("exceptions")
                                .diag("Overriding/appending exception with no values"),
                        );
                    }
                    Vec::new()
                }
                Some(Value::Array(values)) => values
                    .iter()
                    .map(entry)
                    .collect::<Res<Vec<_>>>()
                    .map_err(|e| format!("exception '{name}': values: {e}"))?,
                Some(_) => {
                    return Err(format!(
                        "exception '{name}': Rule exception values must be a sequence"
                    ));
                }
            };
            out.push(Exception {
                name,
                fields,
                comps,
                values,
            });
        }
        Ok(out)
    }
}

const OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";

const RULE_KEYS: [&str; 15] = [
    "rule",
    "condition",
    "output",
    "desc",
    "priority",
    "source",
    "enabled",
    "capture",
    "capture_duration",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "tags",
    "exceptions",
    "override",
    "append",
];
const RULE_APPENDABLE: [&str; 5] = ["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: [&str; 11] = [
    "condition",
    "output",
    "desc",
    "priority",
    "capture",
    "capture_duration",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

/// The `override` mapping split into keys to append and keys to replace.
fn overrides(
    map: &Map<String, Value>,
    appendable: &[&str],
    replaceable: &[&str],
) -> Res<(BTreeSet<String>, BTreeSet<String>)> {
    let mut append = BTreeSet::new();
    let mut replace = BTreeSet::new();
    let Some(value) = map.get("override") else {
        return Ok((append, replace));
    };
    let entries = value
        .as_object()
        .ok_or("'override' must be a mapping of keys to append or replace")?;
    for (key, op) in entries {
        match scalar(op).as_deref() {
            Some("append") if appendable.contains(&key.as_str()) => {
                append.insert(key.clone());
            }
            Some("append") => {
                return Err(format!(
                    "Key '{key}' cannot be appended to, use 'replace' instead"
                ));
            }
            Some("replace") if replaceable.contains(&key.as_str()) => {
                replace.insert(key.clone());
            }
            Some("replace") => return Err(format!("Key '{key}' cannot be replaced")),
            other => {
                let mut allowed = Vec::new();
                if appendable.contains(&key.as_str()) {
                    allowed.push("append");
                }
                if replaceable.contains(&key.as_str()) {
                    allowed.push("replace");
                }
                return Err(format!(
                    "Invalid override operation for key '{key}': '{}'. Allowed values are: {}",
                    other.unwrap_or_default(),
                    allowed.join(" ")
                ));
            }
        }
    }
    Ok((append, replace))
}

/// A YAML scalar as text (numbers and booleans as written).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn required_str(map: &Map<String, Value>, key: &str) -> Res<String> {
    match map.get(key) {
        None => Err(format!("Item has no mapping for key '{key}'")),
        Some(Value::Null) => Err(format!("Mapping for key '{key}' is empty")),
        Some(v) => match scalar(v) {
            None => Err(format!("Value for key '{key}' is not a scalar value")),
            Some(s) if s.is_empty() => Err(format!("Value for key '{key}' must be non-empty")),
            Some(s) => Ok(s),
        },
    }
}

fn optional_bool(map: &Map<String, Value>, key: &str) -> Res<Option<bool>> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if matches!(s.as_str(), "true" | "True" | "TRUE" | "yes" | "on") => {
            Ok(Some(true))
        }
        Some(Value::String(s))
            if matches!(s.as_str(), "false" | "False" | "FALSE" | "no" | "off") =>
        {
            Ok(Some(false))
        }
        Some(_) => Err(format!(
            "Can't decode YAML scalar value for key '{key}' as a boolean"
        )),
    }
}

fn tags(map: &Map<String, Value>) -> Res<Option<BTreeSet<String>>> {
    match map.get("tags") {
        None => Ok(None),
        Some(Value::Array(tags)) => tags
            .iter()
            .map(|t| scalar(t).ok_or_else(|| "sequence value is not scalar".to_string()))
            .collect::<Res<BTreeSet<_>>>()
            .map(Some),
        Some(Value::Null) => Ok(Some(BTreeSet::new())),
        Some(_) => Err("Value for key 'tags' is not a sequence".into()),
    }
}

fn entry(value: &Value) -> Res<Entry> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(entry)
            .collect::<Res<Vec<_>>>()
            .map(Entry::List),
        other => match scalar(other) {
            Some(s) if !s.is_empty() => Ok(Entry::Item(s)),
            Some(_) => Err("Value must be non-empty".into()),
            None => Err("Value is not a string or a list".into()),
        },
    }
}

fn is_bare_str(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            !matches!(b, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !b.is_ascii_whitespace()
        })
}

fn engine_version(map: &Map<String, Value>) -> Res<()> {
    let text = required_str(map, "required_engine_version")?;
    let parts: Vec<&str> = text.split('.').collect();
    let semver = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if semver || text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "Unable to parse engine version '{text}' as a semver string. Expected \"x.y.z\" semver format."
        ))
    }
}

fn plugin_versions(map: &Map<String, Value>) -> Res<()> {
    let Some(Value::Array(plugins)) = map.get("required_plugin_versions") else {
        return Err("Value of required_plugin_versions must be a sequence".into());
    };
    for plugin in plugins {
        let plugin = plugin
            .as_object()
            .ok_or("Plugin version must be a mapping")?;
        let mut names = HashSet::new();
        names.insert(required_str(plugin, "name")?);
        required_str(plugin, "version")?;
        match plugin.get("alternatives") {
            None => {}
            Some(Value::Array(alternatives)) => {
                for alt in alternatives {
                    let alt = alt
                        .as_object()
                        .ok_or("Plugin version alternative must be a mapping")?;
                    let name = required_str(alt, "name")?;
                    required_str(alt, "version")?;
                    if !names.insert(name.clone()) {
                        return Err(format!(
                            "Defined multiple alternative version requirements for plugin '{name}'"
                        ));
                    }
                }
            }
            Some(_) => return Err("Value of plugin version alternatives must be a sequence".into()),
        }
    }
    Ok(())
}
