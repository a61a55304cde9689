//! Matching components against the database: findings with every id of
//! a vulnerability (aliases merged), severity, the smallest fix above the
//! installed version and the lockfile location.

use std::collections::{BTreeSet, HashMap};

use gantry_sbom::{Component, Ecosystem, Location, Scope};
use serde::Serialize;

use crate::db::Database;
use crate::matching::{affects, smallest_fix_above};
use crate::osv::Record;
use crate::severity::{self, Level, Severity};
use crate::version::order_for;

/// Whether a finding is a vulnerability or a RustSec informational
/// advisory (`unmaintained`, `unsound`, `notice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "informational", rename_all = "lowercase")]
pub enum FindingKind {
    Vulnerability,
    Informational(String),
}

/// One vulnerability of one installed package at one place.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub version: String,
    pub purl: String,
    pub location: Location,
    pub direct: bool,
    pub scope: Scope,
    /// Every id of the vulnerability: the preferred one first (the
    /// ecosystem's own database, then GHSA, then CVE), then the others
    /// sorted.
    pub ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(flatten)]
    pub kind: FindingKind,
    pub severity: Severity,
    /// The smallest fixed version above the installed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The newest `modified` date of the merged records.
    pub modified: String,
}

impl Finding {
    /// The preferred id.
    pub fn id(&self) -> &str {
        self.ids.first().map_or("", String::as_str)
    }
}

/// What a scan found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Vulnerabilities, most severe first.
    pub findings: Vec<Finding>,
    /// Informational advisories, apart from vulnerabilities.
    pub informational: Vec<Finding>,
    /// Components, one per package URL, pinned or not: what `gantry sbom`
    /// counts for the same input.
    pub components: usize,
    /// Per OSV ecosystem, the pinned components that had no advisories to
    /// match against because the database holds none of that ecosystem
    /// (so "no known vulnerabilities" says nothing about them).
    pub not_checked: std::collections::BTreeMap<String, usize>,
    /// Components without a pinned version: not matched, listed.
    pub unpinned: Vec<Location>,
    /// Versions or ranges that could not be compared.
    pub warnings: Vec<String>,
}

impl Report {
    /// The highest severity among the vulnerabilities.
    pub fn max_level(&self) -> Option<Level> {
        self.findings.iter().map(|f| f.severity.level).max()
    }
}

fn id_rank(id: &str) -> u8 {
    const PREFERRED: [&str; 6] = ["RUSTSEC-", "GO-", "PYSEC-", "GHSA-", "CVE-", "OSV-"];
    PREFERRED
        .iter()
        .position(|p| id.starts_with(p))
        .map_or(u8::MAX, |i| i as u8)
}

/// Groups records that share an id or alias (union-find over ids).
fn merge_aliases(records: Vec<&Record>) -> Vec<Vec<&Record>> {
    let mut parent: Vec<usize> = (0..records.len()).collect();
    fn find(parent: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while parent[r] != r {
            r = parent[r];
        }
        let mut j = i;
        while parent[j] != r {
            let next = parent[j];
            parent[j] = r;
            j = next;
        }
        r
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        for id in r.ids() {
            match owner.get(id) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a] = b;
                    }
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<&Record>> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(*record);
    }
    let mut out: Vec<Vec<&Record>> = groups.into_values().collect();
    out.sort_by(|a, b| a[0].id.cmp(&b[0].id));
    out
}

/// Scans components against the database.
pub fn scan(db: &Database, components: &[Component]) -> Report {
    let mut report = Report::default();
    let mut cache: HashMap<(String, String), Vec<Record>> = HashMap::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let covered = &db.meta().per_ecosystem;
    for c in components {
        let first = seen.insert(c.purl.as_str());
        report.components += usize::from(first);
        let Some(version) = c.advisory_version() else {
            report.unpinned.push(c.location.clone());
            continue;
        };
        let Some(ecosystem) = c.osv_ecosystem() else {
            if first {
                *report
                    .not_checked
                    .entry(format!("{} (no known distribution)", c.ecosystem))
                    .or_default() += 1;
            }
            continue;
        };
        let ecosystems = covering(covered, &ecosystem, c.ecosystem.is_os());
        if ecosystems.is_empty() {
            if first {
                *report.not_checked.entry(ecosystem).or_default() += 1;
            }
            continue;
        }
        let key = (
            ecosystem.clone(),
            c.ecosystem.normalize_name(c.advisory_name()),
        );
        if !cache.contains_key(&key) {
            let mut found = Vec::new();
            for e in &ecosystems {
                match db.lookup(e, &key.1) {
                    Ok(records) => found.extend(records),
                    Err(err) => report.warnings.push(format!("{}: {err}", c.location)),
                }
            }
            cache.insert(key.clone(), found);
        }
        let records = cache.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        match_component(c, version, &ecosystems, records, &mut report);
    }
    let order = |a: &Finding, b: &Finding| {
        b.severity
            .level
            .cmp(&a.severity.level)
            .then_with(|| {
                b.severity
                    .score
                    .unwrap_or(0.0)
                    .total_cmp(&a.severity.score.unwrap_or(0.0))
            })
            .then_with(|| {
                (a.ecosystem, &a.package, &a.version, &a.location, a.id()).cmp(&(
                    b.ecosystem,
                    &b.package,
                    &b.version,
                    &b.location,
                    b.id(),
                ))
            })
    };
    report.findings.sort_by(order);
    report.informational.sort_by(order);
    report.warnings.sort();
    report.warnings.dedup();
    report
}

