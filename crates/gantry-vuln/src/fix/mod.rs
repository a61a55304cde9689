//! `gantry scan --fix`: for each vulnerable package a scan finds, the
//! smallest version that fixes every advisory on it ([`choose`]) and that
//! the manifests beside its lockfile still admit ([`constraint`]), the
//! ecosystem tool's command that moves the lockfile there ([`apply`]),
//! and Renovate rules that keep it there ([`renovate`]).
//!
//! [`run`] is the whole thing as the command runs it: scan, plan, and with
//! [`Mode::Apply`] the commands (through a [`Tools`], so tests and the
//! binary choose what actually runs) and a rescan. The plan itself is
//! pure: [`plan`] reads only the manifests.

pub mod apply;
mod choose;
pub mod constraint;
pub mod renovate;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use gantry_sbom::Ecosystem;
use gantry_sbom::manifest::{Manifests, manifests_for};
use serde::Serialize;

pub use apply::{Applied, Command, SystemTools, ToolRun, Tools};
pub use choose::{Advisory, Choice, PassedOver, choose};
pub use constraint::{Requirement, RequirementError};

use crate::check::{CheckError, Outcome, Request, check};
use crate::db::Database;
use crate::scan::Finding;
use crate::version::order_for;

/// The version of [`Document`]'s layout.
pub const FIX_SCHEMA_VERSION: u32 = 1;

/// Print the plan, or carry it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    DryRun,
    Apply,
}

/// What `scan --fix` does.
#[derive(Debug, Clone)]
pub struct FixRequest {
    pub check: Request,
    pub mode: Mode,
    /// Also write Renovate package rules into the scanned folder's
    /// `renovate.json`.
    pub renovate: bool,
}

/// The requirement a fix was checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constraint {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub requirement: String,
}

/// One package to move.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub package: String,
    pub ecosystem: Ecosystem,
    pub from: String,
    pub to: String,
    /// The advisories the move fixes (each one's preferred id).
    pub advisories: Vec<String>,
    /// The manifest's requirement does not admit `to`: the updater also
    /// rewrites it (npm's `package.json`).
    pub constraint_changed: bool,
    /// The lockfile, relative to the scanned folder.
    pub lockfile: String,
    pub line: usize,
    pub direct: bool,
    /// The requirements `to` was checked against (none: transitive, or
    /// no manifest gantry reads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Fixed versions skipped because another advisory affects them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<PassedOver>,
    /// The command that carries the move out, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    /// Why there is no command (then the move is done by hand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
    /// What `--apply` did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<Applied>,
}

/// Why a package cannot be fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    /// These advisories name no fixed version above the installed one.
    NoFixedVersion { advisories: Vec<String> },
    /// Every fixed version lies inside another advisory's range.
    EveryFixAffected { passed_over: Vec<PassedOver> },
    /// The fix needs a requirement changed that the updater leaves alone.
    ConstraintBlocks {
        needed: String,
        constraints: Vec<Constraint>,
        /// The updater that cannot change it (`cargo update`, ...).
        tool: String,
    },
}

/// A vulnerable package without a fix gantry can plan.
#[derive(Debug, Clone, Serialize)]
pub struct Unfixable {
    pub package: String,
    pub ecosystem: Ecosystem,
    pub version: String,
    pub advisories: Vec<String>,
    pub lockfile: String,
    pub line: usize,
    #[serde(flatten)]
    pub reason: Reason,
}

/// The plan for a scan's findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub fixes: Vec<Fix>,
    pub unfixable: Vec<Unfixable>,
    /// The manifests read for constraints, relative to the scanned folder.
    pub manifests: Vec<String>,
    /// Manifests or requirements that could not be read.
    pub warnings: Vec<String>,
}

/// What `--renovate` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct RenovateWrite {
    pub file: PathBuf,
    /// Rules gantry wrote (its earlier rules are replaced).
    pub rules: usize,
    pub created: bool,
}

/// The scan after `--apply`.
#[derive(Debug, Clone, Serialize)]
pub struct Rescan {
    pub vulnerabilities: usize,
    pub gate_failed: bool,
}

