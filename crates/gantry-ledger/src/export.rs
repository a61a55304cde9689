//! Evidence for one service laid out for an auditor, with everything
//! needed to check it offline:
//!
//! ```text
//! OUT/
//!   specs/<version>/          SBOMs (dependencies), verification summaries (compliance), specs (api)
//!   evidence/<YYYYMMDD>/      sast/ (audit), vulnerabilities/, tests/, provenance/, metrics/, other/
//!   promotions/<id>/          request, validation, approval
//!   ledger/log.pub            the log's verifier key (signed-note format)
//!   ledger/checkpoint         the signed checkpoint every proof leads to; its
//!                             `gantry-export` extension line commits to the
//!                             exported entries, so removing one is detected
//!   manifest.json             every exported entry and file, with SHA-256 digests
//!   VERIFY.md                 how to check it by hand
//! ```
//!
//! Each piece of evidence is three files: `<name>.intoto.json` (the DSSE
//! envelope), `<name>.entry.json` (the exact ledger entry: its RFC 6962
//! leaf hash is SHA-256(0x00 || bytes)) and `<name>.tlog-proof` (the
//! c2sp.org/tlog-proof with the inclusion proof and the checkpoint).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::hash::{Hash, leaf_hash, to_hex};
use crate::proof::TlogProof;
use crate::record::EvidenceRecord;
use crate::store::Ledger;
use crate::{LedgerError, note::NoteVerifier};

/// One exported piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportedEntry {
    pub index: u64,
    pub kind: String,
    pub predicate_type: String,
    pub time: String,
    pub leaf_hash: String,
    /// Paths relative to the export folder.
    pub envelope: String,
    pub entry: String,
    pub proof: String,
    /// For an evidence chain record, the file holding it in the chain
    /// format (`promotions/ID/request.json`, `validation.json`,
    /// `approval.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

/// The extension line of an export's checkpoint:
/// `gantry-export <service> <count> <sha256 hex>`, the digest over each
/// exported entry's index (u64 big-endian) and leaf hash, in index order.
pub const EXPORT_EXTENSION: &str = "gantry-export";

/// The version of `manifest.json`.
pub const MANIFEST_VERSION: u32 = 1;

