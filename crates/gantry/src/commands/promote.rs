//! `gantry package`, `packages`, `approve`, `promote` and `promotions`:
//! each parses its arguments, makes one `gantry_promote` call and renders
//! the typed report.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use gantry_ledger::Ledger;
use gantry_promote::approval::{self, ApproveRequest};
use gantry_promote::package::{PackageRequest, PackageStore};
use gantry_promote::promote::{
    self, Decision, PromoteError, PromoteRequest, PromotionReport, ServiceDecision, Stores,
    Workspace,
};
use gantry_promote::state::History;
use gantry_promote::{GateResult, history};
use gantry_store::Home;

use super::CliError;
use super::key::load_private;
use super::ledger::print_json;
use super::user_path;
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct PackageArgs {
    #[command(subcommand)]
    pub command: PackageCommand,
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Make an immutable package of services at a version (the same
    /// content always gets the same id).
    #[command(disable_version_flag = true)]
    Create(CreateArgs),
    /// Show one package.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The services, by name; NAME@VERSION gives one its own version.
    #[arg(required = true, value_name = "SERVICE")]
    pub services: Vec<String>,
    /// The version of the services.
    #[arg(long)]
    pub version: String,
    /// A DSSE envelope the package is made with; its digest becomes part
    /// of the package's id (repeatable).
    #[arg(long, value_name = "FILE")]
    pub evidence: Vec<PathBuf>,
    /// A file the package ships, SERVICE=FILE for one service's;
    /// `provenance_verified` matches its SHA-256 against the subjects of
    /// that service's provenance (repeatable).
    #[arg(long, value_name = "[SERVICE=]FILE")]
    pub artifact: Vec<String>,
    /// Who creates it (`prevent_self_approval` refuses their approval)
    /// [default: $GANTRY_ACTOR, else $USER].
    #[arg(long = "as", value_name = "NAME")]
    pub created_by: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The package id, or at least 8 hex digits of it.
    pub id: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PackagesArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The package id, or at least 8 hex digits of it.
    #[arg(required_unless_present = "run", conflicts_with_all = ["run", "environment"])]
    pub package: Option<String>,
    /// Approve a run's jobs waiting for an environment's reviewers
    /// instead (with --environment).
    #[arg(long, value_name = "ID", requires = "environment")]
    pub run: Option<gantry_store::RunId>,
    /// The environment the run's jobs wait for (with --run).
    #[arg(long, value_name = "NAME", requires = "run")]
    pub environment: Option<String>,
    /// With --run: reject instead; the waiting jobs fail.
    #[arg(long, requires = "run")]
    pub reject: bool,
    /// The approver, as named under `approvers:` in .gantry/promotion.yml
    /// (with --run: a reviewer under the environment's `reviewers:` in
    /// .gantry/environments.yml).
    #[arg(long = "as", value_name = "NAME")]
    pub approver: String,
    /// The approver's private key (PKCS#8 PEM; GANTRY_KEY_PASSWORD if encrypted).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Why, for the record.
    #[arg(long)]
    pub comment: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The package id, or at least 8 hex digits of it.
    pub package: String,
    /// The target state [default: the next state of the package's least
    /// advanced service].
    #[arg(long, value_name = "STATE")]
    pub to: Option<String>,
    /// Evaluate every gate and say what would happen; record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: decide as if it were this time (RFC 3339), to
    /// rehearse windows and soak times.
    #[arg(long, value_name = "TIME", requires = "dry_run")]
    pub at: Option<jiff::Timestamp>,
    /// Who asks, for the record [default: $GANTRY_ACTOR, else $USER].
    #[arg(long = "as", value_name = "NAME")]
    pub requested_by: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PromotionsArgs {
    /// A promotion (package) id or prefix: show its whole chain.
    pub id: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn actor(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("GANTRY_ACTOR").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn now() -> jiff::Timestamp {
    // Whole seconds, as every other gantry timestamp.
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now)
}

fn error(e: impl std::error::Error) -> CliError {
    CliError::usage(e.to_string(), None)
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The repository's promotion workspace, or the outcome of refusing it
/// (its problems printed with their source lines).
fn workspace(root: &Path) -> Result<Result<Workspace, Outcome>, CliError> {
    match Workspace::load(root) {
        Ok(workspace) => Ok(Ok(workspace)),
        Err(PromoteError::Catalog(e)) => super::services::refused_catalog(&e).map(Err),
        Err(PromoteError::Config(e)) => super::services::refused_config(&e).map(Err),
        Err(e) => Err(error(e)),
    }
}

/// The promotion state the ledger records (none without a ledger).
pub(super) fn recorded_state(home: &Home) -> Result<History, CliError> {
    let dir = home.ledger();
    if !dir.exists() {
        return Ok(History::default());
    }
    let ledger = Ledger::open(&dir).map_err(error)?;
    History::build(&ledger.snapshot().map_err(error)?).map_err(error)
}

pub fn package(root: &Path, home: &Home, args: PackageArgs) -> Result<Outcome, CliError> {
    let store = PackageStore::new(home.packages());
    match args.command {
        PackageCommand::Create(a) => {
            let workspace = match workspace(root)? {
                Ok(workspace) => workspace,
                Err(refused) => return Ok(refused),
            };
            let known: Vec<String> = workspace.catalog.names().map(str::to_string).collect();
            let request = PackageRequest {
                services: a.services,
                version: a.version,
                evidence: a.evidence.iter().map(|p| user_path(root, p)).collect(),
                artifacts: a
                    .artifact
                    .iter()
                    .map(|given| match given.split_once('=') {
                        Some((service, path)) if !service.contains('/') => {
                            (Some(service.to_string()), user_path(root, Path::new(path)))
                        }
                        _ => (None, user_path(root, Path::new(given))),
                    })
                    .collect(),
                created_by: actor(a.created_by),
                time: now().to_string(),
            };
            let report = store.create(&request, &known).map_err(error)?;
            match a.format {
                Format::Json => print_json(&report)?,
                Format::Human => {
                    let mut out = std::io::stdout().lock();
                    writeln!(
                        out,
                        "{} package {}",
                        if report.created { "created" } else { "exists:" },
                        report.package.id
                    )?;
                    write_package(&mut out, &report.package)?;
                }
            }
            Ok(Outcome::Success)
        }
        PackageCommand::Show(a) => {
            let package = store.get(&a.id).map_err(error)?;
            match a.format {
                Format::Json => print_json(&package)?,
                Format::Human => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "package {}", package.id)?;
                    write_package(&mut out, &package)?;
                }
            }
            Ok(Outcome::Success)
        }
    }
}

fn write_package(
    out: &mut impl Write,
    package: &gantry_promote::package::Package,
) -> Result<(), CliError> {
    writeln!(
        out,
        "  created by {} at {}",
        package.created_by, package.created_at
    )?;
    for s in &package.content.services {
        writeln!(out, "  service   {} {}", s.name, s.version)?;
    }
    for a in &package.content.artifacts {
        match &a.service {
            Some(service) => writeln!(
                out,
                "  artifact  {} sha256:{} ({service})",
                a.name, a.sha256
            )?,
            None => writeln!(out, "  artifact  {} sha256:{}", a.name, a.sha256)?,
        }
    }
    for e in &package.content.evidence {
        writeln!(out, "  evidence  sha256:{} {}", e.sha256, e.predicate_type)?;
    }
    Ok(())
}

pub fn packages(home: &Home, args: PackagesArgs) -> Result<Outcome, CliError> {
    let report = PackageStore::new(home.packages()).list().map_err(error)?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => {
            let mut out = std::io::stdout().lock();
            if report.packages.is_empty() {
                writeln!(
                    out,
                    "no packages yet; `gantry package create --version V SERVICE...` makes one"
                )?;
            }
            for p in &report.packages {
                let services: Vec<String> = p
                    .content
                    .services
                    .iter()
                    .map(|s| format!("{}@{}", s.name, s.version))
                    .collect();
                writeln!(
                    out,
                    "{}  {}  {}  {}",
                    short(&p.id),
                    p.created_at,
                    p.created_by,
                    services.join(" ")
                )?;
            }
        }
    }
    Ok(Outcome::Success)
}

fn ledger(home: &Home) -> Result<Ledger, CliError> {
    Ledger::create_or_open(&home.ledger()).map_err(error)
}

pub fn approve(root: &Path, home: &Home, args: ApproveArgs) -> Result<Outcome, CliError> {
    let (Some(package), None) = (&args.package, args.run) else {
        let (Some(run), Some(environment)) = (args.run, args.environment.as_deref()) else {
            return Err(CliError::usage(
                "name a package, or a run with --run and --environment",
                None,
            ));
        };
        return super::deploy::approve_run(
            root,
            home,
            run,
            environment,
            &args.approver,
            &args.key,
            args.comment,
            args.reject,
            args.format,
        );
    };
    let workspace = match workspace(root)? {
        Ok(workspace) => workspace,
        Err(refused) => return Ok(refused),
    };
    let package = PackageStore::new(home.packages())
        .get(package)
        .map_err(error)?;
    let key = load_private(root, &args.key)?;
    let request = ApproveRequest {
        package: &package,
        approver: &args.approver,
        key: &key,
        comment: args.comment,
        time: now().to_string(),
    };
    let report = approval::approve(
        &ledger(home)?,
        &home.locks(),
        workspace.approver_rules(),
        &request,
    )
    .map_err(error)?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{} approved package {} with key {}",
                report.approver,
                short(&report.package),
                short(&report.key_id)
            )?;
            for (service, entry) in &report.entries {
                writeln!(out, "  {service}: ledger entry {entry}")?;
            }
        }
    }
    Ok(Outcome::Success)
}

