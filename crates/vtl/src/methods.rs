//! Java methods and properties of template values: `String`, numbers, `Boolean`, `List`,
//! `Map`, `Map.Entry` and `$foreach`. (`$input` and `$util` live in their own modules.)
//!
//! String indexes count UTF-16 code units, as Java's do.

use std::rc::Rc;

use indexmap::IndexMap;

use crate::javaregex::{self, RegexCache};
use crate::value::{ListRef, LoopState, MapRef, Object, Value};

/// `$value.<name>` on anything but `$input`: a map key, an entry's `key`/`value`, a
/// `$foreach` field, or a bean-style getter (`$list.empty` → `isEmpty()`). Anything else is
/// null, which renders as empty.
pub(crate) fn property(value: &Value, name: &str) -> Value {
    match value {
        Value::Map(map) => map.borrow().get(name).cloned().unwrap_or(Value::Null),
        Value::Object(Object::Entry(entry)) => match name {
            "key" => Value::string(entry.0.as_str()),
            "value" => entry.1.clone(),
            _ => Value::Null,
        },
        Value::Object(Object::Foreach(state)) => foreach_field(state, name),
        Value::Str(s) if name == "empty" => Value::Bool(s.is_empty()),
        Value::List(list) if name == "empty" => Value::Bool(list.borrow().is_empty()),
        _ => Value::Null,
    }
}

fn foreach_field(state: &LoopState, name: &str) -> Value {
    let last = state.index + 1 == state.len;
    match name {
        "index" => Value::Int(state.index as i64),
        "count" => Value::Int(state.index as i64 + 1),
        "hasNext" => Value::Bool(!last),
        "first" => Value::Bool(state.index == 0),
        "last" => Value::Bool(last),
        "parent" => state.parent.clone(),
        _ => Value::Null,
    }
}

/// `$value.<name>(args)` on anything but `$input` and `$util`.
pub(crate) fn call(
    receiver: &Value,
    name: &str,
    args: &[Value],
    regexes: &mut RegexCache,
) -> Result<Value, String> {
    match (name, args) {
        ("toString", []) => return Ok(Value::string(receiver.to_java_string())),
        ("equals", [other]) => return Ok(Value::Bool(receiver.java_equals(other))),
        _ => {}
    }
    let call = Call { receiver, name, args };
    let result = match receiver {
        Value::Str(s) => string_method(&call, s, regexes),
        Value::Int(_) | Value::Float(_) => number_method(&call),
        Value::Bool(b) => match (name, args) {
            ("booleanValue", []) => Some(Ok(Value::Bool(*b))),
            _ => None,
        },
        Value::List(list) => list_method(&call, list),
        Value::Map(map) => map_method(&call, map),
        Value::Object(Object::Entry(entry)) => match (name, args) {
            ("getKey", []) => Some(Ok(Value::string(entry.0.as_str()))),
            ("getValue", []) => Some(Ok(entry.1.clone())),
            _ => None,
        },
        Value::Object(Object::Foreach(state)) => {
            let field = match (name, args) {
                ("hasNext", []) => Some("hasNext"),
                ("getIndex", []) => Some("index"),
                ("getCount", []) => Some("count"),
                ("isFirst", []) => Some("first"),
                ("isLast", []) => Some("last"),
                ("getParent", []) => Some("parent"),
                _ => None,
            };
            field.map(|field| Ok(foreach_field(state, field)))
        }
        // Null receivers never get here (calls on null yield null), nor do `$input`/`$util`.
        Value::Null | Value::Object(Object::Input | Object::Util) => None,
    };
    result.unwrap_or_else(|| Err(call.unknown()))
}

/// `$value[key]`.
pub(crate) fn index(value: &Value, key: &Value) -> Result<Value, String> {
    match value {
        Value::List(list) => {
            let list = list.borrow();
            let i = list_index(key, list.len(), false)?;
            Ok(list[i].clone())
        }
        Value::Map(map) => Ok(map_get(map, key)),
        Value::Null => Ok(Value::Null),
        other => Err(format!("cannot index {} with `[…]`", other.describe())),
    }
}

/// `#set($value.name = new)`. Assigning through null is ignored, as Velocity does.
pub(crate) fn set_property(container: &Value, name: &str, new: Value) -> Result<(), String> {
    match container {
        Value::Map(map) => {
            map.borrow_mut().insert(name.to_owned(), new);
            Ok(())
        }
        Value::Null => Ok(()),
        other => Err(format!("cannot set property `{name}` on {}", other.describe())),
    }
}

