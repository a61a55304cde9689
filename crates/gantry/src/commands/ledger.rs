//! `gantry ledger`: the tamper-evident evidence log under
//! `$GANTRY_HOME/ledger`.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::{Args, Subcommand, ValueEnum};
use gantry_attest::{Envelope, Statement, time};
use gantry_ledger::hash::to_hex;
use gantry_ledger::proof::TlogProof;
use gantry_ledger::record::{EvidenceRecord, RecordSubject, kind_for_predicate};
use gantry_ledger::{Ledger, LedgerError};
use serde_json::json;

use super::key::load_public;
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
    /// Recompute everything and report any change, and where.
    Verify(VerifyLedgerArgs),
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

/// Where the ledger lives.
pub fn ledger_dir() -> PathBuf {
    crate::home::home().join("ledger")
}

fn ledger_error(e: LedgerError) -> CliError {
    let hint = match &e {
        LedgerError::Corrupt(_) => {
            Some("run `gantry ledger verify` to locate the damage".to_string())
        }
        LedgerError::NoSuchEntry { .. } | LedgerError::SizeBeyondLog { .. } => Some(
            "entries are numbered from 0; `gantry ledger checkpoint` shows the size".to_string(),
        ),
        _ => None,
    };
    CliError::usage(e.to_string(), hint)
}

fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

fn print_json(v: &serde_json::Value) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(v).map_err(std::io::Error::from)?
    )?;
    Ok(())
}

pub fn run(root: &Path, args: LedgerArgs) -> Result<Outcome, CliError> {
    if let LedgerCommand::Verify(v) = &args.command
        && let Some(dir) = &v.export
    {
        return verify_export(root, dir, v.log_key.as_deref(), v.format);
    }
    let ledger = Ledger::open(&ledger_dir()).map_err(ledger_error)?;
    match args.command {
        LedgerCommand::Append(a) => append(root, &ledger, a),
        LedgerCommand::Checkpoint(a) => checkpoint(&ledger, a.format),
        LedgerCommand::Prove(a) => prove(&ledger, a),
        LedgerCommand::Verify(a) => verify(root, &ledger, a),
        LedgerCommand::Export(a) => export(root, &ledger, a),
    }
}

fn append(root: &Path, ledger: &Ledger, args: AppendArgs) -> Result<Outcome, CliError> {
    let path = resolve(root, &args.file);
    let meta = std::fs::metadata(&path).map_err(|source| CliError::Read {
        path: path.clone(),
        source,
    })?;
    if meta.len() > gantry_ledger::store::MAX_ENTRY_BYTES as u64 / 2 {
        return Err(CliError::usage(
            format!("{} is too large for a ledger entry", path.display()),
            None,
        ));
    }
    let bytes = std::fs::read(&path).map_err(|source| CliError::Read {
        path: path.clone(),
        source,
    })?;
    let bad = |e: String| {
        CliError::usage(
            format!("{}: {e}", display_path(root, &path)),
            Some("append the DSSE envelope written by `gantry attest`".to_string()),
        )
    };
    let envelope = Envelope::from_json(&bytes).map_err(|e| bad(e.to_string()))?;
    let statement = Statement::from_payload(&envelope.payload).map_err(|e| bad(e.to_string()))?;
    if let Some(key) = &args.key {
        let key = load_public(root, key)?;
        if gantry_attest::dsse::accepted_keys(&envelope.verify(&[key])).is_empty() {
            return Err(bad(
                "the envelope is not signed by the given key".to_string()
            ));
        }
    }
    let record = EvidenceRecord {
        kind: args
            .kind
            .clone()
            .unwrap_or_else(|| kind_for_predicate(&statement.predicate_type).to_string()),
        subjects: statement
            .subject
            .iter()
            .map(|s| RecordSubject {
                name: s.name.clone(),
                digest: s.digest.clone(),
            })
            .collect(),
        predicate_type: statement.predicate_type.clone(),
        envelope: serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?,
        time: time::rfc3339(time::now_or_source_date_epoch()),
        service: args.service.clone(),
        version: args.service_version.clone(),
        promotion: args.promotion.clone(),
    };
    let entry = record
        .to_canonical()
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    let index = ledger.append(&entry).map_err(ledger_error)?;
    let leaf = gantry_ledger::hash::leaf_hash(&entry);
    match args.format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "appended entry {index} ({}, {} subject(s)), leaf hash {}",
                record.kind,
                record.subjects.len(),
                to_hex(&leaf)
            )?;
        }
        Format::Json => {
            print_json(&json!({ "index": index, "kind": record.kind, "leaf_hash": to_hex(&leaf) }))?
        }
    }
    Ok(Outcome::Success)
}

fn checkpoint(ledger: &Ledger, format: Format) -> Result<Outcome, CliError> {
    let (c, note) = ledger.checkpoint().map_err(ledger_error)?;
    match format {
        Format::Human => std::io::stdout().lock().write_all(note.as_bytes())?,
        Format::Json => print_json(&json!({
            "origin": c.origin, "size": c.size, "root_hash": to_hex(&c.root), "note": note,
        }))?,
    }
    Ok(Outcome::Success)
}

