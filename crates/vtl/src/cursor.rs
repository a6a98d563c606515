//! A character cursor over template source that tracks 1-based line and column numbers.
//!
//! The template parser needs arbitrary backtracking (a `$` that turns out not to start a
//! reference is plain text), so the cursor works on a `Vec<char>` and hands out [`Mark`]s
//! that can be restored. Columns count chars, not bytes, to match [`crate::TemplateError`].

/// A 1-based position inside the template source. Columns count chars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// A saved cursor state, restored with [`Cursor::reset`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    index: usize,
    pos: Pos,
}

/// Reads characters from the template one at a time.
pub(crate) struct Cursor {
    chars: Vec<char>,
    index: usize,
    /// Reading stops here (exclusive); string literals temporarily narrow it.
    limit: usize,
    pos: Pos,
}

/// Whether `c` may start a Velocity identifier.
pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// Whether `c` may continue a Velocity identifier. Velocity 1.7 (which API Gateway follows)
/// allows `-`, which is why the developer guide can write `$elem.partition-key`.
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Cursor {
    pub(crate) fn new(source: &str) -> Self {
        let chars: Vec<char> = source.chars().collect();
        let limit = chars.len();
        Cursor {
            chars,
            index: 0,
            limit,
            pos: Pos { line: 1, column: 1 },
        }
    }

    pub(crate) fn pos(&self) -> Pos {
        self.pos
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            index: self.index,
            pos: self.pos,
        }
    }

    pub(crate) fn reset(&mut self, mark: Mark) {
        self.index = mark.index;
        self.pos = mark.pos;
    }

    /// The source text between `mark` and the cursor.
    pub(crate) fn text_since(&self, mark: Mark) -> String {
        self.chars[mark.index..self.index].iter().collect()
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Restricts reading to chars before `limit` (used to parse the inside of a string literal).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(self.chars.len());
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, offset: usize) -> Option<char> {
        let i = self.index + offset;
        if i < self.limit {
            self.chars.get(i).copied()
        } else {
            None
        }
    }

    pub(crate) fn is_eof(&self) -> bool {
        self.index >= self.limit
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.index += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    /// Advances over `n` chars.
    pub(crate) fn bump_n(&mut self, n: usize) {
        for _ in 0..n {
            self.bump();
        }
    }

    pub(crate) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn looking_at(&self, s: &str) -> bool {
        self.looking_at_offset(0, s)
    }

    pub(crate) fn looking_at_offset(&self, offset: usize, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(offset + i) == Some(c))
    }

    pub(crate) fn eat_str(&mut self, s: &str) -> bool {
        if self.looking_at(s) {
            self.bump_n(s.chars().count());
            true
        } else {
            false
        }
    }

    /// Whether `word` is next and not followed by another identifier char.
    pub(crate) fn looking_at_word(&self, word: &str) -> bool {
        self.looking_at(word) && !self.peek_at(word.chars().count()).is_some_and(is_ident_char)
    }

    /// Skips spaces and tabs.
    pub(crate) fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// Skips all whitespace, newlines included.
    pub(crate) fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Reads a Velocity identifier if one starts here.
    pub(crate) fn ident(&mut self) -> Option<String> {
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|&c| is_ident_char(c)) {
            name.push(c);
            self.bump();
        }
        Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_lines_and_char_columns() {
        let mut cur = Cursor::new("é\nab");
        assert_eq!(cur.pos(), Pos { line: 1, column: 1 });
        cur.bump();
        assert_eq!(cur.pos(), Pos { line: 1, column: 2 });
        cur.bump();
        assert_eq!(cur.pos(), Pos { line: 2, column: 1 });
        cur.bump();
        assert_eq!(cur.pos(), Pos { line: 2, column: 2 });
    }

    #[test]
    fn marks_restore_position() {
        let mut cur = Cursor::new("abc");
        let mark = cur.mark();
        cur.bump_n(2);
        assert_eq!(cur.text_since(mark), "ab");
        cur.reset(mark);
        assert_eq!(cur.peek(), Some('a'));
    }

    #[test]
    fn identifiers_allow_hyphens_after_the_first_char() {
        let mut cur = Cursor::new("partition-key.x");
        assert_eq!(cur.ident().as_deref(), Some("partition-key"));
        assert_eq!(cur.peek(), Some('.'));
        assert_eq!(Cursor::new("-x").ident(), None);
    }

    #[test]
    fn limit_hides_the_rest() {
        let mut cur = Cursor::new("abc");
        cur.set_limit(1);
        assert_eq!(cur.bump(), Some('a'));
        assert!(cur.is_eof());
        assert_eq!(cur.peek(), None);
    }

    #[test]
    fn words_need_a_boundary() {
        assert!(Cursor::new("and $x").looking_at_word("and"));
        assert!(!Cursor::new("andy").looking_at_word("and"));
    }
}
