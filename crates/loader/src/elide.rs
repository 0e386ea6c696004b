//! Blanking the validation schemas of CustomResourceDefinitions before the YAML parser sees
//! them.
//!
//! A repository that installs operators carries their CRDs, and their `openAPIV3Schema` blocks
//! are most of its bytes (nine tenths of the bundled corpus) while no control reads them.
//! Skipping them while building values ([`crate::yaml::parse_without_crd_schemas`]) saves
//! memory but not the scanning, which is the parser's main cost. So the lines of each schema
//! block are blanked in a copy of the text, keeping every other line where it was.
//!
//! A line scanner cannot read all of YAML, so it only blanks what it can prove is a schema:
//! `openAPIV3Schema:` as a block mapping key with nothing after it, in a document whose
//! top-level `kind` is `CustomResourceDefinition` (of `apiextensions.k8s.io`), outside any block scalar. It tracks block
//! scalars by indentation and gives up on the whole text (returns `None`, and the text is read
//! as it is) at anything it cannot follow line by line: a quoted scalar or flow collection
//! spanning lines, a tab in indentation, content after a document marker. The lines it blanks
//! are exactly those indented deeper than the key, which in block context are the key's value.

/// A copy of `text` with the schema blocks of its CRDs blanked (line count and every other
/// line unchanged), or `None` when there is nothing to blank or the text is not plain enough
/// to be sure.
pub fn crd_schemas_blanked(text: &str) -> Option<String> {
    if !text.contains("openAPIV3Schema")
        || !text.contains("CustomResourceDefinition")
        || has_other_line_breaks(text)
    {
        return None;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let blank = blank_ranges(&lines)?;
    if blank.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut ranges = blank.iter().peekable();
    for (i, line) in lines.iter().enumerate() {
        while ranges.next_if(|r| r.end <= i).is_some() {}
        if ranges.peek().is_some_and(|r| r.contains(&i)) {
            out.push_str(line_ending(line));
        } else {
            out.push_str(line);
        }
    }
    Some(out)
}

/// YAML also breaks lines at a lone CR and at NEL, LS and PS, which this line scanner does
/// not follow.
fn has_other_line_breaks(text: &str) -> bool {
    let bytes = text.as_bytes();
    let lone_cr = bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    lone_cr || text.contains(['\u{85}', '\u{2028}', '\u{2029}'])
}

fn line_ending(line: &str) -> &str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// Line ranges to blank, or `None` to read the text as it is.
fn blank_ranges(lines: &[&str]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut blank = Vec::new();
    let mut document = Document::default();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(rest) = document_marker(line) {
            if !is_blank_or_comment(rest) {
                return None;
            }
            document.close(&mut blank);
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        let blank_line = is_blank_or_comment(content);
        // Lines that continue a scalar or a flow collection belong to the node they continue.
        let continues = match document.state {
            State::Quoted(quote) => {
                document.state = match quote_end(content, quote) {
                    Some(_) => State::Block,
                    None => State::Quoted(quote),
                };
                true
            }
            State::Flow(flow) => {
                document.state = flow.read(content);
                true
            }
            State::BlockScalar(parent) => content.is_empty() || indent > parent,
            State::Plain(parent) => blank_line || indent > parent,
            State::Block => false,
        };
        if continues {
            if let Some(cut) = &mut document.cut
                && !blank_line
            {
                cut.lines.end = i + 1;
            }
            continue;
        }
        document.state = State::Block;
        if blank_line {
            continue;
        }
        if content.starts_with('\t') {
            return None;
        }
        // The schema's value is every line indented deeper than its key.
        if let Some(cut) = &mut document.cut {
            if indent > cut.column {
                cut.lines.end = i + 1;
            } else {
                document.end_cut();
            }
        }
        let node = read_node(content, indent);
        match (node.column, node.key) {
            (0, Some("kind")) => {
                document.crd_kind = unquoted(node.value) == "CustomResourceDefinition";
            }
            (0, Some("apiVersion")) => {
                document.crd_api = unquoted(node.value).starts_with("apiextensions.k8s.io/");
            }
            _ => {}
        }
        document.ancestry.enter(&node);
        let schema_key = node.key == Some("openAPIV3Schema") && is_blank_or_comment(node.value);
        if schema_key && document.cut.is_none() && document.ancestry.at_crd_schema() {
            document.cut = Some(Cut {
                column: node.column,
                lines: i + 1..i + 1,
            });
            continue;
        }
        document.state = State::after_value(node.value, node.column);
    }
    document.close(&mut blank);
    Some(blank)
}

#[derive(Default)]
struct Document<'a> {
    ancestry: Ancestry<'a>,
    crd_kind: bool,
    crd_api: bool,
    schemas: Vec<std::ops::Range<usize>>,
    /// The schema being read: its key's column and its lines so far.
    cut: Option<Cut>,
    state: State,
}