fn export_commitment(service: &str, entries: &[(u64, Hash)]) -> String {
    use sha2::Digest as _;
    let mut sorted = entries.to_vec();
    sorted.sort();
    let mut hasher = sha2::Sha256::new();
    for (index, leaf) in &sorted {
        hasher.update(index.to_be_bytes());
        hasher.update(leaf);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    format!(
        "{EXPORT_EXTENSION} {service} {} {}",
        sorted.len(),
        to_hex(&digest)
    )
}

fn default_manifest_version() -> u32 {
    MANIFEST_VERSION
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    #[serde(default = "default_manifest_version")]
    pub version: u32,
    pub service: String,
    pub origin: String,
    pub tree_size: u64,
    pub root_hash: String,
    pub entries: Vec<ExportedEntry>,
    /// Every file but the manifest, with its SHA-256.
    pub files: BTreeMap<String, String>,
}

fn folder_for(record: &EvidenceRecord) -> (PathBuf, String) {
    let day: String = record
        .time
        .chars()
        .take(10)
        .filter(char::is_ascii_digit)
        .collect();
    let day = if day.len() == 8 {
        day
    } else {
        "undated".to_string()
    };
    let version = record
        .version
        .clone()
        .unwrap_or_else(|| "unversioned".to_string());
    let evidence = |sub: &str| {
        (
            PathBuf::from("evidence").join(&day).join(sub),
            record.kind.clone(),
        )
    };
    match record.kind.as_str() {
        "sbom" => (PathBuf::from("specs").join(version), "dependencies".into()),
        "vsa" => (PathBuf::from("specs").join(version), "compliance".into()),
        "spec" => (PathBuf::from("specs").join(version), "api".into()),
        k if k.starts_with("promotion-") => {
            let id = record
                .promotion
                .clone()
                .unwrap_or_else(|| "unassigned".into());
            (
                PathBuf::from("promotions").join(id),
                k.trim_start_matches("promotion-").to_string(),
            )
        }
        "audit" => evidence("sast"),
        "vulns" => evidence("vulnerabilities"),
        "test-result" => evidence("tests"),
        "provenance" => evidence("provenance"),
        "metrics" => evidence("metrics"),
        _ => evidence("other"),
    }
}

fn write_new(
    out: &Path,
    rel: &Path,
    bytes: &[u8],
    files: &mut BTreeMap<String, String>,
) -> Result<(), LedgerError> {
    let path = out.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LedgerError::io("create", parent, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| LedgerError::io("write", &path, e))?;
    files.insert(rel_text(rel), crate::hash::to_hex(&sha2_digest(bytes)));
    Ok(())
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

fn rel_text(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Exports the evidence of `service` into `out` (which must be missing or
/// empty), against a checkpoint signed now.
pub fn export(ledger: &Ledger, service: &str, out: &Path) -> Result<Manifest, LedgerError> {
    if !crate::record::valid_segment(service) {
        return Err(LedgerError::Record(format!(
            "service `{service}` may hold only letters, digits and - _ . + @"
        )));
    }
    if out.exists() {
        let mut it = std::fs::read_dir(out).map_err(|e| LedgerError::io("read", out, e))?;
        if it.next().is_some() {
            return Err(LedgerError::io(
                "export into",
                out,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the folder is not empty"),
            ));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| LedgerError::io("create", out, e))?;
    let (mut checkpoint, _) = ledger.checkpoint()?;
    let snapshot = ledger.snapshot()?;
    let size = checkpoint.size;
    let mut chosen = Vec::new();
    for index in 0..size {
        let (bytes, leaf) = snapshot.entry(index)?;
        let record = EvidenceRecord::from_canonical(&bytes)
            .map_err(|e| LedgerError::Corrupt(format!("entry {index}: {e}")))?;
        if record.service.as_deref() == Some(service) {
            chosen.push((index, bytes, leaf, record));
        }
    }
    // The export's own checkpoint: the same tree, plus a line committing to
    // exactly the exported entries.
    let leaves: Vec<(u64, Hash)> = chosen.iter().map(|(i, _, l, _)| (*i, *l)).collect();
    checkpoint
        .extensions
        .push(export_commitment(service, &leaves));
    let note = checkpoint.sign(&ledger.signer()?)?;
    let mut files = BTreeMap::new();
    let mut entries = Vec::new();
    let mut used: BTreeMap<PathBuf, u32> = BTreeMap::new();
    for (index, bytes, leaf, record) in chosen {
        let (folder, stem) = folder_for(&record);
        let mut base = folder.join(&stem);
        let count = used.entry(base.clone()).or_insert(0);
        *count += 1;
        if *count > 1 || !folder.starts_with("promotions") {
            base = folder.join(format!("{stem}-{index:06}"));
        }
        let envelope_rel = base.with_extension("intoto.json");
        let entry_rel = base.with_extension("entry.json");
        let proof_rel = base.with_extension("tlog-proof");
        let mut envelope = serde_json::to_vec_pretty(&record.envelope)
            .map_err(|e| LedgerError::Record(e.to_string()))?;
        envelope.push(b'\n');
        write_new(out, &envelope_rel, &envelope, &mut files)?;
        write_new(out, &entry_rel, &bytes, &mut files)?;
        let proof = TlogProof {
            extra: None,
            index,
            hashes: snapshot.inclusion_proof(index, size)?,
            checkpoint: note.clone(),
        };
        write_new(out, &proof_rel, proof.to_text().as_bytes(), &mut files)?;
        let record_rel = match crate::chain::ChainRecord::from_record(&record)
            .map_err(|e| LedgerError::Corrupt(format!("entry {index}: {e}")))?
        {
            Some(chain) => {
                let rel = base.with_extension("json");
                let mut text = serde_json::to_vec_pretty(&chain)
                    .map_err(|e| LedgerError::Record(e.to_string()))?;
                text.push(b'\n');
                write_new(out, &rel, &text, &mut files)?;
                Some(rel_text(&rel))
            }
            None => None,
        };
        entries.push(ExportedEntry {
            index,
            kind: record.kind.clone(),
            predicate_type: record.predicate_type.clone(),
            time: record.time.clone(),
            leaf_hash: to_hex(&leaf),
            envelope: rel_text(&envelope_rel),
            entry: rel_text(&entry_rel),
            proof: rel_text(&proof_rel),
            record: record_rel,
        });
    }
    let verifier = ledger.verifier()?;
    write_new(
        out,
        Path::new("ledger/log.pub"),
        format!("{}\n", verifier.to_text()).as_bytes(),
        &mut files,
    )?;
    write_new(
        out,
        Path::new("ledger/checkpoint"),
        note.as_bytes(),
        &mut files,
    )?;
    write_new(
        out,
        Path::new("VERIFY.md"),
        verify_text(service).as_bytes(),
        &mut files,
    )?;
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        service: service.to_string(),
        origin: checkpoint.origin.clone(),
        tree_size: size,
        root_hash: to_hex(&checkpoint.root),
        entries,
        files,
    };
    let mut text =
        serde_json::to_vec_pretty(&manifest).map_err(|e| LedgerError::Record(e.to_string()))?;
    text.push(b'\n');
    let path = out.join("manifest.json");
    std::fs::write(&path, text).map_err(|e| LedgerError::io("write", &path, e))?;
    Ok(manifest)
}

fn verify_text(service: &str) -> String {
    format!(
        "# Evidence for {service}\n\n\
Every piece of evidence is three files:\n\n\
- `NAME.intoto.json`: a DSSE envelope holding an in-toto Statement; verify its\n  signatures with the signer's public key (`gantry verify --key KEY.pub --attestation NAME.intoto.json`,\n  or any DSSE implementation such as securesystemslib's `Envelope.verify`).\n\
- `NAME.entry.json`: the exact bytes of the ledger entry (RFC 8785 canonical JSON\n  holding the envelope). Its leaf hash is SHA-256(0x00 || bytes) (RFC 9162, 2.1.1).\n\
- `NAME.tlog-proof`: a c2sp.org/tlog-proof: the entry's index, its inclusion proof\n  and the signed checkpoint. Check the checkpoint's signature with `ledger/log.pub`\n  (c2sp.org/signed-note, Ed25519), then the inclusion proof against the checkpoint's\n  root with the algorithm of RFC 9162, section 2.1.3.2.\n\n\
`manifest.json` lists every entry and the SHA-256 of every file.\n\
`gantry ledger verify --export DIR` does all of the above.\n"
    )
}

/// Most bytes of one exported file: an envelope, an entry or a proof.
const MAX_EXPORTED_FILE: u64 = crate::store::MAX_ENTRY_BYTES as u64 + (1 << 20);

/// Reads `rel` inside the export `dir`: a relative path of plain segments,
/// no symbolic link on the way, a regular file, bounded in size.
fn read_inside(dir: &Path, rel: &str) -> Result<Vec<u8>, LedgerError> {
    let refuse = |why: &str| {
        LedgerError::io(
            "read",
            &dir.join(rel),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_string()),
        )
    };
    if rel
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
        || rel.contains('\\')
    {
        return Err(refuse("not a path inside the export"));
    }
    let mut path = dir.to_path_buf();
    for segment in rel.split('/') {
        path.push(segment);
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| LedgerError::io("read", &path, e))?;
        if meta.file_type().is_symlink() {
            return Err(refuse("a symbolic link inside the export"));
        }
    }
    Ok(gantry_fs::read_bounded(&path, MAX_EXPORTED_FILE)?)
}

/// What checking an export found.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub version: u32,
    /// Whether nothing was found.
    pub ok: bool,
    /// Entries the manifest lists.
    pub entries: usize,
    pub problems: Vec<String>,
}

impl ExportReport {
    fn problem(&mut self, message: String) {
        self.ok = false;
        self.problems.push(message);
    }
}

/// Checks an export offline: file digests, each entry's leaf hash, each
/// proof against the signed checkpoint, and that each envelope is the one
/// in its entry. `verifier` is the log key the auditor trusts (the
/// export's own `ledger/log.pub` when `None`).
pub fn verify_export(
    dir: &Path,
    verifier: Option<&NoteVerifier>,
) -> Result<ExportReport, LedgerError> {
    let read = |rel: &str| read_inside(dir, rel);
    let manifest: Manifest = serde_json::from_slice(&read("manifest.json")?)
        .map_err(|e| LedgerError::Record(format!("manifest.json: {e}")))?;
    let own;
    let verifier = match verifier {
        Some(v) => v,
        None => {
            own = NoteVerifier::from_text(&String::from_utf8_lossy(&read("ledger/log.pub")?))?;
            &own
        }
    };
    let mut report = ExportReport {
        version: crate::store::REPORT_VERSION,
        ok: true,
        entries: manifest.entries.len(),
        problems: Vec::new(),
    };
    if manifest.version != MANIFEST_VERSION {
        report.problem(format!(
            "manifest.json: version {} is not {MANIFEST_VERSION}",
            manifest.version
        ));
    }
    let checkpoint_text = String::from_utf8(read("ledger/checkpoint")?).unwrap_or_default();
    match Checkpoint::open(&checkpoint_text, verifier) {
        Err(e) => report.problem(format!("ledger/checkpoint: {e}")),
        Ok(c) => check_commitment(&manifest, &c, &mut report),
    }
    // Every file an entry or the checker needs is listed with its digest.
    let needed = manifest
        .entries
        .iter()
        .flat_map(|e| [&e.envelope, &e.entry, &e.proof])
        .map(String::as_str)
        .chain(["ledger/log.pub", "ledger/checkpoint", "VERIFY.md"]);
    for rel in needed {
        if !manifest.files.contains_key(rel) {
            report.problem(format!(
                "manifest.json: {rel} is not in the list of files and digests"
            ));
        }
    }
    for (rel, want) in &manifest.files {
        if rel.split('/').any(|s| s == ".." || s.is_empty()) {
            report.problem(format!("{rel}: not a path inside the export"));
            continue;
        }
        match read(rel) {
            Ok(bytes) if to_hex(&sha2_digest(&bytes)) == *want => {}
            Ok(_) => report.problem(format!(
                "{rel}: its SHA-256 differs from the manifest: the file changed"
            )),
            Err(e) => report.problem(format!("{rel}: {e}")),
        }
    }
    let mut chain = crate::chain::ChainLinks::default();
    let mut previous_index = None;
    for e in &manifest.entries {
        let checks = (|| -> Result<(), String> {
            let bytes = read(&e.entry).map_err(|x| x.to_string())?;
            let leaf = leaf_hash(&bytes);
            if to_hex(&leaf) != e.leaf_hash {
                return Err(format!(
                    "{}: its leaf hash differs from the manifest's",
                    e.entry
                ));
            }
            let record =
                EvidenceRecord::from_canonical(&bytes).map_err(|x| format!("{}: {x}", e.entry))?;
            if previous_index.is_some_and(|p| p >= e.index) {
                return Err(format!(
                    "manifest.json: entry {} is listed after entry {}: entries must be in log order",
                    e.index,
                    previous_index.unwrap_or_default()
                ));
            }
            previous_index = Some(e.index);
            chain
                .observe(&record, &bytes)
                .map_err(|x| format!("{}: {x}", e.entry))?;
            let held = crate::chain::ChainRecord::from_record(&record)
                .map_err(|x| format!("{}: {x}", e.entry))?;
            match (&e.record, held) {
                (None, None) => {}
                (Some(rel), Some(held)) => {
                    let written: crate::chain::ChainRecord =
                        serde_json::from_slice(&read(rel).map_err(|x| x.to_string())?)
                            .map_err(|x| format!("{rel}: not an evidence chain record: {x}"))?;
                    if written != held {
                        return Err(format!(
                            "{rel}: differs from the chain record in the ledger entry"
                        ));
                    }
                }
                (Some(rel), None) => {
                    return Err(format!(
                        "manifest.json: entry {} lists {rel}, but it is not a chain record",
                        e.index
                    ));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "manifest.json: entry {} is a chain record but names no record file",
                        e.index
                    ));
                }
            }
            if record.kind != e.kind
                || record.predicate_type != e.predicate_type
                || record.time != e.time
                || record.service.as_deref() != Some(manifest.service.as_str())
            {
                return Err(format!(
                    "manifest.json: entry {}: its kind, predicate type, time or service differs from {}",
                    e.index, e.entry
                ));
            }
            let envelope: serde_json::Value =
                serde_json::from_slice(&read(&e.envelope).map_err(|x| x.to_string())?)
                    .map_err(|x| format!("{}: {x}", e.envelope))?;
            if envelope != record.envelope {
                return Err(format!(
                    "{}: differs from the envelope in the ledger entry",
                    e.envelope
                ));
            }
            let text = String::from_utf8(read(&e.proof).map_err(|x| x.to_string())?)
                .map_err(|_| format!("{}: not UTF-8", e.proof))?;
            let proof = TlogProof::parse(&text).map_err(|x| format!("{}: {x}", e.proof))?;
            if proof.checkpoint != checkpoint_text {
                return Err(format!(
                    "{}: proves against another checkpoint than ledger/checkpoint",
                    e.proof
                ));
            }
            if proof.index != e.index {
                return Err(format!(
                    "{}: proves entry {} not {}",
                    e.proof, proof.index, e.index
                ));
            }
            proof
                .verify(&leaf, verifier)
                .map_err(|x| format!("{}: {x}", e.proof))?;
            Ok(())
        })();
        if let Err(m) = checks {
            report.problem(m);
        }
    }
    Ok(report)
}

