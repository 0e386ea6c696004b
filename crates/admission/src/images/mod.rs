/*!
Image rules for admission: where images may come from, and how firmly they must be pinned.

# Brief overview

[`ImageRules`] is the configuration as users write it; [`ImageRules::compile`] validates it
once into [`CompiledImageRules`], whose [`check`](CompiledImageRules::check) returns one
[`ImageViolation`] per broken rule per container, init container and ephemeral container of
any workload kind. Images are compared by their normalised name ([`ImageReference::name`]),
so `nginx`, `docker.io/nginx` and `index.docker.io/library/nginx` are the same image.

```
use palisade_admission::images::ImageRules;
use palisade_model::{Object, Positions, Source};
use serde_json::json;

let rules = ImageRules {
    allowed_registries: vec!["ghcr.io/acme".into()],
    disallow_latest: true,
    require_digest: false,
}
.compile()?;
let pod = Object::new(
    json!({"kind": "Pod", "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1.2"}]}}),
    Source::file("-", 0),
    Positions::default(),
);
assert!(rules.check(&pod).is_empty());
# Ok::<(), palisade_admission::images::ImageRuleError>(())
```
*/

mod reference;
mod registries;

pub use reference::{DOCKER_HUB, ImageReference, ReferenceError};

use palisade_model::{ContainerKind, ContainerRef, Object};
use registries::AllowedRegistries;
use std::fmt;

/// Image rules as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ImageRules {
    /// Registries or repositories images must come from; empty allows any. Each entry is a
    /// prefix ending at a `/` (`ghcr.io/acme`, `ghcr.io`, `nginx`), or a glob when it has
    /// `*`, `?`, `[` or `{` (`*` stays within one component, `**` crosses them). A glob
    /// without `/` that names a host (`*.azurecr.io`) matches the registry alone.
    pub allowed_registries: Vec<String>,
    /// Refuse the `latest` tag, written or implied by having neither tag nor digest.
    pub disallow_latest: bool,
    /// Refuse images not pinned by digest.
    pub require_digest: bool,
}

/// Why image rules cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRuleError {
    /// An `allowedRegistries` entry is not a registry, repository or glob.
    #[error("allowedRegistries entry {entry:?}: {reason}")]
    InvalidEntry {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `allowedRegistries` glob does not compile.
    #[error("allowedRegistries entry {entry:?}: {source}")]
    InvalidGlob {
        /// The entry as written.
        entry: String,
        /// The glob error.
        #[source]
        source: globset::Error,
    },
}

impl ImageRules {
    /// Validates the rules and compiles their patterns, once, for every later check.
    pub fn compile(&self) -> Result<CompiledImageRules, ImageRuleError> {
        Ok(CompiledImageRules {
            registries: AllowedRegistries::compile(&self.allowed_registries)?,
            disallow_latest: self.disallow_latest,
            require_digest: self.require_digest,
        })
    }
}

/// Image rules ready to check objects.
#[derive(Debug, Clone, Default)]
pub struct CompiledImageRules {
    registries: AllowedRegistries,
    disallow_latest: bool,
    require_digest: bool,
}

/// Which rule an image breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageRule {
    /// The image is not a valid reference, so no other rule can vouch for it.
    ValidReference,
    /// The image is not from an allowed registry or repository.
    AllowedRegistries,
    /// The image uses the `latest` tag, written or implied.
    NoLatest,
    /// The image is not pinned by digest.
    Digest,
}

impl ImageRule {
    /// Stable identifier, as in configuration and reports.
    pub fn id(&self) -> &'static str {
        match self {
            ImageRule::ValidReference => "valid-reference",
            ImageRule::AllowedRegistries => "allowed-registries",
            ImageRule::NoLatest => "disallow-latest",
            ImageRule::Digest => "require-digest",
        }
    }
}

impl fmt::Display for ImageRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One container image breaking one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageViolation {
    /// The rule broken.
    pub rule: ImageRule,
    /// JSON pointer of the `image` field, e.g. `/spec/containers/0/image`.
    pub pointer: String,
    /// The container's name.
    pub container: String,
    /// The image as written.
    pub image: String,
    /// What is wrong and how to fix it, in one line.
    pub message: String,
}

impl CompiledImageRules {
    /// True when no rule is on, so every image passes.
    pub fn is_empty(&self) -> bool {
        self.registries.is_empty() && !self.disallow_latest && !self.require_digest
    }

    /// The violations of every container of a workload, in container order and, for each
    /// container, in rule order. Objects without a pod spec have none.
    pub fn check(&self, object: &Object) -> Vec<ImageViolation> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut violations = Vec::new();
        for container in object.containers() {
            self.check_container(&container, &mut violations);
        }
        violations
    }

    fn check_container(&self, container: &ContainerRef<'_>, out: &mut Vec<ImageViolation>) {
        let image = container.image();
        let label = format!("{} {:?}", list_label(container.kind), container.name());
        let mut push = |rule: ImageRule, message: String| {
            out.push(ImageViolation {
                rule,
                pointer: container.field("/image"),
                container: container.name().to_owned(),
                image: image.to_owned(),
                message,
            });
        };
        let reference = match ImageReference::parse(image) {
            Ok(reference) => reference,
            Err(ReferenceError::Empty) => {
                let message = format!("{label} has no image; set a pinned image reference");
                return push(ImageRule::ValidReference, message);
            }
            Err(e) => {
                let message = format!("{label} image {image:?} is not a valid reference: {e}");
                return push(ImageRule::ValidReference, message);
            }
        };
        if !self.registries.is_empty() && !self.registries.allows(&reference) {
            let message = format!(
                "{label} image {image:?} is not from an allowed registry; use one of: {}",
                self.registries.summary()
            );
            push(ImageRule::AllowedRegistries, message);
        }
        if self.disallow_latest && reference.is_latest() {
            let what = match (&reference.tag, &reference.digest) {
                (None, _) => "has no tag; pin a version or a digest",
                (Some(_), None) => "uses the latest tag; pin a version or a digest",
                // Pinned, but the tag still misleads readers about what runs.
                (Some(_), Some(_)) => "uses the latest tag; name the version beside the digest",
            };
            let message = format!("{label} image {image:?} {what}");
            push(ImageRule::NoLatest, message);
        }
        if self.require_digest && reference.digest.is_none() {
            let message =
                format!("{label} image {image:?} has no digest; pin it as name@sha256:<digest>");
            push(ImageRule::Digest, message);
        }
    }
}

/// The container's list as its field is named, in the singular.
fn list_label(kind: ContainerKind) -> &'static str {
    match kind {
        ContainerKind::Regular => "container",
        ContainerKind::Init => "initContainer",
        ContainerKind::Ephemeral => "ephemeralContainer",
    }
}

#[cfg(test)]
mod tests;
