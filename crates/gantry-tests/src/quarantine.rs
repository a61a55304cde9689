//! `.gantry/quarantine.yml`: tests whose failures are warnings until a
//! date, each with the reason it is accepted.
//!
//! ```yaml
//! quarantine:
//!   - test: tests.unit.test_greet.test_network   # a test id, or a glob with *
//!     reason: flips when the mirror is slow; fix tracked in #231
//!     expires: 2027-01-31
//! ```
//!
//! An entry counts through its `expires` day (UTC) and not after; an
//! expired entry quarantines nothing and is reported, as an expired
//! `.gantry/ignore.yml` entry of `gantry scan` is.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// Where the quarantine list is read from, relative to the repository.
pub const QUARANTINE_FILE: &str = ".gantry/quarantine.yml";
/// Most entries read.
const MAX_ENTRIES: usize = 10_000;

/// One quarantined test (or pattern).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub test: String,
    pub reason: String,
    /// `YYYY-MM-DD` as written.
    pub expires: String,
    pub line: u64,
    /// The first second after the `expires` day, UTC.
    #[serde(skip)]
    pub expires_at: i64,
}

impl Entry {
    fn matches(&self, test: &str) -> bool {
        glob_match(&self.test, test)
    }
}

/// The quarantine list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Quarantine {
    pub entries: Vec<Entry>,
}

/// What is wrong with a quarantine file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct QuarantineError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    quarantine: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    test: Spanned<String>,
    #[serde(default)]
    reason: Option<Spanned<String>>,
    expires: Spanned<String>,
}

/// How a test's failure is to be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing<'a> {
    /// Not in the list: a failure fails.
    Counted,
    /// Quarantined: a failure is a warning.
    Quarantined(&'a Entry),
    /// Listed, but the entry has expired: a failure fails again.
    Expired(&'a Entry),
}

impl Quarantine {
    /// Reads a quarantine file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Quarantine, QuarantineError> {
        if text.trim().is_empty() {
            return Ok(Quarantine::default());
        }
        let error = |line: u64, column: u64, message: String| QuarantineError {
            file: file.to_string(),
            line,
            column,
            message,
        };
        // serde-saphyr's default budget bounds aliases and nesting.
        let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let message = e.to_string();
            error(
                line,
                column,
                message.lines().next().unwrap_or("invalid YAML").to_string(),
            )
        })?;
        if raw.quarantine.len() > MAX_ENTRIES {
            return Err(error(
                1,
                1,
                format!("more than {MAX_ENTRIES} quarantine entries"),
            ));
        }
        let mut entries = Vec::with_capacity(raw.quarantine.len());
        for r in raw.quarantine {
            let at = |s: &Spanned<String>| (s.referenced.line(), s.referenced.column());
            let (line, column) = at(&r.test);
            let test = r.test.value.trim().to_string();
            if test.is_empty() {
                return Err(error(line, column, "`test` is empty".to_string()));
            }
            let reason = match &r.reason {
                Some(reason) if !reason.value.trim().is_empty() => reason.value.trim().to_string(),
                _ => {
                    return Err(error(
                        line,
                        column,
                        format!(
                            "quarantine of {test} has no `reason`; say why its failures are accepted"
                        ),
                    ));
                }
            };
            let (eline, ecolumn) = at(&r.expires);
            let expires = r.expires.value.trim().to_string();
            let Some(expires_at) = day_end(&expires) else {
                return Err(error(
                    eline,
                    ecolumn,
                    format!("`expires: {expires}` is not a date (YYYY-MM-DD)"),
                ));
            };
            entries.push(Entry {
                test,
                reason,
                expires,
                line,
                expires_at,
            });
        }
        Ok(Quarantine { entries })
    }

    /// How `test`'s failure is taken at `now` (seconds since the epoch).
    /// The first entry that matches decides.
    pub fn standing(&self, test: &str, now: i64) -> Standing<'_> {
        match self.entries.iter().find(|e| e.matches(test)) {
            None => Standing::Counted,
            Some(e) if now >= e.expires_at => Standing::Expired(e),
            Some(e) => Standing::Quarantined(e),
        }
    }
}

/// The first second after day `text` (`YYYY-MM-DD`), UTC.
fn day_end(text: &str) -> Option<i64> {
    if text.len() != 10 {
        return None;
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    let next = date.tomorrow().ok()?;
    let zoned = next.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
    Some(zoned.timestamp().as_second())
}

/// `*` matches any run of characters (including none); everything else
/// matches itself.
fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const FILE: &str = "\
quarantine:
  - test: tests.unit.test_greet.test_network
    reason: flips when the mirror is slow
    expires: 2027-01-31
  - test: tests.e2e.*
    reason: the staging stack is being rebuilt
    expires: 2026-12-01
";

    fn at(text: &str) -> i64 {
        let t: jiff::Timestamp = text.parse().unwrap();
        t.as_second()
    }

    #[test]
    fn a_quarantined_test_is_quarantined_through_its_expiry_day() {
        let q = Quarantine::parse("q.yml", FILE).unwrap();
        assert_eq!(q.entries.len(), 2);
        assert_eq!(q.entries[1].line, 5);
        let test = "tests.unit.test_greet.test_network";
        assert!(matches!(
            q.standing(test, at("2027-01-31T23:59:59Z")),
            Standing::Quarantined(_)
        ));
        assert!(matches!(
            q.standing(test, at("2027-02-01T00:00:00Z")),
            Standing::Expired(_)
        ));
        assert_eq!(
            q.standing("tests.unit.other", at("2026-01-01T00:00:00Z")),
            Standing::Counted
        );
    }

    #[test]
    fn globs_match_any_run_of_characters() {
        assert!(glob_match("tests.e2e.*", "tests.e2e.login.test_ok"));
        assert!(glob_match("*network*", "a.test_network_slow"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(!glob_match("tests.e2e.*", "tests.unit.x"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(!glob_match("ab*ab", "ab"));
    }

    #[test]
    fn mistakes_are_reported_at_their_line_and_column() {
        let err = Quarantine::parse(
            "q.yml",
            "quarantine:\n  - test: a.b\n    expires: 2027-01-01\n",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (2, 11), "{err}");
        assert!(err.message.contains("no `reason`"), "{err}");
        let err = Quarantine::parse(
            "q.yml",
            "quarantine:\n  - test: a.b\n    reason: r\n    expires: next week\n",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (4, 14), "{err}");
        let err = Quarantine::parse("q.yml", "quarantine:\n  - tset: a\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.to_string().starts_with("q.yml:2:"), "{err}");
    }
}
