//! References (`$a.b(1)[0]`), directive arguments and the expression language used inside
//! them: literals, lists, ranges, maps and operators with Java precedence.

use super::{Mode, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, Node, Reference, Segment, SetTarget, Slot};
use crate::cursor::Pos;
use crate::error::TemplateError;

/// Binary operator precedence levels, loosest first. Each entry lists the symbols and the
/// word forms (`and`, `eq`, …) of the operators on that level.
const LEVELS: &[&[(&str, BinaryOp)]] = &[
    &[("||", BinaryOp::Or), ("or", BinaryOp::Or)],
    &[("&&", BinaryOp::And), ("and", BinaryOp::And)],
    &[
        ("==", BinaryOp::Eq),
        ("!=", BinaryOp::Ne),
        ("eq", BinaryOp::Eq),
        ("ne", BinaryOp::Ne),
    ],
    &[
        ("<=", BinaryOp::Le),
        (">=", BinaryOp::Ge),
        ("<", BinaryOp::Lt),
        (">", BinaryOp::Gt),
        ("le", BinaryOp::Le),
        ("ge", BinaryOp::Ge),
        ("lt", BinaryOp::Lt),
        ("gt", BinaryOp::Gt),
    ],
    &[("+", BinaryOp::Add), ("-", BinaryOp::Sub)],
    &[("*", BinaryOp::Mul), ("/", BinaryOp::Div), ("%", BinaryOp::Rem)],
];

fn describe(c: Option<char>) -> String {
    match c {
        None => "end of input".to_owned(),
        Some('\n') => "end of line".to_owned(),
        Some(c) => format!("`{c}`"),
    }
}

impl Parser {
    /// Parses a reference at a `$`. Returns `None`, with the cursor unchanged, when the `$`
    /// does not start one (it is then literal text). In text, a `[` that does not open a
    /// valid index is left as text too.
    pub(super) fn reference(&mut self, in_text: bool) -> Result<Option<Reference>, TemplateError> {
        let mark = self.cur.mark();
        let start = self.cur.pos();
        self.cur.bump();
        self.cur.eat('!');
        let formal = self.cur.eat('{');
        let Some(name) = self.cur.ident() else {
            self.cur.reset(mark);
            return Ok(None);
        };
        let segments = self.segments(in_text)?;
        if formal && !self.cur.eat('}') {
            return Err(TemplateError::at(
                start,
                format!(
                    "unclosed `${{`: expected `}}`, found {}",
                    describe(self.cur.peek())
                ),
            ));
        }
        Ok(Some(Reference { name, segments }))
    }

    fn segments(&mut self, in_text: bool) -> Result<Vec<Segment>, TemplateError> {
        let mut segments = Vec::new();
        loop {
            match self.cur.peek() {
                Some('.') => {
                    let mark = self.cur.mark();
                    self.cur.bump();
                    let pos = self.cur.pos();
                    let Some(name) = self.cur.ident() else {
                        // `$name.` at the end of a sentence: the dot is text.
                        self.cur.reset(mark);
                        break;
                    };
                    if self.cur.peek() == Some('(') {
                        let args = self.call_arguments()?;
                        segments.push(Segment::Method { name, args, pos });
                    } else {
                        segments.push(Segment::Property { name, pos });
                    }
                }
                Some('[') => {
                    let mark = self.cur.mark();
                    let pos = self.cur.pos();
                    match self.index() {
                        Ok(key) => segments.push(Segment::Index { key, pos }),
                        Err(_) if in_text => {
                            self.cur.reset(mark);
                            break;
                        }
                        Err(err) => return Err(err),
                    }
                }
                _ => break,
            }
        }
        Ok(segments)
    }

    /// `[expr]` after a reference.
    fn index(&mut self) -> Result<Expr, TemplateError> {
        self.cur.bump();
        self.cur.skip_whitespace();
        let key = self.expression()?;
        self.cur.skip_whitespace();
        self.expect(']', "to close the index")?;
        Ok(key)
    }

