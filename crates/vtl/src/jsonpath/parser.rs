//! The JSONPath parser.

use serde_json::Value;

use super::filter::{CompareOp, Filter, Operand};
use super::{JsonPath, JsonPathError, Selector, Step, is_definite};

/// Deepest nesting of filter parentheses accepted.
const MAX_NESTING: usize = 64;

pub(super) fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
    let mut parser = PathParser {
        chars: path.chars().collect(),
        index: 0,
        depth: 0,
    };
    parser.skip_whitespace();
    if parser.peek().is_none() {
        return Err(parser.error("empty JSONPath"));
    }
    let mut steps = Vec::new();
    if !parser.eat('$') && parser.peek() != Some('[') {
        // Jayway reads `a.b` as `$.a.b`.
        steps.push(Step::Child(Selector::Name(parser.name()?)));
    }
    steps.extend(parser.steps()?);
    parser.skip_whitespace();
    if let Some(c) = parser.peek() {
        return Err(parser.error(format!("unexpected `{c}`")));
    }
    Ok(JsonPath { steps })
}

struct PathParser {
    chars: Vec<char>,
    index: usize,
    depth: usize,
}

impl PathParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.index).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.index + offset).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let matches = s.chars().enumerate().all(|(i, c)| self.peek_at(i) == Some(c));
        if matches {
            self.index += s.chars().count();
        }
        matches
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.index += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> JsonPathError {
        self.error_at(self.index, message)
    }

    fn error_at(&self, index: usize, message: impl Into<String>) -> JsonPathError {
        JsonPathError {
            column: index + 1,
            message: message.into(),
        }
    }

    fn expect(&mut self, c: char) -> Result<(), JsonPathError> {
        if self.eat(c) {
            return Ok(());
        }
        Err(match self.peek() {
            Some(found) => self.error(format!("expected `{c}`, found `{found}`")),
            None => self.error(format!("expected `{c}`, found the end of the path")),
        })
    }

    /// Steps after the root, up to something that cannot continue a path.
    fn steps(&mut self) -> Result<Vec<Step>, JsonPathError> {
        let mut steps = Vec::new();
        loop {
            if self.eat_str("..") {
                let selector = match self.peek() {
                    Some('[') => self.bracket()?,
                    Some('*') => {
                        self.index += 1;
                        Selector::Wildcard
                    }
                    _ => Selector::Name(self.name()?),
                };
                steps.push(Step::Descendant(selector));
            } else if self.eat('.') {
                if self.eat('*') {
                    steps.push(Step::Child(Selector::Wildcard));
                } else {
                    steps.push(Step::Child(Selector::Name(self.name()?)));
                }
            } else if self.peek() == Some('[') {
                steps.push(Step::Child(self.bracket()?));
            } else {
                return Ok(steps);
            }
        }
    }

    /// A property name in dot notation.
    fn name(&mut self) -> Result<String, JsonPathError> {
        let start = self.index;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && !".[]()'\",=!<>&|*".contains(c))
        {
            self.index += 1;
        }
        if self.index == start {
            return Err(self.error("expected a property name"));
        }
        if self.peek() == Some('(') {
            return Err(self.error_at(start, "JSONPath functions are not supported"));
        }
        Ok(self.chars[start..self.index].iter().collect())
    }

    /// `[...]`.
    fn bracket(&mut self) -> Result<Selector, JsonPathError> {
        self.index += 1;
        self.skip_whitespace();
        let selector = match self.peek() {
            Some('*') => {
                self.index += 1;
                Selector::Wildcard
            }
            Some('?') => {
                self.index += 1;
                self.expect('(')?;
                let filter = self.filter_or()?;
                self.skip_whitespace();
                self.expect(')')?;
                Selector::Filter(filter)
            }
            Some('\'' | '"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_whitespace();
                    if !self.eat(',') {
                        break;
                    }
                    self.skip_whitespace();
                    names.push(self.quoted()?);
                }
                if names.len() == 1 {
                    Selector::Name(names.remove(0))
                } else {
                    Selector::Names(names)
                }
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.indexes()?,
            Some(c) => return Err(self.error(format!("unexpected `{c}` in brackets"))),
            None => return Err(self.error("unclosed `[`")),
        };
        self.skip_whitespace();
        self.expect(']')?;
        Ok(selector)
    }

    /// `0`, `0,2`, `1:3`, `:2`, `-2:`.
    fn indexes(&mut self) -> Result<Selector, JsonPathError> {
        let first = self.optional_int()?;
        self.skip_whitespace();
        if self.eat(':') {
            self.skip_whitespace();
            let end = self.optional_int()?;
            self.skip_whitespace();
            if self.peek() == Some(':') {
                return Err(self.error("slice steps are not supported"));
            }
            return Ok(Selector::Slice { start: first, end });
        }
        let Some(first) = first else {
            return Err(self.error("expected an index"));
        };
        let mut indexes = vec![first];
        while self.eat(',') {
            self.skip_whitespace();
            match self.optional_int()? {
                Some(i) => indexes.push(i),
                None => return Err(self.error("expected an index")),
            }
            self.skip_whitespace();
        }
        Ok(if indexes.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::Indexes(indexes)
        })
    }

    fn optional_int(&mut self) -> Result<Option<i64>, JsonPathError> {
        let start = self.index;
        self.eat('-');
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.index += 1;
        }
        if self.index == start {
            return Ok(None);
        }
        let text: String = self.chars[start..self.index].iter().collect();
        text.parse()
            .map(Some)
            .map_err(|_| self.error_at(start, format!("invalid index `{text}`")))
    }

    /// A quoted name or string literal; `\` escapes the next char.
    fn quoted(&mut self) -> Result<String, JsonPathError> {
        let start = self.index;
        let Some(quote) = self.peek().filter(|c| *c == '\'' || *c == '"') else {
            return Err(self.error("expected a quoted name"));
        };
        self.index += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error_at(start, "unterminated string")),
                Some('\\') => {
                    self.index += 1;
                    if let Some(c) = self.peek() {
                        text.push(c);
                        self.index += 1;
                    }
                }
                Some(c) if c == quote => {
                    self.index += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.index += 1;
                }
            }
        }
    }

    fn filter_or(&mut self) -> Result<Filter, JsonPathError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_whitespace();
            if !self.eat_str("||") {
                return Ok(left);
            }
            let right = self.filter_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
    }

    fn filter_and(&mut self) -> Result<Filter, JsonPathError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_whitespace();
            if !self.eat_str("&&") {
                return Ok(left);
            }
            let right = self.filter_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, JsonPathError> {
        self.skip_whitespace();
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("filter is nested too deeply"));
        }
        let result = if self.eat('!') {
            self.filter_unary().map(|f| Filter::Not(Box::new(f)))
        } else if self.eat('(') {
            let inner = self.filter_or();
            self.skip_whitespace();
            inner.and_then(|f| self.expect(')').map(|()| f))
        } else {
            self.comparison()
        };
        self.depth -= 1;
        result
    }

    fn comparison(&mut self) -> Result<Filter, JsonPathError> {
        let left = self.operand()?;
        self.skip_whitespace();
        let op = [
            ("==", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
        ]
        .into_iter()
        .find(|(symbol, _)| self.eat_str(symbol));
        if let Some((_, op)) = op {
            self.skip_whitespace();
            let right = self.operand()?;
            return Ok(Filter::Compare(left, op, right));
        }
        if self.eat_str("=~") {
            self.skip_whitespace();
            let regex = self.regex()?;
            return Ok(Filter::Matches(left, regex));
        }
        match left {
            Operand::Path { .. } => Ok(Filter::Exists(left)),
            Operand::Literal(_) => Err(self.error("expected a comparison operator")),
        }
    }

    fn operand(&mut self) -> Result<Operand, JsonPathError> {
        let start = self.index;
        match self.peek() {
            Some(c @ ('@' | '$')) => {
                self.index += 1;
                let steps = self.steps()?;
                if !is_definite(&steps) {
                    return Err(self.error_at(start, "paths inside filters must be definite"));
                }
                Ok(Operand::Path {
                    from_root: c == '$',
                    steps,
                })
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || "-+.eE".contains(c))
                {
                    self.index += 1;
                }
                let text: String = self.chars[start..self.index].iter().collect();
                serde_json::from_str::<serde_json::Number>(&text)
                    .map(|n| Operand::Literal(Value::Number(n)))
                    .map_err(|_| self.error_at(start, format!("invalid number `{text}`")))
            }
            _ => {
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.eat_str(word) {
                        return Ok(Operand::Literal(value));
                    }
                }
                Err(self.error("expected `@`, `$` or a literal in the filter"))
            }
        }
    }

    /// `/pattern/flags` after `=~`; only the `i` flag is meaningful.
    fn regex(&mut self) -> Result<regex::Regex, JsonPathError> {
        let start = self.index;
        self.expect('/')?;
        let mut pattern = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error_at(start, "unterminated regex")),
                Some('\\') if self.peek_at(1) == Some('/') => {
                    pattern.push('/');
                    self.index += 2;
                }
                Some('/') => {
                    self.index += 1;
                    break;
                }
                Some(c) => {
                    pattern.push(c);
                    self.index += 1;
                }
            }
        }
        let mut case_insensitive = false;
        while let Some(flag) = self.peek().filter(char::is_ascii_alphabetic) {
            case_insensitive |= flag == 'i';
            self.index += 1;
        }
        let pattern = if case_insensitive {
            format!("(?i){pattern}")
        } else {
            pattern
        };
        crate::javaregex::compile_full_match(&pattern).map_err(|e| self.error_at(start, e))
    }
}
