//! YAML (and JSON, its subset) to JSON values, recording the line of every field.
//!
//! Built on the event parser of `libyaml-safer`, a safe Rust port of libyaml: go-yaml, which
//! kubectl and the API server use, is a port of the same parser, so what Kubernetes accepts
//! (flow collections closed at the parent's indentation, loosely indented quoted scalars) is
//! accepted here too. Events feed an explicit stack, so deep nesting costs heap, not call
//! stack, and is bounded by [`Limits::max_depth`]. Aliases are expanded with a budget
//! ([`Limits::max_alias_nodes`]) that stops "billion laughs" documents.

use crate::error::LoadError;
use crate::resolve;
use libyaml_safer::{Event, EventData, Mark, Parser, ScalarStyle};
use palisade_model::Positions;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Bounds that keep hostile input from exhausting the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences accepted.
    pub max_depth: usize,
    /// Most nodes that alias expansion may add to one file.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 200,
            max_alias_nodes: 100_000,
        }
    }
}

/// One YAML document read from a file.
#[derive(Debug)]
pub struct Document {
    /// The document as JSON.
    pub value: Value,
    /// Line of its first node.
    pub line: u32,
    /// 0-based index in its file.
    pub index: u32,
    /// Line of every field.
    pub fields: FieldLines,
}

/// Lines of a document's fields, keyed by the hash of their JSON pointer, before they are
/// split per object.
///
/// Pointer hashes are chained (a child's hash continues its parent's), so no pointer string is
/// ever built while parsing. Fields under `/items/N` also carry their hash relative to that
/// item, so a `List` splits into objects without re-hashing.
#[derive(Debug, Default)]
pub struct FieldLines {
    entries: Vec<FieldEntry>,
}

#[derive(Debug, Clone, Copy)]
struct FieldEntry {
    abs: u64,
    rel: u64,
    item: u32,
    line: u32,
    depth: u16,
}

const NOT_AN_ITEM: u32 = u32::MAX;

impl FieldLines {
    fn record(&mut self, path: &Path, line: u32) {
        let (item, rel) = path.item.unwrap_or((NOT_AN_ITEM, 0));
        self.entries.push(FieldEntry {
            abs: path.abs,
            rel,
            item,
            line,
            depth: path.depth,
        });
    }

    /// The line index of the whole document.
    pub fn positions(&self) -> Positions {
        Positions::from_entries(self.entries.iter().map(|e| (e.abs, e.line)).collect())
    }

    /// The line index of the fields at most `depth` levels deep (`/a/b` is depth 2).
    pub fn positions_within(&self, depth: u16) -> Positions {
        Positions::from_entries(
            self.entries
                .iter()
                .filter(|e| e.depth <= depth)
                .map(|e| (e.abs, e.line))
                .collect(),
        )
    }

    /// The line index of each item of a top-level `items` list, relative to the item.
    pub fn item_positions(&self, items: usize) -> Vec<Positions> {
        let mut per_item: Vec<Vec<(u64, u32)>> = vec![Vec::new(); items];
        for e in &self.entries {
            if let Some(list) = per_item.get_mut(e.item as usize) {
                list.push((e.rel, e.line));
            }
        }
        per_item.into_iter().map(Positions::from_entries).collect()
    }
}

/// The JSON pointer of the node being read, as chained hashes.
#[derive(Debug, Clone, Copy)]
struct Path {
    abs: u64,
    /// Item index and hash relative to the item, under the document's top-level `items`.
    item: Option<(u32, u64)>,
    /// True for the document's top-level `items` sequence itself.
    root_items: bool,
    /// Number of reference tokens.
    depth: u16,
}

impl Path {
    const ROOT: Path = Path {
        abs: FNV_OFFSET,
        item: None,
        root_items: false,
        depth: 0,
    };

