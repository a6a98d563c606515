//! YAML with positions.
//!
//! `stack.yaml` is parsed into a small tree of [`Node`]s that keeps, for every scalar, sequence
//! and mapping, where it came from. Typed values are then deserialized from that tree with serde
//! (see [`de`]). Working from a tree instead of a token stream is what lets validation report
//! *every* problem at once: a subtree that fails to deserialize is recorded and skipped (see
//! [`Tolerant`]) while its siblings carry on.

pub mod de;
mod spanned;

pub use de::{DeError, from_node};
pub use spanned::{Spanned, Tolerant};

use granit_parser::{Event, Parser, ScalarStyle, Span as ParserSpan};
use std::fmt;

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How a scalar's text is laid out in the file, so that a position *inside* the value (a
/// `${reference}`, a template error) can be mapped back to a file position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// Not a scalar, or a layout we cannot map into (folded blocks, multi-line flow scalars):
    /// positions inside the value fall back to the node's start.
    #[default]
    Opaque,
    /// The value's first character is at this position and the value is on one line
    /// (plain or quoted scalars).
    Inline(Pos),
    /// A literal block scalar (`|`): value line `n` (1-based) is file line `first_line + n - 1`,
    /// indented by `indent` columns.
    Block {
        /// File line of the value's first line.
        first_line: u32,
        /// Number of indentation columns stripped from each line.
        indent: u32,
    },
}

/// Where a node is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Start of the node.
    pub start: Pos,
    /// End of the node (exclusive).
    pub end: Pos,
    /// Layout of a scalar's text.
    pub layout: Layout,
}

impl Span {
    /// The file position of the character at `char_index` within this scalar's value.
    pub fn at_char(&self, value: &str, char_index: usize) -> Pos {
        let mut line = 1u32;
        let mut column = 1u32;
        for ch in value.chars().take(char_index) {
            if ch == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        self.at_line_column(line, column)
    }

    /// The file position of 1-based `line`:`column` within this scalar's value.
    pub fn at_line_column(&self, line: u32, column: u32) -> Pos {
        match self.layout {
            Layout::Inline(first) if line == 1 => Pos {
                line: first.line,
                column: first.column + column.saturating_sub(1),
            },
            Layout::Block { first_line, indent } => Pos {
                line: first_line + line.saturating_sub(1),
                column: indent + column,
            },
            _ => self.start,
        }
    }
}

/// The style a scalar was written in; it decides how the scalar may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// Unquoted: may be read as null, a boolean or a number.
    Plain,
    /// Quoted or block: always a string.
    Text,
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where it is.
    pub span: Span,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar, as written (after YAML escape processing).
    Scalar(String, ScalarKind),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A short name of the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar(_, ScalarKind::Plain) if self.is_null() => "null",
            NodeValue::Scalar(..) => "a scalar",
            NodeValue::Seq(_) => "a sequence",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// Whether this is a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar(s, ScalarKind::Plain) if is_null_text(s))
    }

    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node as JSON, with plain scalars typed by YAML 1.2's core schema.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Scalar(s, ScalarKind::Text) => Value::String(s.clone()),
            NodeValue::Scalar(s, ScalarKind::Plain) => match resolve_plain(s) {
                Plain::Null => Value::Null,
                Plain::Bool(b) => Value::Bool(b),
                Plain::Int(i) => Value::from(i),
                Plain::Float(f) => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(s.clone())),
                Plain::Str => Value::String(s.clone()),
            },
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

