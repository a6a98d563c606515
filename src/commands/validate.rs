//! `validate`: every offline check, then the resources in dependency order.

use super::{Failure, load_stack};
use crate::cli::{GlobalArgs, Output};
use personalize_stack_core::Stack;
use personalize_stack_core::spec::ResourceSpec;
use std::fmt::Write as _;

/// Runs `validate`.
pub fn run(global: &GlobalArgs) -> Result<(), Failure> {
    let stack = load_stack(global)?;
    match global.output {
        Output::Json => println!("{:#}", to_json(&stack)),
        Output::Text if !global.quiet => print!("{}", to_text(global, &stack)),
        Output::Text => {}
    }
    Ok(())
}

fn to_text(global: &GlobalArgs, stack: &Stack) -> String {
    let mut out = String::new();
    let routes: usize = stack
        .resources
        .values()
        .filter_map(|r| match &r.spec {
            ResourceSpec::RestApi(api) => Some(api.routes.len()),
            _ => None,
        })
        .sum();
    let _ = writeln!(
        out,
        "{}: stack `{}` ({}) is valid: {} resources, {} routes{}",
        global.file.display(),
        stack.name,
        stack.region,
        stack.resources.len(),
        routes,
        stack
            .test
            .as_ref()
            .map(|t| format!(
                ", test injects {} records through `{} {}`",
                t.records.len(),
                t.method.as_str(),
                t.path
            ))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "\nDependency order (resources in one level can be created concurrently):"
    );
    let name_width = stack.resources.keys().map(String::len).max().unwrap_or(0);
    let kind_width = stack
        .resources
        .values()
        .map(|r| r.kind.name().len())
        .max()
        .unwrap_or(0);
    for (i, level) in stack.levels().iter().enumerate() {
        for (j, logical) in level.iter().enumerate() {
            let r = &stack.resources[logical];
            let label = if j == 0 {
                format!("{:>2}.", i + 1)
            } else {
                "   ".to_owned()
            };
            let deps = if r.depends_on.is_empty() {
                String::new()
            } else {
                format!(
                    "  <- {}",
                    r.depends_on.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            let _ = writeln!(
                out,
                "{label} {logical:name_width$}  {:kind_width$}  {}{deps}",
                r.kind.name(),
                r.spec.aws_name().unwrap_or("(existing)"),
            );
        }
    }
    out
}

fn to_json(stack: &Stack) -> serde_json::Value {
    let level_of = |name: &str| stack.levels().iter().position(|l| l.iter().any(|n| n == name));
    serde_json::json!({
        "valid": true,
        "stack": stack.name,
        "region": stack.region,
        "levels": stack.levels(),
        "resources": stack.resources.values().map(|r| serde_json::json!({
            "name": r.logical,
            "kind": r.kind.name(),
            "aws_name": r.spec.aws_name(),
            "level": level_of(&r.logical).map(|l| l + 1),
            "depends_on": r.depends_on,
        })).collect::<Vec<_>>(),
        "test": stack.test.as_ref().map(|t| serde_json::json!({
            "route": format!("{} {}", t.method.as_str(), t.path),
            "records": t.records.len(),
        })),
    })
}
