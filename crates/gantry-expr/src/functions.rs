//! The functions: GitHub's built-ins, and the hook for executor-supplied ones.
//!
//! Built-ins evaluate their arguments lazily, as GitHub does:
//!
//! - `contains(search, item)`: substring test (case-insensitive) when
//!   `search` is a primitive, else membership by `==` when it is an array.
//!   `item` is only evaluated when it can matter.
//! - `startsWith(s, prefix)` / `endsWith(s, suffix)`: case-insensitive,
//!   false unless both are primitives.
//! - `format(fmt, args...)`: `{N}` inserts argument N's display string,
//!   `{{` and `}}` are literal braces; only the arguments referred to are
//!   evaluated.
//! - `join(array, sep = ',')`: display strings joined; a primitive is shown
//!   as is; the separator is evaluated only with two or more items.
//! - `toJSON(value)`: pretty JSON; `fromJSON(text)`: parses JSON.
//! - `case(pred1, val1, ..., default)`: the value after the first true
//!   predicate (each must be a boolean), else the default.
//!
//! Anything else goes to [`Context::call`](crate::Context::call), with the
//! arguments evaluated up front; the status functions default to
//! `success()`/`always()` true and `cancelled()`/`failure()` false.

use crate::allowed::canonical_extra_name;
use crate::ast::Expr;
use crate::casing::{contains_ignore_case, ends_with_ignore_case, starts_with_ignore_case};
use crate::compare::equals;
use crate::error::{EvalError, JsonError};
use crate::eval::{Evaluator, Item, Origin, Val};
use crate::json::PrettyJson;
use crate::memory::MemoryCounter;
use crate::value::Value;

type CallResult<'a> = Result<(Val<'a>, Origin), EvalError>;

/// Calls the function of the `Call` node `node`.
pub(crate) fn call<'a>(
    ev: &mut Evaluator<'a>,
    node: &'a Expr,
    name: &str,
    args: &'a [Expr],
    level: usize,
) -> CallResult<'a> {
    let mut args = Args {
        args,
        level: level + 1,
    };
    let is = |builtin: &str| name.eq_ignore_ascii_case(builtin);
    if is("contains") {
        contains(ev, &mut args)
    } else if is("startsWith") {
        affix(ev, &mut args, starts_with_ignore_case)
    } else if is("endsWith") {
        affix(ev, &mut args, ends_with_ignore_case)
    } else if is("format") {
        format(ev, node, &mut args)
    } else if is("join") {
        join(ev, node, &mut args)
    } else if is("toJson") {
        to_json(ev, node, &mut args)
    } else if is("fromJson") {
        from_json(ev, &mut args)
    } else if is("case") {
        case(ev, &mut args)
    } else {
        external(ev, name, &mut args)
    }
}

/// A call's arguments, evaluated on demand.
struct Args<'a> {
    args: &'a [Expr],
    level: usize,
}

impl<'a> Args<'a> {
    fn len(&self) -> usize {
        self.args.len()
    }

    /// Evaluates argument `i` (null if the call has fewer arguments, which
    /// only a hand-built tree can have).
    fn eval(&self, ev: &mut Evaluator<'a>, i: usize) -> Result<Val<'a>, EvalError> {
        match self.args.get(i) {
            Some(arg) => ev.eval(arg, self.level),
            None => Ok(Val::null()),
        }
    }
}

fn boolean<'a>(b: bool) -> CallResult<'a> {
    Ok((Val::Owned(Value::Bool(b)), Origin::Fresh))
}

fn string<'a>(s: String) -> CallResult<'a> {
    Ok((Val::Owned(Value::String(s)), Origin::Fresh))
}

fn contains<'a>(ev: &mut Evaluator<'a>, args: &mut Args<'a>) -> CallResult<'a> {
    let search = args.eval(ev, 0)?;
    if search.is_primitive() {
        let item = args.eval(ev, 1)?;
        if item.is_primitive() {
            return boolean(contains_ignore_case(
                &search.to_display_string(),
                &item.to_display_string(),
            ));
        }
        return boolean(false);
    }
    if let Some(items) = search.array_items().filter(|items| !items.is_empty()) {
        let item = args.eval(ev, 1)?;
        let needle = item.view();
        return boolean(items.into_iter().any(|candidate| equals(needle, candidate)));
    }
    boolean(false)
}

fn affix<'a>(
    ev: &mut Evaluator<'a>,
    args: &mut Args<'a>,
    test: fn(&str, &str) -> bool,
) -> CallResult<'a> {
    let subject = args.eval(ev, 0)?;
    if subject.is_primitive() {
        let affix = args.eval(ev, 1)?;
        if affix.is_primitive() {
            return boolean(test(
                &subject.to_display_string(),
                &affix.to_display_string(),
            ));
        }
    }
    boolean(false)
}

