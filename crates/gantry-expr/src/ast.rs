//! The syntax tree of an expression.
//!
//! The tree has the shape GitHub's own parser gives it: grouping parentheses
//! leave no node behind, and chains of `&&` (or of `||`) are one node with all
//! the operands, even across parentheses (`a && (b && c)` is `And[a, b, c]`).
//! That shape matters for GitHub's depth limit of 50 levels.
//!
//! Every node carries the byte range of its source text. Equality of nodes
//! ignores those ranges, so two parses of differently spaced text compare
//! equal.
//!
//! `Display` prints a canonical form, in the style GitHub uses when it shows
//! an expression back (`(a == b)`, `(a && b)`, `toJSON(github.event)`), which
//! parses back to an equal tree.

use std::fmt;
use std::ops::Range;

use crate::allowed::STATUS_FUNCTIONS;
use crate::lexer::is_legal_identifier;
use crate::number::format_literal;
use crate::value::Value;

/// A byte range in the parsed source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The span as a range.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span {
            start: r.start,
            end: r.end,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
        }
    }
}

/// An expression node with its source range.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it is in the source (bytes).
    pub span: Span,
}

/// The kinds of node.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// `null`, `true`, `42`, `'text'`: always a null, boolean, number or
    /// string value.
    Literal(Value),
    /// A context such as `github`, as written.
    NamedValue(String),
    /// A function call; the name as written (names are case-insensitive).
    Call {
        /// The function name as written.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `!operand`
    Not(Box<Expr>),
    /// A comparison.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `a && b && ...`: the first falsy operand, else the last one.
    And(Vec<Expr>),
    /// `a || b || ...`: the first truthy operand, else the last one.
    Or(Vec<Expr>),
    /// `base.name`
    Property {
        /// The object.
        base: Box<Expr>,
        /// The property name.
        name: String,
    },
    /// `base[index]`
    Index {
        /// The object or array.
        base: Box<Expr>,
        /// The key or position.
        index: Box<Expr>,
    },
    /// `base.*` or `base[*]`: all values of an object or array.
    Wildcard {
        /// The object or array.
        base: Box<Expr>,
    },
}

