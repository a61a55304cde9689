//! Errors: parsing an expression, evaluating it, and splitting a template.
//!
//! Every message is GitHub's own wording, so a diagnostic reads the same as
//! the one GitHub shows for the same workflow. Parse errors locate the
//! offending token the way GitHub does ("Located at position N within
//! expression: ..."), where N is 1-based and counts UTF-16 code units (the
//! same as characters for text without emoji or other astral characters).

use std::ops::Range;

use thiserror::Error;

use crate::casing::utf16_len;
use crate::parser::{MAX_DEPTH, MAX_LENGTH};

/// What went wrong while parsing an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Text that is no token at all, such as `@`, `=`, `'unclosed` or
    /// `0xZZ` ("Unexpected symbol"). GitHub's test data calls these lexing
    /// errors.
    InvalidToken,
    /// A token where it cannot go ("Unexpected symbol").
    UnexpectedSymbol,
    /// The expression stops in the middle ("Unexpected end of expression").
    UnexpectedEndOfExpression,
    /// A context that is not available here ("Unrecognized named-value").
    UnrecognizedNamedValue,
    /// A function that does not exist or is not available here.
    UnrecognizedFunction,
    /// A function call with too few arguments.
    TooFewParameters,
    /// A function call with too many arguments.
    TooManyParameters,
    /// `case()` with an even number of arguments.
    EvenParameters,
    /// The tree is deeper than GitHub's limit of 50 levels.
    ExceededMaxDepth,
    /// The text is longer than GitHub's limit of 21,000 characters.
    ExceededMaxLength,
}

impl ParseErrorKind {
    /// GitHub's description, the first part of the message.
    pub fn description(self) -> String {
        match self {
            ParseErrorKind::InvalidToken | ParseErrorKind::UnexpectedSymbol => {
                "Unexpected symbol".to_string()
            }
            ParseErrorKind::UnexpectedEndOfExpression => "Unexpected end of expression".to_string(),
            ParseErrorKind::UnrecognizedNamedValue => "Unrecognized named-value".to_string(),
            ParseErrorKind::UnrecognizedFunction => "Unrecognized function".to_string(),
            ParseErrorKind::TooFewParameters => "Too few parameters supplied".to_string(),
            ParseErrorKind::TooManyParameters => "Too many parameters supplied".to_string(),
            ParseErrorKind::EvenParameters => {
                "Even number of parameters supplied, requires an odd number of parameters"
                    .to_string()
            }
            ParseErrorKind::ExceededMaxDepth => {
                format!("Exceeded max expression depth {MAX_DEPTH}")
            }
            ParseErrorKind::ExceededMaxLength => {
                format!("Exceeded max expression length {MAX_LENGTH}")
            }
        }
    }

    /// Whether the error is in the text of a token rather than in the
    /// arrangement of tokens ("lexing" in GitHub's test data).
    pub fn is_lexical(self) -> bool {
        self == ParseErrorKind::InvalidToken
    }
}

/// An expression that GitHub would reject, with GitHub's message.
///
/// `Display` is the message, e.g. `Unrecognized named-value: 'secrets'.
/// Located at position 1 within expression: secrets.foo`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct ParseError {
    kind: ParseErrorKind,
    message: String,
    expression: String,
    token: Option<Range<usize>>,
}

impl ParseError {
    /// An error about the token at `token` (a byte range of `expression`).
    pub(crate) fn at(kind: ParseErrorKind, expression: &str, token: Range<usize>) -> Self {
        let raw = expression.get(token.clone()).unwrap_or_default();
        let position = utf16_len(expression.get(..token.start).unwrap_or_default()) + 1;
        let message = format!(
            "{}: '{raw}'. Located at position {position} within expression: {expression}",
            kind.description()
        );
        Self {
            kind,
            message,
            expression: expression.to_string(),
            token: Some(token),
        }
    }

