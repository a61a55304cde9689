//! Each ecosystem's own version order: one module per ordering, each
//! implementing [`VersionOrder`], chosen by [`order_for`].
//!
//! Adding an ordering: copy a neighbour (`nuget.rs` is small), implement
//! `parse` into a key that compares as the ecosystem does, add a line to
//! [`order_for`], and table tests of ordered versions.

use std::cmp::Ordering;

use gantry_sbom::Ecosystem;

mod apk;
mod dpkg;
mod go;
mod maven;
mod nuget;
mod packagist;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

pub use apk::Apk;
pub use dpkg::Dpkg;
pub use go::Go;
pub use maven::Maven;
pub use nuget::NuGet;
pub use packagist::Packagist;
pub use pep440::{Pep440, SpecifierError, Specifiers};
pub use rpm::Rpm;
pub use rubygems::RubyGems;
pub use semver::SemVer;
pub(crate) use semver::parse as semver_parse;

/// A version order.
pub trait VersionOrder: Sync {
    /// The order's name, for messages.
    fn name(&self) -> &'static str;

    /// Compares two versions; `None` when either is not a version of
    /// this ecosystem.
    fn compare(&self, a: &str, b: &str) -> Option<Ordering>;

    /// Whether `text` is a version this order can compare.
    fn is_valid(&self, text: &str) -> bool {
        text.len() <= MAX_VERSION_LEN && self.compare(text, text).is_some()
    }
}

/// Versions longer than this are not versions (and would make hostile
/// input expensive to compare).
pub const MAX_VERSION_LEN: usize = 256;

/// The order of an ecosystem's versions.
pub fn order_for(ecosystem: Ecosystem) -> &'static dyn VersionOrder {
    match ecosystem {
        Ecosystem::PyPI => &Pep440,
        Ecosystem::Go => &Go,
        Ecosystem::RubyGems => &RubyGems,
        Ecosystem::Packagist => &Packagist,
        Ecosystem::NuGet => &NuGet,
        Ecosystem::Maven => &Maven,
        Ecosystem::Deb => &Dpkg,
        Ecosystem::Apk => &Apk,
        Ecosystem::Rpm => &Rpm,
        // crates.io and npm use SemVer 2.0 with pre-releases; so does
        // every other ecosystem gantry reads.
        _ => &SemVer,
    }
}

/// Test helper: asserts that each version sorts strictly before the next.
#[cfg(test)]
pub(crate) fn assert_ascending(order: &dyn VersionOrder, versions: &[&str]) {
    for pair in versions.windows(2) {
        assert_eq!(
            order.compare(pair[0], pair[1]),
            Some(Ordering::Less),
            "{}: {} < {}",
            order.name(),
            pair[0],
            pair[1]
        );
        assert_eq!(
            order.compare(pair[1], pair[0]),
            Some(Ordering::Greater),
            "{}: {} > {}",
            order.name(),
            pair[1],
            pair[0]
        );
    }
}
