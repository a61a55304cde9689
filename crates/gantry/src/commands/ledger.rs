//! `gantry ledger`: the tamper-evident evidence log under
//! `$GANTRY_HOME/ledger`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use gantry_attest::time;
use gantry_ledger::hash::to_hex;
use gantry_ledger::report::{self, AppendRequest};
use gantry_ledger::{Ledger, LedgerError};
use serde::Serialize;

use super::key::load_public;
use super::user_path;
use super::{CliError, display_path};
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Append an attestation (DSSE envelope) as an evidence record.
    Append(AppendArgs),
    /// Sign a checkpoint of the log as it is now.
    Checkpoint(FormatArg),
    /// Prove an entry's inclusion (or, with --from, the log's consistency).
    Prove(ProveArgs),
    /// Recompute everything and report any change, and where (never writes).
    Verify(VerifyLedgerArgs),
    /// Remove a torn tail an interrupted append left; refuses to drop
    /// anything that was acknowledged.
    Repair(FormatArg),
    /// Lay out one service's evidence, with proofs, for an auditor.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct FormatArg {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    /// The DSSE envelope (from `gantry attest`).
    pub file: PathBuf,
    /// The record kind [default: from the predicate type: provenance, sbom,
    /// vulns, audit, test-result, vsa; promotion-request etc. by hand].
    #[arg(long)]
    pub kind: Option<String>,
    /// The service the evidence belongs to (for `ledger export`).
    #[arg(long)]
    pub service: Option<String>,
    /// The service version it is about.
    #[arg(long, value_name = "VERSION")]
    pub service_version: Option<String>,
    /// The promotion it belongs to.
    #[arg(long)]
    pub promotion: Option<String>,
    /// Append only if this public key signed the envelope.
    #[arg(long, value_name = "PUB")]
    pub key: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ProveFormat {
    #[default]
    Human,
    Json,
    /// c2sp.org/tlog-proof with a fresh signed checkpoint.
    TlogProof,
}

#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The entry to prove.
    #[arg(long, value_name = "N", required_unless_present = "from")]
    pub entry: Option<u64>,
    /// The tree size to prove against [default: the whole log].
    #[arg(long, value_name = "M")]
    pub size: Option<u64>,
    /// Prove that the log at this size is a prefix of the log at --size.
    #[arg(long, value_name = "OLD", conflicts_with = "entry")]
    pub from: Option<u64>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ProveFormat,
}

#[derive(Debug, Args)]
pub struct VerifyLedgerArgs {
    /// A signed checkpoint (e.g. one kept elsewhere) that must match (repeatable).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Vec<PathBuf>,
    /// Check an export folder offline instead of the log.
    #[arg(long, value_name = "DIR", conflicts_with = "checkpoint")]
    pub export: Option<PathBuf>,
    /// With --export: the log key to trust [default: the export's ledger/log.pub].
    #[arg(long, value_name = "FILE", requires = "export")]
    pub log_key: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The service whose evidence to export.
    #[arg(long)]
    pub service: String,
    /// An empty or missing folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn ledger_error(e: LedgerError) -> CliError {
    let hint = match &e {
        LedgerError::Corrupt(_)
        | LedgerError::Truncated(_)
        | LedgerError::DamagedCommitted { .. }
        | LedgerError::RepairRefused { .. }
        | LedgerError::RepairDamaged { .. } => {
            Some("run `gantry ledger verify` to locate the damage".to_string())
        }
        LedgerError::MissingCommitted { .. } => Some(
            "a ledger written by an older gantry has none: `gantry ledger repair` writes it when the log is whole"
                .to_string(),
        ),
        LedgerError::UnacknowledgedTail { .. } => Some(
            "an earlier append was interrupted; run `gantry ledger repair` to remove what it left"
                .to_string(),
        ),
        LedgerError::MissingKey { .. } | LedgerError::DamagedKey { .. } => Some(
            "restore the ledger's log.key and log.pub from a backup; a new key would disown its checkpoints"
                .to_string(),
        ),
        LedgerError::NotALedger { .. } => {
            Some("append evidence first with `gantry ledger append`".to_string())
        }
        LedgerError::NoSuchEntry { .. } | LedgerError::SizeBeyondLog { .. } => Some(
            "entries are numbered from 0; `gantry ledger checkpoint` shows the size".to_string(),
        ),
        LedgerError::Attestation(_) | LedgerError::NotSignedBy { .. } => {
            Some("append the DSSE envelope written by `gantry attest`".to_string())
        }
        _ => None,
    };
    CliError::usage(e.to_string(), hint)
}

