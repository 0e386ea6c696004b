//! Container image references (`[registry/]repository[:tag][@digest]`), read with the grammar
//! of the OCI distribution reference (the one container runtimes use), without the Docker Hub
//! normalization: what matters here is what was written.

/// A parsed image reference, borrowing from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry host (with port), when written: `registry.example.com:5000`.
    pub registry: Option<&'a str>,
    /// Repository path within the registry: `library/nginx`, `team/app`.
    pub repository: &'a str,
    /// Tag, when written.
    pub tag: Option<&'a str>,
    /// Digest (`sha256:…`), when written.
    pub digest: Option<&'a str>,
}

/// Why a reference cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefError {
    /// Nothing written.
    Empty,
    /// Not a reference; the text says what is wrong.
    Invalid(&'static str),
}

const MAX_NAME: usize = 255;
const MAX_TAG: usize = 128;

impl<'a> ImageRef<'a> {
    /// Parses a reference exactly as written.
    pub fn parse(text: &'a str) -> Result<ImageRef<'a>, RefError> {
        if text.is_empty() {
            return Err(RefError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(RefError::Invalid("contains whitespace"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest)?;
                (rest, Some(digest))
            }
            None => (text, None),
        };
        // A tag follows the last ':' after the last '/'; an earlier ':' belongs to a port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest.get(last_slash..).and_then(|tail| tail.find(':')) {
            Some(colon) => {
                let at = last_slash + colon;
                (rest.get(..at).unwrap_or(""), rest.get(at + 1..))
            }
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag)?;
        }
        if name.is_empty() {
            return Err(RefError::Invalid("has no repository name"));
        }
        if name.len() > MAX_NAME {
            return Err(RefError::Invalid("has a name longer than 255 characters"));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if is_registry(first) => (Some(first), path),
            _ => (None, name),
        };
        if let Some(registry) = registry {
            check_registry(registry)?;
        }
        check_repository(repository)?;
        Ok(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The tag is `latest`, or there is none, and no digest pins the image.
    pub fn is_floating(&self) -> bool {
        self.digest.is_none() && self.tag.is_none_or(|t| t == "latest")
    }
}

/// The first path component names a registry when it looks like a host: it has a dot or a
/// port, is `localhost`, or has upper-case letters (which repository names cannot).
fn is_registry(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase())
}

fn check_registry(registry: &str) -> Result<(), RefError> {
    let (host, port) = if let Some(inner) = registry.strip_prefix('[') {
        // IPv6 literal: `[::1]:5000`.
        let Some((addr, after)) = inner.split_once(']') else {
            return Err(RefError::Invalid("has an unclosed IPv6 registry address"));
        };
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(RefError::Invalid("has an invalid IPv6 registry address"));
        }
        match after {
            "" => return Ok(()),
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return Err(RefError::Invalid("has an invalid registry host")),
            },
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(RefError::Invalid("has an invalid registry port"));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !registry.starts_with('[') && !host.split('.').all(label_ok) {
        return Err(RefError::Invalid("has an invalid registry host"));
    }
    Ok(())
}

/// Path components are lower-case alphanumerics joined by `.`, `_`, `__` or runs of `-`.
fn check_repository(repository: &str) -> Result<(), RefError> {
    for component in repository.split('/') {
        if component.is_empty() {
            return Err(RefError::Invalid("has an empty path component"));
        }
        if component.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(RefError::Invalid(
                "has upper-case letters in the repository name",
            ));
        }
        let bytes = component.as_bytes();
        let mut i = 0;
        let mut previous_alnum = false;
        while let Some(&b) = bytes.get(i) {
            if b.is_ascii_lowercase() || b.is_ascii_digit() {
                previous_alnum = true;
                i += 1;
                continue;
            }
            let len = match b {
                b'.' => 1,
                b'_' if bytes.get(i + 1) == Some(&b'_') => 2,
                b'_' => 1,
                b'-' => bytes
                    .get(i..)
                    .map_or(0, |s| s.iter().take_while(|&&c| c == b'-').count()),
                _ => {
                    return Err(RefError::Invalid(
                        "has an invalid character in the repository name",
                    ));
                }
            };
            // A separator sits between two alphanumerics.
            if !previous_alnum || i + len >= bytes.len() {
                return Err(RefError::Invalid(
                    "has a misplaced separator in the repository name",
                ));
            }
            previous_alnum = false;
            i += len;
        }
    }
    Ok(())
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), RefError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = tag.bytes();
    let first_ok = bytes.next().is_some_and(word);
    if !first_ok || tag.len() > MAX_TAG || !bytes.all(|b| word(b) || b == b'.' || b == b'-') {
        return Err(RefError::Invalid("has an invalid tag"));
    }
    Ok(())
}

