//! Problems found in a stack file, each with its position and, where we can, a hint.

use crate::yaml::Pos;
use std::fmt;

/// One problem in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where: `None` for problems of the whole file (e.g. an unknown `--var`).
    pub pos: Option<Pos>,
    /// What is wrong, lowercase, names in backticks.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Supporting detail shown under the message (e.g. a rendered template excerpt).
    pub detail: Option<String>,
}

impl Diagnostic {
    /// A problem at `pos`.
    pub fn at(pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            pos: Some(pos),
            message: message.into(),
            hint: None,
            detail: None,
        }
    }

    /// A problem of the whole file.
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic {
            pos: None,
            message: message.into(),
            hint: None,
            detail: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds detail text.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(pos) => write!(f, "{pos}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Every problem found in one stack file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} found in `{file}`", plural(.diagnostics.len()))]
pub struct Diagnostics {
    /// The file's path as given.
    pub file: String,
    /// The file's text, for rendering excerpts.
    pub source_text: String,
    /// The problems, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Diagnostics {
    /// The problems of `file`, sorted by position, duplicates dropped.
    pub fn sorted(file: &str, source: &str, mut diagnostics: Vec<Diagnostic>) -> Diagnostics {
        diagnostics.sort_by_key(|d| d.pos.unwrap_or_default());
        diagnostics.dedup();
        Diagnostics {
            file: file.to_owned(),
            source_text: source.to_owned(),
            diagnostics,
        }
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 problem".to_owned()
    } else {
        format!("{n} problems")
    }
}
