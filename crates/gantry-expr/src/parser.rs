//! The parser: tokens to a syntax tree, with GitHub's errors.
//!
//! GitHub's precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >=`,
//! `!`, then `.` / `[]`, which may follow a context, a function call or a
//! parenthesised expression. Binary operators associate to the left.
//!
//! The parser is an operator-precedence (shunting-yard) parser with explicit
//! stacks, like GitHub's, so nesting depth costs no native stack: hostile
//! input such as 20,000 `(` gets an error, never a stack overflow. It reads
//! tokens left to right and checks each one where it stands, so when an
//! expression has several problems the one reported is the one GitHub
//! reports. The depth limit is checked last, on the whole tree (subtrees
//! beyond it are dropped as soon as they are built, which keeps every tree
//! this module returns shallow).

use std::ops::Range;

use crate::allowed::{Allowed, FunctionSignature};
use crate::ast::{BinaryOp, Expr, ExprKind, Span};
use crate::casing::utf16_len;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{Lexer, Tok, Token};
use crate::value::Value;

/// GitHub's limit on the depth of an expression tree.
pub const MAX_DEPTH: usize = 50;

/// GitHub's limit on the length of an expression, in UTF-16 code units.
pub const MAX_LENGTH: usize = 21_000;

/// Parses an expression (the text inside `${{ }}`).
///
/// An empty (or all-blank) expression parses to a `null` literal, as GitHub
/// evaluates it to null.
pub fn parse(src: &str, allowed: &Allowed) -> Result<Expr, ParseError> {
    if utf16_len(src) > MAX_LENGTH {
        return Err(ParseError::whole(ParseErrorKind::ExceededMaxLength, src));
    }
    let mut parser = Parser {
        src,
        lexer: Lexer::new(src),
        peeked: None,
        prev: None,
        allowed,
        levels: vec![Level::new(Frame::Top)],
        too_deep: false,
    };
    if parser.peek()?.tok == Tok::Eof {
        return Ok(Expr::new(ExprKind::Literal(Value::Null), Span::new(0, 0)));
    }
    let expr = parser.run()?;
    if parser.too_deep {
        return Err(ParseError::whole(ParseErrorKind::ExceededMaxDepth, src));
    }
    Ok(expr)
}

/// A subtree and its depth as GitHub counts it.
#[derive(Debug)]
struct Node {
    expr: Expr,
    depth: usize,
}

/// An operator waiting for its right operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `!`, with the byte offset of the `!`.
    Not(usize),
    Binary(BinaryOp),
    And,
    Or,
}

impl Op {
    fn precedence(self) -> u8 {
        match self {
            Op::Not(_) => 16,
            Op::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge) => 11,
            Op::Binary(BinaryOp::Eq | BinaryOp::Ne) => 10,
            Op::And => 6,
            Op::Or => 5,
        }
    }

    fn of(tok: &Tok) -> Option<Op> {
        Some(match tok {
            Tok::Eq => Op::Binary(BinaryOp::Eq),
            Tok::Ne => Op::Binary(BinaryOp::Ne),
            Tok::Lt => Op::Binary(BinaryOp::Lt),
            Tok::Le => Op::Binary(BinaryOp::Le),
            Tok::Gt => Op::Binary(BinaryOp::Gt),
            Tok::Ge => Op::Binary(BinaryOp::Ge),
            Tok::And => Op::And,
            Tok::Or => Op::Or,
            _ => return None,
        })
    }
}

/// What an open bracket is for.
#[derive(Debug)]
enum Frame {
    /// The whole expression.
    Top,
    /// `( ... )` around an expression.
    Group,
    /// `name( ... )`.
    Call(CallFrame),
    /// `base[ ... ]`.
    Index { base: Node },
}

/// A function call being read.
#[derive(Debug)]
struct CallFrame {
    name: String,
    name_span: Range<usize>,
    signature: FunctionSignature,
    args: Vec<Expr>,
    /// The depth of the deepest argument so far.
    depth: usize,
}

