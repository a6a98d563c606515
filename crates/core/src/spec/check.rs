//! The validation context: collects diagnostics and knows which resources exist, so each
//! kind's `validate` can check names, ranges and references in one pass.

use super::diagnostic::Diagnostic;
use super::kinds::Kind;
use super::names::{self, NameRule};
use super::text::{Reference, ScanPart, Segment, Text, is_vtl_object};
use crate::yaml::{Pos, Spanned};
use indexmap::IndexMap;
use std::fmt::Display;

/// A string read from the stack file, with its position.
pub type Str = Spanned<String>;

/// Validation state shared by all resource kinds.
pub struct Checker<'a> {
    diagnostics: Vec<Diagnostic>,
    /// Every declared resource (logical name → kind), including ones whose body failed to
    /// parse, so references to them are not reported twice.
    resources: &'a IndexMap<String, Option<Kind>>,
}

impl<'a> Checker<'a> {
    /// A checker that knows the declared resources.
    pub fn new(resources: &'a IndexMap<String, Option<Kind>>) -> Self {
        Checker {
            diagnostics: Vec::new(),
            resources,
        }
    }

    /// The problems found so far.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Records a problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Records a problem at `pos`.
    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Diagnostic::at(pos, message));
    }

    /// Records a problem at `pos` with a hint.
    pub fn error_hint(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Diagnostic::at(pos, message).hint(hint));
    }

    /// The kind of a declared resource (`None` if it is not declared or failed to parse).
    pub fn kind_of(&self, resource: &str) -> Option<Kind> {
        self.resources.get(resource).copied().flatten()
    }

    /// Checks a name that must be literal (no references) against an AWS rule.
    pub fn name(&mut self, name: &Str, rule: &NameRule) -> String {
        let (_, placeholders) = Text::scan(&name.value, |_| true);
        if placeholders.iter().any(|p| p.inner.contains('.')) {
            self.error_hint(
                name.pos(),
                format!("{} cannot reference other resources", rule.what),
                "names may use variables (`${stack}`, `${attendee}`, `vars:`) but not `${resource.attribute}`",
            );
        } else if placeholders.is_empty()
            && let Some(problem) = rule.check(&name.value)
        {
            // A name with an unknown `${variable}` was reported where the variable is.
            self.error(name.pos(), problem);
        }
        name.value.clone()
    }

    /// Checks that `value` lies in `lo..=hi`.
    pub fn range<T: PartialOrd + Copy + Display>(
        &mut self,
        value: &Spanned<T>,
        lo: T,
        hi: T,
        what: &str,
    ) -> T {
        if value.value < lo || value.value > hi {
            self.error(
                value.pos(),
                format!("{what} must be between {lo} and {hi} (got {})", value.value),
            );
        }
        value.value
    }

    /// Parses a string field: every `${...}` must reference an attribute of a declared resource.
    pub fn text(&mut self, s: &Str) -> Text {
        self.interpolate(s, false)
    }

    /// Parses a mapping template: `${resource.attribute}` is ours when `resource` is declared;
    /// anything else is VTL's and stays in the text.
    pub fn template(&mut self, s: &Str) -> Text {
        self.interpolate(s, true)
    }

    fn interpolate(&mut self, s: &Str, template: bool) -> Text {
        let resources = self.resources;
        let keep = |inner: &str| {
            if !template {
                return true;
            }
            let first = inner.split('.').next().unwrap_or_default().trim();
            !is_vtl_object(first) && resources.contains_key(first)
        };
        let (parts, placeholders) = Text::scan(&s.value, keep);
        let mut segments = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                ScanPart::Lit(l) => segments.push(Segment::Lit(l)),
                ScanPart::Placeholder(i) => {
                    let p = &placeholders[i];
                    let pos = s.span.at_char(&s.value, p.char_index);
                    match self.reference(&p.inner, pos) {
                        Some(r) => segments.push(Segment::Ref(r)),
                        // Keep the text so later checks see something sensible.
                        None => segments.push(Segment::Lit(format!("${{{}}}", p.inner))),
                    }
                }
            }
        }
        Text { segments }
    }

    fn reference(&mut self, inner: &str, pos: Pos) -> Option<Reference> {
        let Some((resource, attribute)) = inner.trim().split_once('.') else {
            // Variables were substituted earlier; an unknown one was reported there.
            return None;
        };
        let Some(declared) = self.resources.get(resource) else {
            let hint = crate::yaml::de::closest(resource, self.resources.keys().map(String::as_str))
                .map(|c| format!("did you mean `{c}`?"))
                .unwrap_or_else(|| {
                    format!(
                        "declared resources: {}",
                        self.resources
                            .keys()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
            self.error_hint(
                pos,
                format!("unknown resource `{resource}` in `${{{inner}}}`"),
                hint,
            );
            return None;
        };
        if let Some(kind) = declared
            && !kind.exports(attribute)
        {
            let hint = match crate::yaml::de::closest(attribute, kind.attribute_names()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!(
                    "a {} exports {}",
                    kind.name(),
                    kind.attribute_names()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.error_hint(
                pos,
                format!("`{resource}` ({}) has no attribute `{attribute}`", kind.name()),
                hint,
            );
            return None;
        }
        Some(Reference {
            resource: resource.to_owned(),
            attribute: attribute.to_owned(),
        })
    }

    /// Parses a field that must hold the ARN of a resource of `kind`: either a literal ARN or
    /// exactly `${name.arn}` of a resource of that kind.
    pub fn arn_of(&mut self, s: &Str, kind: Kind, field: &str) -> Text {
        self.arn_attribute_of(s, kind, "arn", field)
    }

    /// Like [`Checker::arn_of`] for an ARN a resource exports under another attribute (a
    /// solution's `solution_version_arn`): a literal ARN, or exactly `${name.<attribute>}` of
    /// a resource of `kind`.
    pub fn arn_attribute_of(&mut self, s: &Str, kind: Kind, attribute: &str, field: &str) -> Text {
        let text = self.text(s);
        // "the ARN of a iam_role" for `arn`, "the `solution_version_arn` of a …" otherwise.
        let what = if attribute == "arn" {
            "ARN".to_owned()
        } else {
            format!("`{attribute}`")
        };
        match text.segments.as_slice() {
            [Segment::Ref(r)] => {
                if let Some(actual) = self.kind_of(&r.resource)
                    && (actual != kind || r.attribute != attribute)
                {
                    self.error_hint(
                        s.pos(),
                        format!(
                            "`{field}` must be the {what} of a {}; `{r}` is the `{}` of a {}",
                            kind.name(),
                            r.attribute,
                            actual.name()
                        ),
                        format!("reference a {} as `${{name.{attribute}}}`", kind.name()),
                    );
                }
            }
            _ => match text.as_literal() {
                Some(lit) if names::is_arn(&lit) => {}
                Some(lit) if lit.contains("${") => {}
                _ => self.error_hint(
                    s.pos(),
                    format!("`{field}` must be the {what} of a {}", kind.name()),
                    format!(
                        "write `${{name.{attribute}}}` for a {} of this stack, or a full `arn:aws:...` ARN",
                        kind.name()
                    ),
                ),
            },
        }
        text
    }

    /// Checks and copies a tag map (AWS: ≤ 50 tags, keys 1–128, values ≤ 256, no `aws:` keys;
    /// `personalize-stack:` is ours).
    pub fn tags(&mut self, tags: &IndexMap<Str, Str>) -> IndexMap<String, String> {
        if let Some((k, _)) = tags.get_index(50) {
            self.error(k.pos(), "at most 50 tags are allowed per resource");
        }
        let mut out = IndexMap::new();
        for (k, v) in tags {
            let key = &k.value;
            if key.is_empty() || key.chars().count() > 128 {
                self.error(k.pos(), format!("tag key `{key}` must be 1–128 characters"));
            } else if key.to_ascii_lowercase().starts_with("aws:") {
                self.error(
                    k.pos(),
                    format!("tag key `{key}` uses the reserved prefix `aws:`"),
                );
            } else if key.starts_with("personalize-stack:") {
                self.error_hint(
                    k.pos(),
                    format!("tag key `{key}` uses the prefix `personalize-stack:`"),
                    "that prefix marks ownership and is set by personalize-stack itself",
                );
            }
            if v.value.chars().count() > 256 {
                self.error(
                    v.pos(),
                    format!("the value of tag `{key}` is longer than 256 characters"),
                );
            }
            out.insert(key.clone(), v.value.clone());
        }
        out
    }
}
