//! `.gantry/ignore.yml`: findings a team has decided to accept, each with
//! a reason and an expiry date. An expired entry fails the scan, so that
//! an accepted risk is looked at again.
//!
//! ```yaml
//! ignore:
//!   - id: RUSTSEC-2020-0071      # any of the vulnerability's ids
//!     reason: only used by the test harness
//!     expires: 2026-12-31
//!     package: time              # optional: only for this package
//! ```

use serde::{Deserialize, Serialize};

use crate::scan::{Finding, Report};

/// The ignore file's place in a repository.
pub const IGNORE_FILE: &str = ".gantry/ignore.yml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    ignore: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    reason: String,
    expires: String,
    #[serde(default)]
    package: Option<String>,
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    pub reason: String,
    /// `YYYY-MM-DD`; the entry applies through that day.
    pub expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// 1-based line of the entry in the file.
    pub line: usize,
    #[serde(skip)]
    expires_at: i64,
}

/// A problem in the ignore file, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
#[non_exhaustive]
pub struct IgnoreError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// The entries of an ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreList {
    pub entries: Vec<Entry>,
}

/// What applying the list did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    /// Findings removed from the report, with the entry's id and reason.
    pub ignored: Vec<(Finding, Entry)>,
    /// Entries past their date: the scan fails while there are any.
    pub expired: Vec<Entry>,
    /// Entries that matched nothing.
    pub unused: Vec<Entry>,
}

impl IgnoreList {
    /// Reads an ignore file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<IgnoreList, IgnoreError> {
        let raw: RawFile = if text.trim().is_empty() {
            RawFile { ignore: Vec::new() }
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let msg = e.to_string();
                IgnoreError {
                    file: file.to_string(),
                    line: e.location().map_or(1, |l| l.line() as usize),
                    message: msg.lines().next().unwrap_or("invalid YAML").to_string(),
                }
            })?
        };
        let mut entries = Vec::new();
        let mut search_from = 0;
        for r in raw.ignore {
            let (line, next) = find_entry_line(text, &r.id, search_from);
            search_from = next;
            let err = |message: String| IgnoreError {
                file: file.to_string(),
                line,
                message,
            };
            if r.id.trim().is_empty() {
                return Err(err("`id` is empty".into()));
            }
            if r.reason.trim().is_empty() {
                return Err(err(format!(
                    "ignore of {} has an empty `reason`; say why it is accepted",
                    r.id
                )));
            }
            let Some(day) = gantry_sbom::time::parse_rfc3339(r.expires.trim())
                .filter(|_| r.expires.trim().len() == 10)
            else {
                return Err(err(format!(
                    "`expires: {}` is not a date (YYYY-MM-DD)",
                    r.expires
                )));
            };
            entries.push(Entry {
                id: r.id.trim().to_string(),
                reason: r.reason.trim().to_string(),
                expires: r.expires.trim().to_string(),
                package: r.package,
                line,
                expires_at: day + 86_400,
            });
        }
        Ok(IgnoreList { entries })
    }

    /// Removes ignored findings from a report (vulnerabilities and
    /// informational ones); `now` is seconds since the epoch.
    pub fn apply(&self, report: &mut Report, now: i64) -> Applied {
        let mut applied = Applied::default();
        let mut used = vec![false; self.entries.len()];
        for (i, e) in self.entries.iter().enumerate() {
            if now >= e.expires_at {
                applied.expired.push(e.clone());
                used[i] = true;
            }
        }
        let mut take = |list: &mut Vec<Finding>| {
            let mut kept = Vec::with_capacity(list.len());
            for f in list.drain(..) {
                let hit = self.entries.iter().enumerate().find(|(_, e)| {
                    now < e.expires_at
                        && f.ids.iter().any(|id| id.eq_ignore_ascii_case(&e.id))
                        && e.package.as_ref().is_none_or(|p| p == &f.package)
                });
                match hit {
                    Some((i, e)) => {
                        used[i] = true;
                        applied.ignored.push((f, e.clone()));
                    }
                    None => kept.push(f),
                }
            }
            *list = kept;
        };
        take(&mut report.findings);
        take(&mut report.informational);
        for (i, e) in self.entries.iter().enumerate() {
            if !used[i] {
                applied.unused.push(e.clone());
            }
        }
        applied
    }
}

/// The line of the entry whose `id:` names `id`, searching from a byte
/// offset; returns the line and where to search next.
fn find_entry_line(text: &str, id: &str, from: usize) -> (usize, usize) {
    let rest = text.get(from..).unwrap_or("");
    let mut offset = from;
    for line in rest.split_inclusive('\n') {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        if let Some(v) = t.strip_prefix("id:") {
            let v = v
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\'']);
            if v == id {
                let line_no = text[..offset].matches('\n').count() + 1;
                return (line_no, offset + line.len());
            }
        }
        offset += line.len();
    }
    (1, from)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_entries_with_lines_and_rejects_bad_ones() {
        let text = "ignore:\n  - id: RUSTSEC-2020-0071\n    reason: test only\n    expires: 2026-12-31\n  - id: \"CVE-2022-24713\"\n    reason: not reachable\n    expires: 2025-01-01\n    package: regex\n";
        let list = IgnoreList::parse(".gantry/ignore.yml", text).unwrap();
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.entries[0].line, 2);
        assert_eq!(list.entries[1].line, 5);
        assert_eq!(list.entries[1].package.as_deref(), Some("regex"));
        let err = IgnoreList::parse(
            "f",
            "ignore:\n  - id: X\n    reason: ''\n    expires: 2026-01-01\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        let err = IgnoreList::parse(
            "f",
            "ignore:\n  - id: X\n    reason: r\n    expires: soon\n",
        )
        .unwrap_err();
        assert!(err.message.contains("not a date"), "{err}");
        let err = IgnoreList::parse("f", "ignore:\n  - id: X\n    why: r\n").unwrap_err();
        assert!(err.to_string().starts_with("f:"), "{err}");
    }
}