struct Cut {
    column: usize,
    /// Up to its last line with content: trailing blank and comment lines stay.
    lines: std::ops::Range<usize>,
}

impl Document<'_> {
    fn end_cut(&mut self) {
        if let Some(cut) = self.cut.take()
            && !cut.lines.is_empty()
        {
            self.schemas.push(cut.lines);
        }
    }

    fn close(&mut self, blank: &mut Vec<std::ops::Range<usize>>) {
        self.end_cut();
        if self.crd_kind && self.crd_api {
            blank.append(&mut self.schemas);
        }
        *self = Document::default();
    }
}

/// What the next line may be continuing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Nothing: the next line is structure (a key, an item, or the end of a block).
    #[default]
    Block,
    /// A block scalar (`|`, `>`) whose parent node is at this column.
    BlockScalar(usize),
    /// A plain scalar of a node at this column, which may continue on deeper lines.
    Plain(usize),
    /// A quoted scalar, not yet closed.
    Quoted(char),
    /// A flow collection, not yet closed.
    Flow(Flow),
}

impl State {
    /// The state after a node's value (anchors and tags first) on the line of its key.
    fn after_value(value: &str, column: usize) -> State {
        let mut v = value.trim_start_matches(' ');
        while v.starts_with(['&', '!']) {
            let end = v.find(' ').unwrap_or(v.len());
            v = v[end..].trim_start_matches(' ');
        }
        match v.chars().next() {
            None | Some('#' | '*') => State::Block,
            Some('|' | '>') => State::BlockScalar(column),
            Some(q @ ('"' | '\'')) => match quote_end(&v[1..], q) {
                Some(_) => State::Block,
                None => State::Quoted(q),
            },
            Some('[' | '{') => Flow::default().read(v),
            Some(_) => State::Plain(column),
        }
    }
}

/// Where a quoted scalar closes in `s` (which starts after the opening quote or at the start
/// of a continuation line): the byte after the closing quote.
fn quote_end(s: &str, quote: char) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            ('"', b'\\') => i += 1,
            ('"', b'"') => return Some(i + 1),
            ('\'', b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 1,
            ('\'', b'\'') => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// An open flow collection: its depth, and the quote of a scalar open inside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flow {
    depth: usize,
    quote: Option<char>,
}

impl Flow {
    /// Reads one line of a flow collection.
    fn read(mut self, line: &str) -> State {
        let mut rest = line;
        // The last character that can precede a quoted scalar (`[`, `{`, `,`, `:`).
        let mut node_start = true;
        loop {
            if let Some(q) = self.quote {
                match quote_end(rest, q) {
                    Some(end) => {
                        rest = &rest[end..];
                        self.quote = None;
                        node_start = false;
                    }
                    None => return State::Flow(self),
                }
            }
            let mut chars = rest.char_indices();
            let mut opened = None;
            let mut previous = ' ';
            for (at, c) in chars.by_ref() {
                match c {
                    '[' | '{' => self.depth += 1,
                    ']' | '}' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return State::Block;
                        }
                    }
                    '#' if previous == ' ' || previous == '\t' => return State::Flow(self),
                    '"' | '\'' if node_start => {
                        opened = Some((at + 1, c));
                        break;
                    }
                    _ => {}
                }
                if !c.is_whitespace() {
                    node_start = matches!(c, '[' | '{' | ',' | ':');
                }
                previous = c;
            }
            match opened {
                Some((at, q)) => {
                    self.quote = Some(q);
                    rest = &rest[at..];
                }
                None => return State::Flow(self),
            }
        }
    }
}

