//! RPM versions: `[epoch:]version[-release]`, epoch as a number, then
//! version and release each by `rpmvercmp`: separators skipped, runs of
//! digits and of letters compared in turn (digits as numbers, letters as
//! text; a digit run is newer than a letter run), `~` sorting before
//! everything (even the end) and `^` after the end but before anything
//! else; what is left over after equal parts wins. The release is
//! compared only when both versions have one. Red Hat, Rocky Linux,
//! AlmaLinux, Fedora and SUSE advisories use this order.

use std::cmp::Ordering;

use super::VersionOrder;
use super::dpkg::numeric;

/// rpm's order.
pub struct Rpm;

/// `rpmvercmp` of two version or release strings.
pub(crate) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            match (ca == Some(b'~'), cb == Some(b'~')) {
                (true, true) => {
                    i += 1;
                    j += 1;
                    continue;
                }
                (true, false) => return Ordering::Less,
                _ => return Ordering::Greater,
            }
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (Some(b'^'), Some(b'^')) => {
                    i += 1;
                    j += 1;
                    continue;
                }
                (Some(b'^'), None) => return Ordering::Greater,
                (Some(b'^'), _) => return Ordering::Less,
                (None, _) => return Ordering::Less,
                _ => return Ordering::Greater,
            }
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let is_num = ca.is_ascii_digit();
        let run = |s: &[u8], k: &mut usize| {
            let start = *k;
            while *k < s.len()
                && (if is_num {
                    s[*k].is_ascii_digit()
                } else {
                    s[*k].is_ascii_alphabetic()
                })
            {
                *k += 1;
            }
            std::str::from_utf8(&s[start..*k]).unwrap_or("").to_string()
        };
        let sa = run(a, &mut i);
        let sb = run(b, &mut j);
        if sb.is_empty() {
            // Different kinds of run: digits are newer.
            return if is_num {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if is_num {
            numeric(&sa, &sb)
        } else {
            sa.cmp(&sb)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        _ => Ordering::Less,
    }
}

fn split(text: &str) -> Option<(&str, &str, Option<&str>)> {
    let t = text.trim();
    if t.is_empty() || t.len() > super::MAX_VERSION_LEN || t.chars().any(char::is_whitespace) {
        return None;
    }
    let (epoch, rest) = match t.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, r),
        Some(_) => return None,
        None => ("0", t),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((v, r)) => (v, Some(r)),
        None => (rest, None),
    };
    if version.is_empty() || release == Some("") {
        return None;
    }
    Some((epoch, version, release))
}

impl VersionOrder for Rpm {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let (ea, va, ra) = split(a)?;
        let (eb, vb, rb) = split(b)?;
        Some(
            numeric(ea, eb)
                .then_with(|| rpmvercmp(va, vb))
                .then_with(|| match (ra, rb) {
                    (Some(x), Some(y)) => rpmvercmp(x, y),
                    _ => Ordering::Equal,
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn rpmvercmp_cases() {
        // Cases from rpm's own rpmvercmp tests.
        for (a, b, want) in [
            ("1.0", "1.0", Ordering::Equal),
            ("1.0", "2.0", Ordering::Less),
            ("2.0.1", "2.0", Ordering::Greater),
            ("2.0.1a", "2.0.1", Ordering::Greater),
            ("5.5p1", "5.5p2", Ordering::Less),
            ("5.5p10", "5.5p1", Ordering::Greater),
            ("10xyz", "10.1xyz", Ordering::Less),
            ("xyz10", "xyz10.1", Ordering::Less),
            ("xyz.4", "8", Ordering::Less),
            ("1.05", "1.5", Ordering::Equal),
            ("1b.fc17", "1.fc17", Ordering::Less),
            ("1.0~rc1", "1.0", Ordering::Less),
            ("1.0~rc1", "1.0~rc2", Ordering::Less),
            ("1.0~rc1~git123", "1.0~rc1", Ordering::Less),
            ("1.0^", "1.0", Ordering::Greater),
            ("1.0^git1", "1.0", Ordering::Greater),
            ("1.0^git1", "1.01", Ordering::Less),
            ("1.0^20160101", "1.0.1", Ordering::Less),
            ("1.0~rc1^git1", "1.0~rc1", Ordering::Greater),
            ("a+", "a_", Ordering::Equal),
        ] {
            assert_eq!(rpmvercmp(a, b), want, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn epoch_version_release() {
        assert_ascending(
            &Rpm,
            &[
                "3.0.7-24.el9",
                "3.0.7-25.el9",
                "3.0.7-25.el9_3",
                "3.0.8-1.el9",
                "1:3.0.1-1.el9",
            ],
        );
        assert_eq!(Rpm.compare("0:1.2-3", "1.2-3"), Some(Ordering::Equal));
        // Without a release only versions compare.
        assert_eq!(Rpm.compare("1.2", "1.2-3"), Some(Ordering::Equal));
        assert!(!Rpm.is_valid("x:1.0"));
        assert!(!Rpm.is_valid("1.0-"));
    }
}