/// A piece of a parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Arg { index: usize, specifiers: String },
}

/// Splits a format string as GitHub does. `arg_count` is the number of
/// arguments after the format string.
fn parse_format(fmt: &str, arg_count: usize) -> Result<Vec<Piece>, EvalError> {
    let invalid = || EvalError::InvalidFormatString(fmt.to_string());
    let byte = |i: usize| fmt.as_bytes().get(i).copied();
    let mut pieces = Vec::new();
    let mut index = 0;
    while index < fmt.len() {
        let rest = fmt.get(index..).unwrap_or_default();
        let lbrace = rest.find('{').map(|i| i + index);
        let rbrace = rest.find('}').map(|i| i + index);
        match (lbrace, rbrace) {
            (Some(l), r) if r.is_none_or(|r| r > l) => {
                if byte(l + 1) == Some(b'{') {
                    pieces.push(Piece::Text(
                        fmt.get(index..=l).unwrap_or_default().to_string(),
                    ));
                    index = l + 2;
                    continue;
                }
                let arg = r
                    .filter(|r| *r > l + 1)
                    .and_then(|_| read_arg_index(fmt, l + 1))
                    .and_then(|(arg, after)| {
                        read_specifiers(fmt, after).map(|(spec, close)| (arg, spec, close))
                    });
                let Some((arg, specifiers, close)) = arg else {
                    return Err(invalid());
                };
                if arg >= arg_count {
                    return Err(EvalError::FormatArgumentMissing(fmt.to_string()));
                }
                if l > index {
                    pieces.push(Piece::Text(
                        fmt.get(index..l).unwrap_or_default().to_string(),
                    ));
                }
                pieces.push(Piece::Arg {
                    index: arg,
                    specifiers,
                });
                index = close + 1;
            }
            (_, Some(r)) => {
                if byte(r + 1) != Some(b'}') {
                    return Err(invalid());
                }
                pieces.push(Piece::Text(
                    fmt.get(index..=r).unwrap_or_default().to_string(),
                ));
                index = r + 2;
            }
            (_, None) => {
                pieces.push(Piece::Text(rest.to_string()));
                break;
            }
        }
    }
    Ok(pieces)
}

/// The digits of `{N`: the argument index (0 to 255) and where it ends.
fn read_arg_index(fmt: &str, start: usize) -> Option<(usize, usize)> {
    let rest = fmt.get(start..)?;
    let len: usize = rest
        .chars()
        .take_while(|c| c.is_numeric())
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let index: u8 = rest.get(..len)?.parse().ok()?;
    Some((usize::from(index), start + len))
}

/// Optional `:specifiers` and the closing `}`: the specifiers (with `}}`
/// unescaped) and the position of the `}`.
fn read_specifiers(fmt: &str, start: usize) -> Option<(String, usize)> {
    let rest = fmt.get(start..)?;
    if rest.starts_with('}') {
        return Some((String::new(), start));
    }
    let body = rest.strip_prefix(':')?;
    let mut specifiers = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '}' {
            specifiers.push(c);
        } else if chars.peek().is_some_and(|(_, next)| *next == '}') {
            chars.next();
            specifiers.push('}');
        } else {
            return Some((specifiers, start + 1 + i));
        }
    }
    None
}

fn format<'a>(ev: &mut Evaluator<'a>, node: &'a Expr, args: &mut Args<'a>) -> CallResult<'a> {
    let fmt = args.eval(ev, 0)?.to_display_string();
    let pieces = parse_format(&fmt, args.len().saturating_sub(1))?;
    let mut counter = MemoryCounter::new();
    for piece in &pieces {
        if let Piece::Text(text) = piece
            && !text.is_empty()
        {
            ev.counted(counter.add_str(text), node)?;
        }
    }
    // Each argument is evaluated once, when first referred to.
    let mut cache: Vec<Option<(String, &'static str)>> = vec![None; args.len().saturating_sub(1)];
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Arg { index, specifiers } => {
                let cached = match cache.get(index).cloned().flatten() {
                    Some(cached) => cached,
                    None => {
                        let value = args.eval(ev, index + 1)?;
                        let entry = (value.to_display_string(), value.kind_name());
                        if let Some(slot) = cache.get_mut(index) {
                            *slot = Some(entry.clone());
                        }
                        entry
                    }
                };
                let (text, kind) = cached;
                if !specifiers.is_empty() {
                    return Err(EvalError::InvalidFormatSpecifiers {
                        specifiers,
                        kind: kind.to_string(),
                    });
                }
                if !text.is_empty() {
                    ev.counted(counter.add_str(&text), node)?;
                }
                out.push_str(&text);
            }
        }
    }
    string(out)
}

