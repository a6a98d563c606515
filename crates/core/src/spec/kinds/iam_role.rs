//! `iam_role`: a role an AWS service assumes — the forwarder's execution role, the API's
//! integration credentials. Inline policy statements may reference other resources
//! (`resources: ["${stream.arn}"]`), which is how least privilege stays declarative.
//!
//! Exports `arn` and `name`.

use super::{Attribute, KindSpec, Site};
use crate::spec::check::{Checker, Str};
use crate::spec::names;
use crate::spec::text::{Reference, Text};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `iam_role` as written in `stack.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Role name (1–64 characters: letters, digits, `+=,.@_-`). Defaults to
    /// `<stack>-<logical name>`.
    pub name: Option<Str>,
    /// Path of the role (default `/`).
    pub path: Option<Str>,
    /// Description.
    pub description: Option<Str>,
    /// Service principal(s) allowed to assume the role, e.g. `lambda.amazonaws.com`.
    pub assumed_by: Spanned<OneOrMany>,
    /// Inline policy statements.
    #[serde(default)]
    pub policies: Vec<Spanned<Statement>>,
    /// ARNs of managed policies to attach.
    #[serde(default)]
    pub managed_policies: Vec<Str>,
    /// Maximum session duration in seconds (3600–43200; default 3600).
    pub max_session_duration_s: Option<Spanned<u32>>,
    /// ARN of a permissions boundary policy.
    pub permissions_boundary: Option<Str>,
    /// Tags of the role, merged over the stack's tags.
    #[serde(default)]
    pub tags: IndexMap<Str, Str>,
}

/// One string or a list of strings.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

// Hand-written rather than `#[serde(untagged)]`: untagged enums buffer their input and lose
// the YAML positions of everything beneath them.
impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An IAM policy statement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Statement id.
    pub sid: Option<Str>,
    /// `Allow` (default) or `Deny`.
    pub effect: Option<Spanned<Effect>>,
    /// Actions, e.g. `kinesis:PutRecords`.
    pub actions: Spanned<OneOrMany>,
    /// Resource ARNs; may reference other resources (`${stream.arn}`). Default `*`.
    pub resources: Option<Spanned<OneOrMany>>,
    /// An IAM condition block, as in a policy document.
    pub condition: Option<serde_json::Value>,
}

/// Statement effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Effect {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// A checked role.
#[derive(Debug, Clone, PartialEq)]
pub struct IamRole {
    /// AWS name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Trusted service principals.
    pub assumed_by: Vec<String>,
    /// Inline statements.
    pub statements: Vec<CheckedStatement>,
    /// Managed policy ARNs.
    pub managed_policies: Vec<String>,
    /// Maximum session duration in seconds.
    pub max_session_duration_s: u32,
    /// Permissions boundary ARN.
    pub permissions_boundary: Option<String>,
    /// Resource tags.
    pub tags: IndexMap<String, String>,
}

/// A checked policy statement.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedStatement {
    /// Statement id.
    pub sid: Option<String>,
    /// Effect.
    pub effect: Effect,
    /// Actions.
    pub actions: Vec<String>,
    /// Resources (may hold references).
    pub resources: Vec<Text>,
    /// Condition block.
    pub condition: Option<serde_json::Value>,
}

impl IamRole {

    /// Whether an inline statement allows `action` (exact or `service:*` / `*`).
    pub fn allows(&self, action: &str) -> bool {
        let service = action.split(':').next().unwrap_or_default();
        self.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.actions
                    .iter()
                    .any(|a| a == "*" || a.eq_ignore_ascii_case(action) || *a == format!("{service}:*"))
        })
    }
}

impl KindSpec for IamRole {
    type Raw = Spec;

    const ATTRIBUTES: &'static [Attribute] = &[
        Attribute::output("arn"),
        Attribute::reference("name"),
    ];

    fn validate(raw: &Spec, site: &Site<'_>, cx: &mut Checker<'_>) -> IamRole {
        let (logical, defaults) = (site.logical, site.defaults);
        let name = match &raw.name {
            Some(n) => cx.name(n, &names::IAM_ROLE),
            None => {
                let derived = format!("{}-{logical}", defaults.stack);
                if let Some(problem) = names::IAM_ROLE.check(&derived) {
                    cx.error_hint(
                        raw.assumed_by.pos(),
                        format!("the default role name is invalid: {problem}"),
                        "set `name` explicitly",
                    );
                }
                derived
            }
        };
        let assumed_by = raw.assumed_by.value.to_vec();
        if assumed_by.is_empty() {
            cx.error(
                raw.assumed_by.pos(),
                "`assumed_by` needs at least one service principal",
            );
        }
        for p in &assumed_by {
            if !p.ends_with(".amazonaws.com") {
                cx.error_hint(
                    raw.assumed_by.pos(),
                    format!("`{p}` is not an AWS service principal"),
                    "service principals look like `lambda.amazonaws.com` or `apigateway.amazonaws.com`",
                );
            }
        }
        let statements = raw.policies.iter().map(|s| check_statement(s, cx)).collect();
        let managed_policies = raw
            .managed_policies
            .iter()
            .map(|p| {
                if !names::is_arn(&p.value) || !p.value.contains(":policy/") {
                    cx.error_hint(
                        p.pos(),
                        format!("`{}` is not a managed policy ARN", p.value),
                        "e.g. `arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole`",
                    );
                }
                p.value.clone()
            })
            .collect();
        let path = raw.path.as_ref().map_or_else(
            || "/".to_owned(),
            |p| {
                if !(p.value.starts_with('/') && p.value.ends_with('/')) || p.value.len() > 512 {
                    cx.error(
                        p.pos(),
                        "`path` must start and end with `/` and be at most 512 characters",
                    );
                }
                p.value.clone()
            },
        );
        IamRole {
            name,
            path,
            description: raw.description.as_ref().map(|d| d.value.clone()),
            assumed_by,
            statements,
            managed_policies,
            max_session_duration_s: raw
                .max_session_duration_s
                .as_ref()
                .map_or(3600, |d| cx.range(d, 3600, 43200, "`max_session_duration_s`")),
            permissions_boundary: raw.permissions_boundary.as_ref().map(|b| b.value.clone()),
            tags: cx.tags(&raw.tags),
        }
    }

    fn aws_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        self.statements
            .iter()
            .flat_map(|s| s.resources.iter().flat_map(Text::references))
            .cloned()
            .collect()
    }
}

fn check_statement(s: &Spanned<Statement>, cx: &mut Checker<'_>) -> CheckedStatement {
    let actions = s.value.actions.value.to_vec();
    if actions.is_empty() {
        cx.error(s.value.actions.pos(), "a statement needs at least one action");
    }
    for a in &actions {
        let valid = a == "*"
            || a.split_once(':').is_some_and(|(svc, op)| {
                !svc.is_empty()
                    && svc
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !op.is_empty()
            });
        if !valid {
            cx.error_hint(
                s.value.actions.pos(),
                format!("`{a}` is not an IAM action"),
                "actions look like `service:Operation`, e.g. `kinesis:PutRecords`",
            );
        }
    }
    let resources = match &s.value.resources {
        None => vec![Text::literal("*")],
        Some(r) => r
            .value
            .to_vec()
            .into_iter()
            .map(|value| cx.text(&Spanned::new(value, r.span)))
            .collect(),
    };
    CheckedStatement {
        sid: s.value.sid.as_ref().map(|x| x.value.clone()),
        effect: s.value.effect.as_ref().map_or(Effect::Allow, |e| e.value),
        actions,
        resources,
        condition: s.value.condition.clone(),
    }
}