pub(crate) fn is_null_text(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// A plain scalar resolved by YAML 1.2's core schema.
pub(crate) enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

pub(crate) fn resolve_plain(s: &str) -> Plain {
    if is_null_text(s) {
        return Plain::Null;
    }
    match s {
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Plain::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(s) {
        return Plain::Int(i);
    }
    let looks_numeric = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && s.chars().any(|c| c.is_ascii_digit());
    if looks_numeric && let Ok(f) = s.parse::<f64>() {
        return Plain::Float(f);
    }
    Plain::Str
}

pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub pos: Pos,
}

/// Parse one YAML document into a [`Node`] tree. An empty document is a null scalar.
///
/// # Errors
/// A [`SyntaxError`] for malformed YAML, a second document, or an alias to an unknown anchor.
pub fn parse(source: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder {
        source_lines: source.lines().collect(),
        stack: Vec::new(),
        anchors: Vec::new(),
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(source) {
        let (event, span) = event.map_err(|e| SyntaxError {
            message: e.info(),
            pos: pos_of(e.marker().line(), e.marker().col()),
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.root.unwrap_or(Node {
        value: NodeValue::Scalar(String::new(), ScalarKind::Plain),
        span: Span::default(),
    }))
}

fn pos_of(line: usize, col0: usize) -> Pos {
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(col0 + 1).unwrap_or(u32::MAX),
    }
}

enum Open {
    Seq(Span, usize, Vec<Node>),
    Map(Span, usize, Vec<(Node, Node)>, Option<Node>),
}

struct Builder<'s> {
    source_lines: Vec<&'s str>,
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: ParserSpan) -> Result<(), SyntaxError> {
        let start = pos_of(span.start.line(), span.start.col());
        let end = pos_of(span.end.line(), span.end.col());
        let plain_span = Span {
            start,
            end,
            layout: Layout::Opaque,
        };
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError {
                        message: "a stack file holds one YAML document; found a second `---`".into(),
                        pos: start,
                    });
                }
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let (kind, layout) = match style {
                    ScalarStyle::Plain => (ScalarKind::Plain, inline_layout(&text, start, 0)),
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                        (ScalarKind::Text, inline_layout(&text, start, 1))
                    }
                    ScalarStyle::Literal => (ScalarKind::Text, self.block_layout(start)),
                    ScalarStyle::Folded => (ScalarKind::Text, Layout::Opaque),
                };
                let node = Node {
                    value: NodeValue::Scalar(text.into_owned(), kind),
                    span: Span { layout, ..plain_span },
                };
                self.push(node, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                self.stack.push(Open::Seq(plain_span, anchor, Vec::new()));
            }
            Event::MappingStart(_, anchor, _) => {
                self.stack.push(Open::Map(plain_span, anchor, Vec::new(), None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(mut s, anchor, items)) => {
                        s.end = end;
                        (
                            Node {
                                value: NodeValue::Seq(items),
                                span: s,
                            },
                            anchor,
                        )
                    }
                    Some(Open::Map(mut s, anchor, entries, _)) => {
                        s.end = end;
                        (
                            Node {
                                value: NodeValue::Map(entries),
                                span: s,
                            },
                            anchor,
                        )
                    }
                    None => return Ok(()),
                };
                self.push(node.0, node.1)?;
            }
            Event::Alias(id) => {
                let target = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .ok_or_else(|| SyntaxError {
                        message: "alias to an unknown anchor".into(),
                        pos: start,
                    })?;
                self.push(target, 0)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(_, _, items)) => items.push(node),
            Some(Open::Map(_, _, entries, pending_key)) => match pending_key.take() {
                None => {
                    if !matches!(node.value, NodeValue::Scalar(..)) {
                        return Err(SyntaxError {
                            message: "mapping keys must be plain strings".into(),
                            pos: node.span.start,
                        });
                    }
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == node.value) {
                        return Err(SyntaxError {
                            message: format!(
                                "duplicate key `{}` (first defined at line {})",
                                node.as_str().unwrap_or_default(),
                                first.span.start.line
                            ),
                            pos: node.span.start,
                        });
                    }
                    *pending_key = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }

    /// A literal block's content starts on the line after its `|` header, indented by the
    /// first non-blank content line's indentation. The parser may report the scalar's start
    /// at the header or at the first content line; the source text tells which.
    fn block_layout(&self, start: Pos) -> Layout {
        let line_at = |n: u32| {
            self.source_lines
                .get(usize::try_from(n).unwrap_or(usize::MAX).wrapping_sub(1))
                .copied()
        };
        let at_header = line_at(start.line)
            .and_then(|l| l.chars().nth(usize::try_from(start.column).unwrap_or(1) - 1))
            .is_some_and(|c| c == '|');
        let first_line = if at_header { start.line + 1 } else { start.line };
        let indent = (first_line..)
            .take(self.source_lines.len() + 1)
            .map_while(line_at)
            .find(|l| !l.trim().is_empty())
            .map(|l| l.chars().take_while(|c| *c == ' ').count())
            .unwrap_or(0);
        Layout::Block {
            first_line,
            indent: u32::try_from(indent).unwrap_or(0),
        }
    }
}

fn inline_layout(text: &str, start: Pos, quote: u32) -> Layout {
    if text.contains('\n') {
        Layout::Opaque
    } else {
        Layout::Inline(Pos {
            line: start.line,
            column: start.column + quote,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn positions_of_nested_nodes() {
        let doc = parse("a:\n  b: [1, 'two']\n  c: |\n    line one\n    line two\n").unwrap();
        let b = doc.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.span.start, Pos { line: 2, column: 6 });
        let NodeValue::Seq(items) = &b.value else { panic!() };
        assert_eq!(items[1].span.start, Pos { line: 2, column: 10 });
        assert_eq!(items[1].span.at_char("two", 1), Pos { line: 2, column: 12 });
        let c = doc.get("a").unwrap().get("c").unwrap();
        assert_eq!(c.span.at_line_column(2, 3), Pos { line: 5, column: 7 });
    }

    #[test]
    fn duplicate_keys_are_rejected_with_position() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos, Pos { line: 3, column: 1 });
        assert!(err.message.contains("duplicate key `a`"));
    }

    #[test]
    fn anchors_and_aliases_copy_the_node() {
        let doc = parse("x: &v {k: 1}\ny: *v\n").unwrap();
        assert_eq!(doc.get("y").unwrap().get("k").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_core_schema() {
        let doc = parse("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: x1\n").unwrap();
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":"x1"})
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1);
    }
}
