//! `gantry scan --fix`: the plan of smallest safe upgrades, carried out
//! with `--apply`, written as Renovate rules with `--renovate`. One call
//! to `gantry_vuln::fix::run`; this file renders its outcome.

use std::fmt::Write as _;
use std::path::Path;

use gantry_vuln::Request;
use gantry_vuln::fix::{Applied, FixError, FixOutcome, FixRequest, Mode, Reason, SystemTools};

use super::CliError;
use super::scan::{ScanArgs, ScanFormat, check_error, emit, print_scan_warnings};
use crate::Outcome;

pub(super) fn run(
    root: &Path,
    db: &gantry_vuln::Database,
    check: Request,
    args: &ScanArgs,
) -> Result<Outcome, CliError> {
    if args.format == ScanFormat::Sarif {
        return Err(CliError::usage(
            "--fix prints a plan, not SARIF".to_string(),
            Some("use --format human or --format json with --fix".into()),
        ));
    }
    let request = FixRequest {
        check,
        mode: if args.apply {
            Mode::Apply
        } else {
            Mode::DryRun
        },
        renovate: args.renovate,
    };
    let outcome = gantry_vuln::fix::run(db, &request, &SystemTools).map_err(|e| match e {
        FixError::Check(e) => check_error(e),
        other => CliError::usage(other.to_string(), None),
    })?;
    print_scan_warnings(outcome.after.as_ref().unwrap_or(&outcome.before));
    for w in &outcome.plan.warnings {
        eprintln!("warning: {w}");
    }
    let out = match args.format {
        ScanFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&outcome.document()).map_err(std::io::Error::from)?;
            text.push('\n');
            text
        }
        _ => human(&outcome),
    };
    emit(root, args.output.as_deref(), &out)?;
    print_gate_line(&outcome);
    Ok(if outcome.gate_failed() {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

/// The gate in one line: the plan already lists each finding.
fn print_gate_line(outcome: &FixOutcome) {
    let (scan, when) = match &outcome.after {
        Some(after) => (after, "after the fixes"),
        None => (&outcome.before, "before the fixes"),
    };
    let gate = &scan.gate;
    if gate.failed {
        eprintln!(
            "error: gate failed {when}: {} vulnerabilities at or above {} (--fail-on {}){}",
            gate.failing.len(),
            gate.fail_on,
            gate.fail_on,
            if gate.expired.is_empty() {
                String::new()
            } else {
                format!(", {} expired ignores", gate.expired.len())
            }
        );
    }
}

fn human(outcome: &FixOutcome) -> String {
    let plan = &outcome.plan;
    let mut out = String::new();
    if plan.fixes.is_empty() && plan.unfixable.is_empty() {
        let _ = writeln!(out, "nothing to fix: no known vulnerabilities");
    }
    if !plan.fixes.is_empty() {
        let _ = writeln!(
            out,
            "fixes{}:",
            match outcome.mode {
                Mode::DryRun => " (dry run; --apply carries them out)",
                Mode::Apply => "",
            }
        );
    }
    for f in &plan.fixes {
        let _ = writeln!(
            out,
            "  {} ({}) {} -> {}  {}:{}  fixes {}",
            f.package,
            f.ecosystem,
            f.from,
            f.to,
            f.lockfile,
            f.line,
            f.advisories.join(", ")
        );
        let constraint = if f.constraints.is_empty() {
            if f.direct {
                "no manifest requirement read".to_string()
            } else {
                "transitive: no requirement of ours".to_string()
            }
        } else {
            let reqs: Vec<String> = f
                .constraints
                .iter()
                .map(|c| format!("`{}` in {}", c.requirement, c.file))
                .collect();
            if f.constraint_changed {
                format!(
                    "constraint changed: {} does not admit {}",
                    reqs.join(", "),
                    f.to
                )
            } else {
                format!("constraint unchanged: {} admits {}", reqs.join(", "), f.to)
            }
        };
        let _ = writeln!(out, "      {constraint}");
        for p in &f.passed_over {
            let _ = writeln!(
                out,
                "      passed over {}: affected by {}",
                p.version, p.affected_by
            );
        }
        match (&f.command, &f.manual) {
            (Some(c), _) => {
                let _ = writeln!(out, "      run in {}: {c}", c.dir);
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "      by hand: {why}");
            }
            (None, None) => {}
        }
        match &f.applied {
            Some(Applied::Done) => {
                let _ = writeln!(out, "      applied");
            }
            Some(Applied::ToolMissing { program }) => {
                let _ = writeln!(out, "      not applied: `{program}` is not installed");
            }
            Some(Applied::Failed { code, message }) => {
                let code = code.map_or_else(|| "a signal".to_string(), |c| c.to_string());
                let _ = writeln!(out, "      failed (exit {code}):");
                for line in message.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
            Some(Applied::Manual { .. }) => {
                let _ = writeln!(out, "      not applied: no updater makes this move");
            }
            None => {}
        }
    }
    if !plan.unfixable.is_empty() {
        let _ = writeln!(out, "\nunfixable:");
    }
    for u in &plan.unfixable {
        let why = match &u.reason {
            Reason::NoFixedVersion { advisories } => {
                format!("no fixed version of {}", advisories.join(", "))
            }
            Reason::EveryFixAffected { passed_over } => format!(
                "every fixed version is affected by another advisory ({})",
                passed_over
                    .iter()
                    .map(|p| format!("{} by {}", p.version, p.affected_by))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Reason::ConstraintBlocks {
                needed,
                constraints,
                tool,
            } => format!(
                "needs {needed}, which {} does not admit and {tool} does not change; widen it",
                constraints
                    .iter()
                    .map(|c| format!("`{}` in {}", c.requirement, c.file))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let _ = writeln!(
            out,
            "  {} ({}) {}  {}:{}  {}: {why}",
            u.package,
            u.ecosystem,
            u.version,
            u.lockfile,
            u.line,
            u.advisories.join(", ")
        );
    }
    if !plan.manifests.is_empty() {
        let _ = writeln!(out, "\nmanifests read: {}", plan.manifests.join(", "));
    }
    if let Some(r) = &outcome.renovate {
        let _ = writeln!(
            out,
            "{} {} with {} package rule{}",
            if r.created { "wrote" } else { "updated" },
            r.file.display(),
            r.rules,
            if r.rules == 1 { "" } else { "s" }
        );
    }
    if let Some(after) = &outcome.after {
        let _ = writeln!(
            out,
            "\nrescan: {} vulnerabilities left",
            after.report.findings.len()
        );
    }
    let _ = writeln!(
        out,
        "\n{} fix{}, {} unfixable",
        plan.fixes.len(),
        if plan.fixes.len() == 1 { "" } else { "es" },
        plan.unfixable.len()
    );
    out
}
