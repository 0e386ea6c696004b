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
    // Components of the algorithm start with a letter: `sha256`, `multihash+base58`.
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        part.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
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
mod tests;
