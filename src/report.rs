//! Rendering problems for people: `error:` lines with the file position, the source line
//! with a caret, and `hint:` lines. Plain text, readable without colour.

use personalize_stack_core::{Diagnostic, Diagnostics};
use std::fmt::Write as _;

/// Renders every diagnostic, then a summary line.
pub fn render_diagnostics(d: &Diagnostics) -> String {
    let lines: Vec<&str> = d.source_text.lines().collect();
    let mut out = String::new();
    for diagnostic in &d.diagnostics {
        render_one(&mut out, &d.file, &lines, diagnostic);
        out.push('\n');
    }
    let _ = writeln!(out, "error: {d}");
    out
}

fn render_one(out: &mut String, file: &str, lines: &[&str], d: &Diagnostic) {
    match d.pos {
        Some(pos) => {
            let _ = writeln!(out, "error: {file}:{pos}: {}", d.message);
            let index = usize::try_from(pos.line).unwrap_or(0);
            if let Some(line) = index.checked_sub(1).and_then(|i| lines.get(i)) {
                let width = pos.line.to_string().len();
                let column = usize::try_from(pos.column).unwrap_or(1).saturating_sub(1);
                let _ = writeln!(out, "{:width$} |", "");
                let _ = writeln!(out, "{} | {line}", pos.line);
                let _ = writeln!(out, "{:width$} | {}^", "", " ".repeat(column));
            }
        }
        None => {
            let _ = writeln!(out, "error: {file}: {}", d.message);
        }
    }
    if let Some(detail) = &d.detail {
        for l in detail.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
    if let Some(hint) = &d.hint {
        let _ = writeln!(out, "  hint: {hint}");
    }
}

/// The diagnostics as JSON for `--output json`.
pub fn diagnostics_json(d: &Diagnostics) -> serde_json::Value {
    serde_json::json!({
        "valid": false,
        "file": d.file,
        "problems": d.diagnostics.iter().map(|p| serde_json::json!({
            "line": p.pos.map(|p| p.line),
            "column": p.pos.map(|p| p.column),
            "message": p.message,
            "hint": p.hint,
            "detail": p.detail,
        })).collect::<Vec<_>>(),
    })
}
