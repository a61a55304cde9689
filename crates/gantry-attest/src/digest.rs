//! Digests of bytes and files, as lower-case hex: SHA-256 (what gantry
//! writes), and SHA-384 and SHA-512 (what it can also check).

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::AttestError;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Opens a regular file; anything else (a FIFO that would block, a device
/// that never ends, a folder, a `/proc` file) is an error before it is
/// opened (see [`gantry_fs::open_regular`]).
pub fn open_regular(path: &Path) -> Result<std::fs::File, AttestError> {
    Ok(gantry_fs::open_regular(path)?)
}

/// The SHA-256 of a file's contents, in hex, read in blocks.
pub fn sha256_file(path: &Path) -> Result<String, AttestError> {
    let mut hasher = Sha256::new();
    read_blocks(path, |block| hasher.update(block))?;
    Ok(hex(&hasher.finalize()))
}

/// Hands a regular file's contents to `each`, 64 KiB at a time.
fn read_blocks(path: &Path, mut each: impl FnMut(&[u8])) -> Result<(), AttestError> {
    let mut file = open_regular(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| AttestError::read(path, e))?;
        if n == 0 {
            return Ok(());
        }
        each(&buf[..n]);
    }
}

/// The digest algorithms a subject may list that gantry can check.
pub const CHECKABLE: &[&str] = &["sha256", "sha384", "sha512"];

/// A file's digests in every algorithm of [`CHECKABLE`], in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDigests {
    pub sha256: String,
    pub sha384: String,
    pub sha512: String,
}

impl FileDigests {
    /// The digest named `algorithm` (an in-toto digest set key), if gantry
    /// can compute it.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        let digest = match algorithm {
            "sha256" => &self.sha256,
            "sha384" => &self.sha384,
            "sha512" => &self.sha512,
            _ => return None,
        };
        (!digest.is_empty()).then_some(digest.as_str())
    }

    /// Something known only by its SHA-256 (a container image, by its
    /// manifest digest): the other algorithms cannot be checked.
    pub fn sha256_only(hex: impl Into<String>) -> FileDigests {
        FileDigests {
            sha256: hex.into(),
            sha384: String::new(),
            sha512: String::new(),
        }
    }

    /// The digests of `bytes`.
    pub fn of(bytes: &[u8]) -> FileDigests {
        FileDigests {
            sha256: hex(&Sha256::digest(bytes)),
            sha384: hex(&Sha384::digest(bytes)),
            sha512: hex(&Sha512::digest(bytes)),
        }
    }
}

/// Every digest of [`CHECKABLE`] of a file, in one pass over it.
pub fn file_digests(path: &Path) -> Result<FileDigests, AttestError> {
    let (mut a, mut b, mut c) = (Sha256::new(), Sha384::new(), Sha512::new());
    read_blocks(path, |block| {
        a.update(block);
        b.update(block);
        c.update(block);
    })?;
    Ok(FileDigests {
        sha256: hex(&a.finalize()),
        sha384: hex(&b.finalize()),
        sha512: hex(&c.finalize()),
    })
}

/// The hex length of a digest gantry can check, by algorithm.
pub fn hex_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    }
}

/// `n` random bytes from the operating system, in hex (run ids and the
/// like; not for keys).
pub fn random_hex(n: usize) -> Result<String, AttestError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| AttestError::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

/// Whether `text` is a SHA-256 digest in lower-case hex.
pub fn is_sha256_hex(text: &str) -> bool {
    is_hex_of(text, 64)
}

/// Whether `text` is `len` lower-case hex digits.
pub fn is_hex_of(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_hex(&sha256_hex(b"")));
        assert!(!is_sha256_hex("ABC"));
    }
}
