//! Values that remember where they were written, and values that absorb their own errors.

use super::de::{SPANNED, TOLERANT};
use super::{Layout, Pos, Span};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A value with the span of the YAML node it was read from.
///
/// Only [`from_node`](super::from_node) can produce spans; the JSON Schema of a `Spanned<T>`
/// is that of `T`.
#[derive(Clone)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value with a span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }

    /// The position of the node's start.
    pub fn pos(&self) -> Pos {
        self.span.start
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Positions are noise in assertion diffs; the value is what matters.
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl std::borrow::Borrow<str> for Spanned<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read from a stack file")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let raw: [u32; 7] = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("missing span"))?;
                let value: T = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("missing value"))?;
                let layout = match raw[4] {
                    1 => Layout::Inline(Pos {
                        line: raw[5],
                        column: raw[6],
                    }),
                    2 => Layout::Block {
                        first_line: raw[5],
                        indent: raw[6],
                    },
                    _ => Layout::Opaque,
                };
                let span = Span {
                    start: Pos {
                        line: raw[0],
                        column: raw[1],
                    },
                    end: Pos {
                        line: raw[2],
                        column: raw[3],
                    },
                    layout,
                };
                Ok(Spanned { value, span })
            }
        }

        deserializer.deserialize_struct(SPANNED, &["span", "value"], SpannedVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A value that, when it fails to deserialize, records the error and lets its parent carry
/// on. Wrapping each resource (and each top-level section) in `Tolerant` is what makes one
/// validation run report the mistakes of every resource, not just the first.
#[derive(Debug, Clone, PartialEq)]
pub enum Tolerant<T> {
    /// The value deserialized.
    Ok(T),
    /// It did not; the error was recorded by [`from_node`](super::from_node).
    Failed,
}

impl<T> Tolerant<T> {
    /// The value, if it deserialized.
    pub fn ok(self) -> Option<T> {
        match self {
            Tolerant::Ok(v) => Some(v),
            Tolerant::Failed => None,
        }
    }

    /// A reference to the value, if it deserialized.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Tolerant::Ok(v) => Some(v),
            Tolerant::Failed => None,
        }
    }
}

impl<T: Default> Default for Tolerant<T> {
    fn default() -> Self {
        Tolerant::Ok(T::default())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tolerant<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TolerantVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for TolerantVisitor<T> {
            type Value = Tolerant<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read from a stack file")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<Self::Value, D::Error> {
                // The capturing deserializer has already recorded the error with its
                // position; here it only becomes a failed value.
                Ok(T::deserialize(deserializer).map_or(Tolerant::Failed, Tolerant::Ok))
            }
        }

        deserializer.deserialize_struct(TOLERANT, &["value"], TolerantVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Tolerant<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::yaml::{from_node, parse};
    use indexmap::IndexMap;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        name: Spanned<String>,
        count: u32,
    }

    #[test]
    fn spanned_values_carry_their_position() {
        let doc = parse("name: abc\ncount: 3\n").unwrap();
        let (thing, errors) = from_node::<Thing>(&doc);
        assert!(errors.is_empty());
        let thing = thing.unwrap();
        assert_eq!(thing.name.value, "abc");
        assert_eq!(thing.name.pos(), Pos { line: 1, column: 7 });
        assert_eq!(thing.count, 3);
    }

    #[test]
    fn tolerant_collects_every_failure_with_its_position() {
        let doc = parse(
            "a: {name: x, count: 1}\nb: {name: y, cuont: 2}\nc: {name: z, count: many}\nd: {name: w, count: 4}\n",
        )
        .unwrap();
        let (map, errors) = from_node::<IndexMap<String, Tolerant<Thing>>>(&doc);
        let map = map.unwrap();
        assert!(matches!(map["a"], Tolerant::Ok(_)));
        assert!(matches!(map["b"], Tolerant::Failed));
        assert!(matches!(map["c"], Tolerant::Failed));
        assert!(matches!(map["d"], Tolerant::Ok(_)));
        // `b`: the unknown key is reported and skipped, then `count` is missing.
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].message.contains("unknown field `cuont`"));
        assert_eq!(
            errors[0].hint.as_deref(),
            Some("did you mean `count`?"),
            "{errors:?}"
        );
        assert_eq!(errors[0].span.unwrap().start, Pos { line: 2, column: 14 });
        assert!(errors[1].message.contains("missing field `count`"), "{errors:?}");
        assert_eq!(errors[1].span.unwrap().start.line, 2);
        assert!(
            errors[2].message.contains("invalid type"),
            "{}",
            errors[2].message
        );
        assert_eq!(errors[2].span.unwrap().start, Pos { line: 3, column: 21 });
    }

    #[test]
    fn missing_fields_point_at_the_mapping() {
        let doc = parse("x:\n  name: a\n").unwrap();
        let (_, errors) = from_node::<IndexMap<String, Tolerant<Thing>>>(&doc);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("missing field `count`"));
        assert_eq!(errors[0].span.unwrap().start.line, 2);
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Stream { shards: Spanned<u32> },
        Other,
    }

    #[test]
    fn externally_tagged_enums_keep_inner_positions() {
        let doc = parse("r:\n  stream:\n    shards: 4\n").unwrap();
        let (map, errors) = from_node::<IndexMap<String, Kind>>(&doc);
        assert!(errors.is_empty(), "{errors:?}");
        let Kind::Stream { shards } = &map.unwrap()["r"] else {
            panic!()
        };
        assert_eq!(shards.pos(), Pos { line: 3, column: 13 });
        let doc = parse("r:\n  strem: {}\n").unwrap();
        let (_, errors) = from_node::<IndexMap<String, Kind>>(&doc);
        assert_eq!(errors[0].hint.as_deref(), Some("did you mean `stream`?"));
        assert_eq!(errors[0].span.unwrap().start, Pos { line: 2, column: 3 });
        let doc = parse("r: other\n").unwrap();
        let (map, errors) = from_node::<IndexMap<String, Kind>>(&doc);
        assert!(errors.is_empty());
        assert!(matches!(map.unwrap()["r"], Kind::Other));
    }
}
