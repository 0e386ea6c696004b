//! Container image references, parsed and normalised as the Docker distribution reference
//! grammar does (`github.com/distribution/reference`), which is what containerd and CRI-O
//! use when the kubelet asks them to pull.

use std::fmt;

/// The registry of an image named without one (`nginx`, `user/app`).
pub const DOCKER_HUB: &str = "docker.io";

/// Names that mean Docker Hub, normalised to [`DOCKER_HUB`].
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];

/// Namespace of Docker Hub's official images (`nginx` is `library/nginx`).
const OFFICIAL_NAMESPACE: &str = "library";

/// Longest name (registry and repository, as written) the grammar accepts.
const NAME_MAX: usize = 255;

/// Longest tag the grammar accepts.
const TAG_MAX: usize = 128;

/// A parsed, normalised image reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// Registry host with optional port, `docker.io` when none was written.
    pub registry: String,
    /// Repository path without the registry (`library/nginx`, `acme/team/app`).
    pub repository: String,
    /// Tag, if written. No tag and no digest means the registry's `latest`.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), if written.
    pub digest: Option<String>,
}

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Nothing was written.
    #[error("empty image reference")]
    Empty,
    /// The name is longer than the grammar allows.
    #[error("name longer than {NAME_MAX} characters")]
    TooLong,
    /// A bare 64-character hex string, which Docker reserves for image IDs.
    #[error("a 64-character hex string is an image ID, not a reference")]
    ImageId,
    /// The registry part is not a host with an optional port.
    #[error("invalid registry {0:?}")]
    Registry(String),
    /// The repository has uppercase letters.
    #[error("repository name must be lowercase")]
    Uppercase,
    /// The repository path does not follow the grammar.
    #[error("invalid repository name {0:?}")]
    Repository(String),
    /// The tag does not follow the grammar.
    #[error("invalid tag {0:?}")]
    Tag(String),
    /// The digest is not `algorithm:hex` with the algorithm's length.
    #[error("invalid digest {0:?}")]
    Digest(String),
    /// The digest algorithm is not one registries use.
    #[error("unsupported digest algorithm {0:?}")]
    DigestAlgorithm(String),
}

