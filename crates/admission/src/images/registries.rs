//! `allowedRegistries`: each entry is a registry or repository prefix, or a glob, matched
//! against an image's normalised `registry/repository` name.

use super::ImageRuleError;
use super::reference::{
    DOCKER_HUB, ImageReference, ReferenceError, is_registry_component, normalise_registry,
    validate_registry, validate_repository,
};
use globset::{GlobBuilder, GlobMatcher};

/// The compiled `allowedRegistries` list; empty allows every registry.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedRegistries {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    /// As the user wrote it, for messages.
    written: String,
    pattern: Pattern,
}

#[derive(Debug, Clone)]
enum Pattern {
    /// A normalised name, matched on whole `/`-separated components.
    Prefix(String),
    /// A glob over the whole normalised name.
    Name(GlobMatcher),
    /// A glob over the registry alone (`*.azurecr.io`): every image on a matching host.
    Registry(GlobMatcher),
}

impl AllowedRegistries {
    pub(crate) fn compile(entries: &[String]) -> Result<Self, ImageRuleError> {
        let entries = entries
            .iter()
            .map(|written| {
                Ok(Entry {
                    written: written.clone(),
                    pattern: compile_entry(written)?,
                })
            })
            .collect::<Result<_, ImageRuleError>>()?;
        Ok(AllowedRegistries { entries })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn allows(&self, reference: &ImageReference) -> bool {
        let name = reference.name();
        self.entries.iter().any(|entry| match &entry.pattern {
            Pattern::Prefix(prefix) => name
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            Pattern::Name(glob) => glob.is_match(&name),
            Pattern::Registry(glob) => glob.is_match(&reference.registry),
        })
    }

    /// The entries as written, shortened so a message stays one line.
    pub(crate) fn summary(&self) -> String {
        const SHOWN: usize = 3;
        let mut shown: Vec<&str> = self
            .entries
            .iter()
            .take(SHOWN)
            .map(|e| e.written.as_str())
            .collect();
        let more = self.entries.len().saturating_sub(SHOWN);
        let more = format!("{more} more");
        if self.entries.len() > SHOWN {
            shown.push(&more);
        }
        shown.join(", ")
    }
}

fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '[', '{'])
}

fn compile_entry(written: &str) -> Result<Pattern, ImageRuleError> {
    let invalid = |reason: String| ImageRuleError::InvalidEntry {
        entry: written.to_owned(),
        reason,
    };
    // A trailing slash says "this namespace", which is what a prefix means anyway.
    let entry = written.strip_suffix('/').unwrap_or(written);
    if entry.is_empty() {
        return Err(invalid("empty entry".into()));
    }
    if entry.contains(|c: char| c.is_whitespace() || c == '@') {
        return Err(invalid(
            "entries name registries or repositories, not images with digests".into(),
        ));
    }
    if is_glob(entry) {
        return compile_glob(written, entry);
    }
    normalise_prefix(entry)
        .map(Pattern::Prefix)
        .map_err(|e| invalid(e.to_string()))
}

/// Normalises a prefix entry as an image name is normalised, except that `library` (alone
/// or after `docker.io/`) stays the namespace of official images rather than becoming an
/// image named `library`.
fn normalise_prefix(entry: &str) -> Result<String, ReferenceError> {
    let (registry, path) = match entry.split_once('/') {
        Some((first, rest)) if is_registry_component(first) => (first, Some(rest)),
        None if is_registry_component(entry) => (entry, None),
        _ => (DOCKER_HUB, Some(entry)),
    };
    validate_registry(registry)?;
    let registry = normalise_registry(registry);
    let Some(path) = path else {
        return Ok(registry.to_owned());
    };
    validate_repository(path)?;
    Ok(format!("{registry}/{}", docker_hub_path(registry, path)))
}

/// `nginx` on Docker Hub is `library/nginx`; `library` itself is the namespace.
fn docker_hub_path(registry: &str, path: &str) -> String {
    if registry == DOCKER_HUB && !path.contains('/') && path != "library" {
        format!("library/{path}")
    } else {
        path.to_owned()
    }
}

