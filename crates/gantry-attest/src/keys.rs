//! Signing keys: Ed25519 and ECDSA P-256, stored as PKCS#8 PEM (encrypted
//! with a passphrase when one is given) with the public half as SPKI PEM.
//!
//! A key's id is the SHA-256 of its public key's DER (SubjectPublicKeyInfo),
//! in hex. Ed25519 signatures are the 64 raw bytes of RFC 8032; ECDSA P-256
//! signatures are ASN.1 DER over SHA-256 (what cosign and securesystemslib
//! write), and the 64-byte `r || s` form is accepted when verifying.
//! ECDSA signatures are canonical: gantry signs with a low `s` and rejects
//! a high `s` (the malleated twin of a valid signature).

use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use pkcs8::der::Decode as _;
use pkcs8::{
    DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _,
};

use crate::AttestError;
use crate::digest::sha256_hex;

/// A signature algorithm gantry signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256.
    EcdsaP256,
}

impl Algorithm {
    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        }
    }

    /// Parses a name given by [`Algorithm::name`].
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "ed25519" => Some(Algorithm::Ed25519),
            "ecdsa-p256" => Some(Algorithm::EcdsaP256),
            _ => None,
        }
    }
}

const OID_ED25519: &str = "1.3.101.112";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

#[derive(Clone)]
enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// A private key that signs.
#[derive(Clone)]
pub struct PrivateKey {
    secret: Secret,
    public: PublicKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.public.key_id)
            .finish_non_exhaustive()
    }
}

/// A public key that verifies, with its key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    public: Public,
    der: Vec<u8>,
    key_id: String,
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AttestError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AttestError::Random(e.to_string()))?;
    Ok(bytes)
}

/// Most scrypt memory an encrypted key may ask for, as `N * r` (128 bytes
/// each): 256 MiB, sixteen times what gantry and OpenSSL write (`N = 2^14`,
/// `r = 8`).
const MAX_SCRYPT_MEMORY: u64 = 1 << 21;
/// Most scrypt work an encrypted key may ask for, as `N * r * p`.
const MAX_SCRYPT_WORK: u64 = 1 << 22;
/// Most PBKDF2 rounds an encrypted key may ask for (a few seconds).
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

/// Refuses key-derivation parameters that would take more memory or time
/// than any key gantry or OpenSSL writes: they come from the file, so a
/// hostile key could otherwise ask for terabytes or hours.
fn check_kdf_cost(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<(), AttestError> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    match &params.kdf {
        Kdf::Scrypt(s) => {
            // scrypt's N is a power of two above 1; the pkcs5 crate
            // assumes so before it checks (N = 0 overflows inside it).
            if s.cost_parameter < 2 || !s.cost_parameter.is_power_of_two() {
                return Err(AttestError::Key(format!(
                    "the key's scrypt cost N={} is not a power of two above 1",
                    s.cost_parameter
                )));
            }
            let memory = s.cost_parameter.saturating_mul(u64::from(s.block_size));
            let work = memory.saturating_mul(u64::from(s.parallelization));
            if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK {
                return Err(AttestError::Key(format!(
                    "the key's scrypt parameters (N={}, r={}, p={}) ask for more than gantry \
                     allows (N*r at most {MAX_SCRYPT_MEMORY}, N*r*p at most {MAX_SCRYPT_WORK})",
                    s.cost_parameter, s.block_size, s.parallelization
                )));
            }
        }
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ROUNDS => {
            return Err(AttestError::Key(format!(
                "the key's PBKDF2 iteration count {} is over gantry's limit of {MAX_PBKDF2_ROUNDS}",
                p.iteration_count
            )));
        }
        _ => {}
    }
    Ok(())
}

fn key_error(e: impl std::fmt::Display) -> AttestError {
    AttestError::Key(e.to_string())
}

