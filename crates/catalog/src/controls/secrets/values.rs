//! Values: literal ones (not references, paths or placeholders), and a small set of
//! credential formats precise enough to report on their own (private keys, cloud and
//! service tokens, URLs with a password).

/// Is this value a literal credential rather than a reference to one? Empty values,
/// booleans, paths, URLs without credentials, `$(VAR)` and `${VAR}` expansions, template
/// placeholders, fill-in markers (`INSERT_TOKEN`, `your-key`, `xxxx`) and secret-manager
/// references are not.
pub(super) fn is_literal(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 3 {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    let placeholder = v.contains("$(")
        || v.contains("${")
        || v.contains("{{")
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('%') && v.ends_with('%'));
    let flag = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "none" | "nil"
    );
    let fill_in = ["insert_", "replace_", "replace-", "your_", "your-"]
        .iter()
        .any(|p| lower.starts_with(p))
        || v.chars().all(|c| matches!(c, 'x' | 'X' | '*'));
    let path = v.starts_with('/') || v.starts_with("./") || v.starts_with("~/");
    let reference = [
        "arn:",
        "vault:",
        "ref+",
        "file://",
        "projects/",
        "secret://",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    let plain_url = (lower.starts_with("http://") || lower.starts_with("https://"))
        && url_credentials(v).is_none();
    !(placeholder || fill_in || flag || path || reference || plain_url)
}

/// The `user:password@` part of a URL, when it has a non-empty password.
fn url_credentials(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty() && is_literal(password)).then_some(userinfo)
}

/// A credential format found in a value, named for messages (never the value itself).
pub(super) fn credential_in(text: &str) -> Option<&'static str> {
    // PEM: "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----", ...
    let pem_private = text.match_indices("-----BEGIN ").any(|(at, marker)| {
        text.get(at + marker.len()..)
            .and_then(|rest| rest.get(..rest.find("-----")?))
            .is_some_and(|label| label.contains("PRIVATE KEY"))
    });
    if pem_private {
        return Some("a private key");
    }
    let tokens = text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')));
    for token in tokens {
        if let Some(kind) = token_kind(token) {
            return Some(kind);
        }
    }
    if text.contains("hooks.slack.com/services/T") {
        return Some("a Slack webhook URL");
    }
    // Large values (dashboards, scripts) seldom hold a URL: skip splitting them into words.
    if !text.contains("://") {
        return None;
    }
    text.split_whitespace()
        .find_map(|word| url_credentials(word.trim_matches(['"', '\'', ','])))
        .map(|_| "a URL with a password")
}

fn every(s: &str, f: impl Fn(char) -> bool) -> bool {
    s.chars().all(f)
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Formats from the issuers' documentation, as secret scanners match them.
fn token_kind(token: &str) -> Option<&'static str> {
    // AWS access key ids: a four-letter prefix then 16 upper-case base32 characters. AWS's
    // documentation examples end in EXAMPLE.
    if token.len() == 20
        && ["AKIA", "ASIA", "ABIA", "ACCA"]
            .iter()
            .any(|p| token.starts_with(p))
        && every(token, |c| {
            c.is_ascii_uppercase() || ('2'..='7').contains(&c)
        })
        && !token.ends_with("EXAMPLE")
    {
        return Some("an AWS access key id");
    }
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if let Some(rest) = token.strip_prefix(prefix)
            && rest.len() == 36
            && every(rest, alnum)
        {
            return Some("a GitHub token");
        }
    }
    if let Some(rest) = token.strip_prefix("github_pat_")
        && rest.len() >= 70
        && every(rest, |c| alnum(c) || c == '_')
    {
        return Some("a GitHub token");
    }
    if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"]
        .iter()
        .any(|p| token.starts_with(p))
        && token.len() >= 20
        && every(token, |c| alnum(c) || c == '-')
    {
        return Some("a Slack token");
    }
    if let Some(rest) = token.strip_prefix("AIza")
        && rest.len() == 35
        && every(rest, |c| alnum(c) || matches!(c, '_' | '-'))
    {
        return Some("a Google API key");
    }
    for prefix in ["sk_live_", "rk_live_"] {
        if let Some(rest) = token.strip_prefix(prefix)
            && rest.len() >= 24
            && every(rest, alnum)
        {
            return Some("a Stripe live key");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values() {
        assert!(is_literal("hunter22"));
        assert!(is_literal("postgres://app:s3cr3t@db:5432/app"));
        for value in [
            "",
            "  ",
            "true",
            "/run/secrets/db",
            "$(DB_PASSWORD)",
            "${DB_PASSWORD}",
            "{{ .Values.password }}",
            "<your-password>",
            "INSERT_ETCD_DISCOVERY_TOKEN",
            "your-api-key",
            "xxxxxxxx",
            "arn:aws:secretsmanager:eu-west-1:1:secret:db",
            "https://vault.example.com/v1/auth",
        ] {
            assert!(!is_literal(value), "{value:?}");
        }
    }

    #[test]
    fn credential_formats() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----";
        assert_eq!(credential_in(key), Some("a private key"));
        assert_eq!(
            credential_in("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
            None
        );
        assert_eq!(
            credential_in("aws_access_key_id = AKIAZ3MSJV4WWNKWW5FG"),
            Some("an AWS access key id")
        );
        assert_eq!(credential_in("key: AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(
            credential_in("token=ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            Some("a GitHub token")
        );
        assert_eq!(
            credential_in("xoxb-2048-1234567890-abcdefghijKLMNOP"),
            Some("a Slack token")
        );
        assert_eq!(
            credential_in("url: \"postgres://app:s3cr3t@db:5432/app\""),
            Some("a URL with a password")
        );
        assert_eq!(credential_in("url: https://example.com/a@b"), None);
        assert_eq!(credential_in("plain text, nothing here"), None);
    }
}