/// A finished `scan --fix`.
#[derive(Debug)]
pub struct FixOutcome {
    pub mode: Mode,
    /// The scan the plan comes from.
    pub before: Outcome,
    pub plan: Plan,
    /// The scan after applying (apply mode only).
    pub after: Option<Outcome>,
    pub renovate: Option<RenovateWrite>,
}

/// A failure that stops `scan --fix`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Renovate(#[from] renovate::RenovateError),
}

/// Scans, plans, and (in apply mode) runs the updates and scans again.
pub fn run(db: &Database, request: &FixRequest, tools: &dyn Tools) -> Result<FixOutcome, FixError> {
    let before = check(db, &request.check)?;
    let mut plan = plan(db, &before);
    let renovate = if request.renovate {
        let dir = if request.check.path.is_dir() {
            request.check.path.clone()
        } else {
            before.base.clone()
        };
        Some(renovate::write(&dir, &plan)?)
    } else {
        None
    };
    let after = match request.mode {
        Mode::DryRun => None,
        Mode::Apply => {
            apply::apply(&before.base, &mut plan, tools);
            Some(check(db, &request.check)?)
        }
    };
    Ok(FixOutcome {
        mode: request.mode,
        before,
        plan,
        after,
        renovate,
    })
}

/// The findings of one installed package in one lockfile.
struct Group<'a> {
    findings: Vec<&'a Finding>,
}

/// Plans fixes for a scan's vulnerabilities (informational advisories
/// and ignored findings are left out).
pub fn plan(db: &Database, outcome: &Outcome) -> Plan {
    let mut groups: BTreeMap<(Ecosystem, String, String, String), Group<'_>> = BTreeMap::new();
    for f in &outcome.report.findings {
        groups
            .entry((
                f.ecosystem,
                f.package.clone(),
                f.version.clone(),
                f.location.file.clone(),
            ))
            .or_insert_with(|| Group {
                findings: Vec::new(),
            })
            .findings
            .push(f);
    }
    let mut manifests: HashMap<String, Manifests> = HashMap::new();
    let mut plan = Plan::default();
    for ((ecosystem, package, version, lockfile), group) in groups {
        let manifest = manifests
            .entry(lockfile.clone())
            .or_insert_with(|| manifests_for(&outcome.base, &lockfile));
        plan_one(
            db, ecosystem, &package, &version, &lockfile, &group, manifest, &mut plan,
        );
    }
    let mut files = BTreeSet::new();
    for m in manifests.values() {
        files.extend(m.files.iter().cloned());
        plan.warnings
            .extend(m.warnings.iter().map(ToString::to_string));
    }
    plan.manifests = files.into_iter().collect();
    plan.warnings.sort();
    plan.warnings.dedup();
    plan
}

