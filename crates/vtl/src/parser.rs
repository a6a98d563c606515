//! Template-level parsing: text, references, directives, comments, escapes and the
//! whitespace "gobbling" of directive-only lines. Expressions and references live in
//! [`expression`].
//!
//! Whitespace follows Velocity 2's default "lines" mode: when a line holds nothing but
//! blanks and one directive (or one comment), the blanks before it and the newline after it
//! are dropped, so templates can indent `#foreach`/`#if` freely without leaving blank lines.

mod expression;

use crate::ast::{Block, Branch, Expr, Node};
use crate::cursor::{Cursor, Pos, is_ident_start};
use crate::error::TemplateError;

/// Deepest nesting of blocks and sub-expressions accepted, so hostile input cannot
/// overflow the stack of the parser or the renderer (each level costs about ten frames).
pub(crate) const MAX_NESTING: usize = 50;

/// Parses a whole template.
pub(crate) fn parse(source: &str) -> Result<Block, TemplateError> {
    let mut parser = Parser::new(source);
    match parser.block(Mode::Template)? {
        (block, None) => Ok(block),
        (_, Some(terminator)) => Err(terminator.misplaced()),
    }
}

pub(crate) struct Parser {
    cur: Cursor,
    /// True while everything since the start of the current source line is blank, i.e. a
    /// directive found now may have its line gobbled.
    line_clean: bool,
    /// Current nesting depth of blocks and expressions.
    depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Top-level template text.
    Template,
    /// The inside of an interpolated double-quoted string: no comments, no gobbling,
    /// and `""` stands for one `"`.
    Quoted,
}

/// A directive that ends the current block; a block can also end at end of input.
enum Terminator {
    End(Pos),
    Else(Pos),
    ElseIf(Pos, Expr),
}

