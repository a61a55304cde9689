//! Case-insensitive string comparison, as GitHub does it.
//!
//! GitHub compares strings with .NET's `OrdinalIgnoreCase`: each character is
//! upper-cased on its own with the invariant (culture-free) simple mapping and
//! the results are compared as UTF-16 code units. So `ς`, `σ` and `Σ` are all
//! equal, `ü` equals `Ü`, but the Turkish dotless `ı` is *not* equal to `I`
//! and `i` is not equal to `İ`.

use std::cmp::Ordering;

/// Upper-cases one character the way `OrdinalIgnoreCase` does.
pub(crate) fn upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if c == 'ı' {
        // The invariant culture leaves the dotless i alone.
        return c;
    }
    let mut mapped = c.to_uppercase();
    match (mapped.next(), mapped.next()) {
        (Some(u), None) => u,
        // Characters whose upper case is several characters (such as `ß`)
        // have no simple mapping and stay as they are.
        _ => c,
    }
}

/// The string with every character upper-cased by [`upper`].
pub(crate) fn to_upper(s: &str) -> String {
    s.chars().map(upper).collect()
}

/// `OrdinalIgnoreCase` equality.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if a.len() != b.len() && a.is_ascii() && b.is_ascii() {
        return false;
    }
    cmp_ignore_case(a, b).is_eq()
}

/// `OrdinalIgnoreCase` ordering: upper-cased characters compared as UTF-16.
pub(crate) fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    let mut left = a.chars().map(upper);
    let mut right = b.chars().map(upper);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(l), Some(r)) if l == r => {}
            (Some(l), Some(r)) => return utf16_cmp(l, r),
        }
    }
}

/// Orders two characters by their UTF-16 encoding, as .NET strings do.
fn utf16_cmp(a: char, b: char) -> Ordering {
    let mut ab = [0u16; 2];
    let mut bb = [0u16; 2];
    let a16 = a.encode_utf16(&mut ab);
    let b16 = b.encode_utf16(&mut bb);
    (*a16).cmp(&*b16)
}

/// `IndexOf(needle, OrdinalIgnoreCase) >= 0`.
pub(crate) fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || to_upper(haystack).contains(&to_upper(needle))
}

/// `StartsWith(prefix, OrdinalIgnoreCase)`.
pub(crate) fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    let mut chars = s.chars().map(upper);
    prefix.chars().map(upper).all(|p| chars.next() == Some(p))
}

/// `EndsWith(suffix, OrdinalIgnoreCase)`.
pub(crate) fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    let mut chars = s.chars().rev().map(upper);
    suffix
        .chars()
        .rev()
        .map(upper)
        .all(|p| chars.next() == Some(p))
}

/// The length of a string in UTF-16 code units, the unit GitHub counts in.
pub(crate) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_like_ordinal_ignore_case() {
        assert!(eq_ignore_case("abc", "ABC"));
        assert!(eq_ignore_case("ς", "Σ"));
        assert!(eq_ignore_case("σ", "ς"));
        assert!(eq_ignore_case("ü", "Ü"));
        assert!(eq_ignore_case("АБВ", "абв"));
        assert!(!eq_ignore_case("i", "İ"));
        assert!(!eq_ignore_case("ı", "I"));
        assert!(!eq_ignore_case("ab", "abc"));
        assert_eq!(cmp_ignore_case("a", "["), Ordering::Less);
        assert_eq!(cmp_ignore_case("ı", "I"), Ordering::Greater);
        assert_eq!(cmp_ignore_case("i", "İ"), Ordering::Less);
        assert_eq!(cmp_ignore_case("abc", "ABD"), Ordering::Less);
        // U+FFFD sorts after a surrogate pair in UTF-16.
        assert_eq!(cmp_ignore_case("\u{FFFD}", "😊"), Ordering::Greater);
    }

    #[test]
    fn searches_ignoring_case() {
        assert!(contains_ignore_case("abCdEf", "cDe"));
        assert!(contains_ignore_case("abc", ""));
        assert!(starts_with_ignore_case("ς_asdf", "Σ"));
        assert!(!starts_with_ignore_case("i_asdf", "İ"));
        assert!(ends_with_ignore_case("asdf_Ü", "ü"));
        assert!(!ends_with_ignore_case("a", "ba"));
    }
}