/// Something an expression refers to, for static analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reference<'a> {
    /// A context, as written.
    NamedValue(&'a str),
    /// A function, as written.
    Function(&'a str),
}

impl Expr {
    /// A node.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Self { kind, span }
    }

    /// The direct children, left to right.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::NamedValue(_) => Vec::new(),
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::And(items) | ExprKind::Or(items) => items.iter().collect(),
            ExprKind::Not(e) => vec![e],
            ExprKind::Binary { left, right, .. } => vec![left, right],
            ExprKind::Property { base, .. } | ExprKind::Wildcard { base } => vec![base],
            ExprKind::Index { base, index } => vec![base, index],
        }
    }

    /// All nodes, this one first, in source order.
    pub fn iter(&self) -> impl Iterator<Item = &Expr> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let node = stack.pop()?;
            stack.extend(node.children().into_iter().rev());
            Some(node)
        })
    }

    /// The contexts and functions referred to, in source order (repeats
    /// included).
    pub fn references(&self) -> impl Iterator<Item = Reference<'_>> {
        self.iter().filter_map(|e| match &e.kind {
            ExprKind::NamedValue(name) => Some(Reference::NamedValue(name.as_str())),
            ExprKind::Call { name, .. } => Some(Reference::Function(name.as_str())),
            _ => None,
        })
    }

    /// The contexts referred to, as written, in source order.
    pub fn named_values(&self) -> impl Iterator<Item = &str> {
        self.references().filter_map(|r| match r {
            Reference::NamedValue(name) => Some(name),
            Reference::Function(_) => None,
        })
    }

    /// The context paths read, lower-cased, in source order: `github.ref`,
    /// `secrets.token` for `secrets['TOKEN']`, `*` for a wildcard or a
    /// computed index (`matrix.*`). An index expression's own reads are
    /// listed too.
    pub fn context_paths(&self) -> Vec<String> {
        fn collect(expr: &Expr, out: &mut Vec<String>) {
            if let Some(path) = path_of(expr) {
                out.push(path);
                if let ExprKind::Index { index, .. } = &expr.kind {
                    collect(index, out);
                }
                return;
            }
            for child in expr.children() {
                collect(child, out);
            }
        }
        fn path_of(expr: &Expr) -> Option<String> {
            match &expr.kind {
                ExprKind::NamedValue(name) => Some(name.to_ascii_lowercase()),
                ExprKind::Property { base, name } => {
                    Some(format!("{}.{}", path_of(base)?, name.to_ascii_lowercase()))
                }
                ExprKind::Wildcard { base } => Some(format!("{}.*", path_of(base)?)),
                ExprKind::Index { base, index } => {
                    let key = match &index.kind {
                        ExprKind::Literal(Value::String(s)) => s.to_ascii_lowercase(),
                        _ => "*".to_string(),
                    };
                    Some(format!("{}.{key}", path_of(base)?))
                }
                _ => None,
            }
        }
        let mut out = Vec::new();
        collect(self, &mut out);
        out
    }

    /// The functions called, as written, in source order.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.references().filter_map(|r| match r {
            Reference::Function(name) => Some(name),
            Reference::NamedValue(_) => None,
        })
    }

    /// Whether `success()`, `always()`, `cancelled()` or `failure()` is
    /// called anywhere. GitHub prefixes an `if:` condition without one with
    /// `success() &&`.
    pub fn has_status_function(&self) -> bool {
        self.functions().any(is_status_function)
    }

    /// The depth of the tree as GitHub counts it (a leaf is 1; a property
    /// name counts as a leaf under its `.`).
    pub fn depth(&self) -> usize {
        let own = match &self.kind {
            ExprKind::Property { .. } | ExprKind::Wildcard { .. } => 1,
            _ => 0,
        };
        1 + self
            .children()
            .into_iter()
            .map(Expr::depth)
            .max()
            .unwrap_or(0)
            .max(own)
    }

    /// The literal value, if this is a literal.
    pub fn as_literal(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Literal(v) => Some(v),
            _ => None,
        }
    }
}

