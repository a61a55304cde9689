//! SemVer 2.0 precedence (crates.io, npm): numeric major.minor.patch,
//! then a pre-release sorts before its release, identifiers compared
//! numerically or in ASCII order; build metadata is ignored. A leading
//! `v` or `=` and missing minor or patch numbers are accepted.

use std::cmp::Ordering;

use super::VersionOrder;

/// SemVer 2.0.
pub struct SemVer;

/// Parses leniently: `v1.2.3`, `=1.2.3`, `1.2` (as `1.2.0`).
pub(crate) fn parse(text: &str) -> Option<semver::Version> {
    let t = text.trim().trim_start_matches(['v', 'V', '=']).trim();
    if t.len() > super::MAX_VERSION_LEN {
        return None;
    }
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    // Pad `1` and `1.2` before any pre-release or build suffix.
    let split = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(split);
    let dots = core.matches('.').count();
    if dots >= 2 || core.is_empty() {
        return None;
    }
    let padded = format!("{core}{}{rest}", ".0".repeat(2 - dots));
    semver::Version::parse(&padded).ok()
}

impl VersionOrder for SemVer {
    fn name(&self) -> &'static str {
        "SemVer"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        Some(parse(a)?.cmp_precedence(&parse(b)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn orders_pre_releases_before_releases() {
        assert_ascending(
            &SemVer,
            &[
                "0.0.0-0",
                "0.2.0",
                "0.2.1-0",
                "0.2.1",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.2",
                "v1.10.0",
            ],
        );
        assert_eq!(
            SemVer.compare("1.0.0+build", "1.0.0"),
            Some(Ordering::Equal)
        );
        assert_eq!(SemVer.compare("1.2", "1.2.0"), Some(Ordering::Equal));
        assert_eq!(SemVer.compare("banana", "1.0.0"), None);
    }
}