fn b64(h: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(h)
}

fn prove(ledger: &Ledger, args: ProveArgs) -> Result<Outcome, CliError> {
    let snapshot = ledger.snapshot().map_err(ledger_error)?;
    let size = args.size.unwrap_or(snapshot.size());
    let mut out = std::io::stdout().lock();
    if let Some(old) = args.from {
        let proof = snapshot
            .consistency_proof(old, size)
            .map_err(ledger_error)?;
        let old_root = snapshot.root(old).map_err(ledger_error)?;
        let new_root = snapshot.root(size).map_err(ledger_error)?;
        match args.format {
            ProveFormat::Json | ProveFormat::TlogProof => {
                drop(out);
                print_json(&json!({
                    "old_size": old, "new_size": size,
                    "old_root": b64(&old_root), "new_root": b64(&new_root),
                    "proof": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                }))?;
            }
            ProveFormat::Human => {
                writeln!(
                    out,
                    "consistency of size {old} (root {}) with size {size} (root {}):",
                    to_hex(&old_root),
                    to_hex(&new_root)
                )?;
                for h in &proof {
                    writeln!(out, "  {}", to_hex(h))?;
                }
            }
        }
        return Ok(Outcome::Success);
    }
    let index = args.entry.unwrap_or(0);
    let proof = snapshot
        .inclusion_proof(index, size)
        .map_err(ledger_error)?;
    let (_, leaf) = snapshot.entry(index).map_err(ledger_error)?;
    let root = snapshot.root(size).map_err(ledger_error)?;
    match args.format {
        ProveFormat::Human => {
            writeln!(
                out,
                "entry {index} (leaf hash {}) is in the tree of size {size} (root {}):",
                to_hex(&leaf),
                to_hex(&root)
            )?;
            for h in &proof {
                writeln!(out, "  {}", to_hex(h))?;
            }
        }
        ProveFormat::Json => {
            drop(out);
            print_json(&json!({
                "index": index, "tree_size": size, "leaf_hash": b64(&leaf), "root": b64(&root),
                "proof": proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            }))?;
        }
        ProveFormat::TlogProof => {
            if size != snapshot.size() {
                return Err(CliError::usage(
                    "--format tlog-proof proves against a checkpoint of the whole log; drop --size",
                    None,
                ));
            }
            let (_, note) = ledger.checkpoint().map_err(ledger_error)?;
            let p = TlogProof {
                extra: None,
                index,
                hashes: proof,
                checkpoint: note,
            };
            out.write_all(p.to_text().as_bytes())?;
        }
    }
    Ok(Outcome::Success)
}

fn verify(root: &Path, ledger: &Ledger, args: VerifyLedgerArgs) -> Result<Outcome, CliError> {
    let mut extra = Vec::new();
    for c in &args.checkpoint {
        let path = resolve(root, c);
        extra.push((display_path(root, &path), super::read_text(&path)?));
    }
    let report = ledger.verify(&extra).map_err(ledger_error)?;
    match args.format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for p in &report.problems {
                writeln!(out, "FAIL {}: {}: {}", p.file, p.location, p.message)?;
            }
            writeln!(
                out,
                "{} entries, root {}, {} checkpoint(s) checked: {}",
                report.entries,
                report.root,
                report.checkpoints.len(),
                if report.ok() { "ok" } else { "TAMPERED" }
            )?;
        }
        Format::Json => print_json(&json!({
            "ok": report.ok(), "entries": report.entries, "root_hash": report.root,
            "checkpoints": report.checkpoints, "problems": report.problems,
        }))?,
    }
    Ok(if report.ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn verify_export(
    root: &Path,
    dir: &Path,
    log_key: Option<&Path>,
    format: Format,
) -> Result<Outcome, CliError> {
    let dir = resolve(root, dir);
    let verifier = match log_key {
        Some(p) => {
            let p = resolve(root, p);
            Some(
                gantry_ledger::note::NoteVerifier::from_text(&super::read_text(&p)?)
                    .map_err(ledger_error)?,
            )
        }
        None => None,
    };
    let report =
        gantry_ledger::export::verify_export(&dir, verifier.as_ref()).map_err(ledger_error)?;
    let ok = report.problems.is_empty();
    match format {
        Format::Human => {
            let mut out = std::io::stdout().lock();
            for p in &report.problems {
                writeln!(out, "FAIL {p}")?;
            }
            writeln!(
                out,
                "{} exported entries: {}",
                report.entries,
                if ok { "ok" } else { "TAMPERED" }
            )?;
        }
        Format::Json => print_json(
            &json!({ "ok": ok, "entries": report.entries, "problems": report.problems }),
        )?,
    }
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn export(root: &Path, ledger: &Ledger, args: ExportArgs) -> Result<Outcome, CliError> {
    let out_dir = resolve(root, &args.out);
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
        Format::Json => {
            print_json(&serde_json::to_value(&manifest).map_err(std::io::Error::from)?)?
        }
    }
    Ok(Outcome::Success)
}
