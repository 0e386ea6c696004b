//! Sigma string values: wildcards, escapes, and the transformation modifiers that rewrite them
//! (windash, base64, base64offset, utf16le/utf16be/wide/utf16, expand, contains, startswith,
//! endswith).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;

/// One piece of a Sigma string. Literals are bytes so that UTF-16 output can be Base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Lit(Vec<u8>),
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A Sigma string: literals and wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct SigmaStr {
    pub parts: Vec<Part>,
}

/// Most values one rule value may expand to (windash and placeholders multiply).
pub(super) const MAX_EXPANSION: usize = 10_000;

impl SigmaStr {
    /// Parses a rule value: `*` and `?` are wildcards; `\*`, `\?` and `\\` are the characters
    /// themselves; any other backslash is kept as it is (the specification's escaping).
    pub fn parse(text: &str) -> SigmaStr {
        let mut s = SigmaStr::default();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        lit.push(next);
                        chars.next();
                    }
                    _ => lit.push('\\'),
                },
                '*' | '?' => {
                    s.push_lit(std::mem::take(&mut lit).into_bytes());
                    s.parts.push(if c == '*' { Part::Any } else { Part::One });
                }
                _ => lit.push(c),
            }
        }
        s.push_lit(lit.into_bytes());
        s
    }

    /// A string with no wildcards.
    pub fn literal(text: &str) -> SigmaStr {
        let mut s = SigmaStr::default();
        s.push_lit(text.as_bytes().to_vec());
        s
    }

    fn push_lit(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        if let Some(Part::Lit(last)) = self.parts.last_mut() {
            last.extend_from_slice(&bytes);
        } else {
            self.parts.push(Part::Lit(bytes));
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Lit(_)))
    }

    /// The literal bytes, if there are no wildcards.
    fn plain_bytes(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Lit(b) => out.extend_from_slice(b),
                Part::Any | Part::One => return None,
            }
        }
        Some(out)
    }

    /// `contains`: `*` on both ends (not doubled).
    pub fn contains(mut self) -> SigmaStr {
        self = self.startswith();
        self.endswith()
    }

    /// `startswith`: `*` at the end.
    pub fn startswith(mut self) -> SigmaStr {
        if self.parts.last() != Some(&Part::Any) {
            self.parts.push(Part::Any);
        }
        self
    }

    /// `endswith`: `*` at the start.
    pub fn endswith(mut self) -> SigmaStr {
        if self.parts.first() != Some(&Part::Any) {
            self.parts.insert(0, Part::Any);
        }
        self
    }

    /// `utf16le`/`wide`, `utf16be`, `utf16` (little-endian with a byte-order mark): the
    /// literals re-encoded, wildcards kept.
    pub fn utf16(self, encoding: Utf16) -> Result<SigmaStr, String> {
        let mut out = SigmaStr::default();
        if encoding == Utf16::WithBom {
            out.push_lit(vec![0xff, 0xfe]);
        }
        for part in self.parts {
            match part {
                Part::Lit(bytes) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| "utf16 modifiers need text, not already encoded bytes")?;
                    let encoded = text
                        .encode_utf16()
                        .flat_map(|unit| match encoding {
                            Utf16::BigEndian => unit.to_be_bytes(),
                            Utf16::LittleEndian | Utf16::WithBom => unit.to_le_bytes(),
                        })
                        .collect();
                    out.push_lit(encoded);
                }
                other => out.parts.push(other),
            }
        }
        Ok(out)
    }

    /// `base64`: the whole value encoded.
    pub fn base64(&self) -> Result<SigmaStr, String> {
        let bytes = self.plain_bytes().ok_or(WILDCARD_BASE64)?;
        Ok(SigmaStr::literal(&STANDARD.encode(bytes)))
    }

    /// `base64offset`: the three encodings of the value at byte offsets 0, 1 and 2 of an
    /// encoded text, without the characters that depend on its neighbours.
    pub fn base64offset(&self) -> Result<Vec<SigmaStr>, String> {
        let bytes = self.plain_bytes().ok_or(WILDCARD_BASE64)?;
        const START: [usize; 3] = [0, 2, 3];
        const END_TRIM: [usize; 3] = [0, 3, 2];
        Ok((0..3)
            .map(|shift| {
                let mut padded = vec![b' '; shift];
                padded.extend_from_slice(&bytes);
                let encoded = STANDARD.encode(&padded);
                let trim = END_TRIM
                    .get((bytes.len() + shift) % 3)
                    .copied()
                    .unwrap_or(0);
                let start = START.get(shift).copied().unwrap_or(0);
                let end = encoded.len().saturating_sub(trim).max(start);
                SigmaStr::literal(encoded.get(start..end).unwrap_or_default())
            })
            .collect())
    }

    /// `windash`: every `-` or `/` that starts a word (a command-line flag) in each of its five
    /// spellings: `-`, `/`, en dash, em dash, horizontal bar.
    pub fn windash(&self) -> Result<Vec<SigmaStr>, String> {
        const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
        let mut variants = vec![SigmaStr::default()];
        for part in &self.parts {
            let Part::Lit(bytes) = part else {
                variants.iter_mut().for_each(|v| v.parts.push(part.clone()));
                continue;
            };
            let text = String::from_utf8(bytes.clone()).map_err(|_| "windash needs text")?;
            let chars: Vec<char> = text.chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                let flag = matches!(c, '-' | '/')
                    && (i == 0 || chars.get(i - 1).is_some_and(|p| !is_word(*p)))
                    && chars.get(i + 1).is_some_and(|n| is_word(*n));
                let choices: &[char] = if flag {
                    &DASHES
                } else {
                    std::slice::from_ref(&c)
                };
                if variants.len() * choices.len() > MAX_EXPANSION {
                    return Err(format!(
                        "windash expands to more than {MAX_EXPANSION} values"
                    ));
                }
                variants = variants
                    .into_iter()
                    .flat_map(|v| {
                        choices.iter().map(move |ch| {
                            let mut v = v.clone();
                            v.push_lit(ch.to_string().into_bytes());
                            v
                        })
                    })
                    .collect();
            }
        }
        Ok(variants)
    }

    /// `expand`: `%name%` placeholders replaced by each of their values (`\%` is a plain
    /// percent sign). A placeholder with no values is an error: the specification says a tool
    /// that cannot fill a placeholder must reject the rule.
    pub fn expand(
        text: &str,
        placeholders: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<SigmaStr>, String> {
        let mut variants = vec![String::new()];
        let mut rest = text;
        while !rest.is_empty() {
            let (plain, after) = split_plain(rest);
            variants.iter_mut().for_each(|v| v.push_str(&plain));
            let Some(after) = after else { break };
            let Some(end) = after.find('%') else {
                variants.iter_mut().for_each(|v| v.push('%'));
                rest = after;
                continue;
            };
            let name = after.get(..end).unwrap_or_default();
            let values = placeholders
                .get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("placeholder %{name}% has no values (expand)"))?;
            if variants.len() * values.len() > MAX_EXPANSION {
                return Err(format!(
                    "placeholders expand to more than {MAX_EXPANSION} values"
                ));
            }
            variants = variants
                .iter()
                .flat_map(|v| values.iter().map(move |value| format!("{v}{value}")))
                .collect();
            rest = after.get(end + 1..).unwrap_or_default();
        }
        Ok(variants.iter().map(|v| SigmaStr::parse(v)).collect())
    }

    /// The value as text (encodings produce bytes that must be text again to be compared
    /// with JSON strings).
    pub fn into_text_parts(self) -> Result<Vec<TextPart>, String> {
        self.parts
            .into_iter()
            .map(|p| match p {
                Part::Lit(bytes) => String::from_utf8(bytes)
                    .map(TextPart::Lit)
                    .map_err(|_| "an encoded value that is not text can only be matched after base64 or base64offset".to_string()),
                Part::Any => Ok(TextPart::Any),
                Part::One => Ok(TextPart::One),
            })
            .collect()
    }
}

