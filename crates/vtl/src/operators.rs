//! Velocity's operators on runtime values: arithmetic, string concatenation and comparison.

use std::cmp::Ordering;

use crate::ast::BinaryOp;
use crate::value::Value;

/// A numeric operand.
#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of(value: &Value) -> Option<Number> {
        match value {
            Value::Int(i) => Some(Number::Int(*i)),
            Value::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Applies a non-short-circuit binary operator (`&&` and `||` are evaluated lazily by the
/// renderer).
pub(crate) fn binary(op: BinaryOp, left: &Value, right: &Value) -> Result<Value, String> {
    match op {
        // Velocity 1.7, which API Gateway runs: a null operand makes `==` and `!=` false, as it
        // does every comparison ("Operation not possible"), so `#if($x.y != '')` with `$x.y`
        // absent takes the else branch.
        BinaryOp::Eq | BinaryOp::Ne if left.is_null() || right.is_null() => Ok(Value::Bool(false)),
        BinaryOp::Eq => Ok(Value::Bool(velocity_equals(left, right))),
        BinaryOp::Ne => Ok(Value::Bool(!velocity_equals(left, right))),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => compare(op, left, right),
        BinaryOp::Add if matches!(left, Value::Str(_)) || matches!(right, Value::Str(_)) => {
            // String concatenation. Velocity would print a null operand as its source text;
            // API Gateway renders null references as empty, so null joins as "".
            let mut joined = String::new();
            left.render(&mut joined);
            right.render(&mut joined);
            Ok(Value::string(joined))
        }
        _ => arithmetic(op, left, right),
    }
}

/// Unary minus.
pub(crate) fn negate(value: &Value) -> Result<Value, String> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| "integer overflow in `-`".to_owned()),
        Value::Float(f) => Ok(Value::Float(-f)),
        other => Err(format!("`-` cannot be applied to {}", other.describe())),
    }
}

/// Velocity's `==` of two values: numbers compare by value (`1 == 1.0`), values of the same
/// type with `equals`, values of different types by their `toString` (so `5 == '5'`). A null
/// operand equals nothing, not even null (Velocity 1.7).
pub(crate) fn velocity_equals(left: &Value, right: &Value) -> bool {
    if let (Some(a), Some(b)) = (Number::of(left), Number::of(right)) {
        return numeric_order(a, b) == Some(Ordering::Equal);
    }
    match (left, right) {
        (Value::Null, _) | (_, Value::Null) => false,
        _ if std::mem::discriminant(left) == std::mem::discriminant(right) => left.java_equals(right),
        _ => left.to_java_string() == right.to_java_string(),
    }
}

fn numeric_order(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
        _ => a.as_f64().partial_cmp(&b.as_f64()),
    }
}

/// `< <= > >=`: numbers by value, strings lexicographically. A null operand makes the
/// comparison false (Velocity logs and yields false); other mixes are errors.
fn compare(op: BinaryOp, left: &Value, right: &Value) -> Result<Value, String> {
    if left.is_null() || right.is_null() {
        return Ok(Value::Bool(false));
    }
    let order = match (left, right) {
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        _ => match (Number::of(left), Number::of(right)) {
            (Some(a), Some(b)) => numeric_order(a, b),
            _ => {
                return Err(format!(
                    "`{}` cannot compare {} with {}",
                    op.symbol(),
                    left.describe(),
                    right.describe()
                ));
            }
        },
    };
    let result = order.is_some_and(|order| match op {
        BinaryOp::Lt => order == Ordering::Less,
        BinaryOp::Le => order != Ordering::Greater,
        BinaryOp::Gt => order == Ordering::Greater,
        _ => order != Ordering::Less,
    });
    Ok(Value::Bool(result))
}