impl PrivateKey {
    /// A new random key from the operating system's generator.
    pub fn generate(algorithm: Algorithm) -> Result<PrivateKey, AttestError> {
        let secret = match algorithm {
            Algorithm::Ed25519 => {
                Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>()?))
            }
            Algorithm::EcdsaP256 => {
                // A uniformly random scalar: retry the (astronomically rare)
                // values outside [1, n).
                let mut tries = 0;
                loop {
                    let bytes = random_bytes::<32>()?;
                    if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                        break Secret::P256(key);
                    }
                    tries += 1;
                    if tries > 64 {
                        return Err(AttestError::Random("no valid P-256 scalar".into()));
                    }
                }
            }
        };
        PrivateKey::from_secret(secret)
    }

    fn from_secret(secret: Secret) -> Result<PrivateKey, AttestError> {
        let public = match &secret {
            Secret::Ed25519(k) => Public::Ed25519(k.verifying_key()),
            Secret::P256(k) => Public::P256(*k.verifying_key()),
        };
        Ok(PrivateKey {
            secret,
            public: PublicKey::from_public(public)?,
        })
    }

    /// An Ed25519 key from its 32-byte seed (RFC 8032 test keys, tests).
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> Result<PrivateKey, AttestError> {
        PrivateKey::from_secret(Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)))
    }

    /// A P-256 key from its 32-byte big-endian scalar.
    pub fn p256_from_scalar(scalar: &[u8]) -> Result<PrivateKey, AttestError> {
        let key = p256::ecdsa::SigningKey::from_slice(scalar).map_err(key_error)?;
        PrivateKey::from_secret(Secret::P256(key))
    }

    /// Reads a PKCS#8 PEM private key; an `ENCRYPTED PRIVATE KEY` needs the
    /// passphrase.
    pub fn from_pem(text: &str, password: Option<&[u8]>) -> Result<PrivateKey, AttestError> {
        let (label, doc) = pkcs8::SecretDocument::from_pem(text)
            .map_err(|e| AttestError::Key(format!("not a PEM private key ({e})")))?;
        let der = match label {
            "PRIVATE KEY" => doc,
            "ENCRYPTED PRIVATE KEY" => {
                let Some(password) = password else {
                    return Err(AttestError::PasswordNeeded);
                };
                let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(doc.as_bytes())
                    .map_err(key_error)?;
                check_kdf_cost(&info.encryption_algorithm)?;
                info.decrypt(password).map_err(|_| AttestError::Decrypt)?
            }
            other => {
                return Err(AttestError::Key(format!(
                    "expected a PKCS#8 `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY`, found `{other}`"
                )));
            }
        };
        PrivateKey::from_pkcs8_der(der.as_bytes())
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, AttestError> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(key_error)?;
        let oid = info.algorithm.oid.to_string();
        let secret = match oid.as_str() {
            OID_ED25519 => {
                Secret::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(key_error)?)
            }
            OID_EC_PUBLIC_KEY => Secret::P256(
                p256::ecdsa::SigningKey::from_pkcs8_der(der)
                    .map_err(|e| AttestError::Key(format!("not a P-256 key ({e})")))?,
            ),
            _ => {
                return Err(AttestError::Key(format!(
                    "unsupported key algorithm (OID {oid}); gantry signs with ed25519 and ecdsa-p256"
                )));
            }
        };
        PrivateKey::from_secret(secret)
    }

    /// The key as PKCS#8 PEM, encrypted (scrypt + AES-256-CBC, PBES2) when a
    /// passphrase is given.
    pub fn to_pem(&self, password: Option<&[u8]>) -> Result<String, AttestError> {
        let le = pkcs8::LineEnding::LF;
        let pem = match (&self.secret, password) {
            (Secret::Ed25519(k), None) => k.to_pkcs8_pem(le),
            (Secret::Ed25519(k), Some(p)) => k.to_pkcs8_encrypted_pem(p, le),
            (Secret::P256(k), None) => k.to_pkcs8_pem(le),
            (Secret::P256(k), Some(p)) => k.to_pkcs8_encrypted_pem(p, le),
        }
        .map_err(key_error)?;
        Ok(pem.as_str().to_string())
    }

    pub fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn key_id(&self) -> &str {
        &self.public.key_id
    }

    /// Signs `message` (ECDSA: deterministic RFC 6979 nonces, DER output).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AttestError> {
        match &self.secret {
            Secret::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature = k
                    .try_sign(message)
                    .map_err(|e| AttestError::Sign(e.to_string()))?;
                Ok(sig.normalize_s().to_der().as_bytes().to_vec())
            }
        }
    }

    /// ECDSA only: the raw `r || s` signature, as the DSSE specification's
    /// test vector encodes it.
    pub fn sign_raw_ecdsa(&self, message: &[u8]) -> Result<Vec<u8>, AttestError> {
        match &self.secret {
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature = k
                    .try_sign(message)
                    .map_err(|e| AttestError::Sign(e.to_string()))?;
                Ok(sig.normalize_s().to_bytes().to_vec())
            }
            Secret::Ed25519(_) => Err(AttestError::Sign("not an ECDSA key".into())),
        }
    }
}

