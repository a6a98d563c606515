//! Filter expressions: `[?(@.price < 10 && @.isbn)]`.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Step, evaluate};

#[derive(Debug, Clone)]
pub(super) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `@.x`: the path exists (whatever its value).
    Exists(Operand),
    Compare(Operand, CompareOp, Operand),
    /// `@.x =~ /re/`: the value is a string the regex matches entirely.
    Matches(Operand, regex::Regex),
}

#[derive(Debug, Clone, Copy)]
pub(super) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(super) enum Operand {
    /// `@…` (relative to the tested item) or `$…` (from the document root).
    Path {
        from_root: bool,
        steps: Vec<Step>,
    },
    Literal(Value),
}

impl Operand {
    fn resolve<'a>(&'a self, item: &'a Value, root: &'a Value) -> Option<&'a Value> {
        match self {
            Operand::Path { from_root, steps } => {
                let start = if *from_root { root } else { item };
                evaluate(steps, start, root).into_iter().next()
            }
            Operand::Literal(value) => Some(value),
        }
    }
}

impl Filter {
    /// Whether `item` passes. A comparison with a missing path is false.
    pub(super) fn matches(&self, item: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.matches(item, root) || b.matches(item, root),
            Filter::And(a, b) => a.matches(item, root) && b.matches(item, root),
            Filter::Not(inner) => !inner.matches(item, root),
            Filter::Exists(operand) => operand.resolve(item, root).is_some(),
            Filter::Compare(left, op, right) => match (left.resolve(item, root), right.resolve(item, root)) {
                (Some(a), Some(b)) => compare(a, *op, b),
                _ => false,
            },
            Filter::Matches(operand, regex) => {
                matches!(operand.resolve(item, root), Some(Value::String(s)) if regex.is_match(s))
            }
        }
    }
}

/// Numbers compare by value, strings lexicographically, other values only for equality.
fn compare(a: &Value, op: CompareOp, b: &Value) -> bool {
    let order = match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => (a == b).then_some(Ordering::Equal),
    };
    match op {
        CompareOp::Eq => order == Some(Ordering::Equal),
        CompareOp::Ne => order != Some(Ordering::Equal),
        CompareOp::Lt => order == Some(Ordering::Less),
        CompareOp::Le => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Gt => order == Some(Ordering::Greater),
        CompareOp::Ge => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonpath::Selector;
    use serde_json::json;

    #[test]
    fn comparisons_by_type() {
        assert!(compare(&json!(1), CompareOp::Eq, &json!(1.0)));
        assert!(compare(&json!(2), CompareOp::Gt, &json!(1.5)));
        assert!(compare(&json!("b"), CompareOp::Ge, &json!("a")));
        assert!(!compare(&json!("1"), CompareOp::Eq, &json!(1)));
        assert!(compare(&json!("1"), CompareOp::Ne, &json!(1)));
        assert!(compare(&json!([1]), CompareOp::Eq, &json!([1])));
        assert!(!compare(&json!(true), CompareOp::Lt, &json!(false)));
        assert!(compare(&json!(null), CompareOp::Eq, &json!(null)));
    }

    #[test]
    fn missing_paths_make_comparisons_false() {
        let filter = Filter::Compare(
            Operand::Path {
                from_root: false,
                steps: vec![Step::Child(Selector::Name("x".into()))],
            },
            CompareOp::Ne,
            Operand::Literal(json!("v")),
        );
        assert!(!filter.matches(&json!({}), &json!({})));
        assert!(filter.matches(&json!({"x": "w"}), &json!({})));
    }
}
