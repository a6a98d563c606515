//! CloudWatch Logs filter patterns: terms (`ERROR`, `"exact phrase"`, `?ERROR ?WARN`,
//! `ERROR -DEBUG`), JSON patterns (`{ $.level = "error" && $.latency > 100 }`) and
//! space-delimited patterns (`[ip, user, ..., status = 404, bytes]`).

use crate::AwsError;
use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pattern {
    /// The empty pattern: every event.
    All,
    /// Terms: every required term, at least one optional term (if any), no excluded term.
    Terms {
        /// Terms that must all appear.
        required: Vec<String>,
        /// `?term`: at least one must appear.
        any: Vec<String>,
        /// `-term`: none may appear.
        excluded: Vec<String>,
    },
    /// `{ … }` over a JSON message.
    Json(Expr),
    /// `[ … ]` over whitespace-separated fields.
    Space(Vec<Field>),
}

/// A boolean expression of a JSON pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// `selector op literal`.
    Compare(Vec<Step>, Op, Literal),
    /// `selector IS NULL`.
    IsNull(Vec<Step>),
    /// `selector NOT EXISTS`.
    NotExists(Vec<Step>),
    /// `selector IS TRUE` / `IS FALSE`.
    IsBool(Vec<Step>, bool),
}

/// One step of a `$.a[0].b` selector.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// `.name`.
    Key(String),
    /// `[n]`.
    Index(usize),
    /// `.*` or `[*]`.
    Any,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// A literal to compare with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    /// A number.
    Number(f64),
    /// A string; `*` matches any run of characters.
    Text(String),
}

/// One field of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    /// `...`: any number of fields.
    Rest,
    /// A named field, with an optional condition.
    Named(Option<(Op, Literal)>),
}

fn invalid(reason: &str) -> AwsError {
    AwsError::new(
        "InvalidParameterException",
        format!("Invalid filter pattern: {reason}"),
    )
}

impl Pattern {
    /// Parses a filter pattern.
    ///
    /// # Errors
    /// `InvalidParameterException` for a pattern CloudWatch Logs would refuse.
    pub(crate) fn parse(pattern: &str) -> Result<Pattern, AwsError> {
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Ok(Pattern::All);
        }
        if let Some(body) = trimmed.strip_prefix('{') {
            let body = body
                .strip_suffix('}')
                .ok_or_else(|| invalid("missing closing }"))?;
            return Ok(Pattern::Json(parse_json_pattern(body)?));
        }
        if let Some(body) = trimmed.strip_prefix('[') {
            let body = body
                .strip_suffix(']')
                .ok_or_else(|| invalid("missing closing ]"))?;
            return Ok(Pattern::Space(parse_space_pattern(body)?));
        }
        parse_terms(trimmed)
    }

    /// Whether `message` matches.
    pub(crate) fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms {
                required,
                any,
                excluded,
            } => {
                required.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !excluded.iter().any(|t| message.contains(t.as_str()))
            }
            Pattern::Json(expr) => {
                serde_json::from_str::<Value>(message.trim()).is_ok_and(|doc| eval(expr, &doc))
            }
            Pattern::Space(fields) => match_fields(fields, &split_fields(message)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Terms
// ---------------------------------------------------------------------------------------

fn parse_terms(pattern: &str) -> Result<Pattern, AwsError> {
    let mut required = Vec::new();
    let mut any = Vec::new();
    let mut excluded = Vec::new();
    let mut chars = pattern.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let bucket = match first {
            '?' => {
                chars.next();
                &mut any
            }
            '-' => {
                chars.next();
                &mut excluded
            }
            _ => &mut required,
        };
        let term = if chars.next_if_eq(&'"').is_some() {
            read_quoted(&mut chars).ok_or_else(|| invalid("unterminated quoted term"))?
        } else {
            let mut term = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                term.push(c);
            }
            term
        };
        if !term.is_empty() {
            bucket.push(term);
        }
    }
    Ok(Pattern::Terms {
        required,
        any,
        excluded,
    })
}

/// Reads up to the closing quote (the opening one already consumed); `\"` escapes.
fn read_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON patterns
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Selector(Vec<Step>),
    Op(Op),
    And,
    Or,
    Open,
    Close,
    Text(String),
    Word(String),
}

