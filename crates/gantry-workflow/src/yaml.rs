//! YAML documents as trees of nodes that remember where they came from.
//!
//! Scalars are typed with the YAML 1.2 core schema, as GitHub types them:
//! plain `true`/`False`/`NULL`/`0x1F`/`1e3` become booleans, nulls and
//! numbers; quoted and block scalars stay strings. Explicit core-schema tags
//! (`!!str`, `!!int`, ...) are honoured and checked; any other tag is an
//! error. Anchors and aliases are expanded (an alias is a copy of the node it
//! names, spans included), and `<<` merge keys are applied, explicit keys
//! winning. Expansion is bounded so that alias bombs fail instead of eating
//! memory.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::source::{SourceFile, Span};

/// A YAML node and the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// For scalars, how they were written; `Plain` for collections.
    pub style: Style,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Seq(Vec<Node>),
    /// Key/value pairs in source order; duplicate keys are kept so that the
    /// reader can report them.
    Map(Vec<(Node, Node)>),
}

/// A step of a path into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathItem<'a> {
    Key(&'a str),
    Index(usize),
}

/// The style a scalar was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Style {
    fn name(self) -> &'static str {
        match self {
            Style::Plain => "Plain",
            Style::SingleQuoted => "SingleQuoted",
            Style::DoubleQuoted => "DoubleQuoted",
            Style::Literal => "Literal",
            Style::Folded => "Folded",
        }
    }
}

impl Node {
    /// An empty null node.
    pub fn null() -> Node {
        Node {
            kind: NodeKind::Null,
            span: Span::point(0),
            style: Style::Plain,
        }
    }

    /// The value of `key` in a mapping, with the key node.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The value at a path of mapping keys and sequence indexes.
    pub fn at(&self, path: &[PathItem<'_>]) -> Option<&Node> {
        let mut node = self;
        for item in path {
            node = match (item, &node.kind) {
                (PathItem::Key(k), _) => node.entry(k)?.1,
                (PathItem::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The string of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "boolean",
            NodeKind::Number(_) => "number",
            NodeKind::String(_) => "string",
            NodeKind::Seq(_) => "sequence",
            NodeKind::Map(_) => "mapping",
        }
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self.kind, NodeKind::Seq(_) | NodeKind::Map(_))
    }

    /// A scalar as GitHub shows it in text: strings as they are, numbers in
    /// the expression language's format, booleans as `true`/`false`, null
    /// as the empty string. `None` for collections.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Null => Some(String::new()),
            NodeKind::Bool(b) => Some(b.to_string()),
            NodeKind::Number(n) => Some(format_number(*n)),
            NodeKind::String(s) => Some(s.clone()),
            NodeKind::Seq(_) | NodeKind::Map(_) => None,
        }
    }
}

/// Formats a number as GitHub does when it turns one into a string.
pub fn format_number(n: f64) -> String {
    gantry_expr::Value::Number(n).to_display_string()
}

/// Limits that keep hostile documents from exhausting the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How deeply collections may nest.
    pub max_depth: usize,
    /// How many nodes the document may hold once aliases are expanded.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 50,
            max_nodes: 1_000_000,
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    pub kind: YamlErrorKind,
}

/// The kinds of [`YamlError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum YamlErrorKind {
    /// The text is not YAML.
    Syntax,
    /// A tag that is not one of the core schema's, or a value its tag rejects.
    Tag,
    /// Nesting or alias expansion beyond the limits.
    Limit,
    /// More than one document in the stream.
    MultipleDocuments,
}