/// Whether a function name is one of the status functions.
pub fn is_status_function(name: &str) -> bool {
    STATUS_FUNCTIONS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

impl PartialEq for Expr {
    /// Structural equality; spans are ignored and numbers compare by bits
    /// (so `NaN` equals `NaN` and `-0` differs from `0`).
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl PartialEq for ExprKind {
    fn eq(&self, other: &Self) -> bool {
        use ExprKind::*;
        match (self, other) {
            (Literal(Value::Number(a)), Literal(Value::Number(b))) => a.to_bits() == b.to_bits(),
            (Literal(a), Literal(b)) => a == b,
            (NamedValue(a), NamedValue(b)) => a == b,
            (Call { name: n1, args: a1 }, Call { name: n2, args: a2 }) => n1 == n2 && a1 == a2,
            (Not(a), Not(b)) => a == b,
            (
                Binary {
                    op: o1,
                    left: l1,
                    right: r1,
                },
                Binary {
                    op: o2,
                    left: l2,
                    right: r2,
                },
            ) => o1 == o2 && l1 == l2 && r1 == r2,
            (And(a), And(b)) | (Or(a), Or(b)) => a == b,
            (Property { base: b1, name: n1 }, Property { base: b2, name: n2 }) => {
                n1 == n2 && b1 == b2
            }
            (
                Index {
                    base: b1,
                    index: i1,
                },
                Index {
                    base: b2,
                    index: i2,
                },
            ) => b1 == b2 && i1 == i2,
            (Wildcard { base: b1 }, Wildcard { base: b2 }) => b1 == b2,
            _ => false,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(value) => write_literal(f, value),
            ExprKind::NamedValue(name) => f.write_str(name),
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            ExprKind::Not(operand) => write!(f, "!{operand}"),
            ExprKind::Binary { op, left, right } => write!(f, "({left} {} {right})", op.as_str()),
            ExprKind::And(items) => write_joined(f, items, " && "),
            ExprKind::Or(items) => write_joined(f, items, " || "),
            ExprKind::Property { base, name } => {
                write_base(f, base)?;
                if is_legal_identifier(name) {
                    write!(f, ".{name}")
                } else {
                    // Not produced by the parser; keeps hand-built trees printable.
                    f.write_str("[")?;
                    write_literal(f, &Value::String(name.clone()))?;
                    f.write_str("]")
                }
            }
            ExprKind::Index { base, index } => {
                write_base(f, base)?;
                write!(f, "[{index}]")
            }
            ExprKind::Wildcard { base } => {
                write_base(f, base)?;
                f.write_str(".*")
            }
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str) -> fmt::Result {
    f.write_str("(")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    f.write_str(")")
}

/// The object of `.`, `[]` or `.*`: literals and `!` need parentheses there.
fn write_base(f: &mut fmt::Formatter<'_>, base: &Expr) -> fmt::Result {
    match base.kind {
        ExprKind::Literal(_) | ExprKind::Not(_) => write!(f, "({base})"),
        _ => write!(f, "{base}"),
    }
}

fn write_literal(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::Null => f.write_str("null"),
        Value::Bool(b) => write!(f, "{b}"),
        Value::Number(n) => f.write_str(&format_literal(*n)),
        Value::String(s) => write!(f, "'{}'", s.replace('\'', "''")),
        // Not produced by the parser: arrays and objects have no literal form.
        Value::Array(_) | Value::Object(_) => write!(
            f,
            "fromJson('{}')",
            value.to_json().to_string().replace('\'', "''")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed::Allowed;
    use crate::parser::parse;

    fn expr(src: &str) -> Expr {
        parse(src, &Allowed::any())
            .unwrap_or_else(|e| Expr::new(ExprKind::NamedValue(e.to_string()), Span::default()))
    }

    #[test]
    fn references() {
        let e = expr(
            "contains(github.event.labels.*.name, env.LABEL) && Success() || steps.x.outputs['y']",
        );
        assert_eq!(
            e.named_values().collect::<Vec<_>>(),
            ["github", "env", "steps"]
        );
        assert_eq!(e.functions().collect::<Vec<_>>(), ["contains", "Success"]);
        assert!(e.has_status_function());
        assert!(!expr("format('success()')").has_status_function());
        assert_eq!(e.iter().count(), 16);
    }

    #[test]
    fn depth_and_spans() {
        assert_eq!(expr("a").depth(), 1);
        assert_eq!(expr("a.b").depth(), 2);
        assert_eq!(expr("a && b && (c || d)").depth(), 3);
        let e = expr("  foo.bar[0] == 'x' ");
        assert_eq!(e.span, Span::new(2, 19));
        if let ExprKind::Binary { left, .. } = &e.kind {
            assert_eq!(left.span.range(), 2..12);
        }
    }

    #[test]
    fn display() {
        assert_eq!(expr("-0").to_string(), "-0");
        assert_eq!(expr("0.1").to_string(), "0.1");
        assert_eq!(
            expr("-NaN == NaN").to_string(),
            expr("-NaN == NaN").to_string()
        );
        assert_eq!(expr("1e21").to_string(), "1E+21");
        assert_eq!(
            expr("0.30000000000000004").to_string(),
            "3.0000000000000004e-1"
        );
        assert_eq!(expr("'a''b'").to_string(), "'a''b'");
        assert_eq!(expr("(1 < 2).x").to_string(), "(1 < 2).x");
        assert_eq!(expr("!(a && b)").to_string(), "!(a && b)");
        assert_eq!(expr("a[*][*]").to_string(), "a.*.*");
    }

    #[test]
    fn equality_ignores_spans() {
        assert_eq!(expr("a==b"), expr(" ( a )  ==  b "));
        assert_ne!(expr("0"), expr("-0"));
        assert_eq!(expr("NaN"), expr("NaN"));
        assert_ne!(expr("a.b"), expr("a['b']"));
    }
}