    /// `(a, b, …)` of a method call; the cursor is on `(`.
    fn call_arguments(&mut self) -> Result<Vec<Expr>, TemplateError> {
        let open = self.cur.pos();
        self.cur.bump();
        self.cur.skip_whitespace();
        let mut args = Vec::new();
        if self.cur.eat(')') {
            return Ok(args);
        }
        loop {
            args.push(self.expression()?);
            self.cur.skip_whitespace();
            if self.cur.eat(',') {
                self.cur.skip_whitespace();
                continue;
            }
            if self.cur.eat(')') {
                return Ok(args);
            }
            if self.cur.is_eof() {
                return Err(TemplateError::at(open, "unclosed `(` of a method call"));
            }
            return Err(TemplateError::at(
                self.cur.pos(),
                format!(
                    "expected `,` or `)` in method arguments, found {}",
                    describe(self.cur.peek())
                ),
            ));
        }
    }

    fn expect(&mut self, c: char, context: &str) -> Result<(), TemplateError> {
        if self.cur.eat(c) {
            Ok(())
        } else {
            Err(TemplateError::at(
                self.cur.pos(),
                format!("expected `{c}` {context}, found {}", describe(self.cur.peek())),
            ))
        }
    }

    /// `(expr)` after `#if` / `#elseif`.
    pub(super) fn condition(&mut self, directive: &str) -> Result<Expr, TemplateError> {
        self.cur.skip_blanks();
        self.expect('(', &format!("after `{directive}`"))?;
        self.cur.skip_whitespace();
        let condition = self.expression()?;
        self.cur.skip_whitespace();
        self.expect(')', &format!("to close the `{directive}` condition"))?;
        Ok(condition)
    }

    /// `($target = value)` after `#set`.
    pub(super) fn set_arguments(&mut self) -> Result<Node, TemplateError> {
        self.cur.skip_blanks();
        self.expect('(', "after `#set`")?;
        self.cur.skip_whitespace();
        let pos = self.cur.pos();
        let reference = match self.cur.peek() {
            Some('$') => self.reference(false)?,
            _ => None,
        };
        let Some(Reference { name, mut segments }) = reference else {
            return Err(TemplateError::at(
                pos,
                "expected a `$` reference to assign to in `#set`",
            ));
        };
        let slot = match segments.pop() {
            None => None,
            Some(Segment::Property { name, pos }) => Some(Slot::Property { name, pos }),
            Some(Segment::Index { key, pos }) => Some(Slot::Index { key, pos }),
            Some(Segment::Method { pos, .. }) => {
                return Err(TemplateError::at(pos, "cannot assign to a method call"));
            }
        };
        let target = SetTarget {
            name,
            path: segments,
            slot,
        };
        self.cur.skip_whitespace();
        self.expect('=', "in `#set`")?;
        self.cur.skip_whitespace();
        let value = self.expression()?;
        self.cur.skip_whitespace();
        self.expect(')', "to close `#set`")?;
        Ok(Node::Set { target, value })
    }

    /// `($item in iterable)` after `#foreach`.
    pub(super) fn foreach_arguments(&mut self) -> Result<(String, Expr), TemplateError> {
        self.cur.skip_blanks();
        self.expect('(', "after `#foreach`")?;
        self.cur.skip_whitespace();
        let pos = self.cur.pos();
        let variable = match self.cur.peek() {
            Some('$') => self.reference(false)?,
            _ => None,
        };
        let variable = match variable {
            Some(Reference { name, segments }) if segments.is_empty() => name,
            _ => {
                return Err(TemplateError::at(
                    pos,
                    "expected a loop variable such as `$item` in `#foreach`",
                ));
            }
        };
        self.cur.skip_whitespace();
        if !self.cur.looking_at_word("in") {
            return Err(TemplateError::at(
                self.cur.pos(),
                "expected `in` after the `#foreach` loop variable",
            ));
        }
        self.cur.bump_n(2);
        self.cur.skip_whitespace();
        let iterable = self.expression()?;
        self.cur.skip_whitespace();
        self.expect(')', "to close `#foreach`")?;
        Ok((variable, iterable))
    }

