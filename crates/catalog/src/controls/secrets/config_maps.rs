//! PAL-803: credentials in ConfigMaps, which are stored and shown in clear and readable by
//! anyone allowed to read configuration.

use super::names::is_sensitive_name;
use super::values::{credential_in, is_literal};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::{Object, escape_token};
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-803",
    target: Target::Kinds(&["ConfigMap"]),
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(data) = object.at("/data").and_then(Value::as_object) else {
        return;
    };
    for (key, value) in data {
        let Some(value) = value.as_str() else {
            continue;
        };
        if let Some(what) = problem(key, value) {
            hits.push(
                format!("/data/{}", escape_token(key)),
                format!("key {key:?} {what}"),
            );
        }
    }
}

/// What is wrong with one entry, never quoting the value.
fn problem(key: &str, value: &str) -> Option<String> {
    if let Some(kind) = credential_in(value) {
        return Some(format!("contains {kind}"));
    }
    if !value.contains('\n') && is_sensitive_name(key) && is_literal(value) {
        return Some("holds a literal value; its name says it is a credential".to_string());
    }
    // Embedded configuration files: properties, INI, YAML, .env, JSON lines.
    value.lines().enumerate().find_map(|(n, line)| {
        setting(line).map(|name| {
            format!(
                "sets {name:?} to a literal value (line {} of the value)",
                n + 1
            )
        })
    })
}

/// The name of a `name = value` or `name: value` line that sets a credential literally.
fn setting(line: &str) -> Option<&str> {
    let line = line.trim();
    let line = line.strip_prefix("- ").unwrap_or(line);
    let line = line.strip_prefix("export ").unwrap_or(line);
    if line.starts_with(['#', ';']) || line.starts_with("//") {
        return None;
    }
    let cut = line.find([':', '='])?;
    let name = line.get(..cut)?.trim().trim_matches(['"', '\'']);
    let identifier = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !identifier || !is_sensitive_name(name) {
        return None;
    }
    let value = line.get(cut + 1..)?;
    let value = value.split(" #").next().unwrap_or(value).trim();
    let value = value.trim_end_matches([',', ';']).trim_matches(['"', '\'']);
    // A nested block, a list, a YAML anchor or alias, or a tag is not the value itself.
    if value.starts_with(['{', '[', '|', '>', '&', '*', '!', '=']) {
        return None;
    }
    is_literal(value).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_in_files() {
        assert_eq!(
            setting("spring.datasource.password=changeme"),
            Some("spring.datasource.password")
        );
        assert_eq!(
            setting("  admin_password = admin123"),
            Some("admin_password")
        );
        assert_eq!(
            setting("\"clientSecret\": \"abc123def\","),
            Some("clientSecret")
        );
        assert_eq!(setting("export API_KEY=abcdef"), Some("API_KEY"));
        assert_eq!(setting("password: ${DB_PASSWORD}"), None);
        assert_eq!(setting("password:"), None);
        assert_eq!(setting("password_file: /etc/secret"), None);
        assert_eq!(setting("# password: example"), None);
        assert_eq!(setting("url: http://example.com"), None);
        assert_eq!(setting("tokenSecret: |"), None);
    }
}