/// `algorithm:hex`; the registered algorithms have a fixed, lower-case hex length.
fn check_digest(digest: &str) -> Result<(), RefError> {
    let invalid = Err(RefError::Invalid("has an invalid digest"));
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return invalid;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .split(['+', '.', '_', '-'])
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !algorithm_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return invalid;
    }
    let fixed = match algorithm {
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    };
    if let Some(len) = fixed
        && (hex.len() != len || hex.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return invalid;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parts(text: &str) -> (Option<&str>, &str, Option<&str>, Option<&str>) {
        let r = ImageRef::parse(text).unwrap();
        (r.registry, r.repository, r.tag, r.digest)
    }

    #[test]
    fn docker_hub_short_names() {
        assert_eq!(parts("nginx"), (None, "nginx", None, None));
        assert_eq!(parts("nginx:1.25"), (None, "nginx", Some("1.25"), None));
        assert_eq!(
            parts("bitnami/redis:7.2"),
            (None, "bitnami/redis", Some("7.2"), None)
        );
        assert_eq!(
            parts("library/ubuntu:latest"),
            (None, "library/ubuntu", Some("latest"), None)
        );
    }

    #[test]
    fn registries_with_ports_and_nested_paths() {
        assert_eq!(
            parts("localhost:5000/app:1.0"),
            (Some("localhost:5000"), "app", Some("1.0"), None)
        );
        assert_eq!(
            parts("localhost/app"),
            (Some("localhost"), "app", None, None)
        );
        assert_eq!(
            parts("registry.example.com:443/team/sub/app:v2"),
            (
                Some("registry.example.com:443"),
                "team/sub/app",
                Some("v2"),
                None
            )
        );
        assert_eq!(
            parts("[::1]:5000/app"),
            (Some("[::1]:5000"), "app", None, None)
        );
        assert_eq!(
            parts("docker.io/library/nginx"),
            (Some("docker.io"), "library/nginx", None, None)
        );
        // Without a slash the colon starts a tag, as for every runtime.
        assert_eq!(
            parts("localhost:5000"),
            (None, "localhost", Some("5000"), None)
        );
    }

    #[test]
    fn tags_and_digests_together() {
        let text = format!("registry.example.com/app:1.2@{SHA}");
        assert_eq!(
            parts(&text),
            (Some("registry.example.com"), "app", Some("1.2"), Some(SHA))
        );
        let text = format!("app@{SHA}");
        let r = ImageRef::parse(&text).unwrap();
        assert_eq!((r.tag, r.digest), (None, Some(SHA)));
        assert!(!r.is_floating());
        assert!(ImageRef::parse("app").unwrap().is_floating());
        assert!(ImageRef::parse("app:latest").unwrap().is_floating());
        assert!(!ImageRef::parse("app:1").unwrap().is_floating());
    }

    #[test]
    fn separators_in_repository_names() {
        for ok in ["a.b", "a_b", "a__b", "a---b", "a-b.c_d/e9"] {
            assert!(ImageRef::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a___b", "-a", "a-", "a..b", "a/.b", "a//b", "a/", "_a", "a.", "a+b",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_what_runtimes_reject() {
        assert_eq!(ImageRef::parse(""), Err(RefError::Empty));
        let invalid = [
            "Nginx",
            "team/App:1",
            "nginx:",
            "nginx:-1",
            "nginx:1 ",
            " nginx",
            "nginx@sha256:abc",
            "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "nginx@:0123456789abcdef0123456789abcdef",
            ":1.0",
            "registry.example.com:port/app",
            "registry-.example.com/app",
            "[::1/app",
            "{{ .Values.image }}",
            "app:1.0:2.0",
        ];
        for text in invalid {
            assert!(
                matches!(ImageRef::parse(text), Err(RefError::Invalid(_))),
                "{text:?}"
            );
        }
        let long_tag = format!("app:{}", "a".repeat(129));
        assert!(ImageRef::parse(&long_tag).is_err());
        let long_name = "a".repeat(256);
        assert!(ImageRef::parse(&long_name).is_err());
        assert!(ImageRef::parse("app@sha999:0123456789abcdef0123456789abcdef").is_ok());
    }
}
