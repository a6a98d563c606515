//! Java regular expressions on top of the `regex` crate: pattern translation, Java's
//! replacement-string syntax (`$1`, `${name}`, `\$`) and `String.split` semantics.
//!
//! Templates are written for `java.util.regex`. The common subset has the same syntax; the
//! translation below covers the differences that show up in mapping templates:
//! * `\X` for any non-alphanumeric `X` is a literal `X` in Java (`\'`, `\/`, `\"`), while the
//!   `regex` crate rejects some of those escapes;
//! * `\d`, `\w`, `\s` are ASCII-only in Java but Unicode-aware in `regex`;
//! * `\Q…\E` quoting, `\e`, and octal `\0nn`.
//!
//! Features `regex` lacks (backreferences, lookaround, possessive quantifiers) produce an
//! error rather than a different match.

use std::collections::HashMap;

use regex::{Captures, Regex};

/// Compiled patterns for one render, so a `replaceAll` inside a loop compiles once.
#[derive(Default)]
pub(crate) struct RegexCache {
    compiled: HashMap<String, Regex>,
}

impl RegexCache {
    /// The compiled form of a Java pattern.
    pub(crate) fn get(&mut self, pattern: &str) -> Result<Regex, String> {
        if let Some(regex) = self.compiled.get(pattern) {
            return Ok(regex.clone());
        }
        let regex = compile(pattern)?;
        self.compiled.insert(pattern.to_owned(), regex.clone());
        Ok(regex)
    }
}

/// Compiles a Java pattern.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|e| format!("invalid regex `{pattern}`: {e}"))
}

/// Compiles a Java pattern that must match the whole input (`String.matches`).
pub(crate) fn compile_full_match(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&format!(r"\A(?:{translated})\z")).map_err(|e| format!("invalid regex `{pattern}`: {e}"))
}

/// Rewrites Java regex syntax into `regex` crate syntax.
fn translate(java: &str) -> Result<String, String> {
    let mut out = String::with_capacity(java.len());
    let mut chars = java.chars().peekable();
    // Depth of `[...]` classes, since escapes such as `\d` expand differently inside one.
    let mut class_depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                class_depth += 1;
                out.push('[');
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            '\\' => {
                let Some(escaped) = chars.next() else {
                    return Err(format!("invalid regex `{java}`: trailing backslash"));
                };
                let in_class = class_depth > 0;
                match escaped {
                    'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                    'w' => out.push_str(if in_class { "a-zA-Z_0-9" } else { "[a-zA-Z_0-9]" }),
                    's' => out.push_str(if in_class {
                        r" \t\n\x0B\f\r"
                    } else {
                        r"[ \t\n\x0B\f\r]"
                    }),
                    'D' if !in_class => out.push_str("[^0-9]"),
                    'W' if !in_class => out.push_str("[^a-zA-Z_0-9]"),
                    'S' if !in_class => out.push_str(r"[^ \t\n\x0B\f\r]"),
                    'e' => out.push_str(r"\x1B"),
                    '0' => {
                        let mut code = 0u32;
                        let mut digits = 0;
                        while digits < 3
                            && let Some(d) = chars.peek().and_then(|d| d.to_digit(8))
                        {
                            code = code * 8 + d;
                            digits += 1;
                            chars.next();
                        }
                        if digits == 0 {
                            return Err(format!("invalid regex `{java}`: bad octal escape `\\0`"));
                        }
                        out.push_str(&format!(r"\x{{{code:X}}}"));
                    }
                    '1'..='9' => {
                        return Err(format!(
                            "invalid regex `{java}`: backreferences are not supported"
                        ));
                    }
                    'Q' => {
                        let mut quoted = String::new();
                        while let Some(q) = chars.next() {
                            if q == '\\' && chars.peek() == Some(&'E') {
                                chars.next();
                                break;
                            }
                            quoted.push(q);
                        }
                        out.push_str(&regex::escape(&quoted));
                    }
                    // Other letter escapes (\n, \t, \b, \A, \z, \p{..}, \x.., \u....) mean the
                    // same in both dialects, or fail to compile if `regex` lacks them.
                    c if c.is_ascii_alphanumeric() => {
                        out.push('\\');
                        out.push(c);
                    }
                    // Java: a backslash before any other char makes it literal.
                    c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One piece of a parsed Java replacement string.
enum Piece {
    Literal(String),
    Group(usize),
    Named(String),
}

/// Parses a Java replacement: `$n` and `${name}` insert groups, `\x` is a literal `x`.
/// `$n` takes as many digits as still name an existing group, as `Matcher` does.
fn parse_replacement(replacement: &str, regex: &Regex) -> Result<Vec<Piece>, String> {
    let group_count = regex.captures_len() - 1;
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => literal.push(escaped),
                None => return Err("replacement ends with a lone backslash".to_owned()),
            },
            '$' => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(n) => name.push(n),
                            None => return Err("unclosed `${` in replacement".to_owned()),
                        }
                    }
                    if regex.capture_names().flatten().all(|n| n != name) {
                        return Err(format!("no group named `{name}` in the regex"));
                    }
                    pieces.push(Piece::Named(name));
                    continue;
                }
                let Some(first) = chars.peek().and_then(|d| d.to_digit(10)) else {
                    return Err(
                        "illegal group reference: `$` must be followed by a group number or `{name}`"
                            .to_owned(),
                    );
                };
                chars.next();
                let mut group = first as usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    let longer = group * 10 + d as usize;
                    if longer > group_count {
                        break;
                    }
                    group = longer;
                    chars.next();
                }
                if group > group_count {
                    return Err(format!("no group {group} in the regex"));
                }
                pieces.push(Piece::Group(group));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