/// Checks the manifest against the checkpoint: the same tree, and exactly
/// the entries its `gantry-export` line commits to.
fn check_commitment(manifest: &Manifest, checkpoint: &Checkpoint, report: &mut ExportReport) {
    if checkpoint.origin != manifest.origin {
        report.problem(format!(
            "manifest.json: origin `{}` is not the signed checkpoint's `{}`",
            manifest.origin, checkpoint.origin
        ));
    }
    if checkpoint.size != manifest.tree_size || to_hex(&checkpoint.root) != manifest.root_hash {
        report.problem(format!(
            "manifest.json: tree size {} and root {} differ from the signed checkpoint's ({}, {})",
            manifest.tree_size,
            manifest.root_hash,
            checkpoint.size,
            to_hex(&checkpoint.root)
        ));
    }
    let Some(signed) = checkpoint
        .extensions
        .iter()
        .find(|l| l.starts_with(&format!("{EXPORT_EXTENSION} ")))
    else {
        report.problem(
            "ledger/checkpoint: it does not commit to the exported entries, so removed entries cannot be detected"
                .to_string(),
        );
        return;
    };
    let mut listed = Vec::new();
    for e in &manifest.entries {
        match crate::hash::hash_from_hex(&e.leaf_hash) {
            Some(leaf) => listed.push((e.index, leaf)),
            None => report.problem(format!(
                "manifest.json: entry {}: the leaf hash is not 64 hex digits",
                e.index
            )),
        }
    }
    let ours = export_commitment(&manifest.service, &listed);
    if &ours != signed {
        let count = signed.split(' ').nth(2).unwrap_or("?");
        report.problem(format!(
            "manifest.json: the signed checkpoint commits to {count} entries of this export (`{signed}`), the manifest lists {} of `{}` that do not match: entries were removed, added or changed",
            listed.len(),
            manifest.service
        ));
    }
}