pub fn promote(root: &Path, home: &Home, args: PromoteArgs) -> Result<Outcome, CliError> {
    let workspace = match workspace(root)? {
        Ok(workspace) => workspace,
        Err(refused) => return Ok(refused),
    };
    let packages = PackageStore::new(home.packages());
    let ledger = ledger(home)?;
    let locks = home.locks();
    let request = PromoteRequest {
        package: args.package,
        to: args.to,
        dry_run: args.dry_run,
        requested_by: actor(args.requested_by),
        now: args.at.unwrap_or_else(now),
    };
    let stores = Stores {
        ledger: &ledger,
        packages: &packages,
        locks: &locks,
    };
    let report = promote::promote(&workspace, stores, &request, |service| {
        eprintln!("waiting: another promotion holds {service}");
    })
    .map_err(error)?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => write_promotion(&mut std::io::stdout().lock(), &report)?,
    }
    Ok(match report.decision {
        Decision::Promoted => Outcome::Success,
        Decision::Blocked | Decision::Pending => Outcome::Failure,
    })
}

fn mark(result: GateResult) -> &'static str {
    match result {
        GateResult::Pass => "pass",
        GateResult::Fail => "FAIL",
        GateResult::Pending => "wait",
        GateResult::Skipped => "skip",
    }
}