fn expand(pieces: &[Piece], caps: &Captures<'_>) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Group(i) => out.push_str(caps.get(*i).map_or("", |m| m.as_str())),
            Piece::Named(name) => out.push_str(caps.name(name).map_or("", |m| m.as_str())),
        }
    }
    out
}

/// Java's `replaceAll` (`limit == 0`) or `replaceFirst` (`limit == 1`).
pub(crate) fn replace(
    regex: &Regex,
    haystack: &str,
    replacement: &str,
    limit: usize,
) -> Result<String, String> {
    let pieces = parse_replacement(replacement, regex)?;
    Ok(regex
        .replacen(haystack, limit, |caps: &Captures<'_>| expand(&pieces, caps))
        .into_owned())
}

/// Java's `String.split(regex)`: a zero-width match at the start does not produce a leading
/// empty string, trailing empty strings are dropped, and no match at all gives the input.
pub(crate) fn split(regex: &Regex, haystack: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut last = 0;
    for m in regex.find_iter(haystack) {
        if m.end() == 0 {
            continue;
        }
        parts.push(&haystack[last..m.start()]);
        last = m.end();
    }
    if parts.is_empty() {
        return vec![haystack.to_owned()];
    }
    parts.push(&haystack[last..]);
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn replace_all(pattern: &str, haystack: &str, replacement: &str) -> Result<String, String> {
        replace(&compile(pattern)?, haystack, replacement, 0)
    }

    #[test]
    fn escaped_quote_from_the_developer_guide() {
        // $util.escapeJavaScript(data).replaceAll("\\'","'"): the pattern is `\\'`,
        // a literal backslash followed by a quote.
        assert_eq!(replace_all(r"\\'", r"it\'s", "'").unwrap(), "it's");
        // Java lets any punctuation be escaped, including ones `regex` rejects.
        assert_eq!(replace_all(r"\'", "it's", "_").unwrap(), "it_s");
        assert_eq!(replace_all(r"\/", "a/b", "-").unwrap(), "a-b");
        assert_eq!(replace_all(r"\<\>", "<>", "x").unwrap(), "x");
    }

    #[test]
    fn java_replacement_syntax() {
        assert_eq!(replace_all("(a)(b)", "ab", "$2$1").unwrap(), "ba");
        assert_eq!(replace_all("(a)", "a", r"\$1").unwrap(), "$1");
        assert_eq!(replace_all("(?<x>a)", "a", "[${x}]").unwrap(), "[a]");
        // `$12` with one group is group 1 followed by a literal 2.
        assert_eq!(replace_all("(a)", "a", "$12").unwrap(), "a2");
        assert!(replace_all("(a)", "a", "$2").is_err());
        assert!(replace_all("a", "a", "$x").is_err());
        assert!(replace_all("a", "a", "\\").is_err());
        assert_eq!(replace(&compile("o").unwrap(), "foo", "0", 1).unwrap(), "f0o");
    }

    #[test]
    fn ascii_classes() {
        assert_eq!(replace_all(r"\d+", "a١23b", "#").unwrap(), "a١#b");
        assert_eq!(replace_all(r"[\w-]+", "é ab-c", "#").unwrap(), "é #");
        assert_eq!(replace_all(r"\s", "a\tb c", "").unwrap(), "abc");
    }

    #[test]
    fn quoting_and_octal() {
        assert_eq!(replace_all(r"\Q.*\E", "a.*b", "-").unwrap(), "a-b");
        assert_eq!(replace_all(r"\0101", "ABA", "x").unwrap(), "xBx");
    }

    #[test]
    fn unsupported_features_are_errors() {
        assert!(compile(r"(a)\1").unwrap_err().contains("backreferences"));
        assert!(compile("a(?=b)").is_err());
        assert!(compile("a\\").is_err());
    }

    #[test]
    fn full_match() {
        let re = compile_full_match("[a-z]+").unwrap();
        assert!(re.is_match("abc"));
        assert!(!re.is_match("abc1"));
        assert!(compile_full_match("a|b").unwrap().is_match("b"));
    }

    #[test]
    fn split_like_java() {
        let split_with = |pattern: &str, s: &str| split(&compile(pattern).unwrap(), s);
        assert_eq!(split_with(",", "a,b,,c,,"), ["a", "b", "", "c"]);
        assert_eq!(split_with(",", ",a"), ["", "a"]);
        assert_eq!(split_with(",", ""), [""]);
        assert!(split_with(",", ",,").is_empty());
        assert_eq!(split_with("", "abc"), ["a", "b", "c"]);
        assert_eq!(split_with(r"\s*\|\s*", "a | b|c"), ["a", "b", "c"]);
    }

    #[test]
    fn cache_reuses_compiled_patterns() {
        let mut cache = RegexCache::default();
        assert!(cache.get("a+").is_ok());
        assert!(cache.get("a+").is_ok());
        assert_eq!(cache.compiled.len(), 1);
        assert!(cache.get("(").is_err());
    }
}
