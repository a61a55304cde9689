//! C2SP signed notes with Ed25519 keys (c2sp.org/signed-note): a text
//! ending in a newline, a blank line, and signature lines
//! `— <key name> base64(key id || signature)`.
//!
//! Keys use the sumdb text encodings: a verifier key is
//! `<name>+<key id hex>+base64(0x01 || public key)`, a signer key
//! `PRIVATE+KEY+<name>+<key id hex>+base64(0x01 || seed)`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};

use crate::LedgerError;

/// The signature type byte of Ed25519.
const ED25519: u8 = 0x01;
/// Most signature lines read from a note.
const MAX_SIGNATURES: usize = 100;
/// Most bytes of a note.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// `SHA-256(name || 0x0A || 0x01 || public key)[:4]`, big-endian.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// An Ed25519 note signer.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An Ed25519 note verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl NoteSigner {
    /// A new random key named `name`.
    pub fn generate(name: &str) -> Result<NoteSigner, LedgerError> {
        if !valid_name(name) {
            return Err(LedgerError::Key(format!(
                "`{name}` is not a valid key name"
            )));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| LedgerError::Random(e.to_string()))?;
        Ok(NoteSigner {
            name: name.to_string(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// Reads `PRIVATE+KEY+<name>+<id>+<base64>`.
    pub fn from_text(text: &str) -> Result<NoteSigner, LedgerError> {
        let bad = |why: &str| LedgerError::Key(format!("not a signer key: {why}"));
        let text = text.strip_suffix('\n').unwrap_or(text);
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("no PRIVATE+KEY+ prefix"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+id+key"));
        };
        let bytes = STANDARD.decode(b64).map_err(|_| bad("key is not base64"))?;
        if bytes.len() != 33 || bytes[0] != ED25519 {
            return Err(bad("only Ed25519 (type 0x01, 32 bytes) keys are supported"));
        }
        let seed: [u8; 32] = bytes[1..].try_into().map_err(|_| bad("bad length"))?;
        let signer = NoteSigner {
            name: name.to_string(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        };
        if !valid_name(name) || format!("{:08x}", signer.id()) != id {
            return Err(bad("the name or key id does not match the key"));
        }
        Ok(signer)
    }

    /// `PRIVATE+KEY+<name>+<id>+<base64>`.
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id(),
            STANDARD.encode(bytes)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        key_id(&self.name, &self.key.verifying_key().to_bytes())
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must end in a newline) into a signed note.
    pub fn sign(&self, text: &str) -> Result<String, LedgerError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.id().to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n\u{2014} {} {}\n",
            self.name,
            STANDARD.encode(blob)
        ))
    }
}

fn check_text(text: &str) -> Result<(), LedgerError> {
    if !text.ends_with('\n') {
        return Err(LedgerError::Note(
            "the text does not end in a newline".into(),
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(LedgerError::Note(
            "the text holds a control character".into(),
        ));
    }
    Ok(())
}

impl NoteVerifier {
    /// Reads `<name>+<id>+<base64(0x01 || key)>`.
    pub fn from_text(text: &str) -> Result<NoteVerifier, LedgerError> {
        let bad = |why: &str| LedgerError::Key(format!("not a verifier key: {why}"));
        let text = text.strip_suffix('\n').unwrap_or(text);
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the key holds whitespace"));
        }
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+id+key"));
        };
        if !valid_name(name) || id.len() != 8 {
            return Err(bad("malformed name or key id"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("key id is not hex"))?;
        let bytes = STANDARD.decode(b64).map_err(|_| bad("key is not base64"))?;
        if bytes.len() != 33 || bytes[0] != ED25519 {
            return Err(bad("only Ed25519 (type 0x01, 32 bytes) keys are supported"));
        }
        let public: [u8; 32] = bytes[1..].try_into().map_err(|_| bad("bad length"))?;
        if key_id(name, &public) != id {
            return Err(bad("the key id does not match the key"));
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
            .map_err(|_| bad("not an Ed25519 point"))?;
        Ok(NoteVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// `<name>+<id>+<base64>`.
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, STANDARD.encode(bytes))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// Opens a signed note: returns its text if this key signed it. Lines
    /// from other keys are ignored; a line from this key that fails to
    /// verify rejects the note.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, LedgerError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(LedgerError::Note(format!(
                "more than {MAX_NOTE_BYTES} bytes"
            )));
        }
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(LedgerError::Note(
                "the note holds a control character".into(),
            ));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| LedgerError::Note("no blank line before the signatures".into()))?;
        let text = &note[..=split];
        let sigs = &note[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(LedgerError::Note(
                "the signature lines do not end in a newline".into(),
            ));
        }
        let mut verified = false;
        for (i, line) in sigs.lines().enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(LedgerError::Note("too many signatures".into()));
            }
            let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| {
                LedgerError::Note(format!(
                    "signature line {} does not start with an em dash",
                    i + 1
                ))
            })?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| {
                LedgerError::Note(format!("signature line {} is malformed", i + 1))
            })?;
            if !valid_name(name) || b64.contains(' ') {
                return Err(LedgerError::Note(format!(
                    "signature line {} is malformed",
                    i + 1
                )));
            }
            let blob = STANDARD.decode(b64).map_err(|_| {
                LedgerError::Note(format!("signature line {} is not base64", i + 1))
            })?;
            if blob.len() < 4 {
                return Err(LedgerError::Note(format!(
                    "signature line {} is too short",
                    i + 1
                )));
            }
            let id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
            if name != self.name || id != self.id {
                continue;
            }
            let sig = <[u8; 64]>::try_from(&blob[4..])
                .map_err(|_| LedgerError::Note("an Ed25519 signature has 64 bytes".into()))?;
            let sig = ed25519_dalek::Signature::from_bytes(&sig);
            if self.key.verify_strict(text.as_bytes(), &sig).is_err() {
                return Err(LedgerError::Note(format!(
                    "the signature of {} does not verify: the note was changed",
                    self.name
                )));
            }
            verified = true;
        }
        if verified {
            Ok(text)
        } else {
            Err(LedgerError::Note(format!(
                "not signed by {} ({:08x})",
                self.name, self.id
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // The example of golang.org/x/mod/sumdb/note: another implementation's
    // keys and signature, reproduced byte for byte.
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIG: &str = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

    #[test]
    fn go_sumdb_note_vector() {
        let signer = NoteSigner::from_text(SKEY).unwrap();
        assert_eq!(signer.to_text(), SKEY);
        assert_eq!(signer.verifier().to_text(), VKEY);
        let note = signer.sign(TEXT).unwrap();
        assert_eq!(note, format!("{TEXT}\n\u{2014} PeterNeumann {SIG}\n"));
        let verifier = NoteVerifier::from_text(VKEY).unwrap();
        assert_eq!(verifier.open(&note).unwrap(), TEXT);
    }

    #[test]
    fn every_changed_byte_is_rejected() {
        let signer = NoteSigner::generate("example.com/log").unwrap();
        let verifier = signer.verifier();
        let note = signer.sign("example.com/log\n3\nAAAA\n").unwrap();
        let bytes = note.as_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.to_vec();
                b[i] ^= 1 << bit;
                if let Ok(text) = std::str::from_utf8(&b) {
                    assert!(verifier.open(text).is_err(), "byte {i} bit {bit}");
                }
            }
        }
        let other = NoteSigner::generate("example.com/log").unwrap();
        assert!(other.verifier().open(&note).is_err());
    }
}