/// Prints `v` as indented JSON and a newline.
pub(super) fn print_json(v: &impl Serialize) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(v).map_err(std::io::Error::from)?
    )?;
    Ok(())
}

fn outcome(ok: bool) -> Outcome {
    if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    }
}

pub fn run(root: &Path, home: &gantry_store::Home, args: LedgerArgs) -> Result<Outcome, CliError> {
    let dir = home.ledger();
    match args.command {
        LedgerCommand::Verify(v) if v.export.is_some() => verify_export(root, &v),
        LedgerCommand::Append(a) => append(
            root,
            &Ledger::create_or_open(&dir).map_err(ledger_error)?,
            a,
        ),
        LedgerCommand::Checkpoint(a) => checkpoint(
            &Ledger::create_or_open(&dir).map_err(ledger_error)?,
            a.format,
        ),
        LedgerCommand::Export(a) => export(
            root,
            &Ledger::create_or_open(&dir).map_err(ledger_error)?,
            a,
        ),
        LedgerCommand::Prove(a) => prove(&Ledger::open(&dir).map_err(ledger_error)?, a),
        LedgerCommand::Verify(a) => verify(root, &Ledger::open(&dir).map_err(ledger_error)?, a),
        LedgerCommand::Repair(a) => repair(&Ledger::open(&dir).map_err(ledger_error)?, a.format),
    }
}

fn append(root: &Path, ledger: &Ledger, args: AppendArgs) -> Result<Outcome, CliError> {
    let path = user_path(root, &args.file);
    let bytes =
        gantry_attest::read_limited(&path, gantry_ledger::store::MAX_ENTRY_BYTES as u64 / 2)
            .map_err(|e| CliError::usage(e.to_string(), None))?;
    let request = AppendRequest {
        kind: args.kind,
        service: args.service,
        version: args.service_version,
        promotion: args.promotion,
        trusted_key: args.key.map(|k| load_public(root, &k)).transpose()?,
        time: time::rfc3339(time::now_or_source_date_epoch()),
    };
    let r = report::append_envelope(ledger, &bytes, &request).map_err(|e| {
        let about_input = matches!(
            e,
            LedgerError::Attestation(_)
                | LedgerError::NotSignedBy { .. }
                | LedgerError::EntryTooLarge { .. }
                | LedgerError::Record(_)
        );
        match ledger_error(e) {
            CliError::Usage { message, hint } if about_input => CliError::Usage {
                message: format!("{}: {message}", display_path(root, &path)),
                hint,
            },
            other => other,
        }
    })?;
    match args.format {
        Format::Human => writeln!(
            std::io::stdout().lock(),
            "appended entry {} ({}, {} subject(s)), leaf hash {}",
            r.index,
            r.kind,
            r.subjects,
            to_hex(&r.leaf_hash)
        )?,
        Format::Json => print_json(&r)?,
    }
    Ok(Outcome::Success)
}

fn checkpoint(ledger: &Ledger, format: Format) -> Result<Outcome, CliError> {
    let r = report::checkpoint(ledger).map_err(ledger_error)?;
    match format {
        Format::Human => std::io::stdout().lock().write_all(r.note.as_bytes())?,
        Format::Json => print_json(&r)?,
    }
    Ok(Outcome::Success)
}

fn prove(ledger: &Ledger, args: ProveArgs) -> Result<Outcome, CliError> {
    let mut out = std::io::stdout().lock();
    if let Some(old) = args.from {
        let r = report::prove_consistency(ledger, old, args.size).map_err(ledger_error)?;
        match args.format {
            ProveFormat::Json | ProveFormat::TlogProof => {
                drop(out);
                print_json(&r)?;
            }
            ProveFormat::Human => {
                writeln!(
                    out,
                    "consistency of size {old} (root {}) with size {} (root {}):",
                    to_hex(&r.old_root),
                    r.new_size,
                    to_hex(&r.new_root)
                )?;
                for h in &r.proof {
                    writeln!(out, "  {}", to_hex(h))?;
                }
            }
        }
        return Ok(Outcome::Success);
    }
    let index = args.entry.unwrap_or(0);
    if args.format == ProveFormat::TlogProof {
        if args.size.is_some() {
            return Err(CliError::usage(
                "--format tlog-proof proves against a checkpoint of the whole log; drop --size",
                None,
            ));
        }
        let p = report::tlog_proof(ledger, index).map_err(ledger_error)?;
        out.write_all(p.to_text().as_bytes())?;
        return Ok(Outcome::Success);
    }
    let r = report::prove_inclusion(ledger, index, args.size).map_err(ledger_error)?;
    match args.format {
        ProveFormat::Human => {
            writeln!(
                out,
                "entry {index} (leaf hash {}) is in the tree of size {} (root {}):",
                to_hex(&r.leaf_hash),
                r.tree_size,
                to_hex(&r.root)
            )?;
            for h in &r.proof {
                writeln!(out, "  {}", to_hex(h))?;
            }
        }
        _ => {
            drop(out);
            print_json(&r)?;
        }
    }
    Ok(Outcome::Success)
}

