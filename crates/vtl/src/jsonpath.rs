//! JSONPath as API Gateway's `$input.path` / `$input.json` understand it: Goessner's syntax
//! with the result rules of Jayway JsonPath (Java).
//!
//! Supported syntax:
//! * `$` (optional: a path without it is read as if it started with `$.`),
//! * `.name`, `['name']`, `["name"]`, `['a','b']`,
//! * `[0]`, `[-1]`, `[0,2]`, `[1:3]`, `[:2]`, `[-2:]`, `[*]`, `.*`,
//! * deep scan `..name`, `..*`, `..[0]`,
//! * filters `[?(<expr>)]` where `<expr>` combines `@.path` / `$.path` operands and literals
//!   (`'str'`, `"str"`, numbers, `true`, `false`, `null`) with `== != < <= > >=`,
//!   regex matches `@.name =~ /^a.*/i`, existence tests `@.flag`, `!`, `&&`, `||` and
//!   parentheses.
//!
//! Jayway's result rule: a *definite* path (only names and single indexes) selects one value
//! or nothing ([`Selection::Value`] / [`Selection::NoMatch`]); any other path selects a
//! list of every match, possibly empty ([`Selection::List`]).
//!
//! Not supported: functions such as `.length()`, slice steps, the `in`/`nin`/`size` filter
//! operators. A union of names returns the values as a list (Jayway would build an object).
//!
//! ```
//! use personalize_stack_vtl::jsonpath::{self, Selection};
//!
//! let doc = serde_json::json!({"records": [{"data": "a"}, {"data": "b"}]});
//! let Ok(Selection::Value(first)) = jsonpath::select(&doc, "$.records[0].data") else {
//!     panic!("definite paths select a single value");
//! };
//! assert_eq!(first, "a");
//! let Ok(Selection::List(all)) = jsonpath::select(&doc, "$.records[*].data") else {
//!     panic!("wildcards select a list");
//! };
//! assert_eq!(all, ["a", "b"]);
//! ```

mod filter;
mod parser;

use serde_json::Value;

use filter::Filter;

/// A JSONPath syntax error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct JsonPathError {
    /// 1-based column in the path, counted in chars.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// What a path selected from a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection<'a> {
    /// A definite path that matched nothing.
    NoMatch,
    /// The value matched by a definite path.
    Value(&'a Value),
    /// Every value matched by an indefinite path, in document order (possibly none).
    List(Vec<&'a Value>),
}

impl Selection<'_> {
    /// The selection as an owned JSON value: `None` for no match, an array for a list.
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Selection::NoMatch => None,
            Selection::Value(v) => Some((*v).clone()),
            Selection::List(vs) => Some(Value::Array(vs.iter().map(|v| (*v).clone()).collect())),
        }
    }
}

/// A parsed JSONPath, reusable across documents.
#[derive(Debug, Clone)]
pub struct JsonPath {
    steps: Vec<Step>,
}

/// One step of a path, applied to every node selected so far.
#[derive(Debug, Clone)]
enum Step {
    /// Applies the selector to the node itself.
    Child(Selector),
    /// Applies the selector to the node and all its descendants (`..`).
    Descendant(Selector),
}

#[derive(Debug, Clone)]
enum Selector {
    Name(String),
    Names(Vec<String>),
    Wildcard,
    Index(i64),
    Indexes(Vec<i64>),
    Slice { start: Option<i64>, end: Option<i64> },
    Filter(Filter),
}

impl JsonPath {
    /// Parses a path. Errors carry the 1-based column of the problem.
    pub fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
        parser::parse(path)
    }

    /// Whether the path is definite (names and single indexes only), i.e. selects at most one
    /// value.
    pub fn is_definite(&self) -> bool {
        is_definite(&self.steps)
    }

    /// Applies the path to a document.
    pub fn select<'a>(&self, doc: &'a Value) -> Selection<'a> {
        let matches = evaluate(&self.steps, doc, doc);
        if self.is_definite() {
            matches
                .into_iter()
                .next()
                .map_or(Selection::NoMatch, Selection::Value)
        } else {
            Selection::List(matches)
        }
    }
}

