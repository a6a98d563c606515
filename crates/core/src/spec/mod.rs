//! The stack model: `stack.yaml` as written ([`RawStack`], with positions) and as checked
//! ([`Stack`]). [`parse`] goes from text to a `Stack`, or to every problem found.
//!
//! # Guarantees
//! - A `Stack` has passed every offline check: schema, AWS naming rules and ranges,
//!   references and their attributes, the dependency graph (no cycles), routes, and every
//!   mapping template rendered against the test request and a request per route.
//! - Problems are reported all at once, sorted by position, each with file:line:column.
//!
//! # Assumptions
//! - Values AWS assigns (ARNs, ids, the tracking id) are unknown offline; template checks
//!   use placeholders for them. The account id is `000000000000` unless given.

pub mod check;
mod diagnostic;
pub mod kinds;
pub mod names;
mod test_spec;
pub mod text;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use kinds::{Kind, ResourceSpec};
pub use test_spec::{RawTest, TestSpec};

use crate::graph::Graph;
use crate::yaml::{self, Node, Pos, Span, Spanned, Tolerant};
use check::{Checker, Str};
use indexmap::IndexMap;
use kinds::{Defaults, RawResource, Site};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeSet;

/// `stack.yaml` as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "personalize-stack stack file")]
pub struct RawStack {
    /// Name of the stack: part of every default resource name and of the ownership tag
    /// `personalize-stack:stack`. Letters, digits and `-`, starting with a letter.
    pub stack: Str,
    /// AWS region (default `us-east-1`; `--region` overrides).
    pub region: Option<Str>,
    /// What the stack is for.
    pub description: Option<Str>,
    /// Variables with their default values, used as `${name}` anywhere below and overridden
    /// by `--var name=value` (or per attendee in a fleet).
    #[serde(default)]
    pub vars: IndexMap<Str, Str>,
    /// Tags applied to every resource.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
    /// The resources, by logical name. Each is a mapping with one key naming its kind.
    /// Strings may reference other resources' attributes as `${name.attribute}`.
    pub resources: IndexMap<Str, Tolerant<Spanned<RawResource>>>,
    /// The post-deploy injection test.
    pub test: Option<Tolerant<Spanned<RawTest>>>,
}

/// Built-in variables, available as `${name}` in every string.
pub const BUILTIN_VARS: &[&str] = &["stack", "region", "attendee", "account_id"];

/// What a stack is loaded for: variable overrides and the target.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var name=value` overrides, in order.
    pub vars: Vec<(String, String)>,
    /// `--region`, overriding the file's.
    pub region: Option<String>,
    /// The attendee (fleets); `default` otherwise.
    pub attendee: Option<String>,
    /// The target account id; `000000000000` when unknown (offline).
    pub account_id: Option<String>,
}

/// A checked stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Stack name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Description.
    pub description: Option<String>,
    /// Attendee.
    pub attendee: String,
    /// Account id used for variables.
    pub account_id: String,
    /// Every variable's final value (built-ins included).
    pub vars: IndexMap<String, String>,
    /// Stack-wide tags.
    pub tags: IndexMap<String, String>,
    /// Resources, in file order.
    pub resources: IndexMap<String, Resource>,
    /// Dependency graph.
    pub graph: Graph,
    /// The injection test.
    pub test: Option<TestSpec>,
}

/// A checked resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Logical name (the key under `resources:`).
    pub logical: String,
    /// Kind.
    pub kind: Kind,
    /// Checked body.
    pub spec: ResourceSpec,
    /// Logical names of the resources it references.
    pub depends_on: BTreeSet<String>,
    /// Where it is declared: the span of its logical name.
    pub span: Span,
}

impl Stack {
    /// Resources in dependency order: each level depends only on earlier levels; within a
    /// level, file order.
    pub fn levels(&self) -> &[Vec<String>] {
        self.graph.levels()
    }

    /// What is known offline of `${resource.attribute}` (names); `None` for values AWS assigns.
    pub fn static_attribute(&self, resource: &str, attribute: &str) -> Option<String> {
        self.resources.get(resource)?.spec.static_attribute(attribute)
    }
}

/// Parses and checks a stack file.
///
/// # Errors
/// Every problem found, each with its position.
pub fn parse(file: &str, source: &str, options: &LoadOptions) -> Result<Stack, Diagnostics> {
    let fail = |diagnostics: Vec<Diagnostic>| Diagnostics::sorted(file, source, diagnostics);
    let mut root = match yaml::parse(source) {
        Ok(root) => root,
        Err(e) => {
            return Err(fail(vec![Diagnostic::at(
                e.pos,
                format!("invalid YAML: {}", e.message),
            )]));
        }
    };
    let mut diagnostics = Vec::new();
    let vars = match resolve_vars(&root, options, &mut diagnostics) {
        Some(v) => v,
        None => return Err(fail(diagnostics)),
    };
    substitute(&mut root, &vars, &mut diagnostics);

    let (raw, errors) = yaml::from_node::<RawStack>(&root);
    diagnostics.extend(errors.into_iter().map(de_diagnostic));
    let Some(raw) = raw else {
        return Err(fail(diagnostics));
    };
    let stack = check_stack(&raw, vars, options, &mut diagnostics);
    if diagnostics.is_empty() {
        Ok(stack)
    } else {
        Err(fail(diagnostics))
    }
}

