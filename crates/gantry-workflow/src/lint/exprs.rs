//! The expressions of a YAML subtree, each with a way to place its nodes
//! in the file.

use gantry_expr::{Allowed, Expr, ExprKind, Value};

use crate::scalar::ValueMap;
use crate::source::Span;
use crate::yaml::{Node, NodeKind};

/// One parsed expression of a scalar and where its text is.
pub(crate) struct Located {
    pub(crate) expr: Expr,
    /// The value offset of the expression's text.
    offset: usize,
    map: Option<ValueMap>,
    /// The scalar's span, for values that cannot be aligned.
    node: Span,
}

impl Located {
    /// The file span of `span`, a span of [`Located::expr`].
    pub(crate) fn span(&self, span: gantry_expr::Span) -> Span {
        match &self.map {
            Some(map) => map.span(self.offset + span.start..self.offset + span.end),
            None => self.node,
        }
    }
}

/// The expressions of one scalar. `condition` reads the value as an `if:`
/// does: text without `${{ }}` is one expression. Values that do not parse
/// give nothing (the reader has reported them).
pub(crate) fn of_scalar(file: &str, node: &Node, condition: bool) -> Vec<Located> {
    let NodeKind::String(value) = &node.kind else {
        return Vec::new();
    };
    let any = Allowed::any();
    let map = || ValueMap::new(file, node, value);
    if !value.contains("${{") {
        if !condition || value.trim().is_empty() {
            return Vec::new();
        }
        return match gantry_expr::parse(value, &any) {
            Ok(expr) => vec![Located {
                expr,
                offset: 0,
                map: map(),
                node: node.span,
            }],
            Err(_) => Vec::new(),
        };
    }
    let Ok(template) = gantry_expr::parse_template(value) else {
        return Vec::new();
    };
    let map = map();
    template
        .parsed_expressions()
        .map(|e| Located {
            expr: e.expr.clone(),
            offset: e.offset,
            map: map.clone(),
            node: node.span,
        })
        .collect()
}

/// Every expression in a subtree; `if` values are read as conditions.
pub(crate) fn of_tree(file: &str, node: &Node, out: &mut Vec<Located>) {
    match &node.kind {
        NodeKind::Map(pairs) => {
            for (key, value) in pairs {
                if key.as_str() == Some("if") && value.is_scalar() {
                    out.extend(of_scalar(file, value, true));
                } else {
                    of_tree(file, value, out);
                }
            }
        }
        NodeKind::Seq(items) => {
            for item in items {
                of_tree(file, item, out);
            }
        }
        _ => out.extend(of_scalar(file, node, false)),
    }
}

/// One step of a property chain such as `steps.build.outputs.path`.
#[derive(Debug)]
pub(crate) enum Segment<'e> {
    /// A name (`.name` or `['name']`) and the span of the chain up to it.
    Name(&'e str, gantry_expr::Span),
    /// `[expr]` or `.*`: the rest cannot be known.
    Dynamic,
}

/// A chain rooted at a context: `matrix.os`, `needs.a.outputs.b`.
#[derive(Debug)]
pub(crate) struct Chain<'e> {
    pub(crate) root: &'e str,
    pub(crate) segments: Vec<Segment<'e>>,
}

/// Calls `f` with every context chain of `expr`, outermost access first.
pub(crate) fn chains<'e>(expr: &'e Expr, f: &mut dyn FnMut(&Chain<'e>)) {
    match &expr.kind {
        ExprKind::Property { .. } | ExprKind::Index { .. } | ExprKind::Wildcard { .. } => {
            let mut segments = Vec::new();
            let mut node = expr;
            let root = loop {
                match &node.kind {
                    ExprKind::Property { base, name } => {
                        segments.push(Segment::Name(name, node.span));
                        node = base;
                    }
                    ExprKind::Index { base, index } => {
                        match &index.kind {
                            ExprKind::Literal(Value::String(name)) => {
                                segments.push(Segment::Name(name, node.span));
                            }
                            _ => {
                                segments.push(Segment::Dynamic);
                                chains(index, f);
                            }
                        }
                        node = base;
                    }
                    ExprKind::Wildcard { base } => {
                        segments.push(Segment::Dynamic);
                        node = base;
                    }
                    ExprKind::NamedValue(name) => break Some(name.as_str()),
                    _ => {
                        chains(node, f);
                        break None;
                    }
                }
            };
            if let Some(root) = root {
                segments.reverse();
                f(&Chain { root, segments });
            }
        }
        _ => {
            for child in expr.children() {
                chains(child, f);
            }
        }
    }
}
