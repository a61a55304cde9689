//! OSV range semantics over an ecosystem's version order.

use std::cmp::Ordering;

use crate::osv::{Affected, Event};
use crate::version::VersionOrder;

/// Why a range could not be evaluated for a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The version asked about is not one of the ecosystem's.
    #[error("`{version}` is not a {order} version")]
    Version {
        version: String,
        order: &'static str,
    },
    /// An event names a version the order cannot read.
    #[error("event version `{version}` is not a {order} version")]
    EventVersion {
        version: String,
        order: &'static str,
    },
    /// An event names no version at all.
    #[error("an event without a version")]
    EventWithoutVersion,
}

/// The version an event names and what kind of event it is.
fn event_version(e: &Event) -> Option<&str> {
    e.introduced
        .as_deref()
        .or(e.fixed.as_deref())
        .or(e.last_affected.as_deref())
        .or(e.limit.as_deref())
}

/// Whether `version` falls in a range given by its events, as the OSV
/// specification evaluates them: events sorted by version (`introduced:
/// "0"` first); `introduced` at or below the version opens, `fixed` at or
/// below closes, `last_affected` below closes (it is inclusive), and a
/// `limit` at or below closes. An event version the order cannot read is
/// an error naming it.
pub fn is_affected_by_range(
    order: &dyn VersionOrder,
    version: &str,
    events: &[Event],
) -> Result<bool, RangeError> {
    if !order.is_valid(version) {
        return Err(RangeError::Version {
            version: version.to_string(),
            order: order.name(),
        });
    }
    for e in events {
        match event_version(e) {
            Some("0") if e.introduced.is_some() => {}
            Some(v) if order.is_valid(v) => {}
            Some(v) => {
                return Err(RangeError::EventVersion {
                    version: v.to_string(),
                    order: order.name(),
                });
            }
            None => return Err(RangeError::EventWithoutVersion),
        }
    }
    let mut sorted: Vec<&Event> = events.iter().collect();
    let key_cmp = |a: &&Event, b: &&Event| -> Ordering {
        let va = event_version(a).unwrap_or("0");
        let vb = event_version(b).unwrap_or("0");
        let zero_a = a.introduced.as_deref() == Some("0");
        let zero_b = b.introduced.as_deref() == Some("0");
        match (zero_a, zero_b) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => order.compare(va, vb).unwrap_or(Ordering::Equal),
        }
    };
    sorted.sort_by(key_cmp);
    let at_or_above = |x: &str| {
        order
            .compare(version, x)
            .is_some_and(|o| o != Ordering::Less)
    };
    let mut affected = false;
    for e in sorted {
        if let Some(x) = &e.introduced {
            if x == "0" || at_or_above(x) {
                affected = true;
            }
        } else if let Some(x) = &e.fixed {
            if at_or_above(x) {
                affected = false;
            }
        } else if let Some(x) = &e.last_affected {
            if order.compare(version, x) == Some(Ordering::Greater) {
                affected = false;
            }
        } else if let Some(x) = &e.limit
            && at_or_above(x)
        {
            affected = false;
        }
    }
    Ok(affected)
}

/// Whether `version` is affected by one `affected[]` entry: listed in its
/// `versions`, or inside any of its `SEMVER` or `ECOSYSTEM` ranges. `GIT`
/// ranges name commits and are skipped without hiding the others.
/// Problems with individual ranges are returned beside the answer.
pub fn affects(
    order: &dyn VersionOrder,
    version: &str,
    affected: &Affected,
) -> (bool, Vec<RangeError>) {
    let mut problems = Vec::new();
    for range in &affected.ranges {
        if range.kind == "GIT" {
            continue;
        }
        match is_affected_by_range(order, version, &range.events) {
            Ok(true) => return (true, problems),
            Ok(false) => {}
            Err(e) => problems.push(e),
        }
    }
    let listed = affected.versions.iter().any(|v| {
        v == version
            || (plausibly_equal(v, version) && order.compare(v, version) == Some(Ordering::Equal))
    });
    (listed, if listed { Vec::new() } else { problems })
}

