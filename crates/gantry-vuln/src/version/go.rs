//! Go module versions: semantic versions with a `v` prefix, where
//! `+incompatible` is ignored and pseudo-versions
//! (`v0.0.0-20191109021931-daa7c04131f5`, `v1.2.4-0.2019...-abcdef`) are
//! pre-releases that sort by their timestamp. The standard library
//! (`stdlib`, `toolchain`) uses the same order on `go1.21.3` written as
//! `v1.21.3` (or `1.21.3` in advisories).

use std::cmp::Ordering;

use super::VersionOrder;

/// Go modules.
pub struct Go;

fn parse(text: &str) -> Option<semver::Version> {
    let t = text.trim();
    let t = t.strip_prefix("go").unwrap_or(t);
    let t = t.strip_suffix("+incompatible").unwrap_or(t);
    super::semver::parse(t)
}

impl VersionOrder for Go {
    fn name(&self) -> &'static str {
        "Go"
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
    fn orders_pseudo_versions_and_incompatible() {
        assert_ascending(
            &Go,
            &[
                "v0.0.0-20160722212129-ac0cc4484ad4",
                "v0.0.0-20200131131040-063a3fb69896",
                "v0.0.0-20200226121028-0de0cce0169b",
                "v0.3.5",
                "0.3.7",
                "v1.0.3",
                "v1.0.4-0.20180125103619-43913f2f4fbd",
                "v1.0.4",
                "v2.0.0+incompatible",
                "v2.1.0+incompatible",
            ],
        );
        assert_eq!(Go.compare("v1.2.3", "1.2.3"), Some(Ordering::Equal));
    }
}