fn tokenize(body: &str) -> Result<Vec<Token>, AwsError> {
    let mut tokens = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '&' | '|' => {
                chars.next();
                if chars.next() != Some(c) {
                    return Err(invalid("use && and ||"));
                }
                tokens.push(if c == '&' { Token::And } else { Token::Or });
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let eq = chars.next_if_eq(&'=').is_some();
                tokens.push(Token::Op(match (c, eq) {
                    ('=', _) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    _ => return Err(invalid("unknown operator")),
                }));
            }
            '"' => {
                chars.next();
                let text = read_quoted(&mut chars).ok_or_else(|| invalid("unterminated string"))?;
                tokens.push(Token::Text(text));
            }
            '$' => {
                chars.next();
                tokens.push(Token::Selector(read_selector(&mut chars)?));
            }
            _ => {
                let mut word = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace() && !"()&|=!<>\"".contains(*c)) {
                    word.push(c);
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

fn read_selector(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Vec<Step>, AwsError> {
    let mut steps = Vec::new();
    loop {
        if chars.next_if_eq(&'.').is_some() {
            if chars.next_if_eq(&'*').is_some() {
                steps.push(Step::Any);
                continue;
            }
            let mut key = String::new();
            while let Some(c) = chars.next_if(|c| c.is_alphanumeric() || "_-@$:".contains(*c)) {
                key.push(c);
            }
            if key.is_empty() {
                return Err(invalid("empty property name in selector"));
            }
            steps.push(Step::Key(key));
        } else if chars.next_if_eq(&'[').is_some() {
            let mut inner = String::new();
            while let Some(c) = chars.next_if(|c| *c != ']') {
                inner.push(c);
            }
            if chars.next_if_eq(&']').is_none() {
                return Err(invalid("missing ] in selector"));
            }
            let inner = inner.trim();
            steps.push(if inner == "*" {
                Step::Any
            } else {
                Step::Index(
                    inner
                        .parse()
                        .map_err(|_| invalid("array index must be a number"))?,
                )
            });
        } else {
            return Ok(steps);
        }
    }
}

fn parse_json_pattern(body: &str) -> Result<Expr, AwsError> {
    let tokens = tokenize(body)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(invalid("unexpected text after the expression"));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, AwsError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(invalid("missing )")),
                }
            }
            Some(Token::Selector(steps)) => self.condition(steps),
            _ => Err(invalid("expected a $ selector")),
        }
    }

    fn condition(&mut self, steps: Vec<Step>) -> Result<Expr, AwsError> {
        match self.next() {
            Some(Token::Op(op)) => {
                let literal = match self.next() {
                    Some(Token::Text(t)) => Literal::Text(t),
                    Some(Token::Word(w)) => literal_of_word(&w),
                    _ => return Err(invalid("expected a value after the operator")),
                };
                if !matches!(op, Op::Eq | Op::Ne) && !matches!(literal, Literal::Number(_)) {
                    return Err(invalid("only numbers can be compared with < > <= >="));
                }
                Ok(Expr::Compare(steps, op, literal))
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("NULL") => Ok(Expr::IsNull(steps)),
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Ok(Expr::IsBool(steps, true)),
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Ok(Expr::IsBool(steps, false)),
                _ => Err(invalid("expected NULL, TRUE or FALSE after IS")),
            },
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => Ok(Expr::NotExists(steps)),
                _ => Err(invalid("expected EXISTS after NOT")),
            },
            _ => Err(invalid("expected an operator after the selector")),
        }
    }
}

fn literal_of_word(word: &str) -> Literal {
    word.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map_or_else(|| Literal::Text(word.to_owned()), Literal::Number)
}

/// Every value `steps` selects in `doc`.
fn select<'v>(doc: &'v Value, steps: &[Step]) -> Vec<&'v Value> {
    let mut current = vec![doc];
    for step in steps {
        current = current
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match (step, v) {
                    (Step::Key(k), Value::Object(map)) => map.get(k).into_iter().collect(),
                    (Step::Index(i), Value::Array(list)) => list.get(*i).into_iter().collect(),
                    (Step::Any, Value::Array(list)) => list.iter().collect(),
                    (Step::Any, Value::Object(map)) => map.values().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current
}

fn eval(expr: &Expr, doc: &Value) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, doc) && eval(b, doc),
        Expr::Or(a, b) => eval(a, doc) || eval(b, doc),
        Expr::IsNull(steps) => select(doc, steps).iter().any(|v| v.is_null()),
        Expr::NotExists(steps) => select(doc, steps).is_empty(),
        Expr::IsBool(steps, want) => select(doc, steps).iter().any(|v| v.as_bool() == Some(*want)),
        Expr::Compare(steps, op, literal) => select(doc, steps).iter().any(|v| compare_json(v, *op, literal)),
    }
}

fn compare_json(value: &Value, op: Op, literal: &Literal) -> bool {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    compare_text(&text, value.is_number(), op, literal)
}

/// Compares a field's text with a literal: numerically when both are numbers, else as a
/// glob (`*`) for `=`/`!=`.
fn compare_text(text: &str, is_number: bool, op: Op, literal: &Literal) -> bool {
    match literal {
        Literal::Number(want) => {
            let Some(have) = text
                .parse::<f64>()
                .ok()
                .filter(|_| is_number || looks_numeric(text))
            else {
                return op == Op::Ne;
            };
            match op {
                Op::Eq => (have - want).abs() < f64::EPSILON,
                Op::Ne => (have - want).abs() >= f64::EPSILON,
                Op::Lt => have < *want,
                Op::Le => have <= *want,
                Op::Gt => have > *want,
                Op::Ge => have >= *want,
            }
        }
        Literal::Text(pattern) => match op {
            Op::Eq => glob(pattern, text),
            Op::Ne => !glob(pattern, text),
            _ => false,
        },
    }
}