/// `#set($value[key] = new)`. Assigning through null is ignored, as Velocity does.
pub(crate) fn set_index(container: &Value, key: &Value, new: Value) -> Result<(), String> {
    match container {
        Value::List(list) => {
            let len = list.borrow().len();
            let i = list_index(key, len, false)?;
            list.borrow_mut()[i] = new;
            Ok(())
        }
        Value::Map(map) => {
            let key = map_key(key)?;
            map.borrow_mut().insert(key, new);
            Ok(())
        }
        Value::Null => Ok(()),
        other => Err(format!("cannot index {} with `[…]`", other.describe())),
    }
}

/// A map key from a value: strings as they are, other values by `toString`.
pub(crate) fn map_key(key: &Value) -> Result<String, String> {
    match key {
        Value::Null => Err("a map key cannot be null".to_owned()),
        Value::Str(s) => Ok(s.to_string()),
        other => Ok(other.to_java_string()),
    }
}

fn map_get(map: &MapRef, key: &Value) -> Value {
    match key {
        Value::Null => Value::Null,
        Value::Str(s) => map.borrow().get(&**s).cloned().unwrap_or(Value::Null),
        other => map
            .borrow()
            .get(&other.to_java_string())
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// Checks a Java list index. `inclusive` allows `len` itself (for `add(i, x)`).
fn list_index(key: &Value, len: usize, inclusive: bool) -> Result<usize, String> {
    let Value::Int(i) = key else {
        return Err(format!("a list index must be an Integer, got {}", key.describe()));
    };
    usize::try_from(*i)
        .ok()
        .filter(|&i| i < len || (inclusive && i == len))
        .ok_or_else(|| format!("index {i} is out of bounds for a List of size {len}"))
}

/// One method call, for argument checking and error messages.
struct Call<'a> {
    receiver: &'a Value,
    name: &'a str,
    args: &'a [Value],
}

impl Call<'_> {
    fn unknown(&self) -> String {
        let arity = match self.args.len() {
            0 => String::new(),
            1 => " with 1 argument".to_owned(),
            n => format!(" with {n} arguments"),
        };
        format!(
            "unknown method `{}`{arity} on {}",
            self.name,
            self.receiver.describe()
        )
    }

    fn str_arg(&self, i: usize) -> Result<&str, String> {
        match self.args.get(i) {
            Some(Value::Str(s)) => Ok(s),
            Some(other) => Err(format!(
                "`{}` expects a String argument, got {}",
                self.name,
                other.describe()
            )),
            None => Err(format!("`{}` is missing an argument", self.name)),
        }
    }

    fn int_arg(&self, i: usize) -> Result<i64, String> {
        match self.args.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            Some(other) => Err(format!(
                "`{}` expects an Integer argument, got {}",
                self.name,
                other.describe()
            )),
            None => Err(format!("`{}` is missing an argument", self.name)),
        }
    }
}

/// UTF-16 length of a string, as Java's `length()`.
fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Java's `indexOf` result for a byte offset found by `str::find`.
fn utf16_index(s: &str, byte_index: Option<usize>) -> Value {
    Value::Int(byte_index.map_or(-1, |b| utf16_len(&s[..b]) as i64))
}

/// Java's `substring(begin, end)` over UTF-16 units.
fn substring(s: &str, begin: i64, end: Option<i64>) -> Result<String, String> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let len = units.len() as i64;
    let end = end.unwrap_or(len);
    if begin < 0 || end > len || begin > end {
        return Err(format!(
            "substring: begin {begin}, end {end}, length {len} is out of range"
        ));
    }
    Ok(String::from_utf16_lossy(&units[begin as usize..end as usize]))
}

