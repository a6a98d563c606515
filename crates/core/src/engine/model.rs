//! The engine's data: what a provider reports of a resource, and the plan — pure data,
//! printable and serialisable (`plan --output json`).

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// What a value will be once the resource it comes from exists.
pub const UNKNOWN: &str = "(known after apply)";

/// Comparable fields of a resource, flattened to `path → value` (`trigger.batch_size → "100"`).
/// The same keys describe the desired and the observed resource, so a diff is a map compare.
pub type Fields = BTreeMap<String, String>;

/// The attributes a resource exports to `${logical.attribute}` references (`arn`, `tracking_id`).
pub type Attrs = BTreeMap<String, String>;

/// What the stack wants of one resource, with references resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// Comparable fields.
    pub fields: Fields,
    /// Fields whose change cannot be applied in place, each with why (`name` → "a tracker
    /// cannot be renamed").
    pub replace_on: BTreeMap<String, String>,
    /// What a reviewer of the plan should know but no field says (the size of the Lambda
    /// bundle to upload), keyed by the field each explains: shown when the resource is
    /// created or replaced, or that field changes. Never compared.
    pub notes: BTreeMap<String, String>,
}

impl Desired {
    /// The notes the plan shows for `action` (see [`Desired::notes`]).
    pub fn notes_for(&self, action: &Action) -> Vec<String> {
        let shown = |field: &str| match action {
            Action::Create | Action::Replace { .. } => true,
            Action::Update { changes } => changes.iter().any(|c| c.field == field),
            Action::NoChange | Action::Delete | Action::Foreign { .. } => false,
        };
        self.notes
            .iter()
            .filter(|(field, _)| shown(field))
            .map(|(_, note)| note.clone())
            .collect()
    }
}

/// A resource as it exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Its physical id (name, ARN or generated id).
    pub id: String,
    /// Whether it carries this stack's ownership tags for this logical resource.
    pub owned: bool,
    /// Comparable fields (same keys as [`Desired::fields`]).
    pub fields: Fields,
    /// Exported attributes.
    pub attrs: Attrs,
}

impl Observed {
    /// A resource that exists but is not this stack's (no ownership tags): nothing of it is
    /// compared, and only its attributes are read.
    pub fn foreign(id: String, attrs: Attrs) -> Observed {
        Observed {
            id,
            owned: false,
            fields: Fields::new(),
            attrs,
        }
    }

    /// A resource this stack owns, with its comparable `fields`.
    pub fn ours(id: String, fields: Fields, attrs: Attrs) -> Observed {
        Observed {
            id,
            owned: true,
            fields,
            attrs,
        }
    }
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field path.
    pub field: String,
    /// Its value now (`None`: not set).
    pub old: Option<String>,
    /// Its value after the change (`None`: removed).
    pub new: Option<String>,
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Long values (templates, policies) are shown around their first difference, so the
        // edit is visible on one line.
        let at = match (&self.old, &self.new) {
            (Some(o), Some(n)) => o.chars().zip(n.chars()).take_while(|(a, b)| a == b).count(),
            _ => 0,
        };
        let show = |v: &Option<String>| match v {
            Some(v) => shorten(v, at),
            None => "(none)".to_owned(),
        };
        write!(f, "{}: {} → {}", self.field, show(&self.old), show(&self.new))
    }
}

/// A long value on one line: a window of it starting a little before character `at`.
fn shorten(v: &str, at: usize) -> String {
    let one_line = v.replace('\n', "⏎");
    let chars: Vec<char> = one_line.chars().collect();
    if chars.len() <= 72 {
        return one_line;
    }
    let start = at.saturating_sub(24).min(chars.len().saturating_sub(72));
    let end = (start + 72).min(chars.len());
    let window: String = chars[start..end].iter().collect();
    format!(
        "{}{window}{}",
        if start > 0 { "…" } else { "" },
        if end < chars.len() { "…" } else { "" }
    )
}

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Exists and matches.
    NoChange,
    /// Does not exist.
    Create,
    /// Changed in place.
    Update {
        /// The changed fields.
        changes: Vec<FieldChange>,
    },
    /// Deleted and created again.
    Replace {
        /// Why it cannot be changed in place.
        reason: String,
        /// The changed fields.
        changes: Vec<FieldChange>,
    },
    /// Deleted (`destroy`).
    Delete,
    /// A same-named resource exists without this stack's tags: never adopted, never deleted.
    Foreign {
        /// Its physical id.
        id: String,
    },
}

impl Action {
    /// Whether applying it changes anything.
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::NoChange)
    }

    /// The word shown in plans.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::NoChange => "no change",
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::Replace { .. } => "replace",
            Action::Delete => "delete",
            Action::Foreign { .. } => "blocked",
        }
    }
}

