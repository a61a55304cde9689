//! Checkpoints (c2sp.org/tlog-checkpoint): the note text
//! `<origin>\n<tree size>\n<base64 root hash>\n`, then optional extension
//! lines, signed as a note by the log's key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::LedgerError;
use crate::hash::Hash;
use crate::note::{NoteSigner, NoteVerifier};

/// A checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines, each non-empty.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parses a note text (already verified).
    pub fn from_text(text: &str) -> Result<Checkpoint, LedgerError> {
        let bad = |why: &str| LedgerError::Checkpoint(why.to_string());
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("the text does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        let size = lines.next().ok_or_else(|| bad("no tree size line"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad(
                "the tree size is not a decimal number without leading zeros",
            ));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| bad("the tree size does not fit 64 bits"))?;
        let root = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root = STANDARD
            .decode(root)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or_else(|| bad("the root hash is not base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an extension line is empty"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint as a note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, LedgerError> {
        signer.sign(&self.to_text())
    }

    /// Verifies a signed checkpoint with the log's key and reads it; its
    /// origin must be the key's name.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, LedgerError> {
        let text = verifier.open(note)?;
        let checkpoint = Checkpoint::from_text(text)?;
        if checkpoint.origin != verifier.name() {
            return Err(LedgerError::Checkpoint(format!(
                "origin `{}` is not the log's `{}`",
                checkpoint.origin,
                verifier.name()
            )));
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let signer = NoteSigner::generate("gantry.example/ledger").unwrap();
        let c = Checkpoint {
            origin: "gantry.example/ledger".into(),
            size: 7,
            root: [7u8; 32],
            extensions: vec![],
        };
        let note = c.sign(&signer).unwrap();
        assert_eq!(Checkpoint::open(&note, &signer.verifier()).unwrap(), c);
        for bad in [
            "o\n07\nBwcH\n",
            "o\n-1\nAAAA\n",
            "o\n1\nAAAA\n",
            "o\n1",
            "\n1\nAAAA\n",
        ] {
            assert!(Checkpoint::from_text(bad).is_err(), "{bad:?}");
        }
    }
}