    /// An error about the expression as a whole (length and depth limits).
    pub(crate) fn whole(kind: ParseErrorKind, expression: &str) -> Self {
        Self {
            kind,
            message: kind.description(),
            expression: expression.to_string(),
            token: None,
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// GitHub's message (the same as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The expression text the error is about.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The offending token's text, if the error is about one token.
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .and_then(|t| self.expression.get(t.clone()))
    }

    /// The 1-based position GitHub reports ("Located at position N"), if the
    /// error is about one token. It counts UTF-16 code units.
    pub fn position(&self) -> Option<usize> {
        let token = self.token.as_ref()?;
        Some(utf16_len(self.expression.get(..token.start).unwrap_or_default()) + 1)
    }

    /// The byte range within [`ParseError::expression`] to point a label
    /// at: the offending token, or the whole expression for errors about the
    /// expression as a whole.
    pub fn span(&self) -> Range<usize> {
        self.token.clone().unwrap_or(0..self.expression.len())
    }

    /// Like [`ParseError::span`], counted in characters instead of bytes.
    pub fn char_range(&self) -> Range<usize> {
        let span = self.span();
        let start = self
            .expression
            .get(..span.start)
            .map_or(0, |s| s.chars().count());
        let len = self.expression.get(span).map_or(0, |s| s.chars().count());
        start..start + len
    }
}

/// An error while evaluating an expression, with GitHub's message.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EvalError {
    /// `format()` with a malformed format string.
    #[error("The following format string is invalid: {0}")]
    InvalidFormatString(String),
    /// `format()` referring to `{N}` with too few arguments.
    #[error("The following format string references more arguments than were supplied: {0}")]
    FormatArgumentMissing(String),
    /// `format()` with `{0:spec}`: GitHub supports no format specifiers.
    #[error("The format specifiers '{specifiers}' are not valid for objects of type '{kind}'")]
    InvalidFormatSpecifiers {
        /// The text after the `:`.
        specifiers: String,
        /// The argument's kind (`String`, `Number`, ...).
        kind: String,
    },
    /// `case()` given a predicate that is not a boolean.
    #[error("case predicate must evaluate to a boolean value")]
    CasePredicateNotBoolean,
    /// `case()` with an even number of arguments (only possible for a
    /// hand-built tree: the parser rejects it).
    #[error("case requires an odd number of arguments")]
    CaseArgumentCount,
    /// `fromJSON()` given text that is not JSON. The detail is the source.
    #[error("Error parsing fromJson")]
    FromJson(#[source] JsonError),
    /// The evaluation needed more than GitHub's 1 MiB budget.
    #[error(
        "The maximum allowed memory size was exceeded while evaluating the following expression: {0}"
    )]
    MemoryExceeded(String),
    /// A function the executor did not supply (such as `hashFiles` where no
    /// workspace exists).
    #[error("The function '{0}' is not available here")]
    FunctionUnavailable(String),
    /// An error raised by an executor-supplied function.
    #[error("{0}")]
    Custom(String),
}

impl EvalError {
    /// An error from an executor-supplied function, shown as given.
    pub fn custom(message: impl Into<String>) -> Self {
        EvalError::Custom(message.into())
    }
}

/// Why `fromJSON()` could not read its input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct JsonError(pub(crate) String);

/// An error in a string that may hold `${{ }}` expressions.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `${{` without a closing `}}`.
    #[error(
        "The expression is not closed. An unescaped ${{{{ sequence was found, but the closing }}}} sequence was not found."
    )]
    NotClosed {
        /// Byte offset of the `${{` in the template.
        offset: usize,
    },
    /// `${{ }}` with nothing inside.
    #[error("An expression was expected")]
    ExpectedExpression {
        /// Byte offset of the `${{` in the template.
        offset: usize,
    },
    /// An expression inside `${{ }}` that does not parse.
    #[error("{error}")]
    Expression {
        /// The parse error; its spans are relative to the expression text.
        error: ParseError,
        /// Byte offset of the expression text in the template.
        offset: usize,
    },
}

impl TemplateError {
    /// The byte range within the template to point a label at.
    pub fn span(&self) -> Range<usize> {
        match self {
            TemplateError::NotClosed { offset } | TemplateError::ExpectedExpression { offset } => {
                *offset..*offset + 3
            }
            TemplateError::Expression { error, offset } => {
                let span = error.span();
                span.start + offset..span.end + offset
            }
        }
    }

    /// The parse error, when the problem is inside an expression.
    pub fn parse_error(&self) -> Option<&ParseError> {
        match self {
            TemplateError::Expression { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_locate_tokens() {
        let err = ParseError::at(ParseErrorKind::UnrecognizedNamedValue, "secrets.foo", 0..7);
        assert_eq!(
            err.to_string(),
            "Unrecognized named-value: 'secrets'. Located at position 1 within expression: secrets.foo"
        );
        assert_eq!(err.position(), Some(1));
        assert_eq!(err.token(), Some("secrets"));
        let err = ParseError::at(ParseErrorKind::UnexpectedSymbol, "'😊' x", 7..8);
        assert_eq!(err.position(), Some(6));
        assert_eq!(err.char_range(), 4..5);
        let err = ParseError::whole(ParseErrorKind::ExceededMaxDepth, "x");
        assert_eq!(err.to_string(), "Exceeded max expression depth 50");
        assert_eq!(err.span(), 0..1);
    }

    #[test]
    fn template_messages() {
        assert_eq!(
            TemplateError::NotClosed { offset: 0 }.to_string(),
            "The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found."
        );
        assert_eq!(
            TemplateError::ExpectedExpression { offset: 0 }.to_string(),
            "An expression was expected"
        );
    }
}

/// Why [`evaluate_text`](crate::evaluate_text) failed: the text did not
/// parse (as an expression or a template), or its evaluation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

impl TextError {
    /// The bytes of the text a parse error is about.
    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            TextError::Parse(e) => Some(e.span()),
            TextError::Template(_) | TextError::Eval(_) => None,
        }
    }
}