fn compile_glob(written: &str, entry: &str) -> Result<Pattern, ImageRuleError> {
    // A first component of only stars stands for any registry, not a Docker Hub namespace.
    let registry_like =
        |first: &str| is_registry_component(first) || first.bytes().all(|b| b == b'*');
    let (pattern, registry_only) = match entry.split_once('/') {
        None if registry_like(entry) => (normalise_registry(entry).to_owned(), true),
        None => (
            format!("{DOCKER_HUB}/{}", docker_hub_path(DOCKER_HUB, entry)),
            false,
        ),
        // `docker.io/**` is all of Docker Hub, not `library/**`.
        Some((first, "**")) if registry_like(first) => {
            (format!("{}/**", normalise_registry(first)), false)
        }
        Some((first, rest)) if registry_like(first) => {
            let registry = normalise_registry(first);
            (
                format!("{registry}/{}", docker_hub_path(registry, rest)),
                false,
            )
        }
        Some(_) => (format!("{DOCKER_HUB}/{entry}"), false),
    };
    let path = pattern.split_once('/').map_or("", |(_, path)| path);
    if path.contains(':') {
        return Err(ImageRuleError::InvalidEntry {
            entry: written.to_owned(),
            reason: "entries name registries or repositories, not tags".into(),
        });
    }
    let matcher = GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map_err(|source| ImageRuleError::InvalidGlob {
            entry: written.to_owned(),
            source,
        })?
        .compile_matcher();
    Ok(if registry_only {
        Pattern::Registry(matcher)
    } else {
        Pattern::Name(matcher)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn allowed(entries: &[&str]) -> AllowedRegistries {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        AllowedRegistries::compile(&entries).unwrap()
    }

    fn allows(entries: &[&str], image: &str) -> bool {
        allowed(entries).allows(&ImageReference::parse(image).unwrap())
    }

    #[test]
    fn prefixes_stop_at_a_slash() {
        let e = ["ghcr.io/acme"];
        assert!(allows(&e, "ghcr.io/acme"));
        assert!(allows(&e, "ghcr.io/acme/x:1"));
        assert!(allows(&e, "ghcr.io/acme/team/x"));
        assert!(!allows(&e, "ghcr.io/acmecorp/x"));
        assert!(!allows(&e, "ghcr.io/acm"));
        assert!(!allows(&e, "evil.io/ghcr.io/acme/x"));
        assert!(!allows(&e, "ghcr.io.evil.io/acme/x"));
    }

    #[test]
    fn trailing_slash_means_the_same() {
        let e = ["ghcr.io/acme/"];
        assert!(allows(&e, "ghcr.io/acme/x"));
        assert!(!allows(&e, "ghcr.io/acmecorp/x"));
    }

    #[test]
    fn a_host_allows_everything_on_it() {
        let e = ["ghcr.io"];
        assert!(allows(&e, "ghcr.io/a"));
        assert!(allows(&e, "ghcr.io/a/b/c:1"));
        assert!(!allows(&e, "ghcr.io.evil.io/a"));
        assert!(!allows(&e, "nginx"));
        assert!(allows(&["localhost:5000"], "localhost:5000/app:v1"));
        assert!(!allows(&["localhost:5000"], "localhost:5001/app"));
        assert!(allows(&["localhost"], "localhost/app"));
    }

    #[test]
    fn short_docker_entries_are_normalised() {
        for entry in [
            "nginx",
            "library/nginx",
            "docker.io/nginx",
            "docker.io/library/nginx",
            "index.docker.io/nginx",
        ] {
            assert!(allows(&[entry], "nginx:1.25"), "{entry}");
            assert!(allows(&[entry], "docker.io/library/nginx"), "{entry}");
            assert!(!allows(&[entry], "nginx-evil"), "{entry}");
            assert!(!allows(&[entry], "evil/nginx"), "{entry}");
        }
        assert!(allows(&["docker.io"], "user/app"));
        assert!(allows(&["index.docker.io"], "user/app"));
        assert!(allows(&["library"], "busybox"));
        assert!(allows(&["docker.io/library"], "busybox"));
        assert!(!allows(&["library"], "user/busybox"));
        assert!(allows(&["acme"], "acme"));
        assert!(!allows(&["acme"], "acme/app"), "acme means library/acme");
        assert!(allows(&["acme/"], "acme"));
    }

    #[test]
    fn globs_respect_separators() {
        let star = ["ghcr.io/acme/*"];
        assert!(allows(&star, "ghcr.io/acme/app"));
        assert!(!allows(&star, "ghcr.io/acme/team/app"));
        assert!(!allows(&star, "ghcr.io/acme"));
        let deep = ["ghcr.io/acme/**"];
        assert!(allows(&deep, "ghcr.io/acme/team/app"));
        assert!(allows(&deep, "ghcr.io/acme/app"));
        assert!(!allows(&deep, "ghcr.io/acmecorp/app"));
        let middle = ["ghcr.io/*/app"];
        assert!(allows(&middle, "ghcr.io/team/app"));
        assert!(!allows(&middle, "ghcr.io/a/b/app"));
        assert!(allows(&["ghcr.io/**/app"], "ghcr.io/a/b/app"));
        assert!(allows(&["ghcr.io/acme/app-?"], "ghcr.io/acme/app-1"));
        assert!(allows(&["ghcr.io/acme/app-[ab]"], "ghcr.io/acme/app-b"));
        assert!(!allows(&["ghcr.io/acme/app-[ab]"], "ghcr.io/acme/app-c"));
        assert!(allows(&["ghcr.io/{acme,beta}/*"], "ghcr.io/beta/x"));
    }

    #[test]
    fn host_globs_allow_everything_on_matching_hosts() {
        let e = ["*.azurecr.io"];
        assert!(allows(&e, "myreg.azurecr.io/app"));
        assert!(allows(&e, "myreg.azurecr.io/team/app:1"));
        assert!(!allows(&e, "azurecr.io.evil.io/app"));
        assert!(!allows(&e, "a.b.azurecr.io.evil/app"));
        assert!(allows(&["*"], "anything.io/x/y"));
        assert!(allows(&["*/acme/*"], "ghcr.io/acme/app"));
        assert!(allows(&["*/acme/*"], "quay.io/acme/app"));
        assert!(!allows(&["*/acme/*"], "quay.io/beta/app"));
    }

    #[test]
    fn short_docker_globs_are_normalised() {
        assert!(allows(&["nginx*"], "nginx-unprivileged:1"));
        assert!(!allows(&["nginx*"], "user/nginx"));
        assert!(allows(&["bitnami/*"], "bitnami/redis"));
        assert!(allows(&["docker.io/*"], "busybox"));
        assert!(!allows(&["docker.io/*"], "user/app"));
        assert!(allows(&["docker.io/**"], "user/app"));
    }

    #[test]
    fn invalid_entries_are_errors_naming_the_entry() {
        for entry in [
            "",
            "/",
            "ghcr.io/Acme",
            "ghcr.io//x",
            "nginx:1.25",
            "nginx@sha256:abc",
            "ghcr.io/a b",
            "-bad.io",
            "ghcr.io/*:latest",
            "ghcr.io/[acme",
            "ghcr.io/{a,b",
        ] {
            let err = AllowedRegistries::compile(&[entry.to_string()])
                .expect_err(entry)
                .to_string();
            assert!(err.contains(&format!("{entry:?}")), "{err}");
        }
    }

    #[test]
    fn summary_is_short() {
        assert_eq!(allowed(&["a.io", "b.io"]).summary(), "a.io, b.io");
        assert_eq!(
            allowed(&["a.io", "b.io", "c.io", "d.io", "e.io"]).summary(),
            "a.io, b.io, c.io, 2 more"
        );
    }
}