/// `---` or `...` at the start of a line: what follows it on the line.
fn document_marker(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("---")
        .or_else(|| line.strip_prefix("..."))?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

fn is_blank_or_comment(s: &str) -> bool {
    let s = s.trim_start_matches([' ', '\t']);
    s.is_empty() || s.starts_with('#')
}

/// One line's node: its mapping key (if a simple one) and the text of its value.
struct Node<'a> {
    key: Option<&'a str>,
    value: &'a str,
    /// Column where the node (key, or value for a sequence item) starts.
    column: usize,
    /// Column of the line's first character (its first `-` for sequence items).
    indent: usize,
    /// Columns of the sequence items the line opens (`- - a` opens two).
    items: Vec<usize>,
}

/// The block structure above the current line: the mapping keys and sequence items that
/// enclose it, with their columns.
#[derive(Default)]
struct Ancestry<'a> {
    levels: Vec<(usize, Level<'a>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level<'a> {
    Key(&'a str),
    Item,
}

impl<'a> Ancestry<'a> {
    /// Enters a structural line: leaves the levels it closes, opens its items and key.
    fn enter(&mut self, node: &Node<'a>) {
        let is_item = !node.items.is_empty();
        while let Some(&(column, level)) = self.levels.last() {
            // A sequence may sit at the column of the key that holds it (`key:` then `- a`).
            let holds_sequence = is_item && column == node.indent && matches!(level, Level::Key(_));
            if column < node.indent || holds_sequence {
                break;
            }
            self.levels.pop();
        }
        for column in &node.items {
            self.levels.push((*column, Level::Item));
        }
        if let Some(key) = node.key {
            self.levels.push((node.column, Level::Key(key)));
        }
    }

    /// True when the key just entered is where a CRD keeps a schema:
    /// `spec.versions[].schema.openAPIV3Schema` or `spec.validation.openAPIV3Schema`.
    fn at_crd_schema(&self) -> bool {
        let levels: Vec<Level<'_>> = self.levels.iter().map(|(_, level)| *level).collect();
        let root = self.levels.first().is_some_and(|(column, _)| *column == 0);
        root && matches!(
            levels.as_slice(),
            [
                Level::Key("spec"),
                Level::Key("versions"),
                Level::Item,
                Level::Key("schema"),
                Level::Key("openAPIV3Schema"),
            ] | [
                Level::Key("spec"),
                Level::Key("validation"),
                Level::Key("openAPIV3Schema"),
            ]
        )
    }
}

fn read_node(content: &str, indent: usize) -> Node<'_> {
    // Sequence entries: `- - key: value`.
    let mut rest = content;
    let mut column = indent;
    let mut items = Vec::new();
    while let Some(after) = rest.strip_prefix('-') {
        if !(after.is_empty() || after.starts_with(' ')) {
            break;
        }
        items.push(column);
        let trimmed = after.trim_start_matches(' ');
        column += rest.len() - trimmed.len();
        rest = trimmed;
    }
    let (key, value) = match simple_key(rest) {
        Some((key, value)) => (Some(key), value),
        None => (None, rest),
    };
    Node {
        key,
        value,
        column,
        indent,
        items,
    }
}

/// `key: value` with a plain key of ordinary characters.
fn simple_key(s: &str) -> Option<(&str, &str)> {
    let first = s.chars().next()?;
    if matches!(
        first,
        '"' | '\''
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '%'
            | '@'
            | '`'
            | '?'
            | ':'
            | ','
    ) {
        return None;
    }
    let colon = s.find(':')?;
    let (key, after) = s.split_at(colon);
    let value = &after[1..];
    if key.contains(['#', '{', '}', '[', ']', ',']) || !(value.is_empty() || value.starts_with(' '))
    {
        return None;
    }
    Some((key.trim_end(), value))
}

fn unquoted(s: &str) -> &str {
    let s = s.split(" #").next().unwrap_or(s).trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests;