/// The database's ecosystems that hold `ecosystem`'s advisories: itself,
/// and for a distribution the ecosystems that continue it after a `:`
/// (`Ubuntu:22.04:LTS` for `Ubuntu:22.04`).
fn covering(
    covered: &std::collections::BTreeMap<String, usize>,
    ecosystem: &str,
    prefixes: bool,
) -> Vec<String> {
    covered
        .iter()
        .filter(|(e, n)| {
            **n > 0
                && (*e == ecosystem
                    || (prefixes
                        && e.strip_prefix(ecosystem)
                            .is_some_and(|rest| rest.starts_with(':'))))
        })
        .map(|(e, _)| e.clone())
        .collect()
}

fn match_component(
    c: &Component,
    version: &str,
    ecosystems: &[String],
    records: &[Record],
    report: &mut Report,
) {
    let order = order_for(c.ecosystem);
    let name = c.ecosystem.normalize_name(c.advisory_name());
    let mut hits: Vec<(&Record, Severity, Option<String>)> = Vec::new();
    for record in records {
        if record.withdrawn.is_some() {
            continue;
        }
        let mut hit: Option<(Severity, Option<String>)> = None;
        for a in &record.affected {
            let Some(p) = &a.package else { continue };
            if !ecosystems.contains(&p.ecosystem) || c.ecosystem.normalize_name(&p.name) != name {
                continue;
            }
            let (yes, problems) = affects(order, version, a);
            for problem in problems {
                report
                    .warnings
                    .push(format!("{}: {} {}: {problem}", record.id, c.name, version));
            }
            if yes {
                let sev = severity::of_record(record, Some(a));
                let fix = smallest_fix_above(order, version, a);
                hit = Some(match hit {
                    None => (sev, fix),
                    Some((s, f)) => (
                        if sev.level > s.level { sev } else { s },
                        min_version(order, f, fix),
                    ),
                });
            }
        }
        if let Some((sev, fix)) = hit {
            hits.push((record, sev, fix));
        }
    }
    if hits.is_empty() {
        return;
    }
    let by_id: HashMap<&str, (&Severity, &Option<String>)> = hits
        .iter()
        .map(|(r, s, f)| (r.id.as_str(), (s, f)))
        .collect();
    for group in merge_aliases(hits.iter().map(|(r, _, _)| *r).collect()) {
        let mut ids: BTreeSet<&str> = BTreeSet::new();
        for r in &group {
            ids.extend(r.ids());
        }
        let mut ids: Vec<String> = ids.into_iter().map(str::to_string).collect();
        ids.sort_by(|a, b| id_rank(a).cmp(&id_rank(b)).then_with(|| a.cmp(b)));
        let primary = ids.first().cloned().unwrap_or_default();
        let ids = {
            let mut rest: Vec<String> = ids.into_iter().skip(1).collect();
            rest.sort();
            let mut all = vec![primary.clone()];
            all.extend(rest);
            all
        };
        let mut severity = Severity::UNKNOWN;
        let mut fixed = None;
        for r in &group {
            if let Some((s, f)) = by_id.get(r.id.as_str()) {
                if s.level > severity.level
                    || (s.level == severity.level && s.score > severity.score)
                {
                    severity = (*s).clone();
                }
                fixed = min_version(order, fixed, (*f).clone());
            }
        }
        let lead = group
            .iter()
            .find(|r| r.id == primary)
            .copied()
            .unwrap_or(group[0]);
        // Informational only when every merged record is.
        let kind = if group.iter().all(|r| r.informational().is_some()) {
            FindingKind::Informational(lead.informational().unwrap_or_default())
        } else {
            FindingKind::Vulnerability
        };
        let finding = Finding {
            ecosystem: c.ecosystem,
            package: c.name.clone(),
            version: version.to_string(),
            purl: c.purl.clone(),
            location: c.location.clone(),
            direct: c.direct,
            scope: c.scope,
            ids,
            summary: group
                .iter()
                .find_map(|r| r.summary.clone().filter(|s| !s.trim().is_empty()))
                .or_else(|| lead.details.as_ref().map(|d| first_sentence(d))),
            kind,
            severity,
            fixed,
            url: lead.advisory_url().map(str::to_string),
            modified: group
                .iter()
                .map(|r| r.modified.as_str())
                .max()
                .unwrap_or("")
                .to_string(),
        };
        match finding.kind {
            FindingKind::Vulnerability => report.findings.push(finding),
            FindingKind::Informational(_) => report.informational.push(finding),
        }
    }
}

fn min_version(
    order: &dyn crate::version::VersionOrder,
    a: Option<String>,
    b: Option<String>,
) -> Option<String> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if order.compare(&y, &x) == Some(std::cmp::Ordering::Less) {
            y
        } else {
            x
        }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn first_sentence(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let cut = line.find(". ").map_or(line.len(), |i| i + 1);
    let mut s = line[..cut].to_string();
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}
