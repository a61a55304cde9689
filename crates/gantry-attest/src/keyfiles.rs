//! Key pairs on disk: `PREFIX.key` (PKCS#8 PEM, mode 0600, encrypted when a
//! passphrase is given) and `PREFIX.pub` (SPKI PEM), and what a key file
//! holds, as typed, versioned reports.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::AttestError;
use crate::keys::{Algorithm, PrivateKey, PublicKey};

/// The version of the JSON documents of this module.
pub const REPORT_VERSION: u32 = 1;

/// A key pair written by [`generate_key_pair`].
#[derive(Debug, Clone, Serialize)]
pub struct GeneratedKey {
    pub version: u32,
    pub algorithm: &'static str,
    pub keyid: String,
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    pub encrypted: bool,
}

/// What a key file holds.
#[derive(Debug, Clone, Serialize)]
pub struct KeyDescription {
    pub version: u32,
    pub algorithm: &'static str,
    pub keyid: String,
    pub private: bool,
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn write_file(path: &Path, text: &str, mode: u32, force: bool) -> Result<(), AttestError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let write_error = |source| AttestError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AttestError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            write_error(e)
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write_error)
}

/// Generates a key pair and writes `PREFIX.key` and `PREFIX.pub`; existing
/// files are an error unless `force`.
pub fn generate_key_pair(
    prefix: &Path,
    algorithm: Algorithm,
    password: Option<&[u8]>,
    force: bool,
) -> Result<GeneratedKey, AttestError> {
    let key = PrivateKey::generate(algorithm)?;
    let pem = key.to_pem(password)?;
    let private_path = with_suffix(prefix, ".key");
    let public_path = with_suffix(prefix, ".pub");
    if !force {
        for p in [&private_path, &public_path] {
            if p.exists() {
                return Err(AttestError::Exists { path: p.clone() });
            }
        }
    }
    write_file(&private_path, &pem, 0o600, force)?;
    write_file(&public_path, &key.public_key().to_pem(), 0o644, force)?;
    Ok(GeneratedKey {
        version: REPORT_VERSION,
        algorithm: algorithm.name(),
        keyid: key.key_id().to_string(),
        private_key: private_path,
        public_key: public_path,
        encrypted: password.is_some(),
    })
}

impl KeyDescription {
    /// Describes a private key.
    pub fn of_private(key: &PrivateKey) -> KeyDescription {
        KeyDescription {
            version: REPORT_VERSION,
            algorithm: key.algorithm().name(),
            keyid: key.key_id().to_string(),
            private: true,
        }
    }

    /// Describes a public key.
    pub fn of_public(key: &PublicKey) -> KeyDescription {
        KeyDescription {
            version: REPORT_VERSION,
            algorithm: key.algorithm().name(),
            keyid: key.key_id().to_string(),
            private: false,
        }
    }
}

/// Whether a PEM text holds a private key.
pub fn is_private_pem(text: &str) -> bool {
    text.contains("PRIVATE KEY-----")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generates_once_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("k");
        let g = generate_key_pair(&prefix, Algorithm::Ed25519, None, false).unwrap();
        let text = std::fs::read_to_string(&g.private_key).unwrap();
        assert_eq!(PrivateKey::from_pem(&text, None).unwrap().key_id(), g.keyid);
        assert!(matches!(
            generate_key_pair(&prefix, Algorithm::Ed25519, None, false),
            Err(AttestError::Exists { .. })
        ));
        assert_eq!(std::fs::read_to_string(&g.private_key).unwrap(), text);
        let again = generate_key_pair(&prefix, Algorithm::EcdsaP256, None, true).unwrap();
        assert_ne!(again.keyid, g.keyid);
    }
}