/// A cheap test that two versions may be equal in any ecosystem's order:
/// their leading numbers agree (a PEP 440 epoch is checked in full).
fn plausibly_equal(a: &str, b: &str) -> bool {
    fn leading(s: &str) -> &str {
        let s = s.trim_start_matches(['v', 'V', '=', ' ']);
        let s = s.trim_start_matches('0');
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        &s[..end]
    }
    a.contains('!') || b.contains('!') || leading(a) == leading(b)
}

/// The smallest `fixed` version above `version` in an entry's ranges.
pub(crate) fn smallest_fix_above(
    order: &dyn VersionOrder,
    version: &str,
    affected: &Affected,
) -> Option<String> {
    affected
        .ranges
        .iter()
        .filter(|r| r.kind != "GIT")
        .flat_map(|r| &r.events)
        .filter_map(|e| e.fixed.as_deref())
        .filter(|f| order.compare(f, version) == Some(Ordering::Greater))
        .min_by(|a, b| order.compare(a, b).unwrap_or(Ordering::Equal))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::version::{Pep440, SemVer};

    fn events(pairs: &[(&str, &str)]) -> Vec<Event> {
        pairs
            .iter()
            .map(|(k, v)| {
                let mut e = Event {
                    introduced: None,
                    fixed: None,
                    last_affected: None,
                    limit: None,
                };
                let v = Some((*v).to_string());
                match *k {
                    "introduced" => e.introduced = v,
                    "fixed" => e.fixed = v,
                    "last_affected" => e.last_affected = v,
                    _ => e.limit = v,
                }
                e
            })
            .collect()
    }

    #[test]
    fn evaluates_events_in_version_order() {
        // RUSTSEC-2020-0071 (time): many windows opened by pre-releases.
        let time = events(&[
            ("introduced", "0.0.0-0"),
            ("fixed", "0.2.0"),
            ("introduced", "0.2.1-0"),
            ("fixed", "0.2.1"),
            ("introduced", "0.2.7-0"),
            ("fixed", "0.2.23"),
        ]);
        for (v, want) in [
            ("0.1.43", true),
            ("0.2.0", false),
            ("0.2.1-alpha", true),
            ("0.2.1", false),
            ("0.2.22", true),
            ("0.2.23", false),
            ("0.3.0", false),
        ] {
            assert_eq!(
                is_affected_by_range(&SemVer, v, &time).unwrap(),
                want,
                "{v}"
            );
        }
        // Unsorted events sort first.
        let shuffled = events(&[("fixed", "2.0.0"), ("introduced", "1.0.0")]);
        assert!(is_affected_by_range(&SemVer, "1.5.0", &shuffled).unwrap());
        assert!(!is_affected_by_range(&SemVer, "0.9.0", &shuffled).unwrap());
    }

    #[test]
    fn last_affected_is_inclusive_and_limit_exclusive() {
        let e = events(&[("introduced", "0"), ("last_affected", "1.11.0")]);
        assert!(is_affected_by_range(&Pep440, "1.11.0", &e).unwrap());
        assert!(is_affected_by_range(&Pep440, "1.11.0rc1", &e).unwrap());
        assert!(!is_affected_by_range(&Pep440, "1.11.1", &e).unwrap());
        let e = events(&[("introduced", "1.0"), ("limit", "2.0")]);
        assert!(is_affected_by_range(&Pep440, "1.9", &e).unwrap());
        assert!(!is_affected_by_range(&Pep440, "2.0", &e).unwrap());
    }

    #[test]
    fn unreadable_versions_are_errors() {
        let e = events(&[("introduced", "0"), ("fixed", "not-a-version")]);
        let err = is_affected_by_range(&SemVer, "1.0.0", &e).unwrap_err();
        assert!(
            matches!(&err, RangeError::EventVersion { version, .. } if version == "not-a-version"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "event version `not-a-version` is not a SemVer version"
        );
        let err =
            is_affected_by_range(&SemVer, "latest", &events(&[("introduced", "0")])).unwrap_err();
        assert!(matches!(&err, RangeError::Version { version, .. } if version == "latest"));
    }
}
