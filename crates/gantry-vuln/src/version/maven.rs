//! Maven (`ComparableVersion`): items split at `.` and `-` and between
//! digits and letters; numbers compare as numbers, qualifiers in the
//! order `alpha` < `beta` < `milestone` < `rc`/`cr` < `snapshot` <
//! release (`""`, `ga`, `final`, `release`) < `sp`, then other
//! qualifiers alphabetically; `a1`/`b1`/`m1` abbreviate alpha/beta/
//! milestone; trailing zeros and release qualifiers do not count, and a
//! `-` starts a sub-list.

use std::cmp::Ordering;

use super::VersionOrder;

/// Maven.
pub struct Maven;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(u64),
    Str(String),
    List(Vec<Item>),
}

fn qualifier_rank(q: &str) -> (u8, String) {
    match q {
        "alpha" => (0, String::new()),
        "beta" => (1, String::new()),
        "milestone" => (2, String::new()),
        "rc" | "cr" => (3, String::new()),
        "snapshot" => (4, String::new()),
        "" | "ga" | "final" | "release" => (5, String::new()),
        "sp" => (6, String::new()),
        other => (7, other.to_string()),
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(n) => *n == 0,
        Item::Str(s) => qualifier_rank(s).0 == 5,
        Item::List(l) => l.is_empty(),
    }
}

fn normalize(list: &mut Vec<Item>) {
    // From the end: drop null items, step over non-null sub-lists, stop
    // at anything else.
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

fn parse(text: &str) -> Option<Item> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty()
        || t.len() > super::MAX_VERSION_LEN
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
    {
        return None;
    }
    // Lists nested by `-`.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut token = String::new();
    let push_token = |token: &mut String, list: &mut Vec<Item>, followed_by_digit: bool| {
        if token.is_empty() {
            list.push(Item::Int(0));
            return;
        }
        let item = if token.bytes().all(|b| b.is_ascii_digit()) {
            Item::Int(token.trim_start_matches('0').parse().unwrap_or(0))
        } else {
            let q = match token.as_str() {
                "a" if followed_by_digit => "alpha",
                "b" if followed_by_digit => "beta",
                "m" if followed_by_digit => "milestone",
                other => other,
            };
            Item::Str(q.to_string())
        };
        list.push(item);
        token.clear();
    };
    let bytes = t.as_bytes();
    for &b in bytes {
        match b {
            b'.' | b'_' | b'+' => {
                let list = stack.last_mut()?;
                push_token(&mut token, list, false);
            }
            b'-' => {
                let list = stack.last_mut()?;
                push_token(&mut token, list, false);
                stack.push(Vec::new());
            }
            _ => {
                let digit = b.is_ascii_digit();
                if let Some(last) = token.bytes().last()
                    && last.is_ascii_digit() != digit
                {
                    let list = stack.last_mut()?;
                    push_token(&mut token, list, digit);
                    // A letter-to-digit or digit-to-letter switch
                    // starts a sub-list in Maven.
                    stack.push(Vec::new());
                }
                token.push(b as char);
            }
        }
    }
    if !token.is_empty() {
        let list = stack.last_mut()?;
        push_token(&mut token, list, false);
    }
    while stack.len() > 1 {
        let mut inner = stack.pop()?;
        normalize(&mut inner);
        stack.last_mut()?.push(Item::List(inner));
    }
    let mut top = stack.pop()?;
    normalize(&mut top);
    Some(Item::List(top))
}

fn compare_item(a: Option<&Item>, b: Option<&Item>) -> Ordering {
    use Item::{Int, List, Str};
    match (a, b) {
        (None, None) => Ordering::Equal,
        (Some(x), None) => compare_to_null(x),
        (None, Some(y)) => compare_to_null(y).reverse(),
        (Some(Int(x)), Some(Int(y))) => x.cmp(y),
        (Some(Int(_)), Some(Str(_) | List(_))) => Ordering::Greater,
        (Some(Str(_) | List(_)), Some(Int(_))) => Ordering::Less,
        (Some(Str(x)), Some(Str(y))) => qualifier_rank(x).cmp(&qualifier_rank(y)),
        (Some(Str(_)), Some(List(_))) => Ordering::Less,
        (Some(List(_)), Some(Str(_))) => Ordering::Greater,
        (Some(List(x)), Some(List(y))) => {
            for i in 0..x.len().max(y.len()) {
                let o = compare_item(x.get(i), y.get(i));
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        }
    }
}

fn compare_to_null(item: &Item) -> Ordering {
    match item {
        Item::Int(n) => n.cmp(&0),
        Item::Str(s) => qualifier_rank(s).cmp(&qualifier_rank("")),
        Item::List(l) => match l.first() {
            None => Ordering::Equal,
            Some(first) => compare_to_null(first),
        },
    }
}

impl VersionOrder for Maven {
    fn name(&self) -> &'static str {
        "Maven"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        Some(compare_item(Some(&parse(a)?), Some(&parse(b)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn orders_like_comparable_version() {
        assert_ascending(
            &Maven,
            &[
                "1-alpha",
                "1-alpha2",
                "1-beta",
                "1-milestone",
                "1-rc",
                "1-snapshot",
                "1",
                "1-sp",
                "1-abc",
                "1.0.1",
                "1.1",
                "2.9.8",
                "2.9.10",
                "2.9.10.1",
                "2.10.0",
            ],
        );
        for (a, b) in [
            ("1", "1.0.0"),
            ("1.0", "1-final"),
            ("1-ga", "1"),
            ("1.0a1", "1.0-alpha-1"),
        ] {
            assert_eq!(Maven.compare(a, b), Some(Ordering::Equal), "{a} == {b}");
        }
        assert_eq!(Maven.compare("31.1-jre", "31.1"), Some(Ordering::Greater));
        assert_eq!(Maven.compare("2.14.1", "2.15.0-rc1"), Some(Ordering::Less));
    }
}
