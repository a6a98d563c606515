//! A serde `Deserializer` over [`Node`] trees.
//!
//! Every error leaves with the position of the innermost node that caused it. Plain scalars
//! are typed on demand: `shards: 2` reads as a number where a number is expected and as the
//! string `"2"` where a string is expected, the way a YAML user expects.

use super::{Node, NodeValue, Plain, ScalarKind, Span, parse_int, resolve_plain};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::cell::RefCell;
use std::fmt;

/// A deserialization error with the position of the node it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    /// What is wrong, in serde's words or ours.
    pub message: String,
    /// Where: the innermost node the error was raised on.
    pub span: Option<Span>,
    /// A suggestion, e.g. the closest known field name.
    pub hint: Option<String>,
}

impl DeError {
    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            span: None,
            hint: None,
        }
    }
}

/// Where [`Tolerant`](super::Tolerant) values drop the errors they absorb.
pub(crate) type ErrorSink = RefCell<Vec<DeError>>;

pub(crate) const SPANNED: &str = "$__personalize_stack_spanned";
pub(crate) const TOLERANT: &str = "$__personalize_stack_tolerant";

/// Deserialize `T` from `node`. Errors absorbed by [`Tolerant`](super::Tolerant) fields are
/// returned alongside the value; a hard error (outside any `Tolerant`) is returned as `Err`
/// together with the absorbed ones.
///
/// # Errors
/// Every error found, in document order, each with the position of its node.
pub fn from_node<'n, T: de::Deserialize<'n>>(node: &'n Node) -> (Option<T>, Vec<DeError>) {
    let sink = ErrorSink::default();
    let result = T::deserialize(NodeDe {
        node,
        sink: &sink,
        capture: false,
    });
    let mut errors = sink.into_inner();
    let value = match result {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    (value, errors)
}

/// Deserializes one node.
#[derive(Clone, Copy)]
pub(crate) struct NodeDe<'n, 's> {
    node: &'n Node,
    sink: &'s ErrorSink,
    /// When set, this node is the root of a `Tolerant` value: an error leaving it is recorded
    /// in the sink (with its innermost position) before it propagates to the `Tolerant`
    /// visitor, which turns it into a recorded failure.
    capture: bool,
}

impl<'n, 's> NodeDe<'n, 's> {
    fn child(&self, node: &'n Node) -> NodeDe<'n, 's> {
        NodeDe {
            node,
            sink: self.sink,
            capture: false,
        }
    }

    fn finish<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| {
            let e = e.at(self.node.span);
            if self.capture {
                self.sink.borrow_mut().push(e.clone());
            }
            e
        })
    }

    fn invalid_type(&self, expected: &dyn de::Expected) -> DeError {
        let unexpected = match &self.node.value {
            NodeValue::Scalar(s, ScalarKind::Plain) => match resolve_plain(s) {
                Plain::Null => de::Unexpected::Unit,
                Plain::Bool(b) => de::Unexpected::Bool(b),
                Plain::Int(i) => de::Unexpected::Signed(i),
                Plain::Float(f) => de::Unexpected::Float(f),
                Plain::Str => de::Unexpected::Str(s),
            },
            NodeValue::Scalar(s, ScalarKind::Text) => de::Unexpected::Str(s),
            NodeValue::Seq(_) => de::Unexpected::Seq,
            NodeValue::Map(_) => de::Unexpected::Map,
        };
        de::Error::invalid_type(unexpected, expected)
    }

    fn scalar(&self) -> Option<(&'n str, ScalarKind)> {
        match &self.node.value {
            NodeValue::Scalar(s, k) => Some((s.as_str(), *k)),
            _ => None,
        }
    }

    fn any<V: Visitor<'n>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Scalar(s, ScalarKind::Text) => visitor.visit_borrowed_str(s),
            NodeValue::Scalar(s, ScalarKind::Plain) => match resolve_plain(s) {
                Plain::Null => visitor.visit_unit(),
                Plain::Bool(b) => visitor.visit_bool(b),
                Plain::Int(i) => visitor.visit_i64(i),
                Plain::Float(f) => visitor.visit_f64(f),
                Plain::Str => visitor.visit_borrowed_str(s),
            },
            NodeValue::Seq(items) => visitor.visit_seq(SeqAccess {
                de: *self,
                items: items.iter(),
            }),
            NodeValue::Map(entries) => visitor.visit_map(MapAccess {
                de: *self,
                entries: entries.iter(),
                value: None,
                fields: None,
            }),
        }
    }

    fn integer<V: Visitor<'n>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some((s, ScalarKind::Plain)) => match parse_int(s) {
                Some(i) => visitor.visit_i64(i),
                None => match s.parse::<u64>() {
                    Ok(u) => visitor.visit_u64(u),
                    Err(_) => Err(self.invalid_type(&visitor)),
                },
            },
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn float<V: Visitor<'n>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some((s, ScalarKind::Plain)) => match resolve_plain(s) {
                Plain::Int(i) => visitor.visit_i64(i),
                Plain::Float(f) => visitor.visit_f64(f),
                _ => Err(self.invalid_type(&visitor)),
            },
            _ => Err(self.invalid_type(&visitor)),
        }
    }
}