    fn key(&self, name: &str, parent_is_root: bool) -> Path {
        Path {
            abs: extend_token(self.abs, name),
            item: self.item.map(|(i, h)| (i, extend_token(h, name))),
            root_items: parent_is_root && name == "items",
            depth: self.depth.saturating_add(1),
        }
    }

    fn index(&self, index: usize) -> Path {
        let token = index.to_string();
        let item = if self.root_items {
            Some((u32::try_from(index).unwrap_or(NOT_AN_ITEM), FNV_OFFSET))
        } else {
            self.item.map(|(i, h)| (i, extend_token(h, &token)))
        };
        Path {
            abs: extend_token(self.abs, &token),
            item,
            root_items: false,
            depth: self.depth.saturating_add(1),
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Continues a pointer hash with `/` and an escaped reference token; equal to
/// `pointer_hash` of the full pointer string.
fn extend_token(mut hash: u64, token: &str) -> u64 {
    let mut feed = |b: u8| {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    feed(b'/');
    for b in token.bytes() {
        match b {
            b'~' => {
                feed(b'~');
                feed(b'0');
            }
            b'/' => {
                feed(b'~');
                feed(b'1');
            }
            _ => feed(b),
        }
    }
    hash
}

/// Most warnings kept per file.
const MAX_WARNINGS: usize = 100;

/// Result of reading one file: every document before the first syntax error, the error, and
/// warnings (duplicate keys) that do not stop reading.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Documents read, empty ones left out.
    pub documents: Vec<Document>,
    /// The syntax error that stopped reading, if any.
    pub error: Option<LoadError>,
    /// Problems that did not stop reading.
    pub warnings: Vec<LoadError>,
}

/// Reads every document of a YAML or JSON text.
pub fn parse(text: &str, limits: Limits) -> Parsed {
    parse_with(text, limits, false).0
}

/// Reads every document, leaving out the validation schemas of CustomResourceDefinitions
/// (`spec.versions[].schema`, `spec.validation`) as they are read: they are most of the bytes
/// of a typical repository and no control reads them, so building them would only cost time
/// and memory. Only a CRD whose `kind` comes before its `spec` is recognised early; the
/// loader drops the schemas of the others after reading.
pub fn parse_without_crd_schemas(text: &str, limits: Limits) -> Parsed {
    match parse_with(text, limits, true) {
        // An alias may name an anchor inside a skipped schema: read the file again whole.
        (parsed, true) if parsed.error.is_some() => parse(text, limits),
        (parsed, _) => parsed,
    }
}

/// The parse, and whether an anchor was skipped with a schema.
fn parse_with(text: &str, limits: Limits, skip_crd_schemas: bool) -> (Parsed, bool) {
    let mut bytes = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut bytes);
    let mut builder = Builder::new(limits);
    builder.skip_crd_schemas = skip_crd_schemas;
    let mut parsed = Parsed::default();
    let mut last_line = 1;
    loop {
        // libyaml-safer still has a `panic!` on one malformed construct (a tag followed by a
        // comma in a flow collection, found by fuzzing); hostile input must be an error, so a
        // panic inside the parser becomes one.
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse()));
        let Ok(next) = next else {
            parsed.error = Some(LoadError::syntax(
                last_line,
                1,
                "malformed YAML the parser cannot read (near this line)".into(),
            ));
            break;
        };
        let event = match next {
            Ok(ev) => {
                last_line = line_of(&ev.end_mark);
                ev
            }
            Err(e) => {
                let (line, column) = e
                    .problem_mark()
                    .map(|m| (line_of(&m), m.column as u32 + 1))
                    .unwrap_or((1, 1));
                let mut message = e.problem().to_string();
                if let (Some(context), Some(at)) = (e.context(), e.context_mark()) {
                    message = format!("{message} ({context} at line {})", line_of(&at));
                }
                parsed.error = Some(LoadError::syntax(line, column, message));
                break;
            }
        };
        match builder.on_event(event) {
            Ok(Step::Continue) => {}
            Ok(Step::Document(doc)) => parsed.documents.push(doc),
            Ok(Step::End) => break,
            Err(e) => {
                parsed.error = Some(e);
                break;
            }
        }
    }
    parsed.warnings = builder.warnings;
    (parsed, builder.skipped_anchor)
}