fn write_promotion(out: &mut impl Write, report: &PromotionReport) -> Result<(), CliError> {
    let nothing_to_do = !report.services.is_empty()
        && report
            .services
            .iter()
            .all(|s| s.decision == ServiceDecision::Unchanged);
    let decision = match report.decision {
        Decision::Promoted if nothing_to_do => "already there",
        Decision::Promoted if report.dry_run => "would be promoted",
        Decision::Promoted => "promoted",
        Decision::Blocked => "blocked",
        Decision::Pending => "pending",
    };
    writeln!(
        out,
        "package {} → {}: {decision}{}",
        short(&report.package),
        report.to,
        if report.dry_run { " (dry run)" } else { "" }
    )?;
    if let Some(message) = &report.message {
        writeln!(out, "  {message}")?;
    }
    for s in &report.services {
        let decision = match s.decision {
            ServiceDecision::Promoted if report.dry_run => "would be promoted",
            ServiceDecision::Promoted => "promoted",
            ServiceDecision::Blocked => "blocked",
            ServiceDecision::Pending => "pending",
            ServiceDecision::Ready => "ready (held back by another service)",
            ServiceDecision::Unchanged => "already there",
        };
        writeln!(
            out,
            "\n{} {}: {} → {}: {decision}",
            s.service, s.version, s.from, s.to
        )?;
        let width = s.gates.iter().map(|g| g.name.len()).max().unwrap_or(0);
        for g in &s.gates {
            writeln!(
                out,
                "  {} {:width$}  {} {}: {}",
                mark(g.result),
                g.name,
                g.gate_type.as_str(),
                g.level.as_str(),
                g.reason
            )?;
        }
    }
    if !report.recorded.is_empty() {
        writeln!(
            out,
            "\nrecorded in the ledger: entries {}..={}",
            report.recorded[0],
            report.recorded[report.recorded.len() - 1]
        )?;
    }
    Ok(())
}

pub fn promotions(home: &Home, args: PromotionsArgs) -> Result<Outcome, CliError> {
    let history = recorded_state(home)?;
    match args.id {
        None => {
            let report = history::list(&history);
            match args.format {
                Format::Json => print_json(&report)?,
                Format::Human => {
                    let mut out = std::io::stdout().lock();
                    if report.promotions.is_empty() {
                        writeln!(
                            out,
                            "no promotions yet; `gantry promote PACKAGE` starts one"
                        )?;
                    }
                    for p in &report.promotions {
                        let last = p.attempts.last();
                        writeln!(
                            out,
                            "{}  {}  {}  {}",
                            short(&p.id),
                            p.last,
                            last.map_or("approved only".to_string(), |a| format!(
                                "{} → {}",
                                a.decision, a.to
                            )),
                            p.services.join(" ")
                        )?;
                    }
                }
            }
        }
        Some(id) => {
            let detail = history::show(&history, &id).map_err(error)?;
            match args.format {
                Format::Json => print_json(&detail)?,
                Format::Human => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "promotion {}", detail.summary.id)?;
                    for a in &detail.summary.attempts {
                        writeln!(out, "  {} → {}: {}", a.time, a.to, a.decision)?;
                        for s in &a.services {
                            writeln!(
                                out,
                                "    {} {}: {} → {}: {} (entry {})",
                                s.service, s.version, s.from, s.to, s.decision, s.entry
                            )?;
                        }
                    }
                    for a in &detail.summary.approvals {
                        writeln!(
                            out,
                            "  {} approved by {} for {} (entry {})",
                            a.time, a.approver, a.service, a.entry
                        )?;
                    }
                }
            }
        }
    }
    Ok(Outcome::Success)
}