/// One resource's step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Logical name.
    pub logical: String,
    /// Kind name (`kinesis_stream`).
    pub kind: String,
    /// The AWS name, when the stack decides it.
    pub name: Option<String>,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
    /// What the plan says besides the changes ([`Desired::notes`]), shown when it changes
    /// the resource.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A plan: one step per resource, in dependency order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The steps.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether applying it changes anything.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| s.action.is_change())
    }

    /// Steps that block applying (foreign resources in the way).
    pub fn blocked(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Foreign { .. }))
    }

    /// `n to create, n to update, …`.
    pub fn summary(&self) -> String {
        let count = |f: fn(&Action) -> bool| self.steps.iter().filter(|s| f(&s.action)).count();
        format!(
            "{} to create, {} to update, {} to replace, {} to delete, {} unchanged",
            count(|a| matches!(a, Action::Create)),
            count(|a| matches!(a, Action::Update { .. })),
            count(|a| matches!(a, Action::Replace { .. })),
            count(|a| matches!(a, Action::Delete)),
            count(|a| matches!(a, Action::NoChange)),
        )
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            let name = step
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let (sigil, what) = match &step.action {
                Action::NoChange => ("  ", "no change"),
                Action::Create => ("+ ", "create"),
                Action::Update { .. } => ("~ ", "update"),
                Action::Replace { .. } => ("-/+ ", "replace"),
                Action::Delete => ("- ", "delete"),
                Action::Foreign { .. } => ("! ", "blocked"),
            };
            writeln!(f, "{sigil}{what} {} {}{name}", step.kind, step.logical)?;
            match &step.action {
                Action::Update { changes } => {
                    for c in changes {
                        writeln!(f, "      {c}")?;
                    }
                }
                Action::Replace { reason, changes } => {
                    writeln!(f, "      because {reason}")?;
                    for c in changes {
                        writeln!(f, "      {c}")?;
                    }
                }
                Action::Foreign { id } => writeln!(
                    f,
                    "      `{id}` exists without this stack's tags; it is not ours to change or delete. Remove or rename it, or change the name in the stack file."
                )?,
                _ => {}
            }
            for note in &step.notes {
                writeln!(f, "      {note}")?;
            }
        }
        write!(f, "{}", self.summary())
    }
}

/// Compares `desired` with what exists.
pub fn diff(desired: &Desired, observed: Option<&Observed>) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    if !observed.owned {
        return Action::Foreign {
            id: observed.id.clone(),
        };
    }
    let mut changes = Vec::new();
    for (field, new) in &desired.fields {
        let old = observed.fields.get(field);
        if old != Some(new) {
            changes.push(FieldChange {
                field: field.clone(),
                old: old.cloned(),
                new: Some(new.clone()),
            });
        }
    }
    for (field, old) in &observed.fields {
        if !desired.fields.contains_key(field) {
            changes.push(FieldChange {
                field: field.clone(),
                old: Some(old.clone()),
                new: None,
            });
        }
    }
    if changes.is_empty() {
        return Action::NoChange;
    }
    let reason = changes.iter().find_map(|c| {
        desired
            .replace_on
            .get(&c.field)
            .map(|why| format!("{}: {why}", c.field))
    });
    match reason {
        Some(reason) => Action::Replace { reason, changes },
        None => Action::Update { changes },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn diffs_are_creates_updates_replacements_or_nothing() {
        let mut desired = Desired {
            fields: fields(&[("name", "t2"), ("batch_size", "200")]),
            replace_on: [("name".to_owned(), "a tracker cannot be renamed".to_owned())].into(),
            notes: [("code".to_owned(), "bundle: 1.9 MB zip".to_owned())].into(),
        };
        assert_eq!(diff(&desired, None), Action::Create);
        assert_eq!(desired.notes_for(&Action::Create), ["bundle: 1.9 MB zip"]);
        assert!(desired.notes_for(&Action::NoChange).is_empty());
        assert!(desired.notes_for(&Action::Delete).is_empty());
        let update = |field: &str| Action::Update {
            changes: vec![FieldChange {
                field: field.to_owned(),
                old: None,
                new: Some("x".to_owned()),
            }],
        };
        assert_eq!(desired.notes_for(&update("code")), ["bundle: 1.9 MB zip"]);
        assert!(
            desired.notes_for(&update("batch_size")).is_empty(),
            "shown only when its field changes"
        );
        let observed = Observed {
            id: "t1".into(),
            owned: true,
            fields: fields(&[("name", "t1"), ("batch_size", "100")]),
            attrs: Attrs::new(),
        };
        match diff(&desired, Some(&observed)) {
            Action::Replace { reason, changes } => {
                assert_eq!(reason, "name: a tracker cannot be renamed");
                assert_eq!(changes.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        desired.fields.insert("name".into(), "t1".into());
        match diff(&desired, Some(&observed)) {
            Action::Update { changes } => assert_eq!(changes[0].to_string(), "batch_size: 100 → 200"),
            other => panic!("{other:?}"),
        }
        desired.fields.insert("batch_size".into(), "100".into());
        assert_eq!(diff(&desired, Some(&observed)), Action::NoChange);
        let foreign = Observed {
            owned: false,
            ..observed
        };
        assert!(matches!(diff(&desired, Some(&foreign)), Action::Foreign { .. }));
    }
}