/// Parses the single YAML document of `file`. An empty file is a null node.
pub fn parse(file: &SourceFile, limits: Limits) -> Result<Node, YamlError> {
    // GitHub's YAML reader accepts a comment right after a flow collection
    // (`- [a]# note`), which YAML 1.2 rejects; do the same by reading such
    // a `#` as if a space came before it.
    let mut text = std::borrow::Cow::Borrowed(file.text());
    let mut inserted: Vec<usize> = Vec::new();
    loop {
        let mut builder = Builder {
            file,
            parser: Parser::new_from_str(&text),
            text: &text,
            byte_of_char: CharIndex::new(&text),
            inserted: &inserted,
            anchors: HashMap::new(),
            nodes: 0,
            limits,
            unseparated_comment: None,
            last_end: 0,
            prev_end: 0,
        };
        match builder.document() {
            Err(err) if err.kind == YamlErrorKind::Syntax && inserted.len() < 64 => {
                let Some(at) = builder.unseparated_comment.take() else {
                    return Err(err);
                };
                for p in &mut inserted {
                    if *p >= at {
                        *p += 1;
                    }
                }
                inserted.push(at);
                inserted.sort_unstable();
                let mut owned = text.into_owned();
                owned.insert(at, ' ');
                text = std::borrow::Cow::Owned(owned);
            }
            result => return result,
        }
    }
}

/// Converts the parser's character offsets into byte offsets.
struct CharIndex {
    /// Byte offset of every character when the text is not ASCII.
    offsets: Option<Vec<usize>>,
    len: usize,
}

