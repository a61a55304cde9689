//! Release evidence gantry itself made: signed DSSE envelopes (in-toto
//! statements) kept in the checkout (`*.intoto.json`, `*.intoto.jsonl`,
//! `*.dsse.json`), detached signatures (`*.sig`, `*.asc`, `*.minisig`,
//! `*.sign`, `*.sigstore`, `*.sigstore.json`) and the records of the
//! evidence ledger. Each piece names what it is about: the commits its
//! statement mentions (SLSA provenance lists the source commit), the
//! ledger record's version, and the folders of its file.
//!
//! Signatures are not verified here (Scorecard does not verify either);
//! `gantry verify` does.

use std::collections::BTreeSet;

use crate::checkout::Checkout;

/// The most bytes of an envelope file read.
const MAX_ENVELOPE_BYTES: u64 = 16 << 20;

/// What one piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SLSA provenance.
    Provenance,
    /// An SBOM predicate (CycloneDX or SPDX).
    Sbom,
    /// Any other signed statement, or a detached signature.
    Signed,
}

/// One piece of evidence and what it is about.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub kind: Kind,
    /// Where it is: a checkout file, or `ledger entry N`.
    pub place: String,
    /// 40-hex commit ids the statement mentions.
    pub commits: BTreeSet<String>,
    /// The ledger record's version, or the folders of the file.
    pub labels: BTreeSet<String>,
}

impl Evidence {
    /// Whether this is about a release `tag` at `commit`.
    pub fn about(&self, tag: &str, commit: &str) -> bool {
        let bare = tag.strip_prefix('v').unwrap_or(tag);
        self.commits.contains(commit) || self.labels.contains(tag) || self.labels.contains(bare)
    }
}

fn kind_of(predicate_type: &str) -> Kind {
    match gantry_ledger::record::kind_for_predicate(predicate_type) {
        "provenance" => Kind::Provenance,
        "sbom" => Kind::Sbom,
        _ => Kind::Signed,
    }
}

/// Every 40-hex run in `text` (commit ids).
fn commits_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_hexdigit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                i += 1;
            }
            if i - start == 40 {
                out.insert(text[start..i].to_ascii_lowercase());
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The predicate type and payload text of a signed envelope.
fn statement_of(envelope: &[u8]) -> Option<(String, String)> {
    let env = gantry_attest::Envelope::from_json(envelope).ok()?;
    if env.signatures.is_empty() {
        return None;
    }
    let payload = String::from_utf8(env.payload).ok()?;
    let value: serde_json::Value = serde_json::from_str(&payload).ok()?;
    let predicate = value.get("predicateType")?.as_str()?.to_string();
    Some((predicate, payload))
}

const ENVELOPE_SUFFIXES: &[&str] = &[".intoto.json", ".intoto.jsonl", ".dsse.json"];
const SIGNATURE_SUFFIXES: &[&str] = &[
    ".sig",
    ".asc",
    ".minisig",
    ".sign",
    ".sigstore",
    ".sigstore.json",
];

fn folders(rel: &str) -> BTreeSet<String> {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.into_iter().map(str::to_string).collect()
}

/// The evidence of the checkout's files and of the ledger.
pub fn collect(checkout: &Checkout<'_>) -> Vec<Evidence> {
    let mut out = Vec::new();
    for rel in &checkout.files {
        let lower = rel.to_ascii_lowercase();
        if ENVELOPE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
            let Ok(bytes) = gantry_fs::read_bounded(&checkout.path(rel), MAX_ENVELOPE_BYTES) else {
                continue;
            };
            // `.jsonl`: one envelope a line.
            let pieces: Vec<&[u8]> = if lower.ends_with(".jsonl") {
                bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .collect()
            } else {
                vec![&bytes[..]]
            };
            for piece in pieces {
                if let Some((predicate, payload)) = statement_of(piece) {
                    out.push(Evidence {
                        kind: kind_of(&predicate),
                        place: rel.clone(),
                        commits: commits_in(&payload),
                        labels: folders(rel),
                    });
                }
            }
        } else if SIGNATURE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
            out.push(Evidence {
                kind: Kind::Signed,
                place: rel.clone(),
                commits: BTreeSet::new(),
                labels: folders(rel),
            });
        }
    }
    if let Some(dir) = &checkout.options.ledger {
        ledger(dir, &mut out);
    }
    out
}

/// The ledger's records (nothing when it cannot be read).
fn ledger(dir: &std::path::Path, out: &mut Vec<Evidence>) {
    let Ok(ledger) = gantry_ledger::Ledger::open(dir) else {
        return;
    };
    let Ok(snapshot) = ledger.snapshot() else {
        return;
    };
    let _ = snapshot.for_each_entry(|index, bytes| {
        let Ok(record) = gantry_ledger::EvidenceRecord::from_canonical(bytes) else {
            return Ok::<(), gantry_ledger::LedgerError>(());
        };
        let envelope = serde_json::to_vec(&record.envelope).unwrap_or_default();
        let commits = statement_of(&envelope)
            .map(|(_, payload)| commits_in(&payload))
            .unwrap_or_default();
        out.push(Evidence {
            kind: kind_of(&record.predicate_type),
            place: format!("ledger entry {index}"),
            commits,
            labels: record.version.into_iter().collect(),
        });
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commit_ids_only() {
        let a = "0123456789abcdef0123456789abcdef01234567";
        let text = format!("{{\"gitCommit\":\"{a}\",\"sha256\":\"{a}{a}\"}}");
        assert_eq!(commits_in(&text).into_iter().collect::<Vec<_>>(), vec![a]);
    }
}
