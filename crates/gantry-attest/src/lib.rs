//! Signing keys, in-toto Statements in DSSE envelopes, SLSA Provenance v1
//! and verification summaries, and their verification.
//!
//! One concept per module: [`keys`] (Ed25519 / ECDSA P-256, PKCS#8 and
//! SPKI PEM, key ids), [`keyfiles`] (key pairs on disk), [`dsse`] (the envelope and its pre-authentication
//! encoding), [`statement`] (in-toto Statement v1 and subjects from files),
//! [`predicate`] (the built-in predicate types), [`provenance`] (SLSA v1
//! for workflow runs), [`vsa`] (verification summaries), [`junit`] (test
//! reports) and [`verify`] (checking an attestation against a policy).
//!
//! The crate never prints; it reads only the files it is asked to read or
//! digest and writes only the key files and envelopes it is asked to write.

mod b64;
pub mod digest;
pub mod dsse;
mod error;
pub mod junit;
pub mod keyfiles;
pub mod keys;
pub mod predicate;
pub mod provenance;
pub mod statement;
pub mod time;
pub mod verify;
pub mod vsa;

pub use dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, pae};
pub use error::{AttestError, EnvelopeError, PredicateError};
pub use keys::{Algorithm, PrivateKey, PublicKey};
pub use statement::{Statement, Subject};

/// Reads at most `max` bytes of a file: more is an error, never an
/// unbounded read (`/dev/zero`).
pub fn read_limited(path: &std::path::Path, max: u64) -> Result<Vec<u8>, AttestError> {
    Ok(gantry_fs::read_bounded(path, max)?)
}

/// Signs a statement into an in-toto DSSE envelope.
pub fn attest(statement: &Statement, keys: &[&PrivateKey]) -> Result<Envelope, AttestError> {
    Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_payload(), keys)
}

/// Base64 as DSSE uses it (standard alphabet when writing; standard or
/// URL-safe when reading).
pub mod base64 {
    pub use crate::b64::{DecodeError, decode, encode};
}