impl CallFrame {
    fn push(&mut self, arg: Node) {
        self.depth = self.depth.max(arg.depth);
        self.args.push(arg.expr);
    }
}

/// An open bracket with the operators and operands seen inside it so far.
#[derive(Debug)]
struct Level {
    frame: Frame,
    ops: Vec<Op>,
    operands: Vec<Node>,
}

impl Level {
    fn new(frame: Frame) -> Self {
        Self {
            frame,
            ops: Vec::new(),
            operands: Vec::new(),
        }
    }
}

/// An operand just read, before `.`/`[]` and the next operator.
struct Operand {
    node: Node,
    /// Whether `.` and `[]` may follow (not after a literal).
    postfix: bool,
}

impl Operand {
    /// An operand that `.` and `[]` may follow.
    fn postfix(node: Node) -> Self {
        Self {
            node,
            postfix: true,
        }
    }
}

/// Where the parser stands after reading what follows an operand.
enum Step {
    /// Still after an operand (`.name`, `[i]`, or a closing bracket).
    Operand(Operand),
    /// After an operator, `(`, `[` or `,`: an operand must come next.
    NeedOperand,
    /// The end, with the whole tree.
    Done(Expr),
}

struct Parser<'s, 'a> {
    src: &'s str,
    lexer: Lexer<'s>,
    peeked: Option<Token>,
    /// The span of the last token consumed.
    prev: Option<Range<usize>>,
    allowed: &'a Allowed,
    levels: Vec<Level>,
    /// A subtree deeper than [`MAX_DEPTH`] was built (and dropped).
    too_deep: bool,
}

impl Parser<'_, '_> {
    fn peek(&mut self) -> Result<Token, ParseError> {
        if let Some(token) = &self.peeked {
            return Ok(token.clone());
        }
        let token = self.lexer.next_token()?;
        self.peeked = Some(token.clone());
        Ok(token)
    }

    /// Consumes the peeked token without reading the one after it.
    fn bump(&mut self) -> Result<Token, ParseError> {
        let token = self.peek()?;
        self.peeked = None;
        self.prev = Some(token.span.clone());
        Ok(token)
    }

    fn text(&self, span: &Range<usize>) -> String {
        self.src.get(span.clone()).unwrap_or_default().to_string()
    }

    fn error(&self, kind: ParseErrorKind, span: Range<usize>) -> ParseError {
        ParseError::at(kind, self.src, span)
    }

    /// The error for finding `token` where something else was needed.
    fn unexpected(&self, token: &Token) -> ParseError {
        if token.tok == Tok::Eof {
            let last = self.prev.clone().unwrap_or(0..0);
            self.error(ParseErrorKind::UnexpectedEndOfExpression, last)
        } else {
            self.error(ParseErrorKind::UnexpectedSymbol, token.span.clone())
        }
    }

    /// A state the parser cannot reach; reported rather than panicking.
    fn internal(&self) -> ParseError {
        ParseError::whole(ParseErrorKind::UnexpectedSymbol, self.src)
    }

    fn expect(&mut self, tok: &Tok) -> Result<Token, ParseError> {
        let token = self.peek()?;
        if &token.tok == tok {
            return self.bump();
        }
        Err(self.unexpected(&token))
    }

    fn level(&mut self) -> Result<&mut Level, ParseError> {
        let src = self.src;
        self.levels
            .last_mut()
            .ok_or_else(|| ParseError::whole(ParseErrorKind::UnexpectedSymbol, src))
    }

    /// Finishes a node, dropping it if it is deeper than GitHub allows (the
    /// error is reported once the rest has been checked).
    fn node(&mut self, kind: ExprKind, span: Span, depth: usize) -> Node {
        if depth > MAX_DEPTH {
            self.too_deep = true;
            return Node {
                expr: Expr::new(ExprKind::Literal(Value::Null), span),
                depth: 1,
            };
        }
        Node {
            expr: Expr::new(kind, span),
            depth,
        }
    }

