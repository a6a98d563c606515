//! Fleet files (`--fleet attendees.yaml`): one stack per attendee account.
//!
//! ```yaml
//! name: reinvent-2026            # what `destroy --fleet` asks you to type (default: file stem)
//! role: OrganizationAccountAccessRole
//! external_id: optional-secret
//! session_name: personalize-stack
//! region: us-east-1              # overrides the stack's
//! concurrency: 10                # accounts at once
//! attendees:
//!   - { name: alice, account: "111111111111" }
//!   - { name: bob, profile: bob-sandbox, vars: { shards: 2 } }
//! ```
//!
//! Parsed with positions like `stack.yaml`: every problem is reported at once, each with its
//! file:line:column.

use crate::spec::names;
use crate::spec::{Diagnostic, Diagnostics};
use crate::yaml::{self, Spanned, Tolerant};
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The role assumed in each account unless the file names another: the one AWS Organizations
/// creates in every account it creates.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";
/// The STS session name unless the file names another.
pub const DEFAULT_SESSION_NAME: &str = "personalize-stack";
/// Accounts reconciled at once unless the file says otherwise (Terraform's default
/// parallelism).
pub const DEFAULT_CONCURRENCY: usize = 10;

type Str = Spanned<String>;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    name: Option<Str>,
    role: Option<Str>,
    external_id: Option<Str>,
    session_name: Option<Str>,
    region: Option<Str>,
    concurrency: Option<Spanned<i64>>,
    // Tolerant: one malformed attendee does not hide the others' problems.
    attendees: Spanned<Vec<Tolerant<Spanned<RawAttendee>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttendee {
    name: Str,
    account: Option<Str>,
    profile: Option<Str>,
    #[serde(default)]
    vars: IndexMap<Str, Str>,
}

/// A checked fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// The fleet's name.
    pub name: String,
    /// The role assumed in attendee accounts given by id.
    pub role: String,
    /// `ExternalId` for AssumeRole.
    pub external_id: Option<String>,
    /// `RoleSessionName` for AssumeRole.
    pub session_name: String,
    /// Region for every attendee (overrides the stack's).
    pub region: Option<String>,
    /// Accounts at once.
    pub concurrency: usize,
    /// The attendees, in file order.
    pub attendees: Vec<Attendee>,
}

/// One attendee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// Unique name: `${attendee}` in the stack.
    pub name: String,
    /// How to reach the attendee's account.
    pub access: Access,
    /// Variable overrides for this attendee's stack, as `--var` would give them.
    pub vars: Vec<(String, String)>,
    /// Where the attendee is written, for messages.
    pub line: u32,
}

/// How an attendee's account is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Assume the fleet's role in this account.
    Account(String),
    /// Use this named profile's credentials.
    Profile(String),
}

impl Fleet {
    /// `arn:aws:iam::<account>:role/<role>`; the role may carry a path (`path/name`).
    pub fn role_arn(&self, account: &str) -> String {
        format!(
            "arn:aws:iam::{account}:role/{}",
            self.role.trim_start_matches('/')
        )
    }
}

/// Parses and checks a fleet file. `default_name` is the file's stem; `stack_vars` are the
/// variables the stack declares (attendee `vars` must be among them).
///
/// # Errors
/// Every problem, sorted by position.
pub fn parse(
    file: &str,
    source: &str,
    default_name: &str,
    stack_vars: &[String],
) -> Result<Fleet, Diagnostics> {
    let fail = |diagnostics: Vec<Diagnostic>| Diagnostics::sorted(file, source, diagnostics);
    let root = yaml::parse(source).map_err(|e| {
        fail(vec![Diagnostic::at(
            e.pos,
            format!("invalid YAML: {}", e.message),
        )])
    })?;
    let (raw, errors) = yaml::from_node::<RawFleet>(&root);
    let mut diagnostics: Vec<Diagnostic> = errors
        .into_iter()
        .map(|e| {
            let mut d = Diagnostic::at(e.span.map(|s| s.start).unwrap_or_default(), e.message);
            d.hint = e.hint;
            d
        })
        .collect();
    let Some(raw) = raw else {
        return Err(fail(diagnostics));
    };
    let fleet = check(raw, default_name, stack_vars, &mut diagnostics);
    if diagnostics.is_empty() {
        Ok(fleet)
    } else {
        Err(fail(diagnostics))
    }
}

