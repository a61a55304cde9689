//! The version to move one package to: the smallest version the
//! advisories themselves name as `fixed` that no advisory on the package
//! affects, and that the manifest's requirement admits when one does.
//!
//! Only `fixed` events are candidates: they are versions that exist (a
//! `last_affected` or `limit` says nothing about which version comes
//! next). The search starts at the largest of each advisory's smallest fix
//! above the installed version (no smaller version can fix them all) and
//! walks up the fixed boundaries of all the advisories, passing over each
//! one that falls inside another advisory's range.

use std::cmp::Ordering;

use serde::Serialize;

use crate::matching::{affects, smallest_fix_above};
use crate::osv::Affected;
use crate::version::VersionOrder;

/// One advisory's entries for the package.
#[derive(Debug, Clone)]
pub struct Advisory {
    /// The preferred id.
    pub id: String,
    pub affected: Vec<Affected>,
}

/// A fixed boundary that was not chosen because an advisory affects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassedOver {
    pub version: String,
    /// The advisory whose range holds it.
    pub affected_by: String,
}

/// What [`choose`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Move to `to`; `constraint_changed` when the requirement given does
    /// not admit it (no fixing version it admits exists).
    Fix {
        to: String,
        constraint_changed: bool,
        passed_over: Vec<PassedOver>,
    },
    /// These advisories name no fixed version above the installed one.
    NoFixedVersion { advisories: Vec<String> },
    /// Every fixed version falls inside some advisory's range.
    EveryFixAffected { passed_over: Vec<PassedOver> },
}

/// Chooses the version for a package installed at `from`. `advisories`
/// are all of the package's advisories: those that affect `from` must be
/// fixed, and none may affect the chosen version. `admits` is the
/// manifest's requirement, when gantry could read one.
pub fn choose(
    order: &dyn VersionOrder,
    from: &str,
    advisories: &[Advisory],
    admits: Option<&dyn Fn(&str) -> bool>,
) -> Choice {
    let cmp = |a: &str, b: &str| order.compare(a, b).unwrap_or(Ordering::Equal);
    let mut lower: Option<String> = None;
    let mut missing = Vec::new();
    let hits = advisories
        .iter()
        .filter(|a| a.affected.iter().any(|e| affects(order, from, e).0));
    for a in hits {
        let smallest = a
            .affected
            .iter()
            .filter_map(|e| smallest_fix_above(order, from, e))
            .min_by(|x, y| cmp(x, y));
        match smallest {
            Some(f) => {
                if lower
                    .as_deref()
                    .is_none_or(|l| cmp(&f, l) == Ordering::Greater)
                {
                    lower = Some(f);
                }
            }
            None => missing.push(a.id.clone()),
        }
    }
    if !missing.is_empty() {
        return Choice::NoFixedVersion {
            advisories: missing,
        };
    }
    let Some(lower) = lower else {
        return Choice::NoFixedVersion {
            advisories: Vec::new(),
        };
    };
    let mut candidates: Vec<&str> = advisories
        .iter()
        .flat_map(|a| &a.affected)
        .flat_map(|e| e.ranges.iter().filter(|r| r.kind != "GIT"))
        .flat_map(|r| &r.events)
        .filter_map(|e| e.fixed.as_deref())
        .filter(|f| order.is_valid(f) && cmp(f, &lower) != Ordering::Less)
        .collect();
    candidates.sort_by(|a, b| cmp(a, b));
    candidates.dedup_by(|a, b| cmp(a, b) == Ordering::Equal);

    let mut passed_over = Vec::new();
    let mut first_safe: Option<&str> = None;
    for c in candidates {
        let hit = advisories
            .iter()
            .find(|a| a.affected.iter().any(|e| affects(order, c, e).0));
        if let Some(a) = hit {
            passed_over.push(PassedOver {
                version: c.to_string(),
                affected_by: a.id.clone(),
            });
            continue;
        }
        first_safe.get_or_insert(c);
        match admits {
            None => break,
            Some(f) if f(c) => {
                return Choice::Fix {
                    to: c.to_string(),
                    constraint_changed: false,
                    passed_over,
                };
            }
            Some(_) => {}
        }
    }
    match first_safe {
        Some(to) => {
            // Keep only what was passed over on the way to the chosen one.
            passed_over.retain(|p| cmp(&p.version, to) == Ordering::Less);
            Choice::Fix {
                to: to.to_string(),
                constraint_changed: admits.is_some_and(|f| !f(to)),
                passed_over,
            }
        }
        None => Choice::EveryFixAffected { passed_over },
    }
}