    /// The main loop: an operand, then what follows it, until the end.
    fn run(&mut self) -> Result<Expr, ParseError> {
        loop {
            let Some(mut operand) = self.operand()? else {
                continue;
            };
            loop {
                match self.after_operand(operand)? {
                    Step::Operand(next) => operand = next,
                    Step::NeedOperand => break,
                    Step::Done(expr) => return Ok(expr),
                }
            }
        }
    }

    /// Reads what follows an operand: `.`/`[]`, a closing bracket, a
    /// comma, an operator or the end.
    fn after_operand(&mut self, operand: Operand) -> Result<Step, ParseError> {
        let token = self.peek()?;
        match token.tok {
            Tok::LBracket | Tok::Dot if !operand.postfix => Err(self.unexpected(&token)),
            Tok::LBracket => {
                self.bump()?;
                if self.peek()?.tok != Tok::Star {
                    self.levels
                        .push(Level::new(Frame::Index { base: operand.node }));
                    return Ok(Step::NeedOperand);
                }
                self.bump()?;
                let close = self.expect(&Tok::RBracket)?;
                Ok(Step::Operand(Operand::postfix(
                    self.wildcard(operand.node, close.span.end),
                )))
            }
            Tok::Dot => {
                self.bump()?;
                Ok(Step::Operand(Operand::postfix(
                    self.after_dot(operand.node)?,
                )))
            }
            Tok::RParen | Tok::RBracket | Tok::Comma => {
                self.bump()?;
                self.close(&token, operand.node)
            }
            Tok::Eof => {
                let inner = self.close_level(operand.node)?;
                match self.levels.as_slice() {
                    [
                        Level {
                            frame: Frame::Top, ..
                        },
                    ] => Ok(Step::Done(inner.expr)),
                    _ => Err(self.unexpected(&token)),
                }
            }
            ref tok => {
                let Some(op) = Op::of(tok) else {
                    return Err(self.unexpected(&token));
                };
                self.bump()?;
                self.level()?.operands.push(operand.node);
                self.reduce(op.precedence())?;
                self.level()?.ops.push(op);
                Ok(Step::NeedOperand)
            }
        }
    }

    /// `)`, `]` or `,` (just consumed) after the operand `last`.
    fn close(&mut self, token: &Token, last: Node) -> Result<Step, ParseError> {
        let inner = self.close_level(last)?;
        let level = self.levels.pop().ok_or_else(|| self.internal())?;
        match (&token.tok, level.frame) {
            (Tok::RParen, Frame::Group) => Ok(Step::Operand(Operand::postfix(inner))),
            (Tok::RParen, Frame::Call(mut call)) => {
                call.push(inner);
                Ok(Step::Operand(Operand::postfix(
                    self.finish_call(call, token.span.end)?,
                )))
            }
            (Tok::RBracket, Frame::Index { base }) => {
                let span = Span::new(base.expr.span.start, token.span.end);
                let depth = 1 + base.depth.max(inner.depth);
                let kind = ExprKind::Index {
                    base: Box::new(base.expr),
                    index: Box::new(inner.expr),
                };
                Ok(Step::Operand(Operand::postfix(
                    self.node(kind, span, depth),
                )))
            }
            (Tok::Comma, Frame::Call(mut call)) => {
                call.push(inner);
                self.levels.push(Level::new(Frame::Call(call)));
                Ok(Step::NeedOperand)
            }
            _ => Err(self.error(ParseErrorKind::UnexpectedSymbol, token.span.clone())),
        }
    }