fn de_diagnostic(e: yaml::DeError) -> Diagnostic {
    let mut d = Diagnostic {
        pos: e.span.map(|s| s.start),
        message: e.message,
        hint: e.hint,
        detail: None,
    };
    if d.pos.is_none() {
        d.pos = Some(Pos { line: 1, column: 1 });
    }
    d
}

/// Reads `stack`, `region` and `vars` from the tree and merges built-ins and overrides.
fn resolve_vars(
    root: &Node,
    options: &LoadOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<IndexMap<String, String>> {
    let Some(stack_node) = root.get("stack") else {
        diagnostics.push(
            Diagnostic::at(root.span.start, "missing field `stack`")
                .hint("name the stack: `stack: personalize-workshop`"),
        );
        return None;
    };
    let stack = stack_node.as_str().unwrap_or_default().to_owned();
    let valid_stack = stack.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && stack.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && stack.len() <= 64;
    if !valid_stack {
        diagnostics.push(Diagnostic::at(
            stack_node.span.start,
            format!("stack name `{stack}` must be 1–64 letters, digits and `-`, starting with a letter"),
        ));
    }
    let region = match (&options.region, root.get("region")) {
        (Some(r), _) => r.clone(),
        (None, Some(node)) => node.as_str().unwrap_or_default().to_owned(),
        (None, None) => "us-east-1".to_owned(),
    };
    if !names::is_region(&region) {
        let pos = root.get("region").map_or(root.span.start, |n| n.span.start);
        diagnostics.push(
            Diagnostic::at(pos, format!("`{region}` is not an AWS region code")).hint("e.g. `us-east-1`"),
        );
    }
    let mut vars: IndexMap<String, String> = IndexMap::from([
        ("stack".to_owned(), stack),
        ("region".to_owned(), region),
        (
            "attendee".to_owned(),
            options.attendee.clone().unwrap_or_else(|| "default".to_owned()),
        ),
        (
            "account_id".to_owned(),
            options
                .account_id
                .clone()
                .unwrap_or_else(|| "000000000000".to_owned()),
        ),
    ]);
    if let Some(node) = root.get("vars") {
        let (declared, errors) = yaml::from_node::<IndexMap<Str, Str>>(node);
        diagnostics.extend(errors.into_iter().map(de_diagnostic));
        for (k, v) in declared.unwrap_or_default() {
            if BUILTIN_VARS.contains(&k.value.as_str()) {
                diagnostics.push(Diagnostic::at(
                    k.pos(),
                    format!("`{}` is a built-in variable and cannot be redefined", k.value),
                ));
            } else if !text::is_identifier(&k.value) || text::is_vtl_object(&k.value) {
                diagnostics.push(Diagnostic::at(
                    k.pos(),
                    format!(
                        "variable name `{}` must be letters, digits, `_`, `-` and not a VTL object name",
                        k.value
                    ),
                ));
            } else if v.value.contains("${") {
                diagnostics.push(Diagnostic::at(v.pos(), "variable defaults cannot use `${...}`"));
            } else {
                vars.insert(k.value, v.value);
            }
        }
    }
    for (name, value) in &options.vars {
        if BUILTIN_VARS.contains(&name.as_str()) {
            diagnostics.push(
                Diagnostic::global(format!("`--var {name}=...`: `{name}` is a built-in variable"))
                    .hint("use `--region` for the region"),
            );
        } else if vars.contains_key(name) {
            vars.insert(name.clone(), value.clone());
        } else {
            let declared: Vec<&str> = vars
                .keys()
                .map(String::as_str)
                .filter(|k| !BUILTIN_VARS.contains(k))
                .collect();
            diagnostics.push(
                Diagnostic::global(format!(
                    "`--var {name}=...` sets a variable the stack does not declare"
                ))
                .hint(if declared.is_empty() {
                    "declare it under `vars:` with a default".to_owned()
                } else {
                    format!("declared: {}", declared.join(", "))
                }),
            );
        }
    }
    Some(vars)
}

/// Substitutes variables everywhere but in the `vars` section itself.
fn substitute(root: &mut Node, vars: &IndexMap<String, String>, diagnostics: &mut Vec<Diagnostic>) {
    let mut unknown = Vec::new();
    if let yaml::NodeValue::Map(entries) = &mut root.value {
        for (k, v) in entries.iter_mut() {
            if k.as_str() != Some("vars") {
                text::substitute_vars(v, vars, &mut unknown);
            }
        }
    }
    for u in unknown {
        let declared: Vec<&str> = vars.keys().map(String::as_str).collect();
        let hint = crate::yaml::de::closest(&u.name, declared.iter().copied()).map_or_else(
            || format!("variables: {}", declared.join(", ")),
            |c| format!("did you mean `{c}`?"),
        );
        diagnostics.push(Diagnostic::at(u.pos, format!("unknown variable `${{{}}}`", u.name)).hint(hint));
    }
}

fn check_stack(
    raw: &RawStack,
    vars: IndexMap<String, String>,
    options: &LoadOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Stack {
    let declared: IndexMap<String, Option<Kind>> = raw
        .resources
        .iter()
        .map(|(name, body)| (name.value.clone(), body.as_ref().map(|b| b.value.kind())))
        .collect();
    let mut cx = Checker::new(&declared);
    let tags = cx.tags(&raw.tags);
    let defaults = Defaults {
        stack: vars.get("stack").cloned().unwrap_or_default(),
    };
    let mut resources = IndexMap::new();
    for (name, body) in &raw.resources {
        if !text::is_identifier(&name.value) || name.value.contains('-') {
            cx.error_hint(
                name.pos(),
                format!(
                    "resource name `{}` must be letters, digits and `_`, starting with a letter",
                    name.value
                ),
                "it is used in references such as `${name.arn}`",
            );
        } else if text::is_vtl_object(&name.value) || BUILTIN_VARS.contains(&name.value.as_str()) {
            cx.error(name.pos(), format!("resource name `{}` is reserved", name.value));
        }
        let Some(body) = body.as_ref() else { continue };
        let site = Site {
            logical: &name.value,
            pos: body.pos(),
            defaults: &defaults,
        };
        let spec = body.value.validate(&site, &mut cx);
        let depends_on = spec.references().into_iter().map(|r| r.resource).collect();
        resources.insert(
            name.value.clone(),
            Resource {
                logical: name.value.clone(),
                kind: body.value.kind(),
                spec,
                depends_on,
                span: name.span,
            },
        );
    }
    check_unique_names(&resources, &mut cx);
    check_one_tracker_per_group(&resources, &mut cx);
    diagnostics.extend(cx.into_diagnostics());

    let graph = Graph::new(&resources, diagnostics);
    let mut stack = Stack {
        name: vars.get("stack").cloned().unwrap_or_default(),
        region: vars.get("region").cloned().unwrap_or_default(),
        description: raw.description.as_ref().map(|d| d.value.clone()),
        attendee: vars.get("attendee").cloned().unwrap_or_default(),
        account_id: vars.get("account_id").cloned().unwrap_or_default(),
        vars,
        tags,
        resources,
        graph,
        test: None,
    };
    let _ = options;
    if let Some(test) = raw.test.as_ref().and_then(Tolerant::as_ref) {
        let mut cx = Checker::new(&declared);
        stack.test = test_spec::check(test, &stack, &mut cx);
        diagnostics.extend(cx.into_diagnostics());
    }
    diagnostics.extend(crate::lint::lint_templates(&stack));
    stack
}

/// Two resources of one kind cannot share an AWS name.
fn check_unique_names(resources: &IndexMap<String, Resource>, cx: &mut Checker<'_>) {
    let mut seen: IndexMap<(Kind, &str), &Resource> = IndexMap::new();
    for r in resources.values() {
        let Some(name) = r.spec.aws_name() else { continue };
        if let Some(first) = seen.get(&(r.kind, name)) {
            cx.error(
                r.span.start,
                format!(
                    "`{}` and `{}` are both a {} named `{name}`",
                    first.logical,
                    r.logical,
                    r.kind.name()
                ),
            );
        } else {
            seen.insert((r.kind, name), r);
        }
    }
}

/// Personalize allows one event tracker per dataset group.
fn check_one_tracker_per_group(resources: &IndexMap<String, Resource>, cx: &mut Checker<'_>) {
    let mut seen: IndexMap<String, &str> = IndexMap::new();
    for r in resources.values() {
        if let ResourceSpec::EventTracker(t) = &r.spec {
            let group = t.dataset_group.to_string();
            if let Some(first) = seen.get(&group) {
                cx.error_hint(
                    r.span.start,
                    format!("`{first}` and `{}` track the same dataset group", r.logical),
                    "Personalize allows one event tracker per dataset group",
                );
            } else {
                seen.insert(group, &r.logical);
            }
        }
    }
}
