//! Debian package versions (Debian Policy 5.6.12): `[epoch:]upstream[-revision]`.
//! The epoch compares as a number; upstream and revision compare left to
//! right in alternating non-digit and digit parts: non-digit parts
//! character by character where `~` sorts before everything (even the
//! end), then the end, then letters, then other characters; digit parts
//! as numbers. Debian and Ubuntu advisories use this order.

use std::cmp::Ordering;

use super::VersionOrder;

/// dpkg's order.
pub struct Dpkg;

struct Parsed<'a> {
    epoch: &'a str,
    upstream: &'a str,
    revision: &'a str,
}

fn parse(text: &str) -> Option<Parsed<'_>> {
    let t = text.trim();
    let (epoch, rest) = match t.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, r),
        Some(_) => return None,
        None => ("0", t),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    let ok = |s: &str, extra: &[u8]| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.~".contains(&b) || extra.contains(&b))
    };
    if upstream.is_empty()
        || !upstream.as_bytes()[0].is_ascii_digit()
        || !ok(upstream, b"-:")
        || !ok(revision, b"")
        || (rest.contains('-') && revision.is_empty())
    {
        return None;
    }
    Some(Parsed {
        epoch: epoch.trim_start_matches('0'),
        upstream,
        revision,
    })
}

/// The weight of a character in a non-digit part.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares digit strings as numbers of any length.
pub(crate) fn numeric(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit prefix.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let wa = weight(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let wb = weight(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let da = std::str::from_utf8(&a[si..i]).unwrap_or("");
        let db = std::str::from_utf8(&b[sj..j]).unwrap_or("");
        match numeric(da, db) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

impl VersionOrder for Dpkg {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let (a, b) = (parse(a)?, parse(b)?);
        Some(
            numeric(a.epoch, b.epoch)
                .then_with(|| compare_part(a.upstream, b.upstream))
                .then_with(|| compare_part(a.revision, b.revision)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn tilde_sorts_before_everything_even_the_end() {
        // Debian Policy's own example: ~~ < ~~a < ~ < (end) < a.
        assert_ascending(&Dpkg, &["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"]);
        assert_ascending(
            &Dpkg,
            &[
                "1.0~rc1-1",
                "1.0-1",
                "1.0-1+b1",
                "1.0-1.1",
                "1.0-2",
                "1.0+dfsg-1",
                "1.0.1-1",
            ],
        );
    }

    #[test]
    fn numbers_epochs_and_revisions() {
        assert_ascending(
            &Dpkg,
            &["1.2.3", "1.2.10", "1.10", "2.0", "1:0.1", "2:0.0.1"],
        );
        assert_ascending(
            &Dpkg,
            &[
                "3.0.11-1~deb12u1",
                "3.0.11-1~deb12u2",
                "3.0.11-1",
                "3.0.13-1",
            ],
        );
        assert_ascending(
            &Dpkg,
            &["7.88.1-10", "7.88.1-10+deb12u5", "7.88.1-10+deb12u12"],
        );
        assert_eq!(Dpkg.compare("1:1.0", "01:1.0"), Some(Ordering::Equal));
        assert_eq!(Dpkg.compare("1.0-001", "1.0-1"), Some(Ordering::Equal));
        // A letter sorts before a non-letter.
        assert_ascending(&Dpkg, &["1.0a", "1.0+"]);
    }

    #[test]
    fn refuses_what_dpkg_refuses() {
        for bad in ["", "a1.0", "x:1.0", "1.0-", "1.0 beta", "1.0-r@1"] {
            assert!(!Dpkg.is_valid(bad), "{bad}");
        }
        assert!(Dpkg.is_valid("2:1.2-3ubuntu0.1"));
    }
}