    /// Reads where an operand is expected. Returns `None` after a prefix
    /// (`!`, `(`, `name(`), which leaves an operand still expected.
    fn operand(&mut self) -> Result<Option<Operand>, ParseError> {
        let token = self.peek()?;
        let span = Span::from(token.span.clone());
        let literal = |value: Value| Operand {
            node: Node {
                expr: Expr::new(ExprKind::Literal(value), span),
                depth: 1,
            },
            postfix: false,
        };
        Ok(Some(match token.tok {
            Tok::Not => {
                self.bump()?;
                self.level()?.ops.push(Op::Not(token.span.start));
                return Ok(None);
            }
            Tok::LParen => {
                self.bump()?;
                self.levels.push(Level::new(Frame::Group));
                return Ok(None);
            }
            Tok::RParen if self.in_empty_call() => {
                self.bump()?;
                let Some(Level {
                    frame: Frame::Call(call),
                    ..
                }) = self.levels.pop()
                else {
                    return Err(self.internal());
                };
                Operand::postfix(self.finish_call(call, token.span.end)?)
            }
            Tok::Number(n) => {
                self.bump()?;
                literal(Value::Number(n))
            }
            Tok::String(ref s) => {
                self.bump()?;
                literal(Value::String(s.clone()))
            }
            Tok::Ident { call } => {
                self.bump()?;
                let name = self.text(&token.span);
                match name.as_str() {
                    "null" => literal(Value::Null),
                    "true" => literal(Value::Bool(true)),
                    "false" => literal(Value::Bool(false)),
                    "NaN" => literal(Value::Number(f64::NAN)),
                    "Infinity" => literal(Value::Number(f64::INFINITY)),
                    _ if call => {
                        let Some(signature) = self.allowed.function(&name) else {
                            return Err(
                                self.error(ParseErrorKind::UnrecognizedFunction, token.span)
                            );
                        };
                        self.expect(&Tok::LParen)?;
                        let call = CallFrame {
                            name,
                            name_span: token.span,
                            signature,
                            args: Vec::new(),
                            depth: 0,
                        };
                        self.levels.push(Level::new(Frame::Call(call)));
                        return Ok(None);
                    }
                    _ => {
                        if !self.allowed.allows_named_value(&name) {
                            return Err(
                                self.error(ParseErrorKind::UnrecognizedNamedValue, token.span)
                            );
                        }
                        let expr = Expr::new(ExprKind::NamedValue(name), span);
                        Operand::postfix(Node { expr, depth: 1 })
                    }
                }
            }
            _ => return Err(self.unexpected(&token)),
        }))
    }

    /// Whether a call's `(` was the last thing read, so `)` closes it empty.
    fn in_empty_call(&self) -> bool {
        matches!(
            self.levels.last(),
            Some(Level { frame: Frame::Call(call), ops, operands })
                if call.args.is_empty() && ops.is_empty() && operands.is_empty()
        )
    }

    /// `.name` or `.*` after an operand, with the `.` just consumed.
    fn after_dot(&mut self, base: Node) -> Result<Node, ParseError> {
        let token = self.peek()?;
        match token.tok {
            Tok::Ident { .. } => {
                self.bump()?;
                let name = self.text(&token.span);
                let span = Span::new(base.expr.span.start, token.span.end);
                let depth = 1 + base.depth.max(1);
                Ok(self.node(
                    ExprKind::Property {
                        base: Box::new(base.expr),
                        name,
                    },
                    span,
                    depth,
                ))
            }
            Tok::Star => {
                self.bump()?;
                Ok(self.wildcard(base, token.span.end))
            }
            _ => Err(self.unexpected(&token)),
        }
    }

    fn wildcard(&mut self, base: Node, end: usize) -> Node {
        let span = Span::new(base.expr.span.start, end);
        let depth = 1 + base.depth.max(1);
        self.node(
            ExprKind::Wildcard {
                base: Box::new(base.expr),
            },
            span,
            depth,
        )
    }

    /// Ends the innermost level with `last` as its final operand: applies
    /// its pending operators and returns the single result.
    fn close_level(&mut self, last: Node) -> Result<Node, ParseError> {
        self.level()?.operands.push(last);
        self.reduce(0)?;
        let level = self.level()?;
        let result = level.operands.pop();
        match (result, level.operands.is_empty()) {
            (Some(node), true) => Ok(node),
            _ => Err(self.internal()),
        }
    }