fn join<'a>(ev: &mut Evaluator<'a>, node: &'a Expr, args: &mut Args<'a>) -> CallResult<'a> {
    let items = args.eval(ev, 0)?;
    if let Some(strings) = items.array_strings().filter(|s| !s.is_empty()) {
        let separator = if strings.len() > 1 && args.len() > 1 {
            let sep = args.eval(ev, 1)?;
            if sep.is_primitive() {
                sep.to_display_string()
            } else {
                ",".to_string()
            }
        } else {
            ",".to_string()
        };
        let mut counter = MemoryCounter::new();
        let mut out = String::new();
        for (i, item) in strings.iter().enumerate() {
            if i > 0 {
                ev.counted(counter.add_str(&separator), node)?;
                out.push_str(&separator);
            }
            ev.counted(counter.add_str(item), node)?;
            out.push_str(item);
        }
        return string(out);
    }
    if items.is_primitive() {
        return string(items.to_display_string());
    }
    string(String::new())
}

fn to_json<'a>(ev: &mut Evaluator<'a>, node: &'a Expr, args: &mut Args<'a>) -> CallResult<'a> {
    let value = args.eval(ev, 0)?;
    let mut counter = MemoryCounter::new();
    let mut writer = PrettyJson::new(Some(&mut counter));
    let written = match &value {
        Val::Filtered(items) => writer.array(items.iter().map(Item::value)),
        Val::Ref(v) => writer.value(v),
        Val::Owned(v) => writer.value(v),
    };
    ev.counted(written, node)?;
    string(writer.finish())
}

fn from_json<'a>(ev: &mut Evaluator<'a>, args: &mut Args<'a>) -> CallResult<'a> {
    let text = args.eval(ev, 0)?.to_display_string();
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| EvalError::FromJson(JsonError(e.to_string())))?;
    Ok((Val::Owned(Value::from_json(json)), Origin::Read))
}

fn case<'a>(ev: &mut Evaluator<'a>, args: &mut Args<'a>) -> CallResult<'a> {
    if args.len().is_multiple_of(2) {
        return Err(EvalError::CaseArgumentCount);
    }
    let mut i = 0;
    while i + 1 < args.len() {
        let predicate = args.eval(ev, i)?;
        match predicate.as_value() {
            Some(Value::Bool(true)) => return Ok((args.eval(ev, i + 1)?, Origin::Fresh)),
            Some(Value::Bool(false)) => {}
            _ => return Err(EvalError::CasePredicateNotBoolean),
        }
        i += 2;
    }
    Ok((args.eval(ev, args.len() - 1)?, Origin::Fresh))
}

/// A function the executor supplies, or the status functions' defaults.
fn external<'a>(ev: &mut Evaluator<'a>, name: &str, args: &mut Args<'a>) -> CallResult<'a> {
    let mut values = Vec::with_capacity(args.len());
    for i in 0..args.len() {
        values.push(args.eval(ev, i)?.into_value());
    }
    let canonical = canonical_extra_name(name).unwrap_or(name);
    let result = match ev.ctx.call(canonical, &values) {
        Some(result) => result?,
        None => match canonical {
            "success" | "always" => Value::Bool(true),
            "cancelled" | "failure" => Value::Bool(false),
            _ => return Err(EvalError::FunctionUnavailable(canonical.to_string())),
        },
    };
    Ok((Val::Owned(result), Origin::Fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(fmt: &str, args: usize) -> Result<Vec<Piece>, String> {
        parse_format(fmt, args).map_err(|e| e.to_string())
    }

    #[test]
    fn format_strings() {
        let text = |s: &str| Piece::Text(s.to_string());
        let arg = |i: usize| Piece::Arg {
            index: i,
            specifiers: String::new(),
        };
        assert_eq!(
            pieces("a{0}b{1}", 2),
            Ok(vec![text("a"), arg(0), text("b"), arg(1)])
        );
        assert_eq!(pieces("{{0}}", 1), Ok(vec![text("{"), text("0}")]));
        assert_eq!(
            pieces("{0:x}}y}", 1),
            Ok(vec![Piece::Arg {
                index: 0,
                specifiers: "x}y".into()
            }])
        );
        assert_eq!(pieces("{0001}", 2), Ok(vec![arg(1)]));
        let invalid = |s: &str| Err(format!("The following format string is invalid: {s}"));
        assert_eq!(pieces("{0", 1), invalid("{0"));
        assert_eq!(pieces("{0}}", 1), invalid("{0}}"));
        assert_eq!(pieces("}{0}", 1), invalid("}{0}"));
        assert_eq!(pieces("{256}", 1), invalid("{256}"));
        assert_eq!(pieces("{x}", 1), invalid("{x}"));
        assert_eq!(
            pieces("{0}{1}", 1),
            Err(
                "The following format string references more arguments than were supplied: {0}{1}"
                    .into()
            )
        );
    }
}