impl ImageReference {
    /// Parses and normalises a reference as written in a container's `image`.
    pub fn parse(image: &str) -> Result<ImageReference, ReferenceError> {
        if image.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match image.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (image, None),
        };
        // A colon after the last slash starts a tag; one before it is a registry port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest.get(last_slash..).and_then(|t| t.rfind(':')) {
            Some(i) => (
                rest.get(..last_slash + i).unwrap_or(rest),
                rest.get(last_slash + i + 1..),
            ),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(ReferenceError::Repository(String::new()));
        }
        if name.len() > NAME_MAX {
            return Err(ReferenceError::TooLong);
        }
        if tag.is_none() && digest.is_none() && is_image_id(name) {
            return Err(ReferenceError::ImageId);
        }
        let (registry, repository) = split_name(name)?;
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        if let Some(digest) = digest {
            validate_digest(digest)?;
        }
        Ok(ImageReference {
            registry,
            repository,
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// The normalised name, `registry/repository`: what registry rules match against.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// True when the reference resolves to the mutable `latest` tag: written as `latest`,
    /// or with neither tag nor digest.
    pub fn is_latest(&self) -> bool {
        self.tag.as_deref() == Some("latest") || (self.tag.is_none() && self.digest.is_none())
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Splits a name into normalised registry and repository, validating both.
pub(crate) fn split_name(name: &str) -> Result<(String, String), ReferenceError> {
    let (registry, remainder) = match name.split_once('/') {
        Some((first, rest)) if is_registry_component(first) => (first, rest),
        _ => (DOCKER_HUB, name),
    };
    validate_registry(registry)?;
    validate_repository(remainder)?;
    let registry = normalise_registry(registry);
    let repository = if registry == DOCKER_HUB && !remainder.contains('/') {
        format!("{OFFICIAL_NAMESPACE}/{remainder}")
    } else {
        remainder.to_owned()
    };
    Ok((registry.to_owned(), repository))
}

/// Whether the first component of a name is a registry rather than a repository
/// namespace: it has a dot or a port, is `localhost`, or (as distribution does since
/// v2.8) has uppercase letters, which a repository cannot.
pub(crate) fn is_registry_component(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase())
}

/// Docker Hub's other names, as one.
pub(crate) fn normalise_registry(registry: &str) -> &str {
    if DOCKER_HUB_ALIASES.contains(&registry) {
        DOCKER_HUB
    } else {
        registry
    }
}

fn is_image_id(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `host[:port]`, where host is dot-separated labels or a bracketed IPv6 address.
pub(crate) fn validate_registry(registry: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Registry(registry.to_owned());
    let (host, port) = if let Some(v6) = registry.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(bad)?;
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(bad());
        }
        match after {
            "" => ("", None),
            _ => ("", Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    if !registry.starts_with('[') && !host.split('.').all(is_host_label) {
        return Err(bad());
    }
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    Ok(())
}

fn is_host_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// Slash-separated path components of lowercase alphanumerics joined by `.`, `_`, `__`
/// or runs of `-`.
pub(crate) fn validate_repository(path: &str) -> Result<(), ReferenceError> {
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(ReferenceError::Uppercase);
    }
    if path.split('/').all(is_path_component) {
        Ok(())
    } else {
        Err(ReferenceError::Repository(path.to_owned()))
    }
}

fn is_path_component(component: &str) -> bool {
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let separator = |b: &u8| matches!(b, b'.' | b'_' | b'-');
    let mut rest = component.as_bytes();
    // Alternating runs, starting and ending with alphanumerics.
    loop {
        let run = rest.iter().take_while(|b| alphanumeric(b)).count();
        if run == 0 {
            return false;
        }
        rest = rest.split_at(run).1;
        if rest.is_empty() {
            return true;
        }
        let (sep, after) = rest.split_at(rest.iter().take_while(|b| separator(b)).count());
        let dashes = !sep.is_empty() && sep.iter().all(|b| *b == b'-');
        if !(dashes || matches!(sep, b"." | b"_" | b"__")) {
            return false;
        }
        rest = after;
    }
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = match tag.as_bytes().split_first() {
        Some((first, rest)) => {
            word(*first)
                && tag.len() <= TAG_MAX
                && rest.iter().all(|b| word(*b) || matches!(b, b'.' | b'-'))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag(tag.to_owned()))
    }
}

/// `algorithm:hex`, with the hex length and case go-digest requires of the algorithm.
fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::Digest(digest.to_owned());
    let (algorithm, hex) = digest.split_once(':').ok_or_else(bad)?;
    let algorithm_ok = algorithm.split(['+', '.', '-', '_']).all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric())
    });
    if !algorithm_ok {
        return Err(bad());
    }
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::DigestAlgorithm(algorithm.to_owned())),
    };
    if hex.len() == length && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parsed(image: &str) -> (String, String, Option<String>, Option<String>) {
        let r = ImageReference::parse(image).unwrap_or_else(|e| panic!("{image}: {e}"));
        (r.registry, r.repository, r.tag, r.digest)
    }

    #[test]
    fn parses_the_reference_table() {
        let sha = Some(SHA.to_string());
        let s = |v: &str| Some(v.to_string());
        type Expected = (&'static str, &'static str, Option<String>, Option<String>);
        let table: Vec<(String, Expected)> = vec![
            ("nginx".into(), ("docker.io", "library/nginx", None, None)),
            (
                "nginx:1.25".into(),
                ("docker.io", "library/nginx", s("1.25"), None),
            ),
            (
                "nginx:latest".into(),
                ("docker.io", "library/nginx", s("latest"), None),
            ),
            (
                "user/app:1.2".into(),
                ("docker.io", "user/app", s("1.2"), None),
            ),
            (
                "docker.io/nginx".into(),
                ("docker.io", "library/nginx", None, None),
            ),
            (
                "docker.io/library/nginx".into(),
                ("docker.io", "library/nginx", None, None),
            ),
            (
                "index.docker.io/nginx".into(),
                ("docker.io", "library/nginx", None, None),
            ),
            (
                "registry-1.docker.io/user/app".into(),
                ("docker.io", "user/app", None, None),
            ),
            (
                "ghcr.io/acme/app:v1".into(),
                ("ghcr.io", "acme/app", s("v1"), None),
            ),
            (
                "ghcr.io/acme/team/app".into(),
                ("ghcr.io", "acme/team/app", None, None),
            ),
            ("localhost/app".into(), ("localhost", "app", None, None)),
            (
                "localhost:5000/app:v1".into(),
                ("localhost:5000", "app", s("v1"), None),
            ),
            (
                "registry:5000/app".into(),
                ("registry:5000", "app", None, None),
            ),
            (
                "10.0.0.1:5000/a/b:c".into(),
                ("10.0.0.1:5000", "a/b", s("c"), None),
            ),
            ("[::1]:5000/app".into(), ("[::1]:5000", "app", None, None)),
            (
                format!("app@{SHA}"),
                ("docker.io", "library/app", None, sha.clone()),
            ),
            (
                format!("app:1.0@{SHA}"),
                ("docker.io", "library/app", s("1.0"), sha.clone()),
            ),
            (
                format!("gcr.io/p/app:1@{SHA}"),
                ("gcr.io", "p/app", s("1"), sha.clone()),
            ),
            (
                "a.b-c/d__e/f--g.h:T_1.x-y".into(),
                ("a.b-c", "d__e/f--g.h", s("T_1.x-y"), None),
            ),
            (
                "myregistry.azurecr.io/x".into(),
                ("myregistry.azurecr.io", "x", None, None),
            ),
            (
                "my-reg.io:443/a/b/c/d".into(),
                ("my-reg.io:443", "a/b/c/d", None, None),
            ),
            ("Foo/bar".into(), ("Foo", "bar", None, None)),
            (
                "localhost:5000".into(),
                ("docker.io", "library/localhost", s("5000"), None),
            ),
        ];
        for (image, (registry, repository, tag, digest)) in table {
            let got = parsed(&image);
            assert_eq!(
                got,
                (registry.to_string(), repository.to_string(), tag, digest),
                "{image}"
            );
        }
    }

    #[test]
    fn rejects_invalid_references() {
        let bad_hex = "sha256:0123456789abcdef";
        let upper_hex = format!("sha256:{}", "A".repeat(64));
        let table: Vec<(String, ReferenceError)> = vec![
            (String::new(), ReferenceError::Empty),
            ("Nginx".into(), ReferenceError::Uppercase),
            ("docker.io/Acme/app".into(), ReferenceError::Uppercase),
            ("ng inx".into(), ReferenceError::Repository("ng inx".into())),
            (" nginx".into(), ReferenceError::Repository(" nginx".into())),
            ("nginx:".into(), ReferenceError::Tag(String::new())),
            ("nginx:-x".into(), ReferenceError::Tag("-x".into())),
            (
                "nginx:a/b".into(),
                ReferenceError::Registry("nginx:a".into()),
            ),
            (
                format!("nginx:{}", "a".repeat(129)),
                ReferenceError::Tag("a".repeat(129)),
            ),
            (
                format!("nginx@{bad_hex}"),
                ReferenceError::Digest(bad_hex.into()),
            ),
            (
                format!("nginx@{upper_hex}"),
                ReferenceError::Digest(upper_hex.clone()),
            ),
            (
                "nginx@sha256".into(),
                ReferenceError::Digest("sha256".into()),
            ),
            (
                format!("nginx@md5:{}", "a".repeat(32)),
                ReferenceError::DigestAlgorithm("md5".into()),
            ),
            ("nginx@".into(), ReferenceError::Digest(String::new())),
            ("a//b".into(), ReferenceError::Repository("a//b".into())),
            ("a/".into(), ReferenceError::Repository("a/".into())),
            ("/a".into(), ReferenceError::Repository("/a".into())),
            ("-a".into(), ReferenceError::Repository("-a".into())),
            ("a..b".into(), ReferenceError::Repository("a..b".into())),
            (
                "a_b.io:5000/x".into(),
                ReferenceError::Registry("a_b.io:5000".into()),
            ),
            ("a___b".into(), ReferenceError::Repository("a___b".into())),
            ("a_".into(), ReferenceError::Repository("a_".into())),
            (
                "-bad.io/app".into(),
                ReferenceError::Registry("-bad.io".into()),
            ),
            (
                "reg.io:/app".into(),
                ReferenceError::Registry("reg.io:".into()),
            ),
            (
                "reg.io:x1/app".into(),
                ReferenceError::Registry("reg.io:x1".into()),
            ),
            (
                "[zz]:5000/app".into(),
                ReferenceError::Registry("[zz]:5000".into()),
            ),
            (":tag".into(), ReferenceError::Repository(String::new())),
            ("a".repeat(64), ReferenceError::ImageId),
            (format!("x.io/{}", "a".repeat(256)), ReferenceError::TooLong),
        ];
        for (image, want) in table {
            assert_eq!(ImageReference::parse(&image), Err(want), "{image:?}");
        }
    }

    #[test]
    fn accepts_other_digest_lengths_and_separators() {
        for image in [
            format!("app@sha384:{}", "a".repeat(96)),
            format!("app@sha512:{}", "0".repeat(128)),
            "a-b/c_d/e__f/g---h/i.j:tag".to_string(),
        ] {
            assert!(ImageReference::parse(&image).is_ok(), "{image}");
        }
    }

    #[test]
    fn names_and_displays() {
        let r = ImageReference::parse(&format!("nginx:1@{SHA}")).unwrap();
        assert_eq!(r.name(), "docker.io/library/nginx");
        assert_eq!(r.to_string(), format!("docker.io/library/nginx:1@{SHA}"));
        assert!(!r.is_latest());
        assert!(ImageReference::parse("nginx").unwrap().is_latest());
        assert!(ImageReference::parse("nginx:latest").unwrap().is_latest());
        assert!(
            !ImageReference::parse(&format!("nginx@{SHA}"))
                .unwrap()
                .is_latest()
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for image in [
            "@",
            ":",
            "/",
            "//",
            "@@",
            "a@b@c",
            ":@",
            "a:b:c",
            "[",
            "[]/a",
            "é",
            "a/é",
            "\u{0}",
            "a:",
            "[::1",
            "x/:y",
            "localhost:/",
            "..",
            "a/.b",
        ] {
            assert!(ImageReference::parse(image).is_err(), "{image:?}");
        }
    }
}
