//! JSON pointers (RFC 6901) and the hash the line index is keyed by.

/// Escapes one reference token of a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        std::borrow::Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(token)
    }
}

/// FNV-1a over the pointer's bytes: stable across runs and platforms, so line indexes are
/// deterministic, and cheap enough to compute for every node of every document.
pub fn pointer_hash(pointer: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in pointer.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_tokens() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        assert_eq!(escape_token("plain"), "plain");
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(pointer_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(pointer_hash("/spec"), pointer_hash("/spec/"));
    }
}
