//! String tests behind the operators, with libsinsp's semantics: byte comparisons, ASCII case
//! folding, `fnmatch(3)` globs and path-prefix sets.

use std::collections::HashSet;

/// `strcasestr`: `needle` (already lower-cased) occurs in `hay`, ignoring ASCII case.
pub fn icontains(hay: &[u8], lower_needle: &[u8]) -> bool {
    if lower_needle.is_empty() {
        return true;
    }
    hay.windows(lower_needle.len()).any(|w| {
        w.iter()
            .zip(lower_needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `fnmatch(pattern, text, 0)` (or with `FNM_CASEFOLD`): `*` and `?` match any byte
/// including `/`, `[...]` is a bracket expression (`!` or `^` negates, `a-z` ranges), and a
/// backslash quotes the next byte.
pub fn glob(pattern: &[u8], text: &[u8], icase: bool) -> bool {
    let fold = |b: u8| if icase { b.to_ascii_lowercase() } else { b };
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&pc) = pattern.get(p) {
            match pc {
                b'*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                b'?' if t < text.len() => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some(&tc) = text.get(t) {
                        if let Some((matched, next)) = bracket(pattern, p, fold(tc), icase) {
                            if matched {
                                p = next;
                                t += 1;
                                continue;
                            }
                        } else if tc == b'[' {
                            // An unclosed bracket is an ordinary character.
                            p += 1;
                            t += 1;
                            continue;
                        }
                    }
                }
                b'\\' if pattern.get(p + 1).is_some() => {
                    if let (Some(&q), Some(&tc)) = (pattern.get(p + 1), text.get(t))
                        && fold(q) == fold(tc)
                    {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                _ => {
                    if let Some(&tc) = text.get(t)
                        && pc != b'?'
                        && fold(pc) == fold(tc)
                    {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        } else if t == text.len() {
            return true;
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                star = Some((sp, st + 1));
                p = sp + 1;
                t = st + 1;
            }
            _ => return false,
        }
    }
}

/// Matches one bracket expression starting at `pattern[start] == '['`: whether `c` is in it
/// and where the pattern continues, or `None` if the bracket is not closed.
fn bracket(pattern: &[u8], start: usize, c: u8, icase: bool) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &b = pattern.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let lo = if b == b'\\' {
            i += 1;
            *pattern.get(i)?
        } else {
            b
        };
        i += 1;
        let (lo, hi) =
            if pattern.get(i) == Some(&b'-') && pattern.get(i + 1).is_some_and(|n| *n != b']') {
                let hi = *pattern.get(i + 1)?;
                i += 2;
                (lo, hi)
            } else {
                (lo, lo)
            };
        let fold = |x: u8| if icase { x.to_ascii_lowercase() } else { x };
        if (fold(lo)..=fold(hi)).contains(&c) || (lo..=hi).contains(&c) {
            matched = true;
        }
    }
}

/// Decodes the hex string `bcontains`/`bstartswith` take (`68656c6c6f` for "hello").
pub fn hex(text: &str) -> Result<Vec<u8>, String> {
    let bad = || {
        format!(
            "'{text}' is not an even-length hexadecimal string, as bcontains and bstartswith require"
        )
    };
    if !text.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// The values of an `in`/`intersects` list: a scan for a few, a hash set beyond.
#[derive(Debug, Clone)]
pub enum ValueSet {
    /// Up to [`ValueSet::SCAN_MAX`] values.
    Few(Vec<Vec<u8>>),
    /// More.
    Many(HashSet<Vec<u8>>),
}

impl ValueSet {
    /// Above this many values, lookups hash.
    pub const SCAN_MAX: usize = 8;

    /// A set of these values.
    pub fn new(values: Vec<Vec<u8>>) -> ValueSet {
        if values.len() <= Self::SCAN_MAX {
            ValueSet::Few(values)
        } else {
            ValueSet::Many(values.into_iter().collect())
        }
    }

    /// Whether `value` is in the set.
    pub fn contains(&self, value: &[u8]) -> bool {
        match self {
            ValueSet::Few(values) => values.iter().any(|v| v.as_slice() == value),
            ValueSet::Many(set) => set.contains(value),
        }
    }
}

/// The paths of a `pmatch` list: a value matches when one of them is a prefix of it, path
/// component by path component (components may be globs), as libsinsp's `path_prefix_search`.
#[derive(Debug, Clone)]
pub struct PathSet {
    paths: Vec<Vec<Vec<u8>>>,
}

impl PathSet {
    /// A set of these paths.
    pub fn new(paths: &[Vec<u8>]) -> PathSet {
        PathSet {
            paths: paths.iter().map(|p| components(p)).collect(),
        }
    }

    /// Whether `value` is one of the paths or below one.
    pub fn matches(&self, value: &[u8]) -> bool {
        let value = components(value);
        self.paths.iter().any(|prefix| {
            prefix.len() <= value.len()
                && prefix.iter().zip(&value).all(|(p, v)| {
                    if p.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                        glob(p, v, false)
                    } else {
                        p == v
                    }
                })
        })
    }
}

fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_fnmatch() {
        assert!(glob(b"/home/*/.ssh/*", b"/home/a/.ssh/id_rsa", false));
        assert!(glob(b"*", b"a/b/c", false));
        assert!(glob(b"a?c", b"abc", false));
        assert!(!glob(b"a?c", b"ac", false));
        assert!(glob(b"[a-c]x", b"bx", false));
        assert!(!glob(b"[!a-c]x", b"bx", false));
        assert!(glob(b"\\*", b"*", false));
        assert!(!glob(b"\\*", b"a", false));
        assert!(!glob(b"ABC", b"abc", false));
        assert!(glob(b"A*C", b"abbc", true));
        assert!(glob(b"*../*../*", b"x/../../y", false));
        assert!(!glob(b"*.log", b"a.txt", false));
    }

    #[test]
    fn path_prefixes_match_by_component() {
        let set = PathSet::new(&[
            b"/var/run".to_vec(),
            b"/etc/".to_vec(),
            b"/opt/*/bin".to_vec(),
        ]);
        assert!(set.matches(b"/var/run"));
        assert!(set.matches(b"/var/run/docker.sock"));
        assert!(!set.matches(b"/var/running"));
        assert!(!set.matches(b"/var"));
        assert!(set.matches(b"/etc"));
        assert!(set.matches(b"/opt/app/bin/x"));
        assert!(!set.matches(b"/opt/app/lib"));
    }

    #[test]
    fn case_insensitive_contains_and_hex() {
        assert!(icontains(b"Hello World", b"o wor"));
        assert!(!icontains(b"Hello", b"xyz"));
        assert_eq!(hex("68656c6c6f").unwrap(), b"hello");
        assert!(hex("abc").is_err());
        assert!(hex("zz").is_err());
    }

    #[test]
    fn value_sets_scan_or_hash() {
        let few = ValueSet::new(vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(matches!(few, ValueSet::Few(_)));
        assert!(few.contains(b"b") && !few.contains(b"c"));
        let many = ValueSet::new((0..20).map(|i| i.to_string().into_bytes()).collect());
        assert!(matches!(many, ValueSet::Many(_)));
        assert!(many.contains(b"19") && !many.contains(b"20"));
    }
}