macro_rules! forward_integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.finish(self.integer(visitor))
        }
    )*};
}

impl<'n> de::Deserializer<'n> for NodeDe<'n, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.finish(self.any(visitor))
    }

    fn deserialize_bool<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.scalar() {
            Some((s, ScalarKind::Plain)) => match resolve_plain(s) {
                Plain::Bool(b) => visitor.visit_bool(b),
                _ => Err(self.invalid_type(&visitor)),
            },
            _ => Err(self.invalid_type(&visitor)),
        };
        self.finish(r)
    }

    forward_integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.finish(self.float(visitor))
    }

    fn deserialize_f64<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.finish(self.float(visitor))
    }

    fn deserialize_char<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Any scalar reads as its text: `name: 2024` is the string "2024".
        let r = match self.scalar() {
            Some((s, _)) => visitor.visit_borrowed_str(s),
            None => Err(self.invalid_type(&visitor)),
        };
        self.finish(r)
    }

    fn deserialize_string<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        };
        self.finish(r)
    }

    fn deserialize_unit<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = if self.node.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        };
        self.finish(r)
    }

    fn deserialize_unit_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let r = visitor.visit_newtype_struct(self);
        self.finish(r)
    }

    fn deserialize_seq<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            NodeValue::Seq(items) => visitor.visit_seq(SeqAccess {
                de: self,
                items: items.iter(),
            }),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.finish(r)
    }

    fn deserialize_tuple<V: Visitor<'n>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            NodeValue::Map(entries) => visitor.visit_map(MapAccess {
                de: self,
                entries: entries.iter(),
                value: None,
                fields: None,
            }),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.finish(r)
    }

    fn deserialize_struct<V: Visitor<'n>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            let span = self.node.span;
            return visitor.visit_seq(SpannedAccess {
                de: self,
                span: Some(span),
                value_done: false,
            });
        }
        if name == TOLERANT {
            // The Tolerant visitor deserializes the inner value from a capturing node and
            // never fails; the error it swallowed has been recorded by `finish`.
            return visitor.visit_newtype_struct(NodeDe {
                capture: true,
                ..self
            });
        }
        let r = match &self.node.value {
            NodeValue::Map(entries) => visitor.visit_map(MapAccess {
                de: self,
                entries: entries.iter(),
                value: None,
                fields: Some(fields),
            }),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.finish(r)
    }

    fn deserialize_enum<V: Visitor<'n>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            NodeValue::Scalar(..) => visitor.visit_enum(EnumAccess {
                de: self,
                key: self.node,
                value: None,
                variants,
            }),
            NodeValue::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                visitor.visit_enum(EnumAccess {
                    de: self,
                    key: k,
                    value: Some(v),
                    variants,
                })
            }
            NodeValue::Map(entries) => Err(DeError {
                message: format!(
                    "expected a mapping with exactly one key, one of {}; found {}",
                    list(variants),
                    if entries.is_empty() {
                        "an empty mapping".to_owned()
                    } else {
                        format!("{} keys", entries.len())
                    }
                ),
                span: None,
                hint: None,
            }),
            NodeValue::Seq(_) => Err(self.invalid_type(&visitor)),
        };
        self.finish(r)
    }

    fn deserialize_identifier<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: edits, with a swap of neighbours counting as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

struct SeqAccess<'n, 's, I> {
    de: NodeDe<'n, 's>,
    items: I,
}

impl<'n, I: Iterator<Item = &'n Node>> de::SeqAccess<'n> for SeqAccess<'n, '_, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'n>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed.deserialize(self.de.child(node)).map(Some),
            None => Ok(None),
        }
    }
}

struct MapAccess<'n, 's, I> {
    de: NodeDe<'n, 's>,
    entries: I,
    value: Option<&'n Node>,
    /// The struct's field names, to reject unknown keys with a suggestion.
    fields: Option<&'static [&'static str]>,
}

