//! RubyGems (`Gem::Version`): segments of digits or letters; a version
//! with a letter segment is a pre-release; trailing zeros do not count;
//! a `-` reads as `.pre.`. A number beats a letter segment at the same
//! place, so `1.0.a` < `1.0`.

use std::cmp::Ordering;

use super::VersionOrder;

/// RubyGems.
pub struct RubyGems;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Num(u64),
    Str(String),
}

fn segments(text: &str) -> Option<Vec<Segment>> {
    let t = text.trim();
    if t.is_empty()
        || t.len() > super::MAX_VERSION_LEN
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
    {
        return None;
    }
    let t = t.replace('-', ".pre.");
    let mut out = Vec::new();
    let bytes = t.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'.' {
            i += 1;
            continue;
        }
        let start = i;
        let digit = bytes[i].is_ascii_digit();
        while i < bytes.len() && bytes[i] != b'.' && bytes[i].is_ascii_digit() == digit {
            i += 1;
        }
        let part = &t[start..i];
        out.push(if digit {
            Segment::Num(part.parse().ok()?)
        } else {
            Segment::Str(part.to_string())
        });
    }
    // Canonical: drop zeros at the end of the release part and at the end.
    let first_str = out.iter().position(|s| matches!(s, Segment::Str(_)));
    let (mut release, rest) = match first_str {
        Some(i) => (out[..i].to_vec(), out[i..].to_vec()),
        None => (out, Vec::new()),
    };
    while release.len() > 1 && release.last() == Some(&Segment::Num(0)) {
        release.pop();
    }
    let mut rest = rest;
    while rest.last() == Some(&Segment::Num(0)) {
        rest.pop();
    }
    release.extend(rest);
    Some(release)
}

impl VersionOrder for RubyGems {
    fn name(&self) -> &'static str {
        "RubyGems"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let (a, b) = (segments(a)?, segments(b)?);
        for i in 0..a.len().max(b.len()) {
            let l = a.get(i).cloned().unwrap_or(Segment::Num(0));
            let r = b.get(i).cloned().unwrap_or(Segment::Num(0));
            let o = match (&l, &r) {
                (Segment::Num(x), Segment::Num(y)) => x.cmp(y),
                (Segment::Str(x), Segment::Str(y)) => x.cmp(y),
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
            };
            if o != Ordering::Equal {
                return Some(o);
            }
        }
        Some(Ordering::Equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn orders_like_gem_version() {
        assert_ascending(
            &RubyGems,
            &[
                "0.9", "1.0.a", "1.0.a.2", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.2.3-1", "1.2.3",
                "1.13.3", "2",
            ],
        );
        assert_eq!(RubyGems.compare("1.0", "1.0.0"), Some(Ordering::Equal));
        assert_eq!(RubyGems.compare("1.0.0.0", "1"), Some(Ordering::Equal));
        assert_eq!(RubyGems.compare("1 .0", "1"), None);
    }
}