    /// A full expression.
    pub(super) fn expression(&mut self) -> Result<Expr, TemplateError> {
        self.enter(self.cur.pos())?;
        let expr = self.binary(0);
        self.leave();
        expr
    }

    fn binary(&mut self, level: usize) -> Result<Expr, TemplateError> {
        let Some(operators) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        loop {
            let mark = self.cur.mark();
            self.cur.skip_whitespace();
            let found = operators.iter().find(|(symbol, _)| {
                if symbol.starts_with(char::is_alphabetic) {
                    self.cur.looking_at_word(symbol)
                } else {
                    self.cur.looking_at(symbol)
                }
            });
            let Some(&(symbol, op)) = found else {
                self.cur.reset(mark);
                return Ok(left);
            };
            let pos = self.cur.pos();
            self.cur.bump_n(symbol.len());
            self.cur.skip_whitespace();
            let right = self.binary(level + 1)?;
            left = Expr {
                kind: ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                pos,
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, TemplateError> {
        let pos = self.cur.pos();
        let wrap: fn(Box<Expr>) -> ExprKind = if self.cur.eat('!') {
            ExprKind::Not
        } else if self.cur.looking_at_word("not") {
            self.cur.bump_n(3);
            ExprKind::Not
        } else if self.cur.peek() == Some('-') {
            self.cur.bump();
            ExprKind::Negate
        } else {
            return self.primary();
        };
        self.cur.skip_whitespace();
        self.enter(pos)?;
        let operand = self.unary();
        self.leave();
        Ok(Expr {
            kind: wrap(Box::new(operand?)),
            pos,
        })
    }

    fn primary(&mut self) -> Result<Expr, TemplateError> {
        let pos = self.cur.pos();
        if let Some(word) = self.cur.ident() {
            let kind = match word.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ => {
                    return Err(TemplateError::at(
                        pos,
                        format!("unexpected `{word}`: expected an expression (a reference needs a `$`)"),
                    ));
                }
            };
            return Ok(Expr { kind, pos });
        }
        let kind = match self.cur.peek() {
            Some('(') => {
                self.cur.bump();
                self.cur.skip_whitespace();
                let inner = self.expression()?;
                self.cur.skip_whitespace();
                self.expect(')', "to close the parenthesis")?;
                return Ok(inner);
            }
            Some('$') => match self.reference(false)? {
                Some(reference) => ExprKind::Reference(reference),
                None => {
                    return Err(TemplateError::at(pos, "expected a reference name after `$`"));
                }
            },
            Some('"') => self.double_quoted(pos)?,
            Some('\'') => ExprKind::Str(self.single_quoted(pos)?),
            Some(c) if c.is_ascii_digit() => self.number(pos)?,
            Some('[') => self.list_or_range()?,
            Some('{') => self.map()?,
            other => {
                return Err(TemplateError::at(
                    pos,
                    format!("expected an expression, found {}", describe(other)),
                ));
            }
        };
        Ok(Expr { kind, pos })
    }

    /// A double-quoted string. Like Velocity's lexer, its extent is found first (a backslash
    /// protects the next char, `""` is a literal quote); the inside is then parsed as a
    /// template so that `$refs` and directives interpolate. Backslashes are kept as written.
    fn double_quoted(&mut self, start: Pos) -> Result<ExprKind, TemplateError> {
        self.cur.bump();
        let unterminated = || TemplateError::at(start, "unterminated string literal");
        let mut len = 0;
        loop {
            match self.cur.peek_at(len) {
                None => return Err(unterminated()),
                Some('\\') => {
                    if self.cur.peek_at(len + 1).is_none() {
                        return Err(unterminated());
                    }
                    len += 2;
                }
                Some('"') if self.cur.peek_at(len + 1) == Some('"') => len += 2,
                Some('"') => break,
                Some(_) => len += 1,
            }
        }
        let outer_limit = self.cur.limit();
        self.cur.set_limit(self.cur.index() + len);
        let inside = self.block(Mode::Quoted);
        // Restore before any error returns: text-mode index parsing may backtrack over it.
        self.cur.set_limit(outer_limit);
        let (block, terminator) = inside?;
        if let Some(terminator) = terminator {
            return Err(terminator.misplaced());
        }
        self.cur.bump();
        // Adjacent text is merged, so a string without anything to interpolate is one node.
        let mut block = block;
        match block.as_mut_slice() {
            [] => Ok(ExprKind::Str(String::new())),
            [Node::Text(text)] => Ok(ExprKind::Str(std::mem::take(text))),
            _ => Ok(ExprKind::Interpolated(block)),
        }
    }

    /// A single-quoted string: no interpolation, no escapes, `''` is a literal quote.
    fn single_quoted(&mut self, start: Pos) -> Result<String, TemplateError> {
        self.cur.bump();
        let mut text = String::new();
        loop {
            match self.cur.bump() {
                None => return Err(TemplateError::at(start, "unterminated string literal")),
                Some('\'') if self.cur.peek() == Some('\'') => {
                    self.cur.bump();
                    text.push('\'');
                }
                Some('\'') => return Ok(text),
                Some(c) => text.push(c),
            }
        }
    }

    fn number(&mut self, start: Pos) -> Result<ExprKind, TemplateError> {
        let mark = self.cur.mark();
        let digits = |parser: &mut Parser| {
            while parser.cur.peek().is_some_and(|c| c.is_ascii_digit()) {
                parser.cur.bump();
            }
        };
        digits(self);
        let mut float = false;
        if self.cur.peek() == Some('.') && self.cur.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.cur.bump();
            digits(self);
        }
        if matches!(self.cur.peek(), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.cur.peek_at(1), Some('+' | '-')));
            if self.cur.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                float = true;
                self.cur.bump_n(1 + sign);
                digits(self);
            }
        }
        let text = self.cur.text_since(mark);
        if float {
            text.parse()
                .map(ExprKind::Float)
                .map_err(|_| TemplateError::at(start, format!("invalid number `{text}`")))
        } else {
            text.parse()
                .map(ExprKind::Int)
                .map_err(|_| TemplateError::at(start, format!("integer `{text}` is out of range")))
        }
    }

    /// `[a, b]`, `[]` or the range `[from..to]`.
    fn list_or_range(&mut self) -> Result<ExprKind, TemplateError> {
        self.cur.bump();
        self.cur.skip_whitespace();
        if self.cur.eat(']') {
            return Ok(ExprKind::List(Vec::new()));
        }
        let first = self.expression()?;
        self.cur.skip_whitespace();
        if self.cur.eat_str("..") {
            self.cur.skip_whitespace();
            let last = self.expression()?;
            self.cur.skip_whitespace();
            self.expect(']', "to close the range")?;
            return Ok(ExprKind::Range(Box::new(first), Box::new(last)));
        }
        let mut items = vec![first];
        while self.cur.eat(',') {
            self.cur.skip_whitespace();
            items.push(self.expression()?);
            self.cur.skip_whitespace();
        }
        self.expect(']', "to close the list")?;
        Ok(ExprKind::List(items))
    }

    /// `{key: value, …}`.
    fn map(&mut self) -> Result<ExprKind, TemplateError> {
        self.cur.bump();
        self.cur.skip_whitespace();
        let mut entries = Vec::new();
        if self.cur.eat('}') {
            return Ok(ExprKind::Map(entries));
        }
        loop {
            let key = self.expression()?;
            self.cur.skip_whitespace();
            self.expect(':', "after a map key")?;
            self.cur.skip_whitespace();
            let value = self.expression()?;
            entries.push((key, value));
            self.cur.skip_whitespace();
            if self.cur.eat(',') {
                self.cur.skip_whitespace();
                continue;
            }
            self.expect('}', "to close the map")?;
            return Ok(ExprKind::Map(entries));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::Parser;
    use crate::ast::{BinaryOp, Block, Expr, ExprKind, Node, Segment, Slot};
    use crate::error::TemplateError;
    use crate::parser::parse;

    /// Parses `#set($x = <source>)` and returns the value expression.
    fn expr(source: &str) -> Expr {
        let template = format!("#set($x = {source})");
        match parse(&template) {
            Ok(mut block) => match block.pop() {
                Some(Node::Set { value, .. }) => value,
                other => panic!("{other:?}"),
            },
            Err(err) => panic!("{source:?}: {err}"),
        }
    }

    fn error(source: &str) -> TemplateError {
        match parse(source) {
            Ok(block) => panic!("{source:?} parsed: {block:?}"),
            Err(err) => err,
        }
    }

    fn binary_op(e: &Expr) -> Option<BinaryOp> {
        match &e.kind {
            ExprKind::Binary { op, .. } => Some(*op),
            _ => None,
        }
    }

    #[test]
    fn literals() {
        assert!(matches!(expr("42").kind, ExprKind::Int(42)));
        assert!(matches!(expr("2.5").kind, ExprKind::Float(f) if f == 2.5));
        assert!(matches!(expr("1e3").kind, ExprKind::Float(f) if f == 1000.0));
        assert!(matches!(expr("true").kind, ExprKind::Bool(true)));
        assert!(matches!(expr("null").kind, ExprKind::Null));
        assert!(matches!(expr("-3").kind, ExprKind::Negate(_)));
    }

    #[test]
    fn precedence_follows_java() {
        let e = expr("1 + 2 * 3 == 7 && !false || $a");
        assert_eq!(binary_op(&e), Some(BinaryOp::Or));
        let ExprKind::Binary { left, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(binary_op(left), Some(BinaryOp::And));
        let e = expr("1 + 2 * 3");
        let ExprKind::Binary { right, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(binary_op(right), Some(BinaryOp::Mul));
    }

    #[test]
    fn word_operators() {
        assert_eq!(binary_op(&expr("$a eq 1")), Some(BinaryOp::Eq));
        assert_eq!(binary_op(&expr("$a ne 1")), Some(BinaryOp::Ne));
        assert_eq!(binary_op(&expr("$a lt 1 and $b")), Some(BinaryOp::And));
        assert_eq!(binary_op(&expr("$a gt 1 or $b")), Some(BinaryOp::Or));
        assert!(matches!(expr("not $a").kind, ExprKind::Not(_)));
    }

    #[test]
    fn lists_ranges_and_maps() {
        assert!(matches!(expr("[1, 'a', [2]]").kind, ExprKind::List(items) if items.len() == 3));
        assert!(matches!(expr("[]").kind, ExprKind::List(items) if items.is_empty()));
        assert!(matches!(expr("[1..$n]").kind, ExprKind::Range(..)));
        assert!(matches!(expr("{'a': 1, \"b\": [2]}").kind, ExprKind::Map(e) if e.len() == 2));
        assert!(matches!(expr("{}").kind, ExprKind::Map(e) if e.is_empty()));
    }

    #[test]
    fn strings_keep_backslashes_and_undouble_quotes() {
        assert!(matches!(expr(r#""\\'""#).kind, ExprKind::Str(s) if s == r"\\'"));
        assert!(matches!(expr(r#""say ""hi""""#).kind, ExprKind::Str(s) if s == r#"say "hi""#));
        assert!(matches!(expr(r#""a\"b""#).kind, ExprKind::Str(s) if s == r#"a\"b"#));
        assert!(matches!(expr("'it''s'").kind, ExprKind::Str(s) if s == "it's"));
        assert!(matches!(expr(r"'\'").kind, ExprKind::Str(s) if s == r"\"));
    }

    #[test]
    fn interpolated_strings_hold_a_block() {
        let ExprKind::Interpolated(block) = expr(r#""a $x ${y.z}""#).kind else {
            panic!()
        };
        let block: &Block = &block;
        assert_eq!(block.len(), 4);
    }

    #[test]
    fn set_into_map_and_index() {
        let block = parse("#set($m.k = 1)#set($l[0] = 2)").unwrap();
        let Node::Set { target, .. } = &block[0] else {
            panic!("{block:?}")
        };
        assert_eq!(target.name, "m");
        assert!(matches!(&target.slot, Some(Slot::Property { name, .. }) if name == "k"));
        assert!(matches!(
            &block[1],
            Node::Set { target, .. } if matches!(target.slot, Some(Slot::Index { .. }))
        ));
    }

    #[test]
    fn method_arguments_may_span_lines() {
        let block = parse("$a.b(\n  1,\n  'x'\n)").unwrap();
        let [Node::Reference(r)] = block.as_slice() else {
            panic!("{block:?}")
        };
        assert!(matches!(&r.segments[0], Segment::Method { args, .. } if args.len() == 2));
    }

    #[test]
    fn index_that_is_not_an_expression_stays_text_in_templates() {
        let block = parse("$a[note]").unwrap();
        assert!(matches!(&block[1], Node::Text(t) if t == "[note]"));
    }

    #[test]
    fn backtracking_over_a_bad_string_restores_the_parser_state() {
        // The index holds a string whose inside fails to parse (`${a` is unclosed), so the
        // text-mode reference backtracks to before `[`.
        let source = "$x[\"${a\"] rest";
        let mut parser = Parser::new(source);
        let reference = parser.reference(true).unwrap().unwrap();
        assert!(reference.segments.is_empty());
        assert_eq!(parser.cur.peek(), Some('['));
        assert_eq!(parser.cur.limit(), source.chars().count());
        assert_eq!(parser.depth, 0);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let err = error("#set($x = )");
        assert_eq!((err.line, err.column), (1, 11));
        assert!(err.message.contains("expected an expression"), "{err}");

        let err = error("x\n#set($x = \"abc)\n");
        assert_eq!((err.line, err.column), (2, 11));
        assert!(err.message.contains("unterminated string"), "{err}");

        let err = error("a ${foo.bar b");
        assert_eq!((err.line, err.column), (1, 3));
        assert!(err.message.contains("unclosed `${`"), "{err}");

        let err = error("#if($a == 1 $b)#end");
        assert_eq!((err.line, err.column), (1, 13));

        let err = error("#set($a.b() = 1)");
        assert!(err.message.contains("method call"), "{err}");

        let err = error("#set($x = foo)");
        assert!(err.message.contains("needs a `$`"), "{err}");

        let err = error("#foreach($x.y in $z)#end");
        assert!(err.message.contains("loop variable"), "{err}");

        let err = error("#foreach($x on $z)#end");
        assert!(err.message.contains("`in`"), "{err}");

        let err = error("$a.b(1, 2");
        assert!(err.message.contains("unclosed `(`"), "{err}");

        let err = error("#set($x = 99999999999999999999)");
        assert!(err.message.contains("out of range"), "{err}");
    }

    #[test]
    fn expression_nesting_is_bounded() {
        let nested = |depth: usize| format!("#set($x = {}1{})$x", "(".repeat(depth), ")".repeat(depth));
        let deepest = nested(crate::parser::MAX_NESTING - 1);
        assert_eq!(crate::render(&deepest, &crate::Request::default()).unwrap(), "1");
        assert!(
            error(&nested(crate::parser::MAX_NESTING))
                .message
                .contains("nested too deeply")
        );
    }
}
