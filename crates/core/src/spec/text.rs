//! `${...}` interpolation.
//!
//! Two passes, because variables may stand where numbers are expected (`shards: ${shards}`)
//! while references to other resources are only known once deployed:
//! 1. [`substitute_vars`] replaces `${stack}`, `${region}`, `${attendee}`, `${account_id}`
//!    and user `vars` in every scalar of the YAML tree, before typing;
//! 2. `Text::parse` splits what remains of a string field into literals and
//!    `${resource.attribute}` references.
//!
//! `$${` writes a literal `${`. In mapping templates a `${...}` whose first name is not a
//! resource is left alone, because VTL uses the same syntax for its formal references
//! (`${input.body}`).

use crate::yaml::{Node, NodeValue, Pos};
use indexmap::IndexMap;
use std::fmt;

/// A reference to an attribute of another resource: `${stream.arn}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// The logical name of the resource.
    pub resource: String,
    /// The attribute, e.g. `arn`.
    pub attribute: String,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${{{}.{}}}", self.resource, self.attribute)
    }
}

/// A piece of a [`Text`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Literal text.
    Lit(String),
    /// A value known only once the referenced resource exists.
    Ref(Reference),
}

/// A string value that may contain references to other resources.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Text {
    /// Literal and reference segments, in order.
    pub segments: Vec<Segment>,
}

/// A `${...}` found while parsing a [`Text`], with the character index of its `$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Text between the braces.
    pub inner: String,
    /// Index (in characters) of the `$` within the value.
    pub char_index: usize,
}

impl Text {
    /// A literal text.
    pub fn literal(s: impl Into<String>) -> Self {
        Text {
            segments: vec![Segment::Lit(s.into())],
        }
    }

    /// Split `value` into literals and placeholders. `keep(inner)` decides whether a
    /// placeholder is ours (returned for resolution) or left in the text verbatim.
    pub fn scan(value: &str, keep: impl Fn(&str) -> bool) -> (Vec<ScanPart>, Vec<Placeholder>) {
        let mut parts = Vec::new();
        let mut placeholders = Vec::new();
        let mut lit = String::new();
        let chars: Vec<char> = value.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
                lit.push_str("${");
                i += 3;
                continue;
            }
            if chars[i] == '$'
                && chars.get(i + 1) == Some(&'{')
                && let Some(close) = chars[i + 2..].iter().position(|c| *c == '}')
            {
                let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                if keep(&inner) {
                    if !lit.is_empty() {
                        parts.push(ScanPart::Lit(std::mem::take(&mut lit)));
                    }
                    let p = Placeholder { inner, char_index: i };
                    parts.push(ScanPart::Placeholder(placeholders.len()));
                    placeholders.push(p);
                    i += close + 3;
                    continue;
                }
            }
            lit.push(chars[i]);
            i += 1;
        }
        if !lit.is_empty() {
            parts.push(ScanPart::Lit(lit));
        }
        (parts, placeholders)
    }

    /// The references this text contains.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Ref(r) => Some(r),
            Segment::Lit(_) => None,
        })
    }

    /// The text when it has no references.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Lit(l) => out.push_str(l),
                Segment::Ref(_) => return None,
            }
        }
        Some(out)
    }

    /// The text with every reference replaced by `resolve(reference)`.
    ///
    /// # Errors
    /// The first reference `resolve` cannot resolve.
    pub fn resolve(
        &self,
        mut resolve: impl FnMut(&Reference) -> Option<String>,
    ) -> Result<String, &Reference> {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Lit(l) => out.push_str(l),
                Segment::Ref(r) => out.push_str(&resolve(r).ok_or(r)?),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.segments {
            match s {
                Segment::Lit(l) => f.write_str(&l.replace("${", "$${"))?,
                Segment::Ref(r) => write!(f, "{r}")?,
            }
        }
        Ok(())
    }
}

/// A part of a scanned string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanPart {
    /// Literal text (with `$${` already unescaped).
    Lit(String),
    /// The placeholder at this index of the returned list.
    Placeholder(usize),
}