fn looks_numeric(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// Space-delimited patterns
// ---------------------------------------------------------------------------------------

fn parse_space_pattern(body: &str) -> Result<Vec<Field>, AwsError> {
    body.split(',')
        .map(str::trim)
        .map(|field| {
            if field == "..." {
                return Ok(Field::Rest);
            }
            let Some(at) = field.find(['=', '!', '<', '>']) else {
                return if field.is_empty() {
                    Err(invalid("empty field"))
                } else {
                    Ok(Field::Named(None))
                };
            };
            let rest = &field[at..];
            let (op, len) = match rest.get(..2) {
                Some("!=") => (Op::Ne, 2),
                Some("<=") => (Op::Le, 2),
                Some(">=") => (Op::Ge, 2),
                _ => match rest.chars().next() {
                    Some('=') => (Op::Eq, 1),
                    Some('<') => (Op::Lt, 1),
                    Some('>') => (Op::Gt, 1),
                    _ => return Err(invalid("unknown operator")),
                },
            };
            let value = rest[len..].trim();
            let literal = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(quoted) => Literal::Text(quoted.to_owned()),
                None => literal_of_word(value),
            };
            Ok(Field::Named(Some((op, literal))))
        })
        .collect()
}

/// Splits a message on whitespace; `"…"` and `[…]` are one field each, without delimiters.
fn split_fields(message: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut chars = message.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(first) = chars.next() else { break };
        let close = match first {
            '"' => Some('"'),
            '[' => Some(']'),
            _ => None,
        };
        let mut field = String::new();
        match close {
            Some(end) => {
                for c in chars.by_ref() {
                    if c == end {
                        break;
                    }
                    field.push(c);
                }
            }
            None => {
                field.push(first);
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    field.push(c);
                }
            }
        }
        fields.push(field);
    }
    fields
}

fn match_fields(pattern: &[Field], fields: &[String]) -> bool {
    match pattern.split_first() {
        None => fields.is_empty(),
        Some((Field::Rest, rest)) => (0..=fields.len()).any(|skip| match_fields(rest, &fields[skip..])),
        Some((Field::Named(condition), rest)) => match fields.split_first() {
            None => false,
            Some((field, others)) => {
                condition
                    .as_ref()
                    .is_none_or(|(op, literal)| compare_text(field, false, *op, literal))
                    && match_fields(rest, others)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn terms_phrases_optional_and_excluded() {
        assert!(m("", "anything"));
        assert!(m("ERROR", "an ERROR here"));
        assert!(!m("ERROR", "an error here"));
        assert!(m("ERROR timeout", "ERROR: timeout"));
        assert!(!m("ERROR timeout", "ERROR: refused"));
        assert!(m("\"put failed\"", "the put failed twice"));
        assert!(!m("\"put failed\"", "put: it failed"));
        assert!(m("?ERROR ?WARN", "WARN low disk"));
        assert!(!m("?ERROR ?WARN", "INFO ok"));
        assert!(m("ERROR -retry", "ERROR final"));
        assert!(!m("ERROR -retry", "ERROR will retry"));
    }

    #[test]
    fn json_patterns() {
        let msg =
            r#"{"level":"error","latency":250,"user":{"id":"u1"},"tags":["a","b"],"ok":false,"gone":null}"#;
        assert!(m(r#"{ $.level = "error" }"#, msg));
        assert!(m("{ $.level = err* }", msg));
        assert!(!m(r#"{ $.level = "info" }"#, msg));
        assert!(m(r#"{ $.level != "info" }"#, msg));
        assert!(m("{ $.latency > 200 && $.user.id = u1 }", msg));
        assert!(!m("{ $.latency < 200 }", msg));
        assert!(m("{ ($.latency < 200) || $.tags[1] = b }", msg));
        assert!(m("{ $.tags[*] = a }", msg));
        assert!(m("{ $.gone IS NULL }", msg));
        assert!(m("{ $.missing NOT EXISTS }", msg));
        assert!(m("{ $.ok IS FALSE }", msg));
        assert!(!m(r#"{ $.level = "error" }"#, "not json"));
        assert!(Pattern::parse("{ $.a = }").is_err());
        assert!(Pattern::parse("{ $.a = 1").is_err());
        assert!(Pattern::parse("{ $.a > x }").is_err());
    }

    #[test]
    fn space_delimited_patterns() {
        let line = r#"127.0.0.1 frank [10/Oct/2000:13:25:15 -0700] "GET /index.html" 404 1534"#;
        assert!(m("[ip, user, timestamp, request, status = 404, bytes]", line));
        assert!(m("[ip, user, ..., status = 4*, bytes > 1000]", line));
        assert!(!m("[ip, user, ..., status = 200, bytes]", line));
        assert!(!m("[ip, user]", line));
    }
}