impl<'n, I: Iterator<Item = &'n (Node, Node)>> de::MapAccess<'n> for MapAccess<'n, '_, I> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'n>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        // An unknown key is recorded and skipped rather than failing the whole struct, so the
        // rest of it (a whole stack file, for a top-level typo) is still checked and every
        // problem is reported at once. The recorded error still fails the parse.
        let (key, value) = loop {
            let Some((key, value)) = self.entries.next() else {
                return Ok(None);
            };
            match (self.fields, key.as_str()) {
                (Some(fields), Some(name)) if !fields.contains(&name) => {
                    self.de.sink.borrow_mut().push(DeError {
                        message: format!("unknown field `{name}`, expected one of {}", list(fields)),
                        span: Some(key.span),
                        hint: closest(name, fields.iter().copied()).map(|c| format!("did you mean `{c}`?")),
                    });
                }
                _ => break (key, value),
            }
        };
        self.value = Some(value);
        seed.deserialize(self.de.child(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'n>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed.deserialize(self.de.child(node)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

struct EnumAccess<'n, 's> {
    de: NodeDe<'n, 's>,
    key: &'n Node,
    value: Option<&'n Node>,
    variants: &'static [&'static str],
}

impl<'n, 's> de::EnumAccess<'n> for EnumAccess<'n, 's> {
    type Error = DeError;
    type Variant = VariantAccess<'n, 's>;

    fn variant_seed<V: DeserializeSeed<'n>>(self, seed: V) -> Result<(V::Value, Self::Variant), DeError> {
        let name = self.key.as_str().unwrap_or_default();
        if !self.variants.contains(&name) {
            return Err(DeError {
                message: format!("unknown kind `{name}`, expected one of {}", list(self.variants)),
                span: Some(self.key.span),
                hint: closest(name, self.variants.iter().copied()).map(|c| format!("did you mean `{c}`?")),
            });
        }
        let v = seed.deserialize(self.de.child(self.key))?;
        Ok((
            v,
            VariantAccess {
                de: self.de,
                value: self.value,
            },
        ))
    }
}

struct VariantAccess<'n, 's> {
    de: NodeDe<'n, 's>,
    value: Option<&'n Node>,
}

impl<'n, 's> VariantAccess<'n, 's> {
    fn value_de(&self) -> Result<NodeDe<'n, 's>, DeError> {
        self.value
            .map(|v| self.de.child(v))
            .ok_or_else(|| de::Error::custom("expected a mapping with the variant's fields"))
    }
}

impl<'n> de::VariantAccess<'n> for VariantAccess<'n, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None => Ok(()),
            Some(v) if v.is_null() => Ok(()),
            Some(v) => Err(DeError {
                message: "this kind takes no settings".into(),
                span: Some(v.span),
                hint: None,
            }),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'n>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self.value_de()?)
    }

    fn tuple_variant<V: Visitor<'n>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self.value_de()?, visitor)
    }

    fn struct_variant<V: Visitor<'n>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self.value_de()?, "", fields, visitor)
    }
}

/// Feeds a [`Spanned`](super::Spanned) visitor: first the span, then the value.
struct SpannedAccess<'n, 's> {
    de: NodeDe<'n, 's>,
    span: Option<Span>,
    value_done: bool,
}

impl<'n> de::SeqAccess<'n> for SpannedAccess<'n, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'n>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        if let Some(span) = self.span.take() {
            return seed.deserialize(SpanDe(span)).map(Some);
        }
        if !self.value_done {
            self.value_done = true;
            return seed.deserialize(self.de).map(Some);
        }
        Ok(None)
    }
}

/// Hands a [`Span`] to `Spanned`'s visitor through serde, as a sequence of integers
/// (serde has no way to pass an arbitrary value to a visitor).
struct SpanDe(Span);

impl<'de> de::Deserializer<'de> for SpanDe {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let s = self.0;
        let (layout_tag, a, b) = match s.layout {
            super::Layout::Opaque => (0u32, 0u32, 0u32),
            super::Layout::Inline(p) => (1, p.line, p.column),
            super::Layout::Block { first_line, indent } => (2, first_line, indent),
        };
        let fields = [
            s.start.line,
            s.start.column,
            s.end.line,
            s.end.column,
            layout_tag,
            a,
            b,
        ];
        visitor.visit_seq(de::value::SeqDeserializer::new(
            fields
                .into_iter()
                .map(IntoDeserializer::<DeError>::into_deserializer),
        ))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
