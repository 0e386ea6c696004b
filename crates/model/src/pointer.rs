//! JSON pointers (RFC 6901) and the hash the line index is keyed by.

/// Escapes one reference token of a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        std::borrow::Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(token)
    }
}

/// Looks up a JSON pointer without allocating for tokens that need no unescaping
/// (`serde_json::Value::pointer` allocates twice per token, which shows on hot paths).
pub fn lookup<'a>(value: &'a serde_json::Value, pointer: &str) -> Option<&'a serde_json::Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    let mut target = value;
    for token in rest.split('/') {
        let unescaped;
        let token = if token.contains('~') {
            unescaped = token.replace("~1", "/").replace("~0", "~");
            unescaped.as_str()
        } else {
            token
        };
        target = match target {
            serde_json::Value::Object(map) => map.get(token)?,
            serde_json::Value::Array(list) => {
                if token.len() > 1 && token.starts_with('0') {
                    return None;
                }
                list.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(target)
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
    fn lookup_matches_serde_json() {
        let v = serde_json::json!({"a": {"b/c": [1, {"d~e": true}]}, "": 5});
        for p in [
            "",
            "/a",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/0",
            "/a/b~1c/01",
            "/a/x",
            "/",
            "a",
            "/a/b~1c/9",
        ] {
            assert_eq!(lookup(&v, p), v.pointer(p), "{p}");
        }
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(pointer_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(pointer_hash("/spec"), pointer_hash("/spec/"));
    }
}