    /// Applies the innermost level's pending operators that bind at least
    /// as tightly as `precedence`.
    fn reduce(&mut self, precedence: u8) -> Result<(), ParseError> {
        loop {
            let level = self.level()?;
            let Some(&op) = level.ops.last().filter(|op| op.precedence() >= precedence) else {
                return Ok(());
            };
            level.ops.pop();
            let right = level.operands.pop();
            let node = match op {
                Op::Not(start) => {
                    let operand = right.ok_or_else(|| self.internal())?;
                    let span = Span::new(start, operand.expr.span.end);
                    let depth = operand.depth + 1;
                    self.node(ExprKind::Not(Box::new(operand.expr)), span, depth)
                }
                _ => {
                    let left = self.level()?.operands.pop();
                    let (Some(left), Some(right)) = (left, right) else {
                        return Err(self.internal());
                    };
                    self.binary(op, left, right)
                }
            };
            self.level()?.operands.push(node);
        }
    }

    fn binary(&mut self, op: Op, left: Node, right: Node) -> Node {
        let span = left.expr.span.to(right.expr.span);
        match op {
            Op::Binary(op) => {
                let depth = 1 + left.depth.max(right.depth);
                let kind = ExprKind::Binary {
                    op,
                    left: Box::new(left.expr),
                    right: Box::new(right.expr),
                };
                self.node(kind, span, depth)
            }
            _ => {
                // `&&` and `||` chains become one node, across parentheses.
                let or = op == Op::Or;
                let mut max_child = 0;
                let mut items = Vec::new();
                for side in [left, right] {
                    match side.expr.kind {
                        ExprKind::Or(inner) if or => {
                            max_child = max_child.max(side.depth - 1);
                            if items.is_empty() {
                                items = inner
                            } else {
                                items.extend(inner)
                            }
                        }
                        ExprKind::And(inner) if !or => {
                            max_child = max_child.max(side.depth - 1);
                            if items.is_empty() {
                                items = inner
                            } else {
                                items.extend(inner)
                            }
                        }
                        kind => {
                            max_child = max_child.max(side.depth);
                            items.push(Expr::new(kind, side.expr.span));
                        }
                    }
                }
                let kind = if or {
                    ExprKind::Or(items)
                } else {
                    ExprKind::And(items)
                };
                self.node(kind, span, max_child + 1)
            }
        }
    }

