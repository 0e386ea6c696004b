//! Names that say their value is a credential: `DB_PASSWORD`, `apiKey`, `client_secret`, but
//! not `PASSWORD_FILE` or `TOKEN_URL`.

/// Words that, in a variable or key name, say the value is a credential.
const SENSITIVE_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "bearer",
    "privatekey",
    "accesskey",
    "secretkey",
];

/// Two-word spellings of the same (`API_KEY`, `privateKey`).
const SENSITIVE_PAIRS: &[(&str, &str)] = &[("api", "key"), ("private", "key"), ("access", "key")];

/// Every sensitive word and pair contains one of these: names without any are not split into
/// words, which the keys of large configuration files would cost.
const STEMS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "bearer",
];

/// Last words that make the name about a credential rather than the credential itself:
/// `PASSWORD_FILE`, `TOKEN_URL`, `SECRET_NAME`, `TOKEN_TTL`.
const NOT_THE_VALUE: &[&str] = &[
    "file",
    "path",
    "dir",
    "name",
    "names",
    "ref",
    "url",
    "uri",
    "endpoint",
    "host",
    "port",
    "ttl",
    "timeout",
    "expiry",
    "expiration",
    "expires",
    "length",
    "enabled",
    "enable",
    "disabled",
    "mode",
    "type",
    "header",
    "id",
    "kind",
    "version",
    "namespace",
    "provider",
    "store",
    "backend",
    "format",
    "algorithm",
    "issuer",
    "audience",
    "scope",
    "scopes",
    "lifetime",
    "duration",
    "interval",
    "location",
    "hash",
    "hashed",
    "policy",
    "mount",
    "field",
    "count",
    "size",
    "prefix",
    "suffix",
    "env",
    "source",
];

/// The words of a name: split at punctuation and at lower-to-upper case changes, lowercased
/// (`dbPassword` and `DB_PASSWORD` both give `db`, `password`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Does this variable or key name say its value is a credential?
pub(super) fn is_sensitive_name(name: &str) -> bool {
    if !STEMS.iter().any(|stem| contains_ignoring_case(name, stem)) {
        return false;
    }
    let words = words(name);
    // PWD alone is the shell's working directory.
    if words.len() == 1 && words.first().is_some_and(|w| w == "pwd") {
        return false;
    }
    if words
        .last()
        .is_some_and(|w| NOT_THE_VALUE.contains(&w.as_str()))
    {
        return false;
    }
    words.iter().any(|w| SENSITIVE_WORDS.contains(&w.as_str()))
        || words.windows(2).any(|pair| match pair {
            [a, b] => SENSITIVE_PAIRS.contains(&(a.as_str(), b.as_str())),
            _ => false,
        })
}

/// `needle` must be lower case.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_cover_every_sensitive_word() {
        let words = SENSITIVE_WORDS
            .iter()
            .chain(SENSITIVE_PAIRS.iter().map(|(_, b)| b));
        for word in words {
            assert!(STEMS.iter().any(|s| word.contains(s)), "{word}");
        }
    }

    #[test]
    fn sensitive_names() {
        for name in [
            "DB_PASSWORD",
            "dbPassword",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "apiKey",
            "GITHUB_TOKEN",
            "client_secret",
            "spring.datasource.password",
            "PRIVATE_KEY",
            "MYSQL_ROOT_PASSWD",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in [
            "PWD",
            "PASSWORD_FILE",
            "TOKEN_URL",
            "SECRET_NAME",
            "AWS_ACCESS_KEY_ID",
            "passwordFile",
            "TOKEN_TTL",
            "KEYCLOAK_URL",
            "PASSENGER_COUNT",
            "SECRETARY",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }
}