/// libyaml counts lines from 0.
fn line_of(mark: &Mark) -> u32 {
    u32::try_from(mark.line).unwrap_or(u32::MAX - 1) + 1
}

enum Step {
    Continue,
    Document(Document),
    End,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: Option<String>,
        path: Path,
        nodes_at_start: usize,
    },
    Map {
        /// Entries with the line of their value; the map is built at the end, at its final
        /// size, as most maps are small and a grown one wastes its slack.
        entries: Vec<(String, Value, u32)>,
        key: Option<Key>,
        merges: Vec<Value>,
        anchor: Option<String>,
        path: Path,
        nodes_at_start: usize,
        line: u32,
    },
}

enum Key {
    Name(String),
    Merge,
}

struct Builder {
    limits: Limits,
    cur: Path,
    stack: Vec<Frame>,
    anchors: HashMap<String, (Value, usize)>,
    fields: FieldLines,
    doc_line: u32,
    doc_index: u32,
    in_document: bool,
    nodes: usize,
    own_nodes: usize,
    alias_nodes: usize,
    warnings: Vec<LoadError>,
    skip_crd_schemas: bool,
    /// Inside a skipped CRD schema: how many of its collections are open.
    skipping: Option<usize>,
    skipped_anchor: bool,
}

/// Where a CustomResourceDefinition keeps validation schemas.
struct CrdPaths {
    spec: Path,
    versions: Path,
}

static CRD_PATHS: std::sync::LazyLock<CrdPaths> = std::sync::LazyLock::new(|| {
    let spec = Path::ROOT.key("spec", true);
    CrdPaths {
        versions: spec.key("versions", false),
        spec,
    }
});

impl Builder {
    fn new(limits: Limits) -> Self {
        Builder {
            limits,
            cur: Path::ROOT,
            stack: Vec::new(),
            anchors: HashMap::new(),
            fields: FieldLines::default(),
            doc_line: 0,
            doc_index: 0,
            in_document: false,
            nodes: 0,
            own_nodes: 0,
            alias_nodes: 0,
            warnings: Vec::new(),
            skip_crd_schemas: false,
            skipping: None,
            skipped_anchor: false,
        }
    }