impl PublicKey {
    fn from_public(public: Public) -> Result<PublicKey, AttestError> {
        let der = match &public {
            Public::Ed25519(k) => k.to_public_key_der(),
            Public::P256(k) => k.to_public_key_der(),
        }
        .map_err(key_error)?
        .into_vec();
        let key_id = sha256_hex(&der);
        Ok(PublicKey {
            public,
            der,
            key_id,
        })
    }

    /// Reads an SPKI (`PUBLIC KEY`) PEM.
    pub fn from_pem(text: &str) -> Result<PublicKey, AttestError> {
        let (label, doc) = pkcs8::Document::from_pem(text)
            .map_err(|e| AttestError::Key(format!("not a PEM public key ({e})")))?;
        if label != "PUBLIC KEY" {
            let hint = if label.contains("PRIVATE") {
                "; give the public key (.pub), not the private key"
            } else {
                ""
            };
            return Err(AttestError::Key(format!(
                "expected a `PUBLIC KEY` PEM, found `{label}`{hint}"
            )));
        }
        PublicKey::from_der(doc.as_bytes())
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_der(der: &[u8]) -> Result<PublicKey, AttestError> {
        let info = pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(key_error)?;
        let oid = info.algorithm.oid.to_string();
        let public = match oid.as_str() {
            OID_ED25519 => Public::Ed25519(
                ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(key_error)?,
            ),
            OID_EC_PUBLIC_KEY => Public::P256(
                p256::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map_err(|e| AttestError::Key(format!("not a P-256 key ({e})")))?,
            ),
            _ => {
                return Err(AttestError::Key(format!(
                    "unsupported key algorithm (OID {oid}); gantry verifies ed25519 and ecdsa-p256"
                )));
            }
        };
        PublicKey::from_public(public)
    }

    /// The key as SPKI PEM.
    pub fn to_pem(&self) -> String {
        let b64 = crate::b64::encode(&self.der);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of [`PublicKey::der`], in hex.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.public {
            Public::Ed25519(_) => Algorithm::Ed25519,
            Public::P256(_) => Algorithm::EcdsaP256,
        }
    }

    /// Ed25519 only: the 32 raw public key bytes.
    pub fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match &self.public {
            Public::Ed25519(k) => Some(k.to_bytes()),
            Public::P256(_) => None,
        }
    }