impl CharIndex {
    fn new(text: &str) -> Self {
        let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        Self {
            offsets,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.len),
            Some(offsets) => offsets.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

struct Builder<'a> {
    file: &'a SourceFile,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// The text parsed: the file's, or a copy with spaces inserted.
    text: &'a str,
    byte_of_char: CharIndex,
    /// Where spaces were inserted into `text`, ascending.
    inserted: &'a [usize],
    anchors: HashMap<usize, Node>,
    nodes: usize,
    limits: Limits,
    /// Where a `#` not preceded by a space stopped the scanner.
    unseparated_comment: Option<usize>,
    /// The end of the last event read, and of the one before it (in `text`).
    last_end: usize,
    prev_end: usize,
}

const CORE: &str = "tag:yaml.org,2002:";

impl<'a> Builder<'a> {
    /// A byte offset of `text` as an offset of the file.
    fn original(&self, offset: usize) -> usize {
        offset - self.inserted.partition_point(|&p| p < offset)
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                let start = self.byte_of_char.byte(span.start.index());
                let end = self.byte_of_char.byte(span.end.index());
                self.prev_end = self.last_end;
                self.last_end = end;
                let span = self.adjust(&event, start, end);
                Ok((event, span))
            }
            Some(Err(err)) => {
                let at = self.byte_of_char.byte(err.marker().index());
                if err.info().contains("comments must be separated") {
                    // The `#` is at or just after the marker.
                    if let Some(hash) = self.text.get(at..).and_then(|t| t.find('#')) {
                        self.unseparated_comment = Some(at + hash);
                    }
                }
                Err(YamlError {
                    message: err.info().to_string(),
                    span: Span::point(self.original(at)),
                    kind: YamlErrorKind::Syntax,
                })
            }
            None => Err(self.error(
                Span::point(self.file.text().len()),
                YamlErrorKind::Syntax,
                "unexpected end of the YAML stream",
            )),
        }
    }

    /// The span of an event in the file, placed where GitHub places it:
    /// block scalars start at their `|` or `>` and end at their last
    /// character; an empty value starts after its key's `:`.
    fn adjust(&self, event: &Event<'_>, mut start: usize, mut end: usize) -> Span {
        if let Event::Scalar(value, style, ..) = event {
            match style {
                ScalarStyle::Literal | ScalarStyle::Folded => {
                    let between = self.text.get(self.prev_end..start).unwrap_or("");
                    if let Some(i) = between.find(['|', '>']) {
                        start = self.prev_end + i;
                    }
                    let body = self.text.get(start..end).unwrap_or("");
                    end = start + body.trim_end().len();
                }
                ScalarStyle::Plain
                    if value.is_empty()
                        && start == end
                        && self.text.as_bytes().get(start) == Some(&b':') =>
                {
                    start += 1;
                    end += 1;
                }
                _ => {}
            }
        }
        Span::new(self.original(start), self.original(end))
    }

    /// Where a collection ends given its end event: after the `]` or `}` of
    /// a flow collection; a block collection ends with its last item.
    fn closing_end(&self, end_event: Span) -> usize {
        match self.file.text().as_bytes().get(end_event.start) {
            Some(b']' | b'}') => end_event.start + 1,
            _ => 0,
        }
    }

    fn error(&self, span: Span, kind: YamlErrorKind, message: impl Into<String>) -> YamlError {
        YamlError {
            message: message.into(),
            span,
            kind,
        }
    }

    fn document(&mut self) -> Result<Node, YamlError> {
        let mut root = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    if root.is_some() {
                        return Err(self.error(
                            span,
                            YamlErrorKind::MultipleDocuments,
                            "a workflow file holds one YAML document, but a second one starts here",
                        ));
                    }
                    let (event, span) = self.next()?;
                    root = Some(self.node(event, span, 0)?);
                }
                Event::StreamEnd => break,
                _ => {
                    return Err(self.error(span, YamlErrorKind::Syntax, "unexpected YAML content"));
                }
            }
        }
        Ok(root.unwrap_or(Node {
            kind: NodeKind::Null,
            span: Span::point(0),
            style: Style::Plain,
        }))
    }

    fn count(&mut self, span: Span, n: usize) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(self.error(
                span,
                YamlErrorKind::Limit,
                format!(
                    "the document expands to more than {} nodes (are aliases nested too deeply?)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node, YamlError> {
        if depth > self.limits.max_depth {
            return Err(self.error(span, YamlErrorKind::Limit, "Maximum object depth exceeded"));
        }
        self.count(span, 1)?;
        let (node, anchor) = match event {
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(self.error(span, YamlErrorKind::Syntax, "unknown alias"));
                };
                let size = node_count(&node);
                self.count(span, size)?;
                return Ok(node);
            }
            Event::Scalar(value, style, anchor, tag) => {
                (self.scalar(&value, style, tag.as_deref(), span)?, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "seq", span)?;
                let mut items = Vec::new();
                let mut end = span.end;
                loop {
                    let (event, item_span) = self.next()?;
                    if let Event::SequenceEnd = event {
                        end = end.max(self.closing_end(item_span));
                        break;
                    }
                    let item = self.node(event, item_span, depth + 1)?;
                    end = end.max(item.span.end);
                    items.push(item);
                }
                let node = Node {
                    kind: NodeKind::Seq(items),
                    span: Span::new(span.start, end),
                    style: Style::Plain,
                };
                (node, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                self.collection_tag(tag.as_deref(), "map", span)?;
                let mut pairs = Vec::new();
                let mut merges = Vec::new();
                let mut end = span.end;
                loop {
                    let (event, key_span) = self.next()?;
                    if let Event::MappingEnd = event {
                        end = end.max(self.closing_end(key_span));
                        break;
                    }
                    let key = self.node(event, key_span, depth + 1)?;
                    let (event, value_span) = self.next()?;
                    let value = self.node(event, value_span, depth + 1)?;
                    end = end.max(value.span.end).max(key.span.end);
                    if key.style == Style::Plain && key.as_str() == Some("<<") {
                        merges.push(value);
                    } else {
                        pairs.push((key, value));
                    }
                }
                for merge in merges {
                    self.merge(&mut pairs, merge)?;
                }
                let node = Node {
                    kind: NodeKind::Map(pairs),
                    span: Span::new(span.start, end),
                    style: Style::Plain,
                };
                (node, anchor)
            }
            _ => {
                return Err(self.error(span, YamlErrorKind::Syntax, "unexpected YAML event"));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    /// Applies a `<<` merge: keys of the merged mapping(s) not already present.
    fn merge(&self, pairs: &mut Vec<(Node, Node)>, merge: Node) -> Result<(), YamlError> {
        let sources = match merge.kind {
            NodeKind::Map(_) => vec![merge],
            NodeKind::Seq(items) if items.iter().all(|i| matches!(i.kind, NodeKind::Map(_))) => {
                items
            }
            _ => {
                return Err(self.error(
                    merge.span,
                    YamlErrorKind::Syntax,
                    "a `<<` merge key takes a mapping or a sequence of mappings",
                ));
            }
        };
        for source in sources {
            let NodeKind::Map(source_pairs) = source.kind else {
                continue;
            };
            for (key, value) in source_pairs {
                if !pairs.iter().any(|(k, _)| k.kind == key.kind) {
                    pairs.push((key, value));
                }
            }
        }
        Ok(())
    }

    fn collection_tag(
        &self,
        tag: Option<&Tag>,
        expected: &str,
        span: Span,
    ) -> Result<(), YamlError> {
        match tag {
            None => Ok(()),
            Some(tag) => {
                let full = tag_name(tag);
                if full == format!("{CORE}{expected}") {
                    Ok(())
                } else {
                    Err(self.error(span, YamlErrorKind::Tag, format!("Unexpected tag '{full}'")))
                }
            }
        }
    }

    fn scalar(
        &self,
        value: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Node, YamlError> {
        let style = match style {
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
            _ => Style::Plain,
        };
        let kind = match tag {
            None if style == Style::Plain => resolve_plain(value),
            None => NodeKind::String(value.to_string()),
            Some(tag) => {
                let full = tag_name(tag);
                let Some(suffix) = full.strip_prefix(CORE) else {
                    return Err(self.error(
                        span,
                        YamlErrorKind::Tag,
                        format!("Unexpected tag '{full}'"),
                    ));
                };
                if suffix != "str" && style != Style::Plain {
                    let pos = self.file.position(span.start);
                    return Err(self.error(
                        span,
                        YamlErrorKind::Tag,
                        format!(
                            "The scalar style '{}' on line {} and column {} is not valid with the tag '{full}'",
                            style.name(),
                            pos.line,
                            pos.column
                        ),
                    ));
                }
                let typed = match suffix {
                    "str" => Some(NodeKind::String(value.to_string())),
                    "null" => parse_null(value).then_some(NodeKind::Null),
                    "bool" => parse_bool(value).map(NodeKind::Bool),
                    "int" => parse_int(value).map(NodeKind::Number),
                    "float" => parse_float(value).map(NodeKind::Number),
                    _ => {
                        return Err(self.error(
                            span,
                            YamlErrorKind::Tag,
                            format!("Unexpected tag '{full}'"),
                        ));
                    }
                };
                match typed {
                    Some(kind) => kind,
                    None => {
                        let pos = self.file.position(span.start);
                        return Err(self.error(
                            span,
                            YamlErrorKind::Tag,
                            format!(
                                "The value '{value}' on line {} and column {} is invalid for the type '{full}'",
                                pos.line, pos.column
                            ),
                        ));
                    }
                }
            }
        };
        Ok(Node { kind, span, style })
    }
}

fn tag_name(tag: &Tag) -> String {
    if tag.handle == "!" {
        format!("!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn node_count(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        NodeKind::Map(pairs) => {
            1 + pairs
                .iter()
                .map(|(k, v)| node_count(k) + node_count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(value: &str) -> NodeKind {
    if parse_null(value) {
        NodeKind::Null
    } else if let Some(b) = parse_bool(value) {
        NodeKind::Bool(b)
    } else if let Some(n) = parse_int(value).or_else(|| parse_float(value)) {
        NodeKind::Number(n)
    } else {
        NodeKind::String(value.to_string())
    }
}

fn parse_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(value: &str) -> Option<f64> {
    let digits = |s: &str, radix: u32| {
        (!s.is_empty() && s.chars().all(|c| c.is_digit(radix)))
            .then(|| u128::from_str_radix(s, radix).ok().map(|n| n as f64))
            .flatten()
    };
    if let Some(hex) = value.strip_prefix("0x") {
        return digits(hex, 16);
    }
    if let Some(oct) = value.strip_prefix("0o") {
        return digits(oct, 8);
    }
    let (negative, rest) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: f64 = rest.parse().ok()?;
    Some(if negative { -n } else { n })
}

fn parse_float(value: &str) -> Option<f64> {
    match value {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let bytes = value.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        i += 1;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn load(text: &str) -> Result<Node, YamlError> {
        let file = SourceFile::new("t.yml", text);
        parse(&file, Limits::default())
    }

    fn map(node: &Node) -> Vec<(String, &Node)> {
        match &node.kind {
            NodeKind::Map(pairs) => pairs
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap(), v))
                .collect(),
            _ => panic!("not a map: {node:?}"),
        }
    }

    #[test]
    fn core_schema_types_plain_scalars_only() {
        let node = load("a: true\nb: 'true'\nc: 0x1F\nd: 1.5e3\ne: ~\nf: 012\ng: .inf\nh: 1_000\n")
            .unwrap();
        let m = map(&node);
        assert_eq!(m[0].1.kind, NodeKind::Bool(true));
        assert_eq!(m[1].1.kind, NodeKind::String("true".into()));
        assert_eq!(m[2].1.kind, NodeKind::Number(31.0));
        assert_eq!(m[3].1.kind, NodeKind::Number(1500.0));
        assert_eq!(m[4].1.kind, NodeKind::Null);
        assert_eq!(m[5].1.kind, NodeKind::Number(12.0));
        assert_eq!(m[6].1.kind, NodeKind::Number(f64::INFINITY));
        assert_eq!(m[7].1.kind, NodeKind::String("1_000".into()));
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "on: push\njobs:\n  build:\n    runs-on: 'x'\n";
        let file = SourceFile::new("t.yml", text);
        let node = parse(&file, Limits::default()).unwrap();
        let jobs = map(&node)[1].1;
        let build = map(jobs)[0].1;
        let NodeKind::Map(pairs) = &build.kind else {
            panic!()
        };
        let (key, value) = &pairs[0];
        assert_eq!(file.slice(key.span), "runs-on");
        assert_eq!(file.slice(value.span), "'x'");
        assert_eq!(file.position(value.span.start).to_string(), "4:14");
    }

    #[test]
    fn aliases_and_merge_keys_expand() {
        let node =
            load("base: &b\n  x: 1\n  y: 2\nderived:\n  <<: *b\n  y: 3\ncopy: *b\n").unwrap();
        let m = map(&node);
        let derived = map(m[1].1);
        assert_eq!(derived.len(), 2);
        assert_eq!(derived[0].0, "y");
        assert_eq!(derived[0].1.kind, NodeKind::Number(3.0));
        assert_eq!(derived[1].0, "x");
        assert_eq!(map(m[2].1).len(), 2);
    }

    #[test]
    fn explicit_tags_are_checked() {
        assert_eq!(
            load("a: !!str 1").map(|n| map(&n)[0].1.kind.clone()),
            Ok(NodeKind::String("1".into()))
        );
        let err = load("a: !!bool test").unwrap_err();
        assert!(
            err.message
                .contains("is invalid for the type 'tag:yaml.org,2002:bool'"),
            "{err}"
        );
        let err = load("a: !!timestamp 2022-10-26").unwrap_err();
        assert_eq!(err.message, "Unexpected tag 'tag:yaml.org,2002:timestamp'");
        let err = load("a: !!int \"300\"").unwrap_err();
        assert!(
            err.message
                .starts_with("The scalar style 'DoubleQuoted' on line 1 and column 4"),
            "{err}"
        );
        assert!(load("a: !custom x").is_err());
    }

    #[test]
    fn alias_bombs_hit_the_node_limit() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        let err = load(&text).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Limit);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        assert!(load(&text).is_err());
    }

    #[test]
    fn block_scalars_start_at_their_indicator() {
        let file = SourceFile::new("t.yml", "a: |\n  x\nb: >-  # note\n  y\n\nc:\n");
        let node = parse(&file, Limits::default()).unwrap();
        let m = map(&node);
        assert_eq!(file.slice(m[0].1.span), "|\n  x");
        assert_eq!(file.slice(m[1].1.span), ">-  # note\n  y");
        assert_eq!(file.position(m[2].1.span.start).to_string(), "6:3");
    }

    #[test]
    fn a_comment_right_after_a_flow_collection_is_accepted() {
        let file = SourceFile::new("t.yml", "a: [x]# note\nb: [y]#n\n");
        let node = parse(&file, Limits::default()).unwrap();
        let m = map(&node);
        assert_eq!(m.len(), 2);
        assert_eq!(file.slice(m[1].1.span), "[y]");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = load("a: [1, 2\nb: c").unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::Syntax);
    }
}
