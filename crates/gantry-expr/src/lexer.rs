//! The lexer: expression text to tokens, one at a time.
//!
//! Tokens are read on demand so that errors come out in the order GitHub
//! reports them: a problem with an earlier token (say, an unknown context) is
//! reported before a malformed later one.
//!
//! The rules follow GitHub's lexer:
//! - A token ends at whitespace or at one of `( [ ) ] , . ! > < = & |`.
//! - Numbers start with a digit, `+` or `-`, or with `.` where an operand is
//!   expected (at the start, after `(`, `[`, `,` or an operator); they run to
//!   the next boundary (dots included) and must read as a number, so `-0xFF`
//!   and `1-2` are single, invalid tokens.
//! - Identifiers start with a letter or `_` and go on with letters, digits,
//!   `_` and `-`. Whether an identifier is a keyword, a context, a function
//!   or a property name is the parser's business; the lexer only notes
//!   whether a `(` follows it.
//! - Strings are single-quoted; `''` stands for one quote.

use std::ops::Range;

use crate::error::{ParseError, ParseErrorKind};
use crate::number::parse_number;

/// The kinds of token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Star,
    Not,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Number(f64),
    String(String),
    /// An identifier; `call` when the next non-blank character is `(`.
    Ident {
        call: bool,
    },
    Eof,
}

/// A token and its byte range in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Range<usize>,
}

/// Reads tokens from expression text.
pub(crate) struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    /// Whether an operand is expected next, which makes `.` start a number.
    operand_expected: bool,
}

impl<'s> Lexer<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            operand_expected: true,
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.src
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn char_at(&self, pos: usize) -> Option<char> {
        self.src.get(pos..).and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek_char() {
            self.pos += c.len_utf8();
        }
    }

    fn invalid(&self, start: usize) -> ParseError {
        ParseError::at(ParseErrorKind::InvalidToken, self.src, start..self.pos)
    }

    /// Reads the next token; [`Tok::Eof`] at the end.
    pub(crate) fn next_token(&mut self) -> Result<Token, ParseError> {
        while self.peek_char().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: start..start,
            });
        };
        let tok = match c {
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            '[' => self.single(Tok::LBracket),
            ']' => self.single(Tok::RBracket),
            ',' => self.single(Tok::Comma),
            '*' => self.single(Tok::Star),
            '\'' => self.string(start)?,
            '!' | '>' | '<' | '=' | '&' | '|' => self.operator(start)?,
            '.' if !self.operand_expected => self.single(Tok::Dot),
            '.' | '-' | '+' | '0'..='9' => self.number(start)?,
            _ => self.identifier(start)?,
        };
        self.operand_expected = matches!(
            tok,
            Tok::LParen
                | Tok::LBracket
                | Tok::Comma
                | Tok::Not
                | Tok::Eq
                | Tok::Ne
                | Tok::Lt
                | Tok::Le
                | Tok::Gt
                | Tok::Ge
                | Tok::And
                | Tok::Or
        );
        Ok(Token {
            tok,
            span: start..self.pos,
        })
    }

    fn single(&mut self, tok: Tok) -> Tok {
        self.bump();
        tok
    }

    fn skip_to_boundary(&mut self) {
        while self.peek_char().is_some_and(|c| !is_boundary(c)) {
            self.bump();
        }
    }

    fn operator(&mut self, start: usize) -> Result<Tok, ParseError> {
        let first = self.peek_char();
        self.bump();
        let second = self.peek_char();
        let two = match (first, second) {
            (Some('!'), Some('=')) => Some(Tok::Ne),
            (Some('>'), Some('=')) => Some(Tok::Ge),
            (Some('<'), Some('=')) => Some(Tok::Le),
            (Some('='), Some('=')) => Some(Tok::Eq),
            (Some('&'), Some('&')) => Some(Tok::And),
            (Some('|'), Some('|')) => Some(Tok::Or),
            _ => None,
        };
        if let Some(tok) = two {
            self.bump();
            return Ok(tok);
        }
        match first {
            Some('!') => Ok(Tok::Not),
            Some('>') => Ok(Tok::Gt),
            Some('<') => Ok(Tok::Lt),
            _ => {
                // A lone `=`, `&` or `|`: report it with what sticks to it.
                self.skip_to_boundary();
                Err(self.invalid(start))
            }
        }
    }

    fn number(&mut self, start: usize) -> Result<Tok, ParseError> {
        self.bump();
        while self
            .peek_char()
            .is_some_and(|c| !is_boundary(c) || c == '.')
        {
            self.bump();
        }
        let value = parse_number(self.src.get(start..self.pos).unwrap_or_default());
        if value.is_nan() {
            return Err(self.invalid(start));
        }
        Ok(Tok::Number(value))
    }

    fn string(&mut self, start: usize) -> Result<Tok, ParseError> {
        self.bump(); // the opening quote
        let mut value = String::new();
        while let Some(c) = self.peek_char() {
            self.bump();
            if c == '\'' {
                if self.peek_char() == Some('\'') {
                    self.bump();
                } else {
                    return Ok(Tok::String(value));
                }
            }
            value.push(c);
        }
        // Unterminated: the token is the rest of the expression.
        Err(self.invalid(start))
    }

    fn identifier(&mut self, start: usize) -> Result<Tok, ParseError> {
        self.bump();
        self.skip_to_boundary();
        let text = self.src.get(start..self.pos).unwrap_or_default();
        if !is_legal_identifier(text) {
            return Err(self.invalid(start));
        }
        let mut look = self.pos;
        while let Some(c) = self.char_at(look).filter(|c| c.is_whitespace()) {
            look += c.len_utf8();
        }
        Ok(Tok::Ident {
            call: self.char_at(look) == Some('('),
        })
    }
}