    /// Whether `signature` is this key's signature of exactly `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.public {
            Public::Ed25519(k) => {
                let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                    return false;
                };
                let sig = ed25519_dalek::Signature::from_bytes(&bytes);
                k.verify_strict(message, &sig).is_ok()
            }
            Public::P256(k) => {
                let sig = if signature.len() == 64 {
                    p256::ecdsa::Signature::from_slice(signature)
                } else {
                    p256::ecdsa::Signature::from_der(signature)
                };
                match sig {
                    // A high `s` is the malleated twin of (r, n - s): refused.
                    Ok(sig) if sig.normalize_s() != sig => false,
                    Ok(sig) => k.verify(message, &sig).is_ok(),
                    Err(_) => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_encrypted_key_with_scrypt_cost_zero_is_refused_not_a_panic() {
        // Found by fuzzing: N = 0 overflowed inside the pkcs5 crate.
        let pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIGSME4GCSqGSIb3DQEFDTBBMCAGCSsGAQQB2kcECzATBAjKXlKmnRS/BwIBAAIB\nAQIBATAdBglghkgBZQMEASoEEJlLfK6s8poAMR9ruN+ZMfAEQPETa8yrQY3v01uN\nHrYcB5FUQgJOOmNEA2pnOnh/8MSRJyhGuH0rXTZpIZOsfqLFnfvB+4AXXDU1OPat\nugBCMc4=\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = PrivateKey::from_pem(pem, Some(b"x")).unwrap_err();
        assert!(e.to_string().contains("not a power of two above 1"), "{e}");
    }

    /// `pem`, an encrypted key, with its scrypt parameters changed.
    fn with_scrypt(pem: &str, change: impl Fn(&mut pkcs8::pkcs5::pbes2::ScryptParams)) -> String {
        use pkcs8::der::Encode as _;
        use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
        let (label, doc) = pkcs8::SecretDocument::from_pem(pem).unwrap();
        let mut info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(doc.as_bytes()).unwrap();
        let EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else {
            panic!("gantry writes PBES2");
        };
        let Kdf::Scrypt(scrypt) = &mut params.kdf else {
            panic!("gantry writes scrypt");
        };
        change(scrypt);
        let der = info.to_der().unwrap();
        pkcs8::der::pem::encode_string(label, pkcs8::LineEnding::LF, &der).unwrap()
    }

    #[test]
    fn encrypted_key_with_huge_scrypt_cost_is_refused_before_deriving() {
        let key = PrivateKey::ed25519_from_seed(&[3; 32]).unwrap();
        let pem = key.to_pem(Some(b"pw")).unwrap();
        // 128 * N * r bytes: N = 2^40 would need 1 PiB, r = 4096 2 GiB;
        // p = 1024 is a thousand times the work.
        for hostile in [
            with_scrypt(&pem, |s| s.cost_parameter = 1 << 40),
            with_scrypt(&pem, |s| s.block_size = 4096),
            with_scrypt(&pem, |s| s.parallelization = 1024),
        ] {
            let err = PrivateKey::from_pem(&hostile, Some(b"pw")).unwrap_err();
            assert!(err.to_string().contains("scrypt parameters"), "{err}");
        }
        // What gantry writes still reads.
        PrivateKey::from_pem(&pem, Some(b"pw")).unwrap();
    }

    #[test]
    fn pem_round_trip_both_algorithms_plain_and_encrypted() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let key = PrivateKey::generate(alg).unwrap();
            let plain = key.to_pem(None).unwrap();
            assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----"));
            let back = PrivateKey::from_pem(&plain, None).unwrap();
            assert_eq!(back.key_id(), key.key_id());

            let enc = key.to_pem(Some(b"hunter2")).unwrap();
            assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
            assert!(matches!(
                PrivateKey::from_pem(&enc, None),
                Err(AttestError::PasswordNeeded)
            ));
            assert!(matches!(
                PrivateKey::from_pem(&enc, Some(b"wrong")),
                Err(AttestError::Decrypt)
            ));
            let back = PrivateKey::from_pem(&enc, Some(b"hunter2")).unwrap();
            assert_eq!(back.key_id(), key.key_id());

            let public = PublicKey::from_pem(&key.public_key().to_pem()).unwrap();
            assert_eq!(public.key_id(), key.key_id());
            assert_eq!(public.key_id(), sha256_hex(public.der()));

            let sig = key.sign(b"message").unwrap();
            assert!(public.verify(b"message", &sig));
            assert!(!public.verify(b"messagf", &sig));
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(!public.verify(b"message", &bad));
        }
    }

    #[test]
    fn hostile_pem_is_an_error_not_a_panic() {
        for text in [
            "",
            "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert!(PrivateKey::from_pem(text, Some(b"x")).is_err());
            assert!(PublicKey::from_pem(text).is_err());
        }
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let err = PublicKey::from_pem(&key.to_pem(None).unwrap()).unwrap_err();
        assert!(err.to_string().contains("not the private key"), "{err}");
    }
}