fn string_method(call: &Call<'_>, s: &str, regexes: &mut RegexCache) -> Option<Result<Value, String>> {
    let string = |v: String| Ok(Value::string(v));
    let boolean = |b: bool| Ok(Value::Bool(b));
    let result = match (call.name, call.args.len()) {
        ("length", 0) => Ok(Value::Int(utf16_len(s) as i64)),
        ("isEmpty", 0) => boolean(s.is_empty()),
        // Java's trim removes every char up to and including the space.
        ("trim", 0) => string(s.trim_matches(|c: char| c <= ' ').to_owned()),
        ("toLowerCase", 0) => string(s.to_lowercase()),
        ("toUpperCase", 0) => string(s.to_uppercase()),
        ("substring", 1) => call
            .int_arg(0)
            .and_then(|begin| substring(s, begin, None))
            .map(Value::string),
        ("substring", 2) => call
            .int_arg(0)
            .and_then(|begin| substring(s, begin, Some(call.int_arg(1)?)))
            .map(Value::string),
        ("indexOf", 1) => call.str_arg(0).map(|t| utf16_index(s, s.find(t))),
        ("lastIndexOf", 1) => call.str_arg(0).map(|t| utf16_index(s, s.rfind(t))),
        ("contains", 1) => call.str_arg(0).map(|t| Value::Bool(s.contains(t))),
        ("startsWith", 1) => call.str_arg(0).map(|t| Value::Bool(s.starts_with(t))),
        ("endsWith", 1) => call.str_arg(0).map(|t| Value::Bool(s.ends_with(t))),
        ("equalsIgnoreCase", 1) => boolean(match &call.args[0] {
            Value::Str(t) => s.to_lowercase() == t.to_lowercase(),
            _ => false,
        }),
        ("concat", 1) => call.str_arg(0).map(|t| Value::string(format!("{s}{t}"))),
        ("charAt", 1) => call.int_arg(0).and_then(|i| {
            let units: Vec<u16> = s.encode_utf16().collect();
            usize::try_from(i)
                .ok()
                .and_then(|i| units.get(i))
                .map(|unit| Value::string(String::from_utf16_lossy(&[*unit])))
                .ok_or_else(|| format!("charAt: index {i} is out of range for length {}", units.len()))
        }),
        ("replace", 2) => call
            .str_arg(0)
            .and_then(|from| Ok(Value::string(s.replace(from, call.str_arg(1)?)))),
        ("replaceAll" | "replaceFirst", 2) => (|| {
            let regex = regexes.get(call.str_arg(0)?)?;
            let limit = usize::from(call.name == "replaceFirst");
            javaregex::replace(&regex, s, call.str_arg(1)?, limit).map(Value::string)
        })(),
        ("matches", 1) => call
            .str_arg(0)
            .and_then(javaregex::compile_full_match)
            .map(|regex| Value::Bool(regex.is_match(s))),
        ("split", 1) => call.str_arg(0).and_then(|pattern| {
            let regex = regexes.get(pattern)?;
            Ok(Value::list(
                javaregex::split(&regex, s)
                    .into_iter()
                    .map(Value::string)
                    .collect(),
            ))
        }),
        _ => return None,
    };
    Some(result)
}

fn number_method(call: &Call<'_>) -> Option<Result<Value, String>> {
    let (int, float) = match call.receiver {
        Value::Int(i) => (*i, *i as f64),
        Value::Float(f) => (*f as i64, *f),
        _ => return None,
    };
    if !call.args.is_empty() {
        return None;
    }
    Some(Ok(match call.name {
        // Double.intValue() saturates to the 32-bit range; an Integer stays as it is.
        "intValue" => match call.receiver {
            Value::Float(f) => Value::Int(i64::from(*f as i32)),
            _ => Value::Int(int),
        },
        "longValue" => Value::Int(int),
        "doubleValue" | "floatValue" => Value::Float(float),
        _ => return None,
    }))
}

fn list_method(call: &Call<'_>, list: &ListRef) -> Option<Result<Value, String>> {
    let args = call.args;
    let len = list.borrow().len();
    let result = match (call.name, args) {
        // `count()` is not Java, but API Gateway documents `$input.path('$.pets').count()`.
        ("size" | "count", []) => Ok(Value::Int(len as i64)),
        ("isEmpty", []) => Ok(Value::Bool(len == 0)),
        ("get", [i]) => index(call.receiver, i),
        ("contains", [x]) => Ok(Value::Bool(list.borrow().iter().any(|v| v.java_equals(x)))),
        ("indexOf", [x]) => Ok(Value::Int(
            list.borrow()
                .iter()
                .position(|v| v.java_equals(x))
                .map_or(-1, |i| i as i64),
        )),
        ("add", [x]) => {
            list.borrow_mut().push(x.clone());
            Ok(Value::Bool(true))
        }
        ("add", [i, x]) => list_index(i, len, true).map(|i| {
            list.borrow_mut().insert(i, x.clone());
            Value::Null
        }),
        ("addAll", [Value::List(other)]) => {
            // Copy first: `$list.addAll($list)` borrows the same cell twice.
            let items = other.borrow().clone();
            let changed = !items.is_empty();
            list.borrow_mut().extend(items);
            Ok(Value::Bool(changed))
        }
        ("remove", [Value::Int(_)]) => list_index(&args[0], len, false).map(|i| list.borrow_mut().remove(i)),
        ("remove", [x]) => {
            let found = list.borrow().iter().position(|v| v.java_equals(x));
            Ok(Value::Bool(found.is_some_and(|i| {
                list.borrow_mut().remove(i);
                true
            })))
        }
        ("set", [i, x]) => {
            list_index(i, len, false).map(|i| std::mem::replace(&mut list.borrow_mut()[i], x.clone()))
        }
        // A copy, where Java returns a view; writes through a sub-list are rare in templates.
        ("subList", [_, _]) => call.int_arg(0).and_then(|a| {
            let b = call.int_arg(1)?;
            if a < 0 || b > len as i64 || a > b {
                return Err(format!(
                    "subList({a}, {b}) is out of range for a List of size {len}"
                ));
            }
            Ok(Value::list(list.borrow()[a as usize..b as usize].to_vec()))
        }),
        ("clear", []) => {
            list.borrow_mut().clear();
            Ok(Value::Null)
        }
        _ => return None,
    };
    Some(result)
}

