//! Alpine (apk-tools) versions: `digits{.digits}[letter]{_suffix[digits]}[-rN]`.
//! A version is read as a run of tokens (numbers, a letter, suffixes and
//! their numbers, the revision, the end) and compared token by token.
//! Suffixes `_alpha`, `_beta`, `_pre`, `_rc` are pre-releases (before the
//! plain version), `_cvs`, `_svn`, `_git`, `_hg`, `_p` come after it. Where
//! the token kinds differ, a pre-release suffix loses; otherwise the kind
//! earlier in the list number, letter, suffix, revision, end wins (so
//! `1.0 < 1.0-r1 < 1.0_p1 < 1.0a < 1.0.1`). A number after a `.` that
//! starts with `0` compares as text (`1.01 < 1.1`), as apk-tools does.

use std::cmp::Ordering;

use super::VersionOrder;
use super::dpkg::numeric;

/// apk's order.
pub struct Apk;

const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// Index of the first suffix that sorts after the plain version.
const FIRST_POST: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    /// The first number.
    Number(&'a str),
    /// A number after a `.`.
    Fraction(&'a str),
    Letter(u8),
    Suffix(usize),
    SuffixNumber(&'a str),
    Revision(&'a str),
    End,
}

impl Token<'_> {
    /// The kind's place: where kinds differ, the earlier one is newer.
    fn rank(&self) -> u8 {
        match self {
            Token::Number(_) | Token::Fraction(_) => 1,
            Token::Letter(_) => 2,
            Token::Suffix(_) => 3,
            Token::SuffixNumber(_) => 4,
            Token::Revision(_) => 5,
            Token::End => 6,
        }
    }
}

fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

fn tokens(text: &str) -> Option<Vec<Token<'_>>> {
    let mut out = Vec::new();
    let n = digits(text);
    if n == 0 {
        return None;
    }
    out.push(Token::Number(&text[..n]));
    let mut rest = &text[n..];
    while let Some(r) = rest.strip_prefix('.') {
        let n = digits(r);
        if n == 0 {
            return None;
        }
        out.push(Token::Fraction(&r[..n]));
        rest = &r[n..];
    }
    if let Some(&c) = rest.as_bytes().first()
        && c.is_ascii_lowercase()
    {
        out.push(Token::Letter(c));
        rest = &rest[1..];
    }
    while let Some(r) = rest.strip_prefix('_') {
        let (i, name) = SUFFIXES
            .iter()
            .enumerate()
            .filter(|(_, s)| r.starts_with(*s))
            .max_by_key(|(_, s)| s.len())?;
        out.push(Token::Suffix(i));
        let r = &r[name.len()..];
        let n = digits(r);
        if n > 0 {
            out.push(Token::SuffixNumber(&r[..n]));
        }
        rest = &r[n..];
    }
    if let Some(r) = rest.strip_prefix("-r") {
        let n = digits(r);
        if n == 0 {
            return None;
        }
        out.push(Token::Revision(&r[..n]));
        rest = &r[n..];
    }
    if !rest.is_empty() {
        return None;
    }
    out.push(Token::End);
    Some(out)
}

fn same_kind(a: &Token<'_>, b: &Token<'_>) -> Option<Ordering> {
    Some(match (a, b) {
        (Token::Number(x), Token::Number(y)) => numeric(x, y),
        (Token::Fraction(x), Token::Fraction(y)) => {
            if x.starts_with('0') || y.starts_with('0') {
                x.cmp(y)
            } else {
                numeric(x, y)
            }
        }
        (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
        (Token::Suffix(x), Token::Suffix(y)) => x.cmp(y),
        (Token::SuffixNumber(x), Token::SuffixNumber(y))
        | (Token::Revision(x), Token::Revision(y)) => numeric(x, y),
        (Token::End, Token::End) => Ordering::Equal,
        _ => return None,
    })
}

impl VersionOrder for Apk {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let (ta, tb) = (tokens(a.trim())?, tokens(b.trim())?);
        for (x, y) in ta.iter().zip(&tb) {
            if let Some(o) = same_kind(x, y) {
                if o != Ordering::Equal {
                    return Some(o);
                }
                continue;
            }
            // The kinds differ: a pre-release suffix is older than
            // anything; otherwise the earlier kind is newer.
            if matches!(x, Token::Suffix(i) if *i < FIRST_POST) {
                return Some(Ordering::Less);
            }
            if matches!(y, Token::Suffix(i) if *i < FIRST_POST) {
                return Some(Ordering::Greater);
            }
            return Some(y.rank().cmp(&x.rank()));
        }
        Some(Ordering::Equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn suffixes_letters_and_revisions() {
        assert_ascending(
            &Apk,
            &[
                "1.0_alpha",
                "1.0_alpha2",
                "1.0_beta",
                "1.0_pre1",
                "1.0_rc1",
                "1.0",
                "1.0-r1",
                "1.0-r2",
                "1.0_p1",
                "1.0a",
                "1.0b",
                "1.0.1",
            ],
        );
        assert_ascending(&Apk, &["1.2.3_git20230101", "1.2.3_p2", "1.2.4"]);
        assert_ascending(
            &Apk,
            &["3.1.4-r5", "3.1.4-r6", "3.1.5-r0", "3.3.0-r0", "3.10.0-r0"],
        );
        assert_ascending(&Apk, &["1.01", "1.1", "1.2", "1.10"]);
        assert_eq!(
            Apk.compare("1.36.1-r15", "1.36.1-r15"),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn refuses_what_apk_refuses() {
        for bad in ["", "a", "1..2", "1.0-r", "1.0_foo", "1.0 r1", "1.0-1"] {
            assert!(!Apk.is_valid(bad), "{bad}");
        }
    }
}