    fn on_event(&mut self, event: Event) -> Result<Step, LoadError> {
        if let Some(open) = self.skipping {
            self.skip(event.data, open);
            return Ok(Step::Continue);
        }
        let line = line_of(&event.start_mark);
        let column = event.start_mark.column as u32 + 1;
        match event.data {
            EventData::StreamEnd => return Ok(Step::End),
            EventData::DocumentStart { .. } => {
                self.in_document = true;
                self.doc_line = 0;
                self.fields = FieldLines::default();
                self.anchors.clear();
            }
            EventData::DocumentEnd { .. } => self.in_document = false,
            EventData::Scalar {
                anchor,
                tag,
                value: text,
                style,
                ..
            } => {
                let is_key = self.expects_key();
                self.begin_node(line);
                let plain = style == ScalarStyle::Plain;
                let value = scalar_value(&text, plain, tag.as_deref())
                    .map_err(|m| LoadError::syntax(line, column, m))?;
                if is_key && plain && text == "<<" {
                    return self.set_merge_key();
                }
                self.nodes += 1;
                self.own_nodes += 1;
                if let Some(anchor) = anchor {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                return self.finish(value, line, &text);
            }
            EventData::Alias { anchor } => {
                let is_key = self.expects_key();
                self.begin_node(line);
                let size = self.anchors.get(&anchor).map(|a| a.1).ok_or_else(|| {
                    LoadError::syntax(line, column, format!("unknown alias *{anchor}"))
                })?;
                self.alias_nodes += size;
                // Checked before the copy is made: the copy is what a bomb is made of.
                if self.alias_nodes > self.limits.max_alias_nodes.max(self.own_nodes * 10) {
                    return Err(LoadError::syntax(
                        line,
                        column,
                        format!(
                            "excessive aliasing: aliases expand to more than {} nodes \
                             (a YAML alias bomb?)",
                            self.alias_nodes
                        ),
                    ));
                }
                let value = self
                    .anchors
                    .get(&anchor)
                    .map(|a| a.0.clone())
                    .unwrap_or_default();
                self.nodes += size;
                let text = if is_key {
                    value.as_str().unwrap_or_default().to_string()
                } else {
                    String::new()
                };
                return self.finish(value, line, &text);
            }
            EventData::SequenceStart { anchor, .. } => {
                self.reject_complex_key(line, column)?;
                self.begin_node(line);
                self.push(
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        path: self.cur,
                        nodes_at_start: self.nodes,
                    },
                    line,
                )?;
            }
            EventData::MappingStart { anchor, .. } => {
                self.reject_complex_key(line, column)?;
                self.begin_node(line);
                self.push(
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                        anchor,
                        path: self.cur,
                        nodes_at_start: self.nodes,
                        line,
                    },
                    line,
                )?;
            }
            EventData::SequenceEnd | EventData::MappingEnd => return self.close(line),
            EventData::StreamStart { .. } => {}
        }
        Ok(Step::Continue)
    }

    /// Consumes one event of a skipped schema; the key it belonged to is dropped at its end.
    fn skip(&mut self, data: EventData, open: usize) {
        let (anchor, open) = match data {
            EventData::MappingStart { anchor, .. } | EventData::SequenceStart { anchor, .. } => {
                (anchor, open + 1)
            }
            EventData::MappingEnd | EventData::SequenceEnd => (None, open.saturating_sub(1)),
            EventData::Scalar { anchor, .. } => (anchor, open),
            _ => (None, open),
        };
        self.skipped_anchor |= anchor.is_some();
        if open > 0 {
            self.skipping = Some(open);
            return;
        }
        self.skipping = None;
        if let Some(Frame::Map { key, path, .. }) = self.stack.last_mut() {
            *key = None;
            self.cur = *path;
        }
    }

    /// True when the key just read holds a CRD's validation schema.
    fn at_crd_schema(&self, name: &str) -> bool {
        let Some(Frame::Map { entries: root, .. }) = self.stack.first() else {
            return false;
        };
        let get = |name: &str| {
            root.iter()
                .rev()
                .find(|(key, _, _)| key == name)
                .and_then(|(_, value, _)| value.as_str())
        };
        if get("kind") != Some("CustomResourceDefinition")
            || !get("apiVersion").is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
        {
            return false;
        }
        let paths = &*CRD_PATHS;
        let path_of = |frame: Option<&Frame>| match frame {
            Some(Frame::Map { path, .. } | Frame::Seq { path, .. }) => Some(path.abs),
            None => None,
        };
        match (name, self.stack.len()) {
            ("validation", 2) => path_of(self.stack.get(1)) == Some(paths.spec.abs),
            ("schema", 4) => {
                path_of(self.stack.get(1)) == Some(paths.spec.abs)
                    && path_of(self.stack.get(2)) == Some(paths.versions.abs)
                    && matches!(self.stack.get(2), Some(Frame::Seq { .. }))
            }
            _ => false,
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn reject_complex_key(&self, line: u32, column: u32) -> Result<(), LoadError> {
        if self.expects_key() {
            return Err(LoadError::syntax(
                line,
                column,
                "a mapping key must be a scalar; Kubernetes cannot read complex keys".into(),
            ));
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame, line: u32) -> Result<(), LoadError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(LoadError::syntax(
                line,
                1,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.nodes += 1;
        self.own_nodes += 1;
        self.stack.push(frame);
        Ok(())
    }

    /// Records the pointer and line of a node that starts here.
    fn begin_node(&mut self, line: u32) {
        match self.stack.last() {
            None => {
                if self.doc_line == 0 {
                    self.doc_line = line;
                }
                self.cur = Path::ROOT;
                self.fields.record(&self.cur, line);
            }
            Some(Frame::Seq { items, path, .. }) => {
                self.cur = path.index(items.len());
                self.fields.record(&self.cur, line);
            }
            // Map values were recorded with their key.
            Some(Frame::Map { .. }) => {}
        }
    }

    fn set_merge_key(&mut self) -> Result<Step, LoadError> {
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = Some(Key::Merge);
        }
        Ok(Step::Continue)
    }

    /// A node is complete: store it in its parent, or return the document.
    fn finish(&mut self, value: Value, line: u32, text: &str) -> Result<Step, LoadError> {
        let at_root = self.stack.len() == 1;
        match self.stack.last_mut() {
            None => {
                let doc = Document {
                    value,
                    line: self.doc_line.max(1),
                    index: self.doc_index,
                    fields: std::mem::take(&mut self.fields),
                };
                self.doc_index += 1;
                self.doc_line = 0;
                if !self.in_document {
                    self.anchors.clear();
                }
                if doc.value.is_null() {
                    return Ok(Step::Continue);
                }
                return Ok(Step::Document(doc));
            }
            Some(Frame::Seq { items, path, .. }) => {
                items.push(value);
                self.cur = *path;
            }
            Some(Frame::Map {
                entries,
                key,
                merges,
                path,
                ..
            }) => match key.take() {
                None => {
                    let name = match &value {
                        Value::Object(_) | Value::Array(_) => {
                            return Err(LoadError::syntax(
                                line,
                                1,
                                "a mapping key must be a scalar".into(),
                            ));
                        }
                        other => resolve::key_string(other, text),
                    };
                    self.cur = path.key(&name, at_root);
                    self.fields.record(&self.cur, line);
                    let skip = self.skip_crd_schemas
                        && matches!(name.as_str(), "schema" | "validation")
                        && self.at_crd_schema(&name);
                    if skip {
                        self.skipping = Some(0);
                    } else if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(Key::Name(name));
                    }
                }
                Some(Key::Merge) => {
                    merges.push(value);
                    self.cur = *path;
                }
                Some(Key::Name(name)) => {
                    entries.push((name, value, line));
                    self.cur = *path;
                }
            },
        }
        Ok(Step::Continue)
    }

    fn close(&mut self, line: u32) -> Result<Step, LoadError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(Step::Continue);
        };
        let (value, anchor, nodes_at_start) = match frame {
            Frame::Seq {
                mut items,
                anchor,
                nodes_at_start,
                ..
            } => {
                items.shrink_to_fit();
                (Value::Array(items), anchor, nodes_at_start)
            }
            Frame::Map {
                entries,
                merges,
                anchor,
                nodes_at_start,
                line: map_line,
                ..
            } => {
                let mut map = Map::with_capacity(entries.len());
                for (name, value, line) in entries {
                    match map.entry(name) {
                        serde_json::map::Entry::Vacant(slot) => {
                            slot.insert(value);
                        }
                        serde_json::map::Entry::Occupied(mut slot) => {
                            // Bounded: a hostile file can repeat a key a million times.
                            if self.warnings.len() < MAX_WARNINGS {
                                self.warnings.push(LoadError::syntax(
                                    line,
                                    1,
                                    format!(
                                        "duplicate key {:?}: the last value wins, as in kubectl",
                                        slot.key()
                                    ),
                                ));
                            }
                            slot.insert(value);
                        }
                    }
                }
                for merged in merges {
                    merge_into(&mut map, merged).map_err(|m| LoadError::syntax(map_line, 1, m))?;
                }
                (Value::Object(map), anchor, nodes_at_start)
            }
        };
        if let Some(anchor) = anchor {
            let size = self.nodes.saturating_sub(nodes_at_start);
            self.anchors.insert(anchor, (value.clone(), size));
        }
        self.finish(value, line, "")
    }
}

