//! Packagist (Composer): versions normalised as Composer does (a leading
//! `v`, four numeric parts), then PHP's `version_compare`: parts split at
//! `.`, `-`, `_`, `+` and between digits and letters, with
//! `dev` < `alpha`/`a` < `beta`/`b` < `RC`/`rc` < a number < `pl`/`p`.

use std::cmp::Ordering;

use super::VersionOrder;

/// Packagist.
pub struct Packagist;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u64),
    Word(String),
}

fn special_rank(word: &str) -> i32 {
    match word.to_ascii_lowercase().as_str() {
        "dev" => 0,
        "alpha" | "a" => 1,
        "beta" | "b" => 2,
        "rc" => 3,
        "#" => 4,
        "pl" | "p" | "patch" => 5,
        _ => -6,
    }
}

fn parts(text: &str) -> Option<Vec<Part>> {
    let t = text.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    if t.is_empty() || t.len() > super::MAX_VERSION_LEN || t.starts_with("dev-") {
        return None;
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<Part>| -> Option<()> {
        if current.is_empty() {
            return Some(());
        }
        out.push(if current.bytes().all(|b| b.is_ascii_digit()) {
            Part::Num(current.parse().ok()?)
        } else {
            Part::Word(std::mem::take(current))
        });
        current.clear();
        Some(())
    };
    for ch in t.chars() {
        if matches!(ch, '.' | '-' | '_' | '+') {
            flush(&mut current, &mut out)?;
        } else if !ch.is_ascii_alphanumeric() {
            return None;
        } else {
            if current
                .chars()
                .last()
                .is_some_and(|last| last.is_ascii_digit() != ch.is_ascii_digit())
            {
                flush(&mut current, &mut out)?;
            }
            current.push(ch);
        }
    }
    flush(&mut current, &mut out)?;
    // Composer's normalisation: four numeric parts.
    let numeric = out.iter().take_while(|p| matches!(p, Part::Num(_))).count();
    if numeric == 0 {
        return None;
    }
    if numeric < 4 {
        for _ in numeric..4 {
            out.insert(numeric, Part::Num(0));
        }
    }
    Some(out)
}

fn compare_parts(a: &[Part], b: &[Part]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let o = match (a.get(i), b.get(i)) {
            (Some(Part::Num(x)), Some(Part::Num(y))) => x.cmp(y),
            (Some(Part::Word(x)), Some(Part::Word(y))) => special_rank(x).cmp(&special_rank(y)),
            (Some(Part::Num(_)), Some(Part::Word(w))) => special_rank("#").cmp(&special_rank(w)),
            (Some(Part::Word(w)), Some(Part::Num(_))) => special_rank(w).cmp(&special_rank("#")),
            // PHP: a remaining number makes the longer version newer, a
            // remaining word compares against a number.
            (Some(Part::Num(_)), None) => Ordering::Greater,
            (None, Some(Part::Num(_))) => Ordering::Less,
            (Some(Part::Word(w)), None) => special_rank(w).cmp(&special_rank("#")),
            (None, Some(Part::Word(w))) => special_rank("#").cmp(&special_rank(w)),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl VersionOrder for Packagist {
    fn name(&self) -> &'static str {
        "Packagist"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        Some(compare_parts(&parts(a)?, &parts(b)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn orders_like_composer() {
        assert_ascending(
            &Packagist,
            &[
                "1.0.0-dev",
                "1.0.0-alpha1",
                "1.0.0-beta",
                "1.0.0-beta2",
                "1.0.0-RC1",
                "1.0.0",
                "1.0.0-p1",
                "v1.0.1",
                "1.10",
                "7.4.1",
            ],
        );
        assert_eq!(Packagist.compare("v1.2", "1.2.0.0"), Some(Ordering::Equal));
        assert_eq!(Packagist.compare("dev-main", "1.0"), None);
    }
}
