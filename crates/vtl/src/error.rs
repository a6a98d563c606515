//! The error type shared by parsing and rendering.

use crate::cursor::Pos;

/// A parse or render failure, located inside the template.
///
/// `line` and `column` are 1-based; `column` counts chars. Parse errors point at the
/// construct that is malformed (for example the `#if` that is never closed); render
/// errors point at the expression that failed (for example the `.path` of a call to
/// `$input.path` with an invalid JSONPath).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column number, counted in chars.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

impl TemplateError {
    pub(crate) fn at(pos: Pos, message: impl Into<String>) -> Self {
        TemplateError {
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_position() {
        let err = TemplateError::at(Pos { line: 3, column: 7 }, "boom");
        assert_eq!(err.to_string(), "line 3, column 7: boom");
    }
}