/// YAML 1.1 merge keys (`<<: *defaults`): keys already present win, then earlier sources.
fn merge_into(map: &mut Map<String, Value>, merged: Value) -> Result<(), String> {
    let sources = match merged {
        Value::Object(m) => vec![m],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                _ => Err("a merge key (<<) takes a mapping or a list of mappings".to_string()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("a merge key (<<) takes a mapping or a list of mappings".into()),
    };
    for source in sources {
        for (k, v) in source {
            map.entry(k).or_insert(v);
        }
    }
    Ok(())
}

fn scalar_value(text: &str, plain: bool, tag: Option<&str>) -> Result<Value, String> {
    const CORE: &str = "tag:yaml.org,2002:";
    if let Some(suffix) = tag.and_then(|t| t.strip_prefix(CORE)) {
        return resolve::tagged(text, suffix, !plain);
    }
    if plain {
        Ok(resolve::plain(text))
    } else {
        Ok(Value::String(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Document {
        let mut p = parse(text, Limits::default());
        assert!(p.error.is_none(), "{:?}", p.error);
        p.documents.remove(0)
    }

    #[test]
    fn records_field_lines() {
        let doc = one(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n",
        );
        let pos = doc.fields.positions();
        assert_eq!(
            pos.exact("/spec/containers/0/securityContext/privileged"),
            Some(9)
        );
        assert_eq!(pos.exact("/spec/containers/0"), Some(7));
        assert_eq!(pos.exact("/metadata/name"), Some(4));
        assert_eq!(doc.line, 1);
    }

    #[test]
    fn chained_hashes_match_escaped_pointers() {
        let doc = one(
            "metadata:\n  annotations:\n    ignore.palisade.dev/PAL-101: ok\n    a~b: x\nlist:\n- - deep\n",
        );
        let pos = doc.fields.positions();
        assert_eq!(
            pos.exact("/metadata/annotations/ignore.palisade.dev~1PAL-101"),
            Some(3)
        );
        assert_eq!(pos.exact("/metadata/annotations/a~0b"), Some(4));
        assert_eq!(pos.exact("/list/0/0"), Some(6));
    }

    #[test]
    fn multi_document_and_empty_documents() {
        let p = parse(
            "---\n# only a comment\n---\na: 1\n---\n---\nb: yes\n",
            Limits::default(),
        );
        assert!(p.error.is_none());
        let values: Vec<_> = p.documents.iter().map(|d| d.value.clone()).collect();
        assert_eq!(values, vec![json!({"a": 1}), json!({"b": true})]);
        assert_eq!(p.documents[0].line, 4);
        assert_eq!(p.documents[1].line, 7);
    }

    #[test]
    fn json_input() {
        let doc =
            one("{\n  \"kind\": \"Pod\",\n  \"spec\": {\"hostPID\": true, \"x\": \"a\\/b\"}\n}\n");
        assert_eq!(doc.value["spec"]["hostPID"], json!(true));
        assert_eq!(doc.value["spec"]["x"], json!("a/b"));
        assert_eq!(doc.fields.positions().exact("/spec/hostPID"), Some(3));
    }

    #[test]
    fn merge_keys_and_anchors() {
        let doc = one("base: &b {cpu: 1, mem: 2}\nother:\n  <<: *b\n  cpu: 5\n");
        assert_eq!(doc.value["other"], json!({"cpu": 5, "mem": 2}));
    }

    #[test]
    fn quirky_keys_become_strings() {
        let doc = one("on: 1\n1: x\n");
        assert_eq!(doc.value, json!({"true": 1, "1": "x"}));
    }

    #[test]
    fn alias_bomb_is_rejected() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let p = parse(&text, Limits::default());
        let err = p.error.expect("bomb must fail");
        assert!(err.to_string().contains("excessive aliasing"), "{err}");
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = "[".repeat(5000) + &"]".repeat(5000);
        let p = parse(&text, Limits::default());
        assert!(p.error.is_some());
        let text = "a:\n".to_string()
            + &(1..400)
                .map(|i| format!("{}b:\n", "  ".repeat(i)))
                .collect::<String>();
        assert!(parse(&text, Limits::default()).error.is_some());
    }

    #[test]
    fn parser_panics_become_errors() {
        // Found by fuzzing: a tag followed by a comma in a flow sequence.
        let p = parse("a: 1\n---\nb: [!x, 2]\n", Limits::default());
        assert_eq!(p.documents.len(), 1);
        let e = p.error.expect("error");
        assert_eq!(e.line(), Some(3), "{e}");
    }

    #[test]
    fn syntax_error_keeps_earlier_documents() {
        let p = parse("a: 1\n---\nb: [1, 2\nc: 3\n", Limits::default());
        assert_eq!(p.documents.len(), 1);
        let e = p.error.expect("error");
        assert!(e.line().is_some_and(|l| l >= 3), "{e}");
    }

    #[test]
    fn duplicate_keys_warn_and_last_wins() {
        let p = parse("privileged: false\nprivileged: true\n", Limits::default());
        assert_eq!(p.documents[0].value, json!({"privileged": true}));
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line(), Some(2));
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}\n    served: true\n  - name: v2\n    schema: {openAPIV3Schema: {type: object}}\n    served: false\n  validation:\n    openAPIV3Schema: {type: object}\n";

    #[test]
    fn crd_schemas_are_skipped_while_reading() {
        let p = parse_without_crd_schemas(CRD, Limits::default());
        assert!(p.error.is_none(), "{:?}", p.error);
        let doc = &p.documents[0];
        assert_eq!(
            doc.value["spec"],
            json!({"group": "example.com", "versions": [
                {"name": "v1", "served": true}, {"name": "v2", "served": false}]})
        );
        let pos = doc.fields.positions();
        assert_eq!(pos.exact("/spec/versions/0/served"), Some(14));
        assert_eq!(pos.exact("/spec/versions/1/served"), Some(17));
        assert_eq!(pos.exact("/spec/versions/0/schema/openAPIV3Schema"), None);
        // Reading everything gives the schemas.
        let whole = parse(CRD, Limits::default());
        assert!(whole.documents[0].value["spec"]["versions"][0]["schema"].is_object());
    }

    #[test]
    fn schema_keys_elsewhere_are_kept() {
        // Not a CRD, or kind after spec: nothing is skipped while reading.
        for text in [
            "apiVersion: example.com/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema: {a: 1}\n",
            "apiVersion: v1\nkind: ConfigMap\nspec:\n  versions:\n  - schema: {a: 1}\n  validation: x\n",
            "spec:\n  versions:\n  - schema: {a: 1}\nkind: CustomResourceDefinition\n",
        ] {
            let p = parse_without_crd_schemas(text, Limits::default());
            assert_eq!(
                p.documents[0].value["spec"]["versions"][0]["schema"],
                json!({"a": 1})
            );
        }
    }

    #[test]
    fn alias_into_a_skipped_schema_reads_again_whole() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - name: v1\n    schema: &s {openAPIV3Schema: {type: object}}\n  - name: v2\n    schema: *s\nmetadata: {name: x, annotations: {copy: *s}}\n";
        let p = parse_without_crd_schemas(text, Limits::default());
        assert!(p.error.is_none(), "{:?}", p.error);
        assert_eq!(
            p.documents[0].value["metadata"]["annotations"]["copy"],
            json!({"openAPIV3Schema": {"type": "object"}})
        );
    }
}