/// Characters that end a token.
fn is_boundary(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | ')' | ']' | ',' | '.' | '!' | '>' | '<' | '=' | '&' | '|'
    ) || c.is_whitespace()
}

/// A letter or `_`, then letters, digits, `_` and `-` (ASCII only).
pub(crate) fn is_legal_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(src: &str) -> Result<Vec<Tok>, String> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().map_err(|e| e.to_string())?;
            if token.tok == Tok::Eof {
                return Ok(out);
            }
            out.push(token.tok);
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            lex("a.b[*] == 'it''s' && !f (1, -.5)"),
            Ok(vec![
                Tok::Ident { call: false },
                Tok::Dot,
                Tok::Ident { call: false },
                Tok::LBracket,
                Tok::Star,
                Tok::RBracket,
                Tok::Eq,
                Tok::String("it's".into()),
                Tok::And,
                Tok::Not,
                Tok::Ident { call: true },
                Tok::LParen,
                Tok::Number(1.0),
                Tok::Comma,
                Tok::Number(-0.5),
                Tok::RParen,
            ])
        );
    }

    #[test]
    fn dots_after_operands_are_dots() {
        assert_eq!(lex(".5"), Ok(vec![Tok::Number(0.5)]));
        assert_eq!(
            lex("1 .5"),
            Ok(vec![Tok::Number(1.0), Tok::Dot, Tok::Number(5.0)])
        );
    }

    #[test]
    fn invalid_tokens() {
        let err = |s: &str| lex(s).err().unwrap_or_default();
        assert!(err("1 =2 =3").starts_with("Unexpected symbol: '=2'. Located at position 3"));
        assert!(err("'foo").starts_with("Unexpected symbol: ''foo'. Located at position 1"));
        assert!(err("-0xFF").starts_with("Unexpected symbol: '-0xFF'"));
        assert!(err("foo.b@r").starts_with("Unexpected symbol: 'b@r'. Located at position 5"));
        assert!(err("github/workflow.md").starts_with("Unexpected symbol: 'github/workflow'"));
        assert!(err("😊 x").starts_with("Unexpected symbol: '😊'. Located at position 1"));
    }
}