/// Parses `path` and applies it to `doc`.
pub fn select<'a>(doc: &'a Value, path: &str) -> Result<Selection<'a>, JsonPathError> {
    Ok(JsonPath::parse(path)?.select(doc))
}

fn is_definite(steps: &[Step]) -> bool {
    steps.iter().all(|step| {
        matches!(
            step,
            Step::Child(Selector::Name(_)) | Step::Child(Selector::Index(_))
        )
    })
}

/// Applies `steps` starting from `start`; `root` is what `$` means inside filters.
fn evaluate<'a>(steps: &[Step], start: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    let mut current = vec![start];
    for step in steps {
        let mut next = Vec::new();
        for node in current {
            match step {
                Step::Child(selector) => apply(selector, node, root, &mut next),
                Step::Descendant(selector) => descend(selector, node, root, &mut next),
            }
        }
        current = next;
    }
    current
}

/// Applies `selector` to `node` and then, depth first, to every descendant.
fn descend<'a>(selector: &Selector, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    apply(selector, node, root, out);
    match node {
        Value::Array(items) => items.iter().for_each(|item| descend(selector, item, root, out)),
        Value::Object(entries) => entries
            .values()
            .for_each(|value| descend(selector, value, root, out)),
        _ => {}
    }
}

/// Resolves a possibly negative index against an array length.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { len + index } else { index };
    usize::try_from(i).ok().filter(|&i| (i as i64) < len)
}