fn map_method(call: &Call<'_>, map: &MapRef) -> Option<Result<Value, String>> {
    let result = match (call.name, call.args) {
        ("get", [key]) => Ok(map_get(map, key)),
        ("put", [key, value]) => {
            map_key(key).map(|key| map.borrow_mut().insert(key, value.clone()).unwrap_or(Value::Null))
        }
        ("putAll", [Value::Map(other)]) => {
            // Copy first: `$map.putAll($map)` borrows the same cell twice.
            let entries: IndexMap<String, Value> = other.borrow().clone();
            map.borrow_mut().extend(entries);
            Ok(Value::Null)
        }
        ("remove", [key]) => Ok(match key {
            Value::Null => Value::Null,
            key => map
                .borrow_mut()
                .shift_remove(&key.to_java_string())
                .unwrap_or(Value::Null),
        }),
        ("containsKey", [key]) => Ok(Value::Bool(
            map_key(key).is_ok_and(|k| map.borrow().contains_key(&k)),
        )),
        ("containsValue", [value]) => Ok(Value::Bool(map.borrow().values().any(|v| v.java_equals(value)))),
        ("keySet", []) => Ok(Value::list(
            map.borrow().keys().map(|k| Value::string(k.as_str())).collect(),
        )),
        ("values", []) => Ok(Value::list(map.borrow().values().cloned().collect())),
        ("entrySet", []) => Ok(Value::list(
            map.borrow()
                .iter()
                .map(|(k, v)| Value::Object(Object::Entry(Rc::new((k.clone(), v.clone())))))
                .collect(),
        )),
        ("size", []) => Ok(Value::Int(map.borrow().len() as i64)),
        ("isEmpty", []) => Ok(Value::Bool(map.borrow().is_empty())),
        ("clear", []) => {
            map.borrow_mut().clear();
            Ok(Value::Null)
        }
        _ => return None,
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    fn list(items: &[i64]) -> Value {
        Value::list(items.iter().map(|&i| Value::Int(i)).collect())
    }

    /// Calls a method and prints the result (or the error) Java-style.
    fn invoke(receiver: &Value, name: &str, args: &[Value]) -> String {
        match call(receiver, name, args, &mut RegexCache::default()) {
            Ok(v) => v.to_java_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn string_methods() {
        let hello = s("  Hello, World  ");
        assert_eq!(invoke(&hello, "trim", &[]), "Hello, World");
        assert_eq!(invoke(&hello, "length", &[]), "16");
        assert_eq!(invoke(&s("Abc"), "toLowerCase", &[]), "abc");
        assert_eq!(invoke(&s("Abc"), "toUpperCase", &[]), "ABC");
        assert_eq!(invoke(&s("abcdef"), "substring", &[Value::Int(2)]), "cdef");
        assert_eq!(
            invoke(&s("abcdef"), "substring", &[Value::Int(1), Value::Int(3)]),
            "bc"
        );
        assert_eq!(invoke(&s("abcabc"), "indexOf", &[s("c")]), "2");
        assert_eq!(invoke(&s("abcabc"), "lastIndexOf", &[s("c")]), "5");
        assert_eq!(invoke(&s("abc"), "indexOf", &[s("z")]), "-1");
        assert_eq!(invoke(&s("abc"), "contains", &[s("bc")]), "true");
        assert_eq!(invoke(&s("abc"), "startsWith", &[s("ab")]), "true");
        assert_eq!(invoke(&s("abc"), "endsWith", &[s("bc")]), "true");
        assert_eq!(invoke(&s("abc"), "equals", &[s("abc")]), "true");
        assert_eq!(invoke(&s("abc"), "equals", &[Value::Int(1)]), "false");
        assert_eq!(invoke(&s("abc"), "equalsIgnoreCase", &[s("ABC")]), "true");
        assert_eq!(invoke(&s("a.b.c"), "replace", &[s("."), s("-")]), "a-b-c");
        assert_eq!(invoke(&s("a1b22"), "replaceAll", &[s("[0-9]+"), s("#")]), "a#b#");
        assert_eq!(
            invoke(&s("a1b22"), "replaceFirst", &[s("[0-9]+"), s("#")]),
            "a#b22"
        );
        assert_eq!(invoke(&s("abc"), "matches", &[s("[a-c]+")]), "true");
        assert_eq!(invoke(&s("a,b,,"), "split", &[s(",")]), "[a, b]");
        assert_eq!(invoke(&s("héllo"), "charAt", &[Value::Int(1)]), "é");
        assert_eq!(invoke(&s("ab"), "concat", &[s("cd")]), "abcd");
        assert_eq!(invoke(&s(""), "isEmpty", &[]), "true");
        assert_eq!(invoke(&s("x"), "toString", &[]), "x");
    }

    #[test]
    fn string_indexes_count_utf16_units() {
        let emoji = s("😀ab");
        assert_eq!(invoke(&emoji, "length", &[]), "4");
        assert_eq!(invoke(&emoji, "indexOf", &[s("a")]), "2");
        assert_eq!(invoke(&emoji, "substring", &[Value::Int(2)]), "ab");
    }

    #[test]
    fn string_method_errors() {
        assert_eq!(
            invoke(&s("abc"), "substring", &[Value::Int(2), Value::Int(9)]),
            "error: substring: begin 2, end 9, length 3 is out of range"
        );
        assert_eq!(
            invoke(&s("abc"), "charAt", &[Value::Int(3)]),
            "error: charAt: index 3 is out of range for length 3"
        );
        assert_eq!(
            invoke(&s("abc"), "contains", &[Value::Int(1)]),
            "error: `contains` expects a String argument, got an Integer"
        );
        assert_eq!(
            invoke(&s("abc"), "foo", &[]),
            "error: unknown method `foo` on a String"
        );
        assert_eq!(
            invoke(&s("abc"), "trim", &[Value::Int(1)]),
            "error: unknown method `trim` with 1 argument on a String"
        );
        assert!(invoke(&s("abc"), "matches", &[s("(")]).starts_with("error: invalid regex `(`"));
    }

    #[test]
    fn number_methods() {
        assert_eq!(invoke(&Value::Float(2.7), "intValue", &[]), "2");
        assert_eq!(invoke(&Value::Float(1e12), "intValue", &[]), "2147483647");
        assert_eq!(invoke(&Value::Int(3), "doubleValue", &[]), "3.0");
        assert_eq!(invoke(&Value::Int(3), "toString", &[]), "3");
        assert_eq!(invoke(&Value::Bool(true), "toString", &[]), "true");
        assert!(invoke(&Value::Int(3), "length", &[]).starts_with("error: unknown method"));
    }

    #[test]
    fn list_methods_mutate_the_shared_list() {
        let l = list(&[1, 2, 3]);
        assert_eq!(invoke(&l, "size", &[]), "3");
        assert_eq!(invoke(&l, "count", &[]), "3");
        assert_eq!(invoke(&l, "get", &[Value::Int(1)]), "2");
        assert_eq!(invoke(&l, "contains", &[Value::Int(3)]), "true");
        assert_eq!(invoke(&l, "contains", &[Value::Float(3.0)]), "false");
        assert_eq!(invoke(&l, "indexOf", &[Value::Int(3)]), "2");
        assert_eq!(invoke(&l, "add", &[Value::Int(4)]), "true");
        assert_eq!(invoke(&l, "add", &[Value::Int(0), Value::Int(0)]), "null");
        assert_eq!(invoke(&l, "set", &[Value::Int(0), Value::Int(9)]), "0");
        assert_eq!(invoke(&l, "remove", &[Value::Int(0)]), "9");
        assert_eq!(invoke(&l, "remove", &[s("x")]), "false");
        assert_eq!(invoke(&l, "subList", &[Value::Int(1), Value::Int(3)]), "[2, 3]");
        assert_eq!(invoke(&l, "addAll", std::slice::from_ref(&l)), "true");
        assert_eq!(l.to_java_string(), "[1, 2, 3, 4, 1, 2, 3, 4]");
        assert_eq!(invoke(&l, "isEmpty", &[]), "false");
        assert_eq!(invoke(&l, "clear", &[]), "null");
        assert_eq!(l.to_java_string(), "[]");
    }

    #[test]
    fn list_index_errors() {
        let l = list(&[1]);
        assert_eq!(
            invoke(&l, "get", &[Value::Int(1)]),
            "error: index 1 is out of bounds for a List of size 1"
        );
        assert_eq!(
            invoke(&l, "get", &[s("0")]),
            "error: a list index must be an Integer, got a String"
        );
        assert_eq!(
            index(&s("abc"), &Value::Int(0)).err().as_deref(),
            Some("cannot index a String with `[…]`")
        );
    }

    #[test]
    fn map_methods() {
        let m = Value::map(IndexMap::new());
        assert_eq!(invoke(&m, "put", &[s("a"), Value::Int(1)]), "null");
        assert_eq!(invoke(&m, "put", &[s("a"), Value::Int(2)]), "1");
        assert_eq!(invoke(&m, "put", &[Value::Int(7), s("seven")]), "null");
        assert_eq!(invoke(&m, "get", &[s("a")]), "2");
        assert_eq!(invoke(&m, "get", &[Value::Int(7)]), "seven");
        assert_eq!(invoke(&m, "containsKey", &[s("a")]), "true");
        assert_eq!(invoke(&m, "containsKey", &[s("zz")]), "false");
        assert_eq!(invoke(&m, "containsValue", &[s("seven")]), "true");
        assert_eq!(invoke(&m, "keySet", &[]), "[a, 7]");
        assert_eq!(invoke(&m, "values", &[]), "[2, seven]");
        assert_eq!(invoke(&m, "entrySet", &[]), "[a=2, 7=seven]");
        assert_eq!(invoke(&m, "size", &[]), "2");
        assert_eq!(invoke(&m, "putAll", std::slice::from_ref(&m)), "null");
        assert_eq!(invoke(&m, "remove", &[s("a")]), "2");
        assert_eq!(m.to_java_string(), "{7=seven}");
        assert_eq!(
            invoke(&m, "put", &[Value::Null, s("x")]),
            "error: a map key cannot be null"
        );
        assert_eq!(property(&m, "7").to_java_string(), "seven");
        assert!(property(&m, "missing").is_null());
    }

    #[test]
    fn entries_and_loop_state() {
        let entry = Value::Object(Object::Entry(Rc::new(("k".to_owned(), Value::Int(1)))));
        assert_eq!(property(&entry, "key").to_java_string(), "k");
        assert_eq!(invoke(&entry, "getValue", &[]), "1");
        let state = Value::Object(Object::Foreach(Rc::new(LoopState {
            index: 1,
            len: 3,
            parent: Value::Null,
        })));
        assert_eq!(property(&state, "index").to_java_string(), "1");
        assert_eq!(property(&state, "count").to_java_string(), "2");
        assert_eq!(property(&state, "hasNext").to_java_string(), "true");
        assert_eq!(property(&state, "first").to_java_string(), "false");
        assert_eq!(invoke(&state, "isLast", &[]), "false");
        assert_eq!(invoke(&state, "hasNext", &[]), "true");
    }

    #[test]
    fn bean_style_empty_property() {
        assert_eq!(property(&s(""), "empty").to_java_string(), "true");
        assert_eq!(property(&list(&[1]), "empty").to_java_string(), "false");
        assert!(property(&s("x"), "length").is_null());
    }

    #[test]
    fn assignments() {
        let m = Value::map(IndexMap::new());
        assert!(set_property(&m, "a", Value::Int(1)).is_ok());
        assert!(set_index(&m, &s("b"), Value::Int(2)).is_ok());
        assert_eq!(m.to_java_string(), "{a=1, b=2}");
        let l = list(&[1]);
        assert!(set_index(&l, &Value::Int(0), Value::Int(5)).is_ok());
        assert_eq!(l.to_java_string(), "[5]");
        assert!(set_index(&l, &Value::Int(1), Value::Int(5)).is_err());
        assert!(set_property(&Value::Null, "a", Value::Int(1)).is_ok());
        assert_eq!(
            set_property(&s("x"), "a", Value::Int(1)).err().as_deref(),
            Some("cannot set property `a` on a String")
        );
    }
}