    /// A call whose `)` was just read: checks the argument count (GitHub
    /// reports it at the function name) and builds the node.
    fn finish_call(&mut self, call: CallFrame, end: usize) -> Result<Node, ParseError> {
        let CallFrame {
            name,
            name_span,
            signature,
            args,
            depth,
        } = call;
        let count_error = if args.len() < signature.min_args {
            Some(ParseErrorKind::TooFewParameters)
        } else if args.len() > signature.max_args {
            Some(ParseErrorKind::TooManyParameters)
        } else if signature.name == "case" && args.len() % 2 == 0 {
            Some(ParseErrorKind::EvenParameters)
        } else {
            None
        };
        if let Some(kind) = count_error {
            return Err(self.error(kind, name_span));
        }
        let span = Span::new(name_span.start, end);
        Ok(self.node(ExprKind::Call { name, args }, span, depth + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse(src, &Allowed::new(&["foo", "github"], &[]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    fn ok(src: &str) -> Expr {
        parse(src, &Allowed::any())
            .unwrap_or_else(|e| Expr::new(ExprKind::NamedValue(e.to_string()), Span::default()))
    }

    #[test]
    fn shapes() {
        assert_eq!(ok("a && (b && c)").to_string(), "(a && b && c)");
        assert_eq!(ok("(a || b) || c").to_string(), "(a || b || c)");
        assert_eq!(ok("a && b || c && d").to_string(), "((a && b) || (c && d))");
        assert_eq!(ok("!a.b == 1").to_string(), "(!a.b == 1)");
        assert_eq!(ok("(!a).b").to_string(), "(!a).b");
        assert_eq!(ok("3 < 2 < 1").to_string(), "((3 < 2) < 1)");
        assert_eq!(ok("a[*].b['c d'][0]").to_string(), "a.*.b['c d'][0]");
        assert_eq!(ok("(1)[0]").to_string(), "(1)[0]");
        assert_eq!(
            ok("format('{0}', 'it''s')").to_string(),
            "format('{0}', 'it''s')"
        );
        assert_eq!(ok("foo.true.NaN").to_string(), "foo.true.NaN");
        assert_eq!(ok("  ").to_string(), "null");
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("1 <"),
            "Unexpected end of expression: '<'. Located at position 3 within expression: 1 <"
        );
        assert_eq!(
            err("foo."),
            "Unexpected end of expression: '.'. Located at position 4 within expression: foo."
        );
        assert_eq!(
            err("foo[1"),
            "Unexpected end of expression: '1'. Located at position 5 within expression: foo[1"
        );
        assert_eq!(
            err("f(1,)").split(':').next(),
            Some("Unrecognized function")
        );
        assert_eq!(
            err("join(1,)"),
            "Unexpected symbol: ')'. Located at position 8 within expression: join(1,)"
        );
        assert_eq!(
            err("'a'.b"),
            "Unexpected symbol: '.'. Located at position 4 within expression: 'a'.b"
        );
        assert_eq!(
            err("true()"),
            "Unexpected symbol: '('. Located at position 5 within expression: true()"
        );
        assert_eq!(
            err("foo.bar()"),
            "Unexpected symbol: '('. Located at position 8 within expression: foo.bar()"
        );
        assert_eq!(
            err("'a' 'b'"),
            "Unexpected symbol: ''b''. Located at position 5 within expression: 'a' 'b'"
        );
        assert_eq!(
            err("join()"),
            "Too few parameters supplied: 'join'. Located at position 1 within expression: join()"
        );
        assert_eq!(
            err("nope @"),
            "Unrecognized named-value: 'nope'. Located at position 1 within expression: nope @"
        );
        assert_eq!(
            err("(foo"),
            "Unexpected end of expression: 'foo'. Located at position 2 within expression: (foo"
        );
    }

    #[test]
    fn allowed_checks() {
        let allowed = Allowed::new(&["github", "env"], &["hashFiles"]);
        let check = |src: &str| parse(src, &allowed).err().map(|e| e.to_string());
        assert_eq!(
            check("secrets.foo"),
            Some("Unrecognized named-value: 'secrets'. Located at position 1 within expression: secrets.foo".into())
        );
        assert_eq!(
            check("withJson()"),
            Some("Unrecognized function: 'withJson'. Located at position 1 within expression: withJson()".into())
        );
        assert_eq!(
            check("success()"),
            Some("Unrecognized function: 'success'. Located at position 1 within expression: success()".into())
        );
        assert_eq!(
            check("GITHUB.sha && Env.x && hashfiles('a') && TOJSON(1)"),
            None
        );
        assert_eq!(
            check("hashFiles()"),
            Some("Too few parameters supplied: 'hashFiles'. Located at position 1 within expression: hashFiles()".into())
        );
    }

    #[test]
    fn limits() {
        let long = "1".repeat(MAX_LENGTH + 1);
        assert_eq!(err(&long), "Exceeded max expression length 21000");
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(ok(&deep).to_string(), "1");
        let chain = vec!["1"; 60].join(" == ");
        assert_eq!(err(&chain), "Exceeded max expression depth 50");
        // A later syntax error wins over the depth error, as on GitHub.
        assert!(err(&format!("{chain} )")).starts_with("Unexpected symbol: ')'"));
        let hostile = "(".repeat(20_000);
        assert!(
            err(&hostile)
                .starts_with("Unexpected end of expression: '('. Located at position 20000 within")
        );
        let redundant = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(ok(&redundant).to_string(), "1");
        let calls = format!("{}1{}", "format(".repeat(2_000), ")".repeat(2_000));
        assert_eq!(err(&calls), "Exceeded max expression depth 50");
        let nots = format!("{}true", "!".repeat(20_000));
        assert_eq!(err(&nots), "Exceeded max expression depth 50");
    }
}