/// `+ - * / %` on numbers. Integer division truncates; mixing in a Double gives a Double.
/// A null operand yields null, as in Velocity.
fn arithmetic(op: BinaryOp, left: &Value, right: &Value) -> Result<Value, String> {
    if left.is_null() || right.is_null() {
        return Ok(Value::Null);
    }
    let (Some(a), Some(b)) = (Number::of(left), Number::of(right)) else {
        return Err(format!(
            "`{}` cannot be applied to {} and {}",
            op.symbol(),
            left.describe(),
            right.describe()
        ));
    };
    let zero_divisor = match b {
        Number::Int(b) => b == 0,
        Number::Float(b) => b == 0.0,
    };
    if matches!(op, BinaryOp::Div | BinaryOp::Rem) && zero_divisor {
        return Err("division by zero".to_owned());
    }
    if let (Number::Int(a), Number::Int(b)) = (a, b) {
        let result = match op {
            BinaryOp::Add => a.checked_add(b),
            BinaryOp::Sub => a.checked_sub(b),
            BinaryOp::Mul => a.checked_mul(b),
            BinaryOp::Div => a.checked_div(b),
            _ => a.checked_rem(b),
        };
        return result
            .map(Value::Int)
            .ok_or_else(|| format!("integer overflow in `{}`", op.symbol()));
    }
    let (a, b) = (a.as_f64(), b.as_f64());
    Ok(Value::Float(match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        _ => a % b,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    fn apply(op: BinaryOp, a: Value, b: Value) -> String {
        match binary(op, &a, &b) {
            Ok(v) => v.to_java_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn arithmetic_follows_java() {
        assert_eq!(apply(BinaryOp::Div, Value::Int(7), Value::Int(2)), "3");
        assert_eq!(apply(BinaryOp::Div, Value::Int(-7), Value::Int(2)), "-3");
        assert_eq!(apply(BinaryOp::Rem, Value::Int(-7), Value::Int(2)), "-1");
        assert_eq!(apply(BinaryOp::Mul, Value::Int(2), Value::Float(1.5)), "3.0");
        assert_eq!(apply(BinaryOp::Sub, Value::Float(0.5), Value::Int(1)), "-0.5");
        assert_eq!(
            apply(BinaryOp::Div, Value::Int(1), Value::Int(0)),
            "error: division by zero"
        );
        assert_eq!(
            apply(BinaryOp::Add, Value::Int(i64::MAX), Value::Int(1)),
            "error: integer overflow in `+`"
        );
        assert_eq!(apply(BinaryOp::Add, Value::Null, Value::Int(1)), "null");
    }

    #[test]
    fn plus_concatenates_when_either_side_is_a_string() {
        assert_eq!(apply(BinaryOp::Add, s("a"), Value::Int(1)), "a1");
        assert_eq!(apply(BinaryOp::Add, Value::Float(1.0), s("b")), "1.0b");
        assert_eq!(apply(BinaryOp::Add, s("a"), Value::Null), "a");
        assert!(apply(BinaryOp::Sub, s("a"), Value::Int(1)).starts_with("error: `-` cannot"));
    }

    #[test]
    fn equality_follows_velocity() {
        assert!(velocity_equals(&Value::Int(1), &Value::Float(1.0)));
        assert!(velocity_equals(&Value::Int(5), &s("5")));
        assert!(!velocity_equals(&Value::Int(5), &s("")));
        assert!(velocity_equals(&Value::Bool(true), &s("true")));
    }

    /// Velocity 1.7 (API Gateway's) says "Operation not possible" and yields false for any
    /// comparison with a null operand, `!=` included: `#if($x.y != '')` with `$x.y` absent is
    /// false on AWS.
    #[test]
    fn a_comparison_with_an_undefined_value_is_false_as_in_velocity_1_7() {
        for op in [BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Ge] {
            assert_eq!(apply(op, Value::Null, s("")), "false", "{op:?}");
            assert_eq!(apply(op, s(""), Value::Null), "false", "{op:?}");
            assert_eq!(apply(op, Value::Null, Value::Null), "false", "{op:?}");
        }
        assert_eq!(apply(BinaryOp::Ne, s("a"), s("")), "true");
    }

    #[test]
    fn comparisons() {
        assert_eq!(apply(BinaryOp::Lt, Value::Int(1), Value::Float(1.5)), "true");
        assert_eq!(apply(BinaryOp::Ge, s("b"), s("a")), "true");
        assert_eq!(apply(BinaryOp::Gt, Value::Null, Value::Int(1)), "false");
        assert!(apply(BinaryOp::Lt, s("1"), Value::Int(2)).starts_with("error: `<` cannot compare"));
    }

    #[test]
    fn negation() {
        assert!(matches!(negate(&Value::Int(3)), Ok(Value::Int(-3))));
        assert!(negate(&s("x")).is_err());
    }
}