/// Every advisory of a package (withdrawn and informational ones left
/// out), each under its finding's preferred id when a finding has it.
fn advisories(
    db: &Database,
    ecosystem: Ecosystem,
    package: &str,
    group: &Group<'_>,
) -> Vec<Advisory> {
    let name = ecosystem.normalize_name(package);
    let records = db.lookup(ecosystem.osv_name(), &name).unwrap_or_default();
    let mut out: Vec<Advisory> = Vec::new();
    for r in records
        .iter()
        .filter(|r| r.withdrawn.is_none() && r.informational().is_none())
    {
        let id = group
            .findings
            .iter()
            .find(|f| f.ids.contains(&r.id))
            .map_or_else(|| r.id.clone(), |f| f.id().to_string());
        let entries = r.affected.iter().filter(|a| {
            a.package.as_ref().is_some_and(|p| {
                p.ecosystem == ecosystem.osv_name() && ecosystem.normalize_name(&p.name) == name
            })
        });
        match out.iter_mut().find(|a| a.id == id) {
            Some(a) => a.affected.extend(entries.cloned()),
            None => out.push(Advisory {
                id,
                affected: entries.cloned().collect(),
            }),
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn plan_one(
    db: &Database,
    ecosystem: Ecosystem,
    package: &str,
    version: &str,
    lockfile: &str,
    group: &Group<'_>,
    manifest: &Manifests,
    plan: &mut Plan,
) {
    let order = order_for(ecosystem);
    let advisories = advisories(db, ecosystem, package, group);
    let ids: Vec<String> = group.findings.iter().map(|f| f.id().to_string()).collect();
    let lead = group.findings[0];
    let name = ecosystem.normalize_name(package);
    let mut constraints = Vec::new();
    let mut requirements = Vec::new();
    for d in manifest.for_package(&name) {
        match Requirement::parse(d) {
            Ok(r) => {
                requirements.push(r);
                constraints.push(Constraint {
                    file: d.file.clone(),
                    line: d.line,
                    requirement: d.requirement.clone(),
                });
            }
            Err(e) => plan.warnings.push(e.to_string()),
        }
    }
    let admits = |v: &str| requirements.iter().all(|r| r.admits(v));
    let admits_ref: &dyn Fn(&str) -> bool = &admits;
    let choice = choose(
        order,
        version,
        &advisories,
        (!requirements.is_empty()).then_some(admits_ref),
    );
    let unfixable = |reason| Unfixable {
        package: package.to_string(),
        ecosystem,
        version: version.to_string(),
        advisories: ids.clone(),
        lockfile: lockfile.to_string(),
        line: lead.location.line,
        reason,
    };
    match choice {
        Choice::NoFixedVersion { advisories } => {
            plan.unfixable
                .push(unfixable(Reason::NoFixedVersion { advisories }));
        }
        Choice::EveryFixAffected { passed_over } => {
            plan.unfixable
                .push(unfixable(Reason::EveryFixAffected { passed_over }));
        }
        Choice::Fix {
            to,
            constraint_changed,
            passed_over,
        } => {
            let to = written_as(ecosystem, version, &to);
            let updater = apply::updater(lockfile, manifest, ecosystem, package, lead.direct);
            if constraint_changed && !updater.changes_manifest {
                plan.unfixable.push(unfixable(Reason::ConstraintBlocks {
                    needed: to,
                    constraints,
                    tool: updater.tool.to_string(),
                }));
                return;
            }
            let (command, manual) = match updater.command(package, version, &to) {
                Ok(c) => (Some(c), None),
                Err(why) => (None, Some(why)),
            };
            plan.fixes.push(Fix {
                package: package.to_string(),
                ecosystem,
                from: version.to_string(),
                to,
                advisories: ids,
                constraint_changed,
                lockfile: lockfile.to_string(),
                line: lead.location.line,
                direct: lead.direct,
                constraints,
                passed_over,
                command,
                manual,
                applied: None,
            });
        }
    }
}

/// A version as the lockfile writes it: Go's carry a `v`, OSV's do not.
fn written_as(ecosystem: Ecosystem, from: &str, to: &str) -> String {
    if ecosystem == Ecosystem::Go && from.starts_with('v') && !to.starts_with('v') {
        format!("v{to}")
    } else {
        to.to_string()
    }
}

/// `scan --fix --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Document<'a> {
    pub version: u32,
    pub mode: Mode,
    pub fixes: &'a [Fix],
    pub unfixable: &'a [Unfixable],
    pub manifests: &'a [String],
    pub warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renovate: Option<&'a RenovateWrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescan: Option<Rescan>,
}

impl FixOutcome {
    /// The JSON form.
    pub fn document(&self) -> Document<'_> {
        Document {
            version: FIX_SCHEMA_VERSION,
            mode: self.mode,
            fixes: &self.plan.fixes,
            unfixable: &self.plan.unfixable,
            manifests: &self.plan.manifests,
            warnings: &self.plan.warnings,
            renovate: self.renovate.as_ref(),
            rescan: self.after.as_ref().map(|a| Rescan {
                vulnerabilities: a.report.findings.len(),
                gate_failed: a.gate.failed,
            }),
        }
    }

    /// Whether the gate fails: the rescan's after `--apply`, the scan's
    /// otherwise.
    pub fn gate_failed(&self) -> bool {
        self.after.as_ref().unwrap_or(&self.before).gate.failed
    }
}