fn verify(root: &Path, ledger: &Ledger, args: VerifyLedgerArgs) -> Result<Outcome, CliError> {
    let mut extra = Vec::new();
    for c in &args.checkpoint {
        let path = user_path(root, c);
        extra.push((display_path(root, &path), super::read_text(&path)?));
    }
    let report = ledger.verify(&extra).map_err(ledger_error)?;
    match args.format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for p in &report.problems {
                writeln!(out, "FAIL {}: {}: {}", p.file, p.location, p.message)?;
            }
            let verdict = if report.ok() {
                "ok"
            } else if report.only_unacknowledged_tail() {
                "TORN TAIL (run `gantry ledger repair`)"
            } else {
                "TAMPERED"
            };
            writeln!(
                out,
                "{} entries, root {}, {} checkpoint(s) checked: {verdict}",
                report.entries,
                report.root,
                report.checkpoints.len(),
            )?;
        }
        Format::Json => print_json(&report)?,
    }
    Ok(outcome(report.ok()))
}

fn repair(ledger: &Ledger, format: Format) -> Result<Outcome, CliError> {
    let r = ledger.repair().map_err(ledger_error)?;
    match format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            if r.rewrote_torn_slot {
                writeln!(
                    out,
                    "rewrote the commit slot the interrupted append tore: {} acknowledged entries",
                    r.entries
                )?;
            }
            for t in &r.removed {
                writeln!(out, "removed {}: bytes {}..{}", t.file, t.from, t.to)?;
            }
            if r.wrote_commit_record {
                writeln!(
                    out,
                    "wrote the missing commit record: {} entries, all acknowledged",
                    r.entries
                )?;
            } else if r.removed.is_empty() {
                writeln!(out, "nothing to repair: {} acknowledged entries", r.entries)?;
            } else {
                writeln!(
                    out,
                    "removed an unacknowledged tail ({} whole frame(s)); {} acknowledged entries kept",
                    r.unacknowledged_frames, r.entries
                )?;
            }
        }
        Format::Json => print_json(&r)?,
    }
    Ok(Outcome::Success)
}

fn verify_export(root: &Path, args: &VerifyLedgerArgs) -> Result<Outcome, CliError> {
    let Some(dir) = &args.export else {
        return Err(CliError::usage("--export needs a folder", None));
    };
    let dir = user_path(root, dir);
    let verifier = match &args.log_key {
        Some(p) => {
            let p = user_path(root, p);
            Some(
                gantry_ledger::note::NoteVerifier::from_text(&super::read_text(&p)?)
                    .map_err(ledger_error)?,
            )
        }
        None => None,
    };
    let report =
        gantry_ledger::export::verify_export(&dir, verifier.as_ref()).map_err(ledger_error)?;
    match args.format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for p in &report.problems {
                writeln!(out, "FAIL {p}")?;
            }
            writeln!(
                out,
                "{} exported entries: {}",
                report.entries,
                if report.ok { "ok" } else { "TAMPERED" }
            )?;
        }
        Format::Json => print_json(&report)?,
    }
    Ok(outcome(report.ok))
}

fn export(root: &Path, ledger: &Ledger, args: ExportArgs) -> Result<Outcome, CliError> {
    let out_dir = user_path(root, &args.out);
    let manifest =
        gantry_ledger::export::export(ledger, &args.service, &out_dir).map_err(ledger_error)?;
    match args.format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "exported {} entries of {} to {} (tree size {}, root {})",
                manifest.entries.len(),
                manifest.service,
                out_dir.display(),
                manifest.tree_size,
                manifest.root_hash
            )?;
            for e in &manifest.entries {
                writeln!(out, "  {:>6} {:<12} {}", e.index, e.kind, e.envelope)?;
            }
        }
        Format::Json => print_json(&manifest)?,
    }
    Ok(Outcome::Success)
}
