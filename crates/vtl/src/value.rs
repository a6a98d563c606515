//! The runtime value model: the slice of Java's object model that Velocity templates see,
//! with Java's `toString` and `equals` rules.
//!
//! Lists and maps are shared and mutable, as Java collections are: after
//! `#set($b = $a)`, `$b.add(1)` changes what `$a` shows too.

use std::cell::RefCell;
use std::rc::Rc;

use indexmap::IndexMap;

/// A shared, mutable Java `List`.
pub(crate) type ListRef = Rc<RefCell<Vec<Value>>>;
/// A shared, mutable, insertion-ordered Java `Map` (a `LinkedHashMap`). Keys are strings:
/// JSON objects only have string keys, and other keys are converted with `toString`.
pub(crate) type MapRef = Rc<RefCell<IndexMap<String, Value>>>;

/// Collections nested deeper than this are cut short when printed or compared, so a list
/// that contains itself cannot recurse forever.
const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(ListRef),
    Map(MapRef),
    Object(Object),
}

/// Values that are not plain data.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    /// `$input`
    Input,
    /// `$util`
    Util,
    /// `$foreach` inside a loop.
    Foreach(Rc<LoopState>),
    /// An element of `$map.entrySet()`.
    Entry(Rc<(String, Value)>),
}

/// The state `$foreach` exposes for the current iteration.
#[derive(Debug)]
pub(crate) struct LoopState {
    /// 0-based index of the current item.
    pub(crate) index: usize,
    /// Number of items in the loop.
    pub(crate) len: usize,
    /// The enclosing loop's `$foreach`, or null.
    pub(crate) parent: Value,
}

impl Value {
    pub(crate) fn string(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub(crate) fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub(crate) fn map(entries: IndexMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Velocity 1.7 truthiness: only `null` and `false` are false. Empty strings, empty
    /// lists and zero are all true.
    pub(crate) fn is_truthy(&self) -> bool {
        !matches!(self, Value::Null | Value::Bool(false))
    }

    /// The value's Java type with an article, for error messages ("a String").
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an Integer",
            Value::Float(_) => "a Double",
            Value::Str(_) => "a String",
            Value::List(_) => "a List",
            Value::Map(_) => "a Map",
            Value::Object(Object::Input) => "`$input`",
            Value::Object(Object::Util) => "`$util`",
            Value::Object(Object::Foreach(_)) => "`$foreach`",
            Value::Object(Object::Entry(_)) => "a Map.Entry",
        }
    }

    /// Converts parsed JSON the way API Gateway's `$input.path` / `$util.parseJson` expose it:
    /// objects become maps, arrays lists, integral numbers that fit in 64 bits Integers and
    /// other numbers Doubles.
    pub(crate) fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => n.as_f64().map_or(Value::Null, Value::Float),
            },
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(items) => Value::list(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Appends what the template outputs for this value: nothing for null (API Gateway
    /// renders undefined and null references as empty), Java `toString` otherwise.
    pub(crate) fn render(&self, out: &mut String) {
        if !self.is_null() {
            self.write_java(out, 0);
        }
    }

    /// Java's `String.valueOf(value)`; null prints as `null`.
    pub(crate) fn to_java_string(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            other => {
                let mut out = String::new();
                other.write_java(&mut out, 0);
                out
            }
        }
    }

    fn write_java(&self, out: &mut String, depth: usize) {
        if depth > MAX_DEPTH {
            out.push_str("...");
            return;
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&format_double(*f)),
            Value::Str(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_java(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push('=');
                    value.write_java(out, depth + 1);
                }
                out.push('}');
            }
            Value::Object(Object::Entry(entry)) => {
                out.push_str(&entry.0);
                out.push('=');
                entry.1.write_java(out, depth + 1);
            }
            Value::Object(Object::Input) => out.push_str("$input"),
            Value::Object(Object::Util) => out.push_str("$util"),
            Value::Object(Object::Foreach(_)) => out.push_str("$foreach"),
        }
    }

    /// Java's `a.equals(b)`: same type and same content. An Integer never equals a Double.
    pub(crate) fn java_equals(&self, other: &Value) -> bool {
        self.equals_at(other, 0)
    }

    fn equals_at(&self, other: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            // Double.equals compares bits: NaN equals NaN, 0.0 differs from -0.0.
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                Rc::ptr_eq(a, b) || {
                    let (a, b) = (a.borrow(), b.borrow());
                    a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals_at(y, depth + 1))
                }
            }
            (Value::Map(a), Value::Map(b)) => {
                Rc::ptr_eq(a, b) || {
                    let (a, b) = (a.borrow(), b.borrow());
                    a.len() == b.len()
                        && a.iter()
                            .all(|(k, v)| b.get(k).is_some_and(|w| v.equals_at(w, depth + 1)))
                }
            }
            (Value::Object(Object::Entry(a)), Value::Object(Object::Entry(b))) => {
                a.0 == b.0 && a.1.equals_at(&b.1, depth + 1)
            }
            (Value::Object(Object::Input), Value::Object(Object::Input))
            | (Value::Object(Object::Util), Value::Object(Object::Util)) => true,
            (Value::Object(Object::Foreach(a)), Value::Object(Object::Foreach(b))) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Java's `Double.toString`: plain notation with at least one fractional digit for