/// A value ready to be matched: literals are text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TextPart {
    Lit(String),
    Any,
    One,
}

/// Which UTF-16 the encoding modifiers produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Utf16 {
    LittleEndian,
    BigEndian,
    WithBom,
}

const WILDCARD_BASE64: &str = "base64 of a value with wildcards is not allowed";

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Text up to the first unescaped `%` (with `\%` unescaped), and what follows that `%`.
fn split_plain(text: &str) -> (String, Option<&str>) {
    let mut plain = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(|(_, n)| *n == '%') => {
                // Keep the percent escaped from the wildcard parser too.
                plain.push('%');
                chars.next();
            }
            '%' => return (plain, text.get(i + 1..)),
            _ => plain.push(c),
        }
    }
    (plain, None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Lit(s.as_bytes().to_vec())
    }

    fn texts(values: &[SigmaStr]) -> Vec<String> {
        values
            .iter()
            .map(|v| String::from_utf8(v.plain_bytes().unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn wildcards_and_escapes_as_the_specification_lists_them() {
        assert_eq!(
            SigmaStr::parse("prog?.exe*").parts,
            [lit("prog"), Part::One, lit(".exe"), Part::Any]
        );
        assert_eq!(SigmaStr::parse(r"a\*b\?c").parts, [lit("a*b?c")]);
        assert_eq!(
            SigmaStr::parse(r"C:\Windows\x").parts,
            [lit(r"C:\Windows\x")]
        );
        assert_eq!(SigmaStr::parse(r"a\\*").parts, [lit(r"a\"), Part::Any]);
        assert_eq!(SigmaStr::parse(r"a\\\*").parts, [lit(r"a\*")]);
        assert_eq!(SigmaStr::parse(r"\\\\").parts, [lit(r"\\")]);
        assert_eq!(SigmaStr::parse(r"end\").parts, [lit(r"end\")]);
    }

    #[test]
    fn contains_startswith_endswith_do_not_double_wildcards() {
        let v = SigmaStr::parse("*x").contains();
        assert_eq!(v.parts, [Part::Any, lit("x"), Part::Any]);
        assert_eq!(
            SigmaStr::parse("x").startswith().parts,
            [lit("x"), Part::Any]
        );
        assert_eq!(SigmaStr::parse("x").endswith().parts, [Part::Any, lit("x")]);
    }

    #[test]
    fn base64_and_offsets_match_known_encodings() {
        assert_eq!(
            texts(&[SigmaStr::literal("/bin/sh").base64().unwrap()]),
            ["L2Jpbi9zaA=="]
        );
        // The value "http://" at offsets 0, 1 and 2 of an encoded text.
        assert_eq!(
            texts(&SigmaStr::literal("http://").base64offset().unwrap()),
            ["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]
        );
        assert!(SigmaStr::parse("a*").base64().is_err());
    }

    #[test]
    fn utf16_encodings_before_base64() {
        let wide = SigmaStr::literal("cmd").utf16(Utf16::LittleEndian).unwrap();
        assert_eq!(wide.parts, [Part::Lit(vec![0x63, 0, 0x6d, 0, 0x64, 0])]);
        assert_eq!(texts(&[wide.base64().unwrap()]), ["YwBtAGQA"]);
        let be = SigmaStr::literal("cmd").utf16(Utf16::BigEndian).unwrap();
        assert_eq!(be.parts, [Part::Lit(vec![0, 0x63, 0, 0x6d, 0, 0x64])]);
        let bom = SigmaStr::literal("cmd").utf16(Utf16::WithBom).unwrap();
        assert_eq!(
            bom.parts,
            [Part::Lit(vec![0xff, 0xfe, 0x63, 0, 0x6d, 0, 0x64, 0])]
        );
        let not_text = SigmaStr::literal("é").utf16(Utf16::LittleEndian).unwrap();
        assert!(not_text.into_text_parts().is_err());
    }

    #[test]
    fn windash_permutes_flag_dashes_only() {
        let values = SigmaStr::literal("-x a-b /y").windash().unwrap();
        assert_eq!(values.len(), 25);
        let all = texts(&values);
        assert!(all.contains(&"-x a-b /y".to_string()));
        assert!(all.contains(&"/x a-b -y".to_string()));
        assert!(all.contains(&"\u{2013}x a-b \u{2015}y".to_string()));
        assert!(all.iter().all(|v| v.contains("a-b")));
        let many = SigmaStr::literal(&" -a".repeat(8)).windash();
        assert!(many.is_err());
    }

    #[test]
    fn placeholders_expand_or_reject_the_value() {
        let mut values = BTreeMap::new();
        values.insert(
            "Admins".to_string(),
            vec!["root".to_string(), "adm*".to_string()],
        );
        let expanded = SigmaStr::expand(r"user=%Admins%;\%plain%", &values).unwrap();
        assert_eq!(expanded.len(), 2);
        assert_eq!(expanded[0].parts, [lit("user=root;%plain%")]);
        assert_eq!(
            expanded[1].parts,
            [lit("user=adm"), Part::Any, lit(";%plain%")]
        );
        let error = SigmaStr::expand("%Servers%", &values).unwrap_err();
        assert!(error.contains("%Servers%"), "{error}");
    }
}
