//! Proof files in the c2sp.org/tlog-proof@v1 format: the entry's index, its
//! inclusion proof and the signed checkpoint it leads to, verifiable offline
//! with the log's public key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::LedgerError;
use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::note::NoteVerifier;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed proof file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub hashes: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
}

impl TlogProof {
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            out.push_str(&STANDARD.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    pub fn parse(text: &str) -> Result<TlogProof, LedgerError> {
        let bad = |why: String| LedgerError::Proof(why);
        let rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or_else(|| bad(format!("the first line is not `{HEADER}`")))?;
        let (mut line, mut rest) = rest
            .split_once('\n')
            .ok_or_else(|| bad("no index line".into()))?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(
                STANDARD
                    .decode(b64)
                    .map_err(|_| bad("`extra` is not base64".into()))?,
            );
            (line, rest) = rest
                .split_once('\n')
                .ok_or_else(|| bad("no index line".into()))?;
        }
        let index = line
            .strip_prefix("index ")
            .ok_or_else(|| bad("no `index` line".into()))?;
        if index.is_empty()
            || !index.bytes().all(|b| b.is_ascii_digit())
            || (index.len() > 1 && index.starts_with('0'))
        {
            return Err(bad(
                "the index is not a decimal number without leading zeros".into(),
            ));
        }
        let index: u64 = index
            .parse()
            .map_err(|_| bad("the index does not fit 64 bits".into()))?;
        let mut hashes = Vec::new();
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or_else(|| bad("no blank line before the checkpoint".into()))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if hashes.len() >= 64 {
                return Err(bad("more than 64 proof hashes".into()));
            }
            let h = STANDARD
                .decode(line)
                .ok()
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "proof hash {} is not base64 of 32 bytes",
                        hashes.len()
                    ))
                })?;
            hashes.push(h);
        }
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: rest.to_string(),
        })
    }

    /// Verifies that `leaf` (a leaf hash) is the entry at `index` of the
    /// checkpointed tree, and that the checkpoint is signed by `verifier`.
    pub fn verify(&self, leaf: &Hash, verifier: &NoteVerifier) -> Result<Checkpoint, LedgerError> {
        let checkpoint = Checkpoint::open(&self.checkpoint, verifier)?;
        let proof: Vec<Vec<u8>> = self.hashes.iter().map(|h| h.to_vec()).collect();
        crate::verify::verify_inclusion(
            self.index,
            checkpoint.size,
            leaf,
            &proof,
            &checkpoint.root,
        )
        .map_err(|e| LedgerError::Proof(format!("entry {}: {e}", self.index)))?;
        Ok(checkpoint)
    }
}