impl Terminator {
    /// The error for this terminator when no open block accepts it.
    fn misplaced(&self) -> TemplateError {
        match self {
            Terminator::End(pos) => TemplateError::at(*pos, "`#end` without a matching `#if` or `#foreach`"),
            Terminator::Else(pos) => TemplateError::at(*pos, "`#else` without a matching `#if`"),
            Terminator::ElseIf(pos, _) => TemplateError::at(*pos, "`#elseif` without a matching `#if`"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Set,
    If,
    ElseIf,
    Else,
    End,
    Foreach,
    Break,
    Stop,
    /// A real Velocity directive this engine does not implement.
    Unsupported(&'static str),
}

fn directive_by_name(name: &str) -> Option<Directive> {
    Some(match name {
        "set" => Directive::Set,
        "if" => Directive::If,
        "elseif" => Directive::ElseIf,
        "else" => Directive::Else,
        "end" => Directive::End,
        "foreach" => Directive::Foreach,
        "break" => Directive::Break,
        "stop" => Directive::Stop,
        "macro" => Directive::Unsupported("macro"),
        "define" => Directive::Unsupported("define"),
        "evaluate" => Directive::Unsupported("evaluate"),
        "parse" => Directive::Unsupported("parse"),
        "include" => Directive::Unsupported("include"),
        _ => return None,
    })
}

/// Appends pending text to `nodes`, merging with a preceding text node.
fn flush(nodes: &mut Block, text: &mut String) {
    if text.is_empty() {
        return;
    }
    if let Some(Node::Text(last)) = nodes.last_mut() {
        last.push_str(text);
        text.clear();
    } else {
        nodes.push(Node::Text(std::mem::take(text)));
    }
}

/// Removes the blanks that indent a gobbled line.
fn trim_indent(text: &mut String) {
    let kept = text.trim_end_matches([' ', '\t']).len();
    text.truncate(kept);
}

impl Parser {
    fn new(source: &str) -> Self {
        Parser {
            cur: Cursor::new(source),
            line_clean: true,
            depth: 0,
        }
    }

    /// Enters one nesting level; every successful call is paired with [`Parser::leave`],
    /// also on error paths, because index parsing in text may backtrack over errors.
    fn enter(&mut self, pos: Pos) -> Result<(), TemplateError> {
        if self.depth >= MAX_NESTING {
            return Err(TemplateError::at(pos, "template is nested too deeply"));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Parses nodes until end of input (`None`) or a block terminator.
    fn block(&mut self, mode: Mode) -> Result<(Block, Option<Terminator>), TemplateError> {
        let mut nodes = Block::new();
        let mut text = String::new();
        loop {
            let Some(c) = self.cur.peek() else {
                flush(&mut nodes, &mut text);
                return Ok((nodes, None));
            };
            match c {
                '\\' => self.backslashes(&mut text, mode)?,
                '$' => match self.reference(true)? {
                    Some(reference) => {
                        flush(&mut nodes, &mut text);
                        nodes.push(Node::Reference(reference));
                        self.line_clean = false;
                    }
                    None => {
                        self.cur.bump();
                        text.push('$');
                        self.line_clean = false;
                    }
                },
                '#' => {
                    if let Some(terminator) = self.hash(&mut nodes, &mut text, mode)? {
                        flush(&mut nodes, &mut text);
                        return Ok((nodes, Some(terminator)));
                    }
                }
                '"' if mode == Mode::Quoted => {
                    // The string's extent was found beforehand, so a quote in here is the
                    // first half of a doubled `""`, which stands for one quote.
                    self.cur.bump_n(2);
                    text.push('"');
                    self.line_clean = false;
                }
                _ => {
                    self.cur.bump();
                    text.push(c);
                    if c == '\n' {
                        self.line_clean = true;
                    } else if c != ' ' && c != '\t' {
                        self.line_clean = false;
                    }
                }
            }
        }
    }

    /// A run of backslashes. Before a reference or directive, Velocity halves the run and an
    /// odd one makes the reference/directive literal (`\$x` → `$x`, `\\$x` → `\` + value).
    /// Anywhere else backslashes are plain text.
    fn backslashes(&mut self, text: &mut String, mode: Mode) -> Result<(), TemplateError> {
        self.line_clean = false;
        let mut run = 0;
        while self.cur.peek_at(run) == Some('\\') {
            run += 1;
        }
        let escapes = match self.cur.peek_at(run) {
            Some('$') => self.reference_starts_at(run),
            Some('#') => self.directive_at(run).is_some(),
            Some('"') if mode == Mode::Quoted => {
                // Inside a string an odd run escapes the quote (it did not end the string).
                self.cur.bump_n(run);
                text.extend(std::iter::repeat_n('\\', run));
                if run % 2 == 1 {
                    self.cur.bump();
                    text.push('"');
                }
                return Ok(());
            }
            _ => false,
        };
        self.cur.bump_n(run);
        if !escapes {
            text.extend(std::iter::repeat_n('\\', run));
            return Ok(());
        }
        text.extend(std::iter::repeat_n('\\', run / 2));
        if run % 2 == 1 {
            if self.cur.peek() == Some('$') {
                // Emit the whole escaped reference as written.
                let mark = self.cur.mark();
                self.reference(true)?;
                text.push_str(&self.cur.text_since(mark));
            } else if let Some((_, len)) = self.directive_at(0) {
                let mark = self.cur.mark();
                self.cur.bump_n(len);
                text.push_str(&self.cur.text_since(mark));
            }
        }
        Ok(())
    }

    /// Whether a reference (`$x`, `$!x`, `${x}`, `$!{x}`) starts `offset` chars ahead.
    fn reference_starts_at(&self, offset: usize) -> bool {
        let mut i = offset + 1;
        if self.cur.peek_at(i) == Some('!') {
            i += 1;
        }
        if self.cur.peek_at(i) == Some('{') {
            i += 1;
        }
        self.cur.peek_at(i).is_some_and(is_ident_start)
    }

    /// Recognises `#name` or `#{name}` `offset` chars ahead; returns the directive and the
    /// length of its name part.
    fn directive_at(&self, offset: usize) -> Option<(Directive, usize)> {
        let mut i = offset + 1;
        let formal = self.cur.peek_at(i) == Some('{');
        if formal {
            i += 1;
        }
        let mut name = String::new();
        while let Some(c) = self.cur.peek_at(i).filter(char::is_ascii_alphabetic) {
            name.push(c);
            i += 1;
        }
        let directive = directive_by_name(&name)?;
        if formal {
            if self.cur.peek_at(i) != Some('}') {
                return None;
            }
            i += 1;
        } else if self
            .cur
            .peek_at(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return None;
        }
        Some((directive, i - offset))
    }

    /// Handles a `#`: comment, directive or literal text. Returns a terminator that ends the
    /// current block.
    fn hash(
        &mut self,
        nodes: &mut Block,
        text: &mut String,
        mode: Mode,
    ) -> Result<Option<Terminator>, TemplateError> {
        let start = self.cur.pos();
        let line_clean = self.line_clean;
        if mode == Mode::Template && self.cur.looking_at("##") {
            self.line_comment(text, line_clean);
            return Ok(None);
        }
        if mode == Mode::Template && self.cur.looking_at("#*") {
            self.block_comment(start)?;
            self.finish_line(text, line_clean, mode);
            return Ok(None);
        }
        let Some((directive, len)) = self.directive_at(0) else {
            self.cur.bump();
            text.push('#');
            self.line_clean = false;
            return Ok(None);
        };
        self.cur.bump_n(len);
        match directive {
            Directive::Set => {
                let node = self.set_arguments()?;
                self.finish_line(text, line_clean, mode);
                flush(nodes, text);
                nodes.push(node);
            }
            Directive::If => {
                let condition = self.condition("#if")?;
                self.finish_line(text, line_clean, mode);
                flush(nodes, text);
                self.enter(start)?;
                let node = self.if_chain(start, condition, mode);
                self.leave();
                nodes.push(node?);
            }
            Directive::Foreach => {
                let (variable, iterable) = self.foreach_arguments()?;
                self.finish_line(text, line_clean, mode);
                flush(nodes, text);
                self.enter(start)?;
                let body = self.block(mode);
                self.leave();
                let (body, end) = body?;
                match end {
                    Some(Terminator::End(_)) => {}
                    Some(other) => return Err(other.misplaced()),
                    None => {
                        return Err(TemplateError::at(
                            start,
                            "`#foreach` is never closed: missing `#end`",
                        ));
                    }
                }
                nodes.push(Node::Foreach {
                    variable,
                    iterable,
                    body,
                    pos: start,
                });
            }
            Directive::ElseIf => {
                let condition = self.condition("#elseif")?;
                self.finish_line(text, line_clean, mode);
                return Ok(Some(Terminator::ElseIf(start, condition)));
            }
            Directive::Else => {
                self.finish_line(text, line_clean, mode);
                return Ok(Some(Terminator::Else(start)));
            }
            Directive::End => {
                self.finish_line(text, line_clean, mode);
                return Ok(Some(Terminator::End(start)));
            }
            Directive::Break | Directive::Stop => {
                self.finish_line(text, line_clean, mode);
                flush(nodes, text);
                nodes.push(if directive == Directive::Break {
                    Node::Break
                } else {
                    Node::Stop
                });
            }
            Directive::Unsupported(name) => {
                return Err(TemplateError::at(
                    start,
                    format!("the `#{name}` directive is not supported"),
                ));
            }
        }
        Ok(None)
    }

    /// The branches of an `#if` whose condition has been read, up to its `#end`.
    fn if_chain(&mut self, start: Pos, first: Expr, mode: Mode) -> Result<Node, TemplateError> {
        let unclosed = || TemplateError::at(start, "`#if` is never closed: missing `#end`");
        let mut branches = Vec::new();
        let mut condition = first;
        loop {
            let (body, end) = self.block(mode)?;
            branches.push(Branch { condition, body });
            match end {
                Some(Terminator::End(_)) => {
                    return Ok(Node::If {
                        branches,
                        otherwise: None,
                    });
                }
                Some(Terminator::ElseIf(_, next)) => condition = next,
                Some(Terminator::Else(_)) => {
                    let (otherwise, end) = self.block(mode)?;
                    return match end {
                        Some(Terminator::End(_)) => Ok(Node::If {
                            branches,
                            otherwise: Some(otherwise),
                        }),
                        Some(Terminator::Else(pos)) => {
                            Err(TemplateError::at(pos, "`#else` after `#else` in one `#if`"))
                        }
                        Some(Terminator::ElseIf(pos, _)) => {
                            Err(TemplateError::at(pos, "`#elseif` after `#else` in one `#if`"))
                        }
                        None => Err(unclosed()),
                    };
                }
                None => return Err(unclosed()),
            }
        }
    }

    /// `## comment` up to the end of the line. A comment alone on its line takes the line
    /// with it; otherwise the newline stays.
    fn line_comment(&mut self, text: &mut String, line_clean: bool) {
        while self.cur.peek().is_some_and(|c| c != '\n') && !self.cur.looking_at("\r\n") {
            self.cur.bump();
        }
        if line_clean {
            trim_indent(text);
            self.cur.eat('\r');
            self.cur.eat('\n');
            self.line_clean = true;
        } else {
            self.line_clean = false;
        }
    }

    /// `#* … *#`.
    fn block_comment(&mut self, start: Pos) -> Result<(), TemplateError> {
        self.cur.bump_n(2);
        loop {
            if self.cur.eat_str("*#") {
                return Ok(());
            }
            if self.cur.bump().is_none() {
                return Err(TemplateError::at(
                    start,
                    "block comment `#*` is never closed with `*#`",
                ));
            }
        }
    }

    /// After a directive: if its line held only blanks before it and holds only blanks (or a
    /// `##` comment) after it, drop the indentation and the rest of the line.
    fn finish_line(&mut self, text: &mut String, line_clean: bool, mode: Mode) {
        if mode == Mode::Template && line_clean && self.rest_of_line_is_blank() {
            trim_indent(text);
            self.cur.skip_blanks();
            if self.cur.looking_at("##") {
                while self.cur.peek().is_some_and(|c| c != '\n') {
                    self.cur.bump();
                }
            }
            self.cur.eat('\r');
            self.cur.eat('\n');
            self.line_clean = true;
        } else {
            self.line_clean = false;
        }
    }

    fn rest_of_line_is_blank(&self) -> bool {
        let mut i = 0;
        while matches!(self.cur.peek_at(i), Some(' ' | '\t')) {
            i += 1;
        }
        if self.cur.looking_at_offset(i, "##") {
            return true;
        }
        match self.cur.peek_at(i) {
            None | Some('\n') => true,
            Some('\r') => self.cur.peek_at(i + 1) == Some('\n'),
            Some(_) => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ast::{ExprKind, Segment};

    fn parse_ok(source: &str) -> Block {
        match parse(source) {
            Ok(block) => block,
            Err(err) => panic!("{source:?} failed to parse: {err}"),
        }
    }

    fn parse_err(source: &str) -> TemplateError {
        match parse(source) {
            Ok(block) => panic!("{source:?} parsed unexpectedly: {block:?}"),
            Err(err) => err,
        }
    }

    fn texts(block: &Block) -> Vec<String> {
        block
            .iter()
            .filter_map(|node| match node {
                Node::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn plain_text_is_one_node() {
        assert_eq!(texts(&parse_ok("hello world")), ["hello world"]);
    }

    #[test]
    fn dollar_without_identifier_is_text() {
        let block = parse_ok("$.Records $ $1 $!");
        assert_eq!(texts(&block), ["$.Records $ $1 $!"]);
    }

    #[test]
    fn hash_without_directive_is_text() {
        let block = parse_ok("color: #fff; #foo #ending #{nope}");
        assert_eq!(texts(&block), ["color: #fff; #foo #ending #{nope}"]);
    }

    #[test]
    fn references_with_segments() {
        let block = parse_ok("$a.b('x', 2).c()[0]");
        let [Node::Reference(r)] = block.as_slice() else {
            panic!("{block:?}")
        };
        assert_eq!(r.name, "a");
        assert_eq!(r.segments.len(), 3);
        assert!(
            matches!(&r.segments[0], Segment::Method { name, args, .. } if name == "b" && args.len() == 2)
        );
        assert!(
            matches!(&r.segments[1], Segment::Method { name, args, .. } if name == "c" && args.is_empty())
        );
        assert!(matches!(&r.segments[2], Segment::Index { .. }));
    }

    #[test]
    fn trailing_dot_is_text() {
        let block = parse_ok("Hi $name.");
        assert!(matches!(&block[1], Node::Reference(r) if r.segments.is_empty()));
        assert_eq!(texts(&block), ["Hi ", "."]);
    }

    #[test]
    fn escapes_make_references_literal() {
        assert_eq!(texts(&parse_ok(r"\$x.y \#if")), ["$x.y #if"]);
        let block = parse_ok(r"\\$x");
        assert_eq!(texts(&block), [r"\"]);
        assert!(matches!(block[1], Node::Reference(_)));
        assert_eq!(texts(&parse_ok(r#"a\"b\n\$"#)), [r#"a\"b\n\$"#]);
    }

    #[test]
    fn directive_only_lines_are_gobbled() {
        let block = parse_ok("a\n  #set($x = 1)\nb\n");
        assert_eq!(texts(&block), ["a\n", "b\n"]);
    }

    #[test]
    fn inline_directives_keep_surrounding_text() {
        let block = parse_ok("a #set($x = 1) b\n");
        assert_eq!(texts(&block), ["a ", " b\n"]);
    }

    #[test]
    fn comment_lines_are_gobbled() {
        let block = parse_ok("a\n   ## note\nb ## trailing\nc\n#* block\n comment *#\nd");
        assert_eq!(texts(&block), ["a\nb \nc\nd"]);
    }

    #[test]
    fn directive_with_trailing_comment_is_gobbled() {
        let block = parse_ok("a\n#set($x = 1) ## why\nb");
        assert_eq!(texts(&block), ["a\n", "b"]);
    }

    #[test]
    fn crlf_lines_are_gobbled() {
        let block = parse_ok("a\r\n  #set($x = 1)\r\nb\r\n  ## c\r\nd ## e\r\n");
        assert_eq!(texts(&block), ["a\r\n", "b\r\nd \r\n"]);
    }

    #[test]
    fn formal_directives_and_spaces_before_parens() {
        let block = parse_ok("#if ($a)x#{else}y#{end}");
        assert!(matches!(
            &block[0],
            Node::If {
                otherwise: Some(_),
                ..
            }
        ));
        parse_ok("#foreach ($i in $list)#end#set ($x = 1)");
    }

    #[test]
    fn elseif_chains() {
        let block = parse_ok("#if($a)1#elseif($b)2#elseif($c)3#{else}4#end");
        let [Node::If { branches, otherwise }] = block.as_slice() else {
            panic!("{block:?}")
        };
        assert_eq!(branches.len(), 3);
        assert!(otherwise.is_some());
    }

    #[test]
    fn unclosed_if_is_reported_at_the_if() {
        let err = parse_err("line one\n  #if($x)\n  yes\n");
        assert_eq!((err.line, err.column), (2, 3));
        assert!(err.message.contains("#if"), "{err}");
    }

    #[test]
    fn unclosed_foreach_is_reported_at_the_foreach() {
        let err = parse_err("#foreach($x in [1])\n");
        assert_eq!((err.line, err.column), (1, 1));
    }

    #[test]
    fn end_without_opener() {
        let err = parse_err("a\nb #end");
        assert_eq!((err.line, err.column), (2, 3));
        assert!(err.message.contains("without a matching"), "{err}");
        let err = parse_err("#foreach($x in [])#else#end");
        assert!(err.message.contains("#else"), "{err}");
        let err = parse_err("#if($x)#else#elseif($y)#end");
        assert_eq!((err.line, err.column), (1, 13));
    }

    #[test]
    fn unterminated_block_comment() {
        let err = parse_err("x\n #* never closed");
        assert_eq!((err.line, err.column), (2, 2));
    }

    #[test]
    fn unsupported_directives_are_errors() {
        let err = parse_err("#macro(foo)#end");
        assert!(err.message.contains("#macro"), "{err}");
    }

    #[test]
    fn strings_interpolate_only_when_needed() {
        let block = parse_ok(r#"#set($a = "plain")#set($b = "hi $name")#set($c = 'no $name')"#);
        let kinds: Vec<&ExprKind> = block
            .iter()
            .map(|node| match node {
                Node::Set { value, .. } => &value.kind,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(matches!(kinds[0], ExprKind::Str(s) if s == "plain"));
        assert!(matches!(kinds[1], ExprKind::Interpolated(_)));
        assert!(matches!(kinds[2], ExprKind::Str(s) if s == "no $name"));
    }

    #[test]
    fn nesting_is_bounded() {
        let source = "#if(true)".repeat(MAX_NESTING + 1);
        let err = parse_err(&source);
        assert!(err.message.contains("nested too deeply"), "{err}");
    }
}