/// A variable used in a scalar that no one defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The variable name.
    pub name: String,
    /// Where it is used.
    pub pos: Pos,
}

/// Replace `${name}` (no dot) for every variable in `vars` in every scalar under `node`.
/// Placeholders without a dot that name no variable are reported; `$${` escapes and dotted
/// placeholders are left for the reference pass ([`Text::scan`]).
pub fn substitute_vars(node: &mut Node, vars: &IndexMap<String, String>, unknown: &mut Vec<UnknownVariable>) {
    match &mut node.value {
        NodeValue::Scalar(s, kind) => {
            if !s.contains("${") {
                return;
            }
            // A scalar that is exactly one variable takes the variable's type, so that
            // `shards: "${shards}"` (quoted, as flow mappings need) is still a number.
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
                && let Some(v) = vars.get(name.trim())
            {
                *s = v.clone();
                *kind = crate::yaml::ScalarKind::Plain;
                return;
            }
            // Only `${name}` without a dot is a variable; `$${` escapes and `${a.b}`
            // references are copied verbatim for the reference pass.
            let chars: Vec<char> = s.chars().collect();
            let mut out = String::with_capacity(s.len());
            let mut i = 0;
            while i < chars.len() {
                if chars[i] == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
                    out.push_str("$${");
                    i += 3;
                    continue;
                }
                if chars[i] == '$'
                    && chars.get(i + 1) == Some(&'{')
                    && let Some(close) = chars[i + 2..].iter().position(|c| *c == '}')
                {
                    let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                    let name = inner.trim();
                    if !name.contains('.') {
                        match vars.get(name) {
                            Some(v) => {
                                out.push_str(v);
                                i += close + 3;
                                continue;
                            }
                            None if is_identifier(name) && !is_vtl_object(name) => {
                                unknown.push(UnknownVariable {
                                    name: name.to_owned(),
                                    pos: node.span.at_char(s, i),
                                });
                            }
                            None => {}
                        }
                    }
                }
                out.push(chars[i]);
                i += 1;
            }
            *s = out;
        }
        NodeValue::Seq(items) => {
            for item in items {
                substitute_vars(item, vars, unknown);
            }
        }
        NodeValue::Map(entries) => {
            for (_, v) in entries {
                substitute_vars(v, vars, unknown);
            }
        }
    }
}

/// Whether `s` is a plain identifier (`[A-Za-z_][A-Za-z0-9_-]*`).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Names that VTL mapping templates use for their own objects; `${input.body}` in a
/// template is VTL's, never ours.
pub const VTL_OBJECTS: &[&str] = &[
    "input",
    "util",
    "context",
    "stageVariables",
    "foreach",
    "velocityCount",
];

/// Whether `name` is one of [`VTL_OBJECTS`].
pub fn is_vtl_object(name: &str) -> bool {
    VTL_OBJECTS.contains(&name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::yaml::parse;

    #[test]
    fn scan_splits_placeholders_and_unescapes() {
        let (parts, ph) = Text::scan("a-${x.arn}-$${lit}-${y}", |_| true);
        assert_eq!(ph.len(), 2);
        assert_eq!(ph[0].inner, "x.arn");
        assert_eq!(ph[0].char_index, 2);
        assert_eq!(
            parts,
            vec![
                ScanPart::Lit("a-".into()),
                ScanPart::Placeholder(0),
                ScanPart::Lit("-${lit}-".into()),
                ScanPart::Placeholder(1),
            ]
        );
    }

    #[test]
    fn variables_are_substituted_before_typing() {
        let mut node = parse("a: ${n}\nb: x-${stack}-${r.arn}\nc: ${nope}\n").unwrap();
        let vars = IndexMap::from([("n".into(), "3".into()), ("stack".into(), "s".into())]);
        let mut unknown = Vec::new();
        substitute_vars(&mut node, &vars, &mut unknown);
        assert_eq!(node.get("a").unwrap().as_str(), Some("3"));
        assert_eq!(node.get("b").unwrap().as_str(), Some("x-s-${r.arn}"));
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].name, "nope");
        assert_eq!(unknown[0].pos, Pos { line: 3, column: 4 });
    }
}