/// magnitudes in [10⁻³, 10⁷), computerized scientific notation (`1.0E7`) otherwise.
pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    if (1e-3..1e7).contains(&d.abs()) {
        let plain = d.to_string();
        return if plain.contains('.') { plain } else { plain + ".0" };
    }
    let scientific = format!("{d:E}");
    match scientific.split_once('E') {
        Some((mantissa, exponent)) if !mantissa.contains('.') => {
            format!("{mantissa}.0E{exponent}")
        }
        _ => scientific,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::from_json(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(format_double(1.0), "1.0");
        assert_eq!(format_double(2.5), "2.5");
        assert_eq!(format_double(-0.5), "-0.5");
        assert_eq!(format_double(0.001), "0.001");
        assert_eq!(format_double(1234567.5), "1234567.5");
        assert_eq!(format_double(1e7), "1.0E7");
        assert_eq!(format_double(1.5e-5), "1.5E-5");
        assert_eq!(format_double(-2.5e10), "-2.5E10");
        assert_eq!(format_double(0.0), "0.0");
        assert_eq!(format_double(f64::NAN), "NaN");
        assert_eq!(format_double(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn collections_print_like_java() {
        let value = json(r#"{"a": 1, "b": ["x", "y"], "c": null, "d": {"e": 2.0}, "f": true}"#);
        assert_eq!(
            value.to_java_string(),
            "{a=1, b=[x, y], c=null, d={e=2.0}, f=true}"
        );
        assert_eq!(json("[]").to_java_string(), "[]");
        assert_eq!(json("{}").to_java_string(), "{}");
    }

    #[test]
    fn null_renders_empty_but_prints_null_inside_collections() {
        let mut out = String::new();
        Value::Null.render(&mut out);
        assert_eq!(out, "");
        assert_eq!(json("[null]").to_java_string(), "[null]");
    }

    #[test]
    fn json_numbers() {
        assert!(matches!(json("42"), Value::Int(42)));
        assert!(matches!(json("42.0"), Value::Float(f) if f == 42.0));
        assert!(matches!(json("18446744073709551615"), Value::Float(_)));
    }

    #[test]
    fn truthiness_follows_velocity_1_7() {
        assert!(!Value::Null.is_truthy());
        assert!(!Value::Bool(false).is_truthy());
        assert!(Value::string("").is_truthy());
        assert!(Value::Int(0).is_truthy());
        assert!(Value::list(vec![]).is_truthy());
    }

    #[test]
    fn java_equality() {
        assert!(json(r#"{"a":[1,2]}"#).java_equals(&json(r#"{"a":[1,2]}"#)));
        assert!(!json("1").java_equals(&json("1.0")));
        assert!(json(r#"{"a":1,"b":2}"#).java_equals(&json(r#"{"b":2,"a":1}"#)));
        assert!(!json("[1]").java_equals(&json("[1,2]")));
    }

    #[test]
    fn self_containing_list_prints_finitely() {
        let list = Value::list(vec![Value::Int(1)]);
        if let Value::List(items) = &list {
            items.borrow_mut().push(list.clone());
        }
        assert!(list.to_java_string().contains("..."));
        assert!(list.java_equals(&list));
    }
}