/// Attendee names: they become `${attendee}` in resource names and part of the STS session.
fn is_attendee_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn check(raw: RawFleet, default_name: &str, stack_vars: &[String], d: &mut Vec<Diagnostic>) -> Fleet {
    let name = raw
        .name
        .as_ref()
        .map_or_else(|| default_name.to_owned(), |n| n.value.clone());
    if name.trim().is_empty() {
        let pos = raw.name.as_ref().map(Spanned::pos).unwrap_or_default();
        d.push(Diagnostic::at(pos, "the fleet's name is empty").hint("e.g. `name: reinvent-2026`"));
    }
    let role = raw
        .role
        .as_ref()
        .map_or(DEFAULT_ROLE, |r| r.value.as_str())
        .to_owned();
    if let Some(r) = &raw.role
        && (r.value.is_empty() || r.value.contains(':') || r.value.len() > 512)
    {
        d.push(
            Diagnostic::at(r.pos(), format!("`{}` is not a role name", r.value))
                .hint("give the role's name (optionally with its path), not its ARN: the account comes from each attendee"),
        );
    }
    let session_name = raw
        .session_name
        .as_ref()
        .map_or(DEFAULT_SESSION_NAME, |s| s.value.as_str())
        .to_owned();
    if let Some(s) = &raw.session_name {
        let valid = (2..=64).contains(&s.value.len())
            && s.value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c));
        if !valid {
            d.push(Diagnostic::at(
                s.pos(),
                "session_name must be 2–64 letters, digits and `=,.@-_` (STS RoleSessionName)",
            ));
        }
    }
    if let Some(r) = &raw.region
        && !names::is_region(&r.value)
    {
        d.push(
            Diagnostic::at(r.pos(), format!("`{}` is not an AWS region code", r.value))
                .hint("e.g. `us-east-1`"),
        );
    }
    let concurrency = match &raw.concurrency {
        None => DEFAULT_CONCURRENCY,
        Some(c) => match usize::try_from(c.value) {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                d.push(Diagnostic::at(
                    c.pos(),
                    format!("concurrency {} is not between 1 and 500", c.value),
                ));
                DEFAULT_CONCURRENCY
            }
        },
    };
    if raw.attendees.value.is_empty() {
        d.push(
            Diagnostic::at(raw.attendees.pos(), "the fleet has no attendees")
                .hint("list them: `attendees: [{ name: alice, account: \"111111111111\" }]`"),
        );
    }
    let mut names_seen: BTreeMap<String, u32> = BTreeMap::new();
    let mut accounts_seen: BTreeMap<String, (String, u32)> = BTreeMap::new();
    let mut attendees = Vec::new();
    for entry in raw.attendees.value.iter().filter_map(Tolerant::as_ref) {
        let a = &entry.value;
        let line = entry.pos().line;
        if !is_attendee_name(&a.name.value) {
            d.push(Diagnostic::at(
                a.name.pos(),
                format!(
                    "attendee name `{}` must be 1–32 letters, digits, `-` and `_`, starting with a letter or digit",
                    a.name.value
                ),
            ));
        } else if let Some(first) = names_seen.insert(a.name.value.clone(), line) {
            d.push(Diagnostic::at(
                a.name.pos(),
                format!(
                    "attendee `{}` is listed twice (first on line {first})",
                    a.name.value
                ),
            ));
        }
        let access = match (&a.account, &a.profile) {
            (Some(account), None) => {
                if !is_account_id(&account.value) {
                    d.push(
                        Diagnostic::at(
                            account.pos(),
                            format!("`{}` is not a 12-digit account id", account.value),
                        )
                        .hint("quote it so leading zeros stay: `account: \"012345678901\"`"),
                    );
                } else if let Some((other, first)) =
                    accounts_seen.insert(account.value.clone(), (a.name.value.clone(), line))
                {
                    d.push(
                        Diagnostic::at(
                            account.pos(),
                            format!(
                                "account {} is also `{other}`'s (line {first}): one stack per account",
                                account.value
                            ),
                        )
                        .hint("give each attendee an account of their own"),
                    );
                }
                Access::Account(account.value.clone())
            }
            (None, Some(profile)) => Access::Profile(profile.value.clone()),
            (Some(account), Some(_)) => {
                d.push(Diagnostic::at(
                    account.pos(),
                    format!(
                        "attendee `{}` has both `account` and `profile`: give one",
                        a.name.value
                    ),
                ));
                Access::Account(account.value.clone())
            }
            (None, None) => {
                d.push(
                    Diagnostic::at(
                        entry.pos(),
                        format!("attendee `{}` has neither `account` nor `profile`", a.name.value),
                    )
                    .hint(
                        "`account: \"111111111111\"` (the fleet's role is assumed there) or `profile: name`",
                    ),
                );
                Access::Profile(String::new())
            }
        };
        let mut vars = Vec::new();
        for (k, v) in &a.vars {
            if !stack_vars.iter().any(|s| s == &k.value) {
                let mut diagnostic = Diagnostic::at(
                    k.pos(),
                    format!("`{}` is not a variable the stack declares under `vars:`", k.value),
                );
                diagnostic = match yaml::de::closest(&k.value, stack_vars.iter().map(String::as_str)) {
                    Some(close) => diagnostic.hint(format!("did you mean `{close}`?")),
                    None if stack_vars.is_empty() => diagnostic.hint("the stack declares no variables"),
                    None => diagnostic.hint(format!("the stack declares: {}", stack_vars.join(", "))),
                };
                d.push(diagnostic);
            }
            vars.push((k.value.clone(), v.value.clone()));
        }
        attendees.push(Attendee {
            name: a.name.value.clone(),
            access,
            vars,
            line,
        });
    }
    Fleet {
        name,
        role,
        external_id: raw.external_id.map(|e| e.value),
        session_name,
        region: raw.region.map(|r| r.value),
        concurrency,
        attendees,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars() -> Vec<String> {
        vec!["shards".to_owned()]
    }

    #[test]
    fn reads_the_example() {
        let fleet = parse(
            "attendees.yaml",
            "role: OrganizationAccountAccessRole\nconcurrency: 10\nattendees:\n  - { name: alice, account: \"111111111111\" }\n  - { name: bob, profile: bob-sandbox, vars: { shards: 2 } }\n",
            "attendees",
            &vars(),
        )
        .unwrap();
        assert_eq!(fleet.name, "attendees");
        assert_eq!(fleet.concurrency, 10);
        assert_eq!(fleet.session_name, DEFAULT_SESSION_NAME);
        assert_eq!(fleet.attendees[0].access, Access::Account("111111111111".into()));
        assert_eq!(fleet.attendees[1].access, Access::Profile("bob-sandbox".into()));
        assert_eq!(
            fleet.attendees[1].vars,
            vec![("shards".to_owned(), "2".to_owned())]
        );
        assert_eq!(
            fleet.role_arn("111111111111"),
            "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
        );
    }

    #[test]
    fn reports_every_problem_with_its_position() {
        let source = "name: x\nconcurrency: 0\nregion: mars-1\nattendees:\n  - { name: alice, account: \"11111\" }\n  - { name: alice, account: \"222222222222\" }\n  - { name: carol, account: \"222222222222\" }\n  - { name: dave }\n  - { name: erin, profile: p, vars: { shard: 2 } }\n  - { name: frank, acount: \"333333333333\" }\n";
        let e = parse("f.yaml", source, "f", &vars()).unwrap_err();
        let messages: Vec<String> = e
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.pos.unwrap(), d.message))
            .collect();
        let has = |needle: &str| messages.iter().any(|m| m.contains(needle));
        assert!(has("2:14: concurrency 0"), "{messages:#?}");
        assert!(has("3:9: `mars-1` is not an AWS region"), "{messages:#?}");
        assert!(has("5:29: `11111` is not a 12-digit"), "{messages:#?}");
        assert!(
            has("6:13: attendee `alice` is listed twice (first on line 5)"),
            "{messages:#?}"
        );
        assert!(
            has("7:29: account 222222222222 is also `alice`'s"),
            "{messages:#?}"
        );
        assert!(has("neither `account` nor `profile`"), "{messages:#?}");
        assert!(has("`shard` is not a variable"), "{messages:#?}");
        assert!(
            e.diagnostics
                .iter()
                .any(|d| d.hint.as_deref() == Some("did you mean `shards`?"))
        );
        assert!(has("unknown field `acount`"), "{messages:#?}");
    }

    #[test]
    fn an_empty_fleet_is_refused() {
        let e = parse("f.yaml", "attendees: []\n", "f", &[]).unwrap_err();
        assert!(e.diagnostics[0].message.contains("no attendees"));
    }
}