fn apply<'a>(selector: &Selector, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match (selector, node) {
        (Selector::Name(name), Value::Object(entries)) => out.extend(entries.get(name)),
        (Selector::Names(names), Value::Object(entries)) => {
            out.extend(names.iter().filter_map(|name| entries.get(name)));
        }
        (Selector::Wildcard, Value::Object(entries)) => out.extend(entries.values()),
        (Selector::Wildcard, Value::Array(items)) => out.extend(items),
        (Selector::Index(i), Value::Array(items)) => {
            out.extend(resolve_index(*i, items.len()).and_then(|i| items.get(i)));
        }
        (Selector::Indexes(indexes), Value::Array(items)) => out.extend(
            indexes
                .iter()
                .filter_map(|i| resolve_index(*i, items.len()).and_then(|i| items.get(i))),
        ),
        (Selector::Slice { start, end }, Value::Array(items)) => {
            let len = items.len() as i64;
            let clamp = |i: i64| (if i < 0 { len + i } else { i }).clamp(0, len) as usize;
            let from = start.map_or(0, clamp);
            let to = end.map_or(items.len(), clamp);
            if from < to {
                out.extend(&items[from..to]);
            }
        }
        (Selector::Filter(filter), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| filter.matches(item, root)));
        }
        // On an object, Jayway tests the object itself.
        (Selector::Filter(filter), Value::Object(_)) if filter.matches(node, root) => {
            out.push(node);
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick",
                     "isbn": "0-553", "price": 8.99},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR",
                     "isbn": "0-395", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "expensive": 10,
            "a b": {"c": true}
        })
    }

    fn sel(path: &str) -> Option<Value> {
        select(&doc(), path).unwrap().to_value()
    }

    #[test]
    fn definite_paths_select_one_value() {
        assert_eq!(sel("$.store.bicycle.color"), Some(json!("red")));
        assert_eq!(sel("$['store']['bicycle']['color']"), Some(json!("red")));
        assert_eq!(sel("$[\"a b\"].c"), Some(json!(true)));
        assert_eq!(sel("$.store.book[0].author"), Some(json!("Nigel Rees")));
        assert_eq!(sel("$.store.book[-1].title"), Some(json!("LOTR")));
        assert_eq!(sel("store.bicycle.price"), Some(json!(19.95)));
        assert_eq!(sel("$"), Some(doc()));
        assert_eq!(sel("$.missing"), None);
        assert_eq!(sel("$.store.book[9]"), None);
        assert_eq!(sel("$.expensive.deeper"), None);
    }

    #[test]
    fn indefinite_paths_select_lists() {
        assert_eq!(
            sel("$.store.book[*].author"),
            Some(json!([
                "Nigel Rees",
                "Evelyn Waugh",
                "Herman Melville",
                "J. R. R. Tolkien"
            ]))
        );
        assert_eq!(
            sel("$.store.book[0,2].title"),
            Some(json!(["Sayings", "Moby Dick"]))
        );
        assert_eq!(
            sel("$.store.book[1:3].title"),
            Some(json!(["Sword", "Moby Dick"]))
        );
        assert_eq!(sel("$.store.book[:1].title"), Some(json!(["Sayings"])));
        assert_eq!(sel("$.store.book[-1:].title"), Some(json!(["LOTR"])));
        assert_eq!(sel("$.store.bicycle.*"), Some(json!(["red", 19.95])));
        assert_eq!(
            sel("$['store']['bicycle']['color','price']"),
            Some(json!(["red", 19.95]))
        );
        assert_eq!(sel("$.store.book[*].missing"), Some(json!([])));
    }

    #[test]
    fn deep_scan() {
        assert_eq!(sel("$..price"), Some(json!([8.95, 12.99, 8.99, 22.99, 19.95])));
        assert_eq!(sel("$..book[2].title"), Some(json!(["Moby Dick"])));
        assert_eq!(sel("$.store..color"), Some(json!(["red"])));
        assert_eq!(sel("$..c"), Some(json!([true])));
    }

    #[test]
    fn filters() {
        assert_eq!(
            sel("$.store.book[?(@.category == 'reference')].title"),
            Some(json!(["Sayings"]))
        );
        assert_eq!(
            sel("$.store.book[?(@.price > 10)].title"),
            Some(json!(["Sword", "LOTR"]))
        );
        assert_eq!(
            sel("$.store.book[?(@.isbn)].title"),
            Some(json!(["Moby Dick", "LOTR"]))
        );
        assert_eq!(
            sel("$.store.book[?(!@.isbn)].title"),
            Some(json!(["Sayings", "Sword"]))
        );
        assert_eq!(
            sel("$.store.book[?(@.price < $.expensive && @.category != \"reference\")].title"),
            Some(json!(["Moby Dick"]))
        );
        assert_eq!(
            sel("$.store.book[?(@.price >= 22.99 || (@.price <= 8.95))].title"),
            Some(json!(["Sayings", "LOTR"]))
        );
        assert_eq!(
            sel("$.store.book[?(@.author =~ /.*melville/i)].title"),
            Some(json!(["Moby Dick"]))
        );
        assert_eq!(sel("$..book[?(@['price'] == 8.99)].isbn"), Some(json!(["0-553"])));
        assert_eq!(
            sel("$.store.bicycle[?(@.color == 'red')].price"),
            Some(json!([19.95]))
        );
    }

    #[test]
    fn filter_on_plain_values() {
        let doc = json!([1, 5, 3, "x"]);
        assert_eq!(
            select(&doc, "$[?(@ > 2)]").unwrap().to_value(),
            Some(json!([5, 3]))
        );
    }

    #[test]
    fn definiteness() {
        assert!(JsonPath::parse("$.a[0].b").unwrap().is_definite());
        assert!(JsonPath::parse("$['a']").unwrap().is_definite());
        for path in [
            "$.a[*]",
            "$..a",
            "$.a[0,1]",
            "$.a[0:1]",
            "$.a[?(@.b)]",
            "$.*",
            "$['a','b']",
        ] {
            assert!(!JsonPath::parse(path).unwrap().is_definite(), "{path}");
        }
    }

    #[test]
    fn syntax_errors_carry_columns() {
        let cases = [
            ("$.a[", 5),
            ("$.a[0", 6),
            ("$.", 3),
            ("$.a]", 4),
            ("$['a", 3),
            ("$.a[?(@.b == )]", 14),
            ("$.a.length()", 5),
            ("$[1:2:1]", 6),
            ("$.a[x]", 5),
            ("", 1),
            ("$[?(@.a =~ /(/)]", 12),
        ];
        for (path, column) in cases {
            let err = JsonPath::parse(path).unwrap_err();
            assert_eq!(err.column, column, "{path}: {err}");
        }
    }
}
