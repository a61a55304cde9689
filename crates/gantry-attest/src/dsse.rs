//! DSSE, the Dead Simple Signing Envelope (secure-systems-lab/dsse v1.0.0).
//!
//! A signature covers `PAE(payloadType, payload)`, the pre-authentication
//! encoding, never the JSON around it, so a verifier checks exactly the
//! bytes that were signed. Every signature gantry writes carries a `keyid`
//! (the SHA-256 of the signer's SPKI DER); a verifier uses it only to pick
//! which trusted key to try first.

use serde::{Deserialize, Serialize};

use crate::error::EnvelopeError;
use crate::keys::{PrivateKey, PublicKey};
use crate::{AttestError, b64};

/// The payload type of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Most bytes an envelope file may have (256 MiB) before it is refused.
pub const MAX_ENVELOPE_BYTES: u64 = 256 << 20;

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
/// lengths as ASCII decimal without leading zeros.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let body_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        10 + type_len.len() + payload_type.len() + body_len.len() + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signer's key id; empty when the envelope gave none.
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// A DSSE JSON envelope, with its payload and signatures decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
}

#[derive(Serialize, Deserialize)]
struct WireSignature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    keyid: String,
    sig: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEnvelope {
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

impl Envelope {
    /// Signs `payload` with every key in `keys`.
    pub fn sign(
        payload_type: &str,
        payload: Vec<u8>,
        keys: &[&PrivateKey],
    ) -> Result<Envelope, AttestError> {
        let message = pae(payload_type, &payload);
        let signatures = keys
            .iter()
            .map(|key| {
                Ok(Signature {
                    keyid: key.key_id().to_string(),
                    sig: key.sign(&message)?,
                })
            })
            .collect::<Result<Vec<_>, AttestError>>()?;
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures,
        })
    }

    /// The bytes every signature covers.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Reads the JSON envelope. Unknown fields are ignored as the
    /// specification allows; base64 may be standard or URL-safe.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, AttestError> {
        let wire: WireEnvelope = serde_json::from_slice(bytes).map_err(EnvelopeError::NotJson)?;
        let payload = b64::decode(&wire.payload).map_err(EnvelopeError::Payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Signature {
                    sig: b64::decode(&s.sig)
                        .map_err(|source| EnvelopeError::Signature { index: i, source })?,
                    keyid: s.keyid,
                })
            })
            .collect::<Result<Vec<_>, AttestError>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// The JSON envelope, standard base64, fields in the specification's
    /// order.
    pub fn to_json(&self) -> String {
        let wire = self.to_wire();
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// The JSON envelope, indented.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_wire()).unwrap_or_default()
    }

    /// The envelope as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self.to_wire()).unwrap_or(serde_json::Value::Null)
    }

    fn to_wire(&self) -> WireEnvelope {
        WireEnvelope {
            payload_type: self.payload_type.clone(),
            payload: b64::encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: b64::encode(&s.sig),
                })
                .collect(),
        }
    }

    /// Which of `keys` signed the envelope: the DSSE (t, n) rule, each key
    /// counted once however many signatures it made. A signature's `keyid`
    /// only orders the keys tried.
    pub fn verify(&self, keys: &[PublicKey]) -> Vec<SignatureCheck> {
        let message = self.pae();
        self.signatures
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let mut order: Vec<&PublicKey> =
                    keys.iter().filter(|k| k.key_id() == s.keyid).collect();
                order.extend(keys.iter().filter(|k| k.key_id() != s.keyid));
                let verified_by = order
                    .into_iter()
                    .find(|k| k.verify(&message, &s.sig))
                    .map(|k| k.key_id().to_string());
                SignatureCheck {
                    index,
                    keyid: s.keyid.clone(),
                    keyid_known: keys.iter().any(|k| k.key_id() == s.keyid),
                    verified_by,
                }
            })
            .collect()
    }
}

/// The outcome of checking one signature against the trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    pub index: usize,
    pub keyid: String,
    /// Whether the `keyid` names one of the trusted keys.
    pub keyid_known: bool,
    /// The trusted key that verifies the signature, if any.
    pub verified_by: Option<String>,
}

/// The distinct trusted keys that verified at least one signature.
pub fn accepted_keys(checks: &[SignatureCheck]) -> Vec<String> {
    let mut keys: Vec<String> = checks
        .iter()
        .filter_map(|c| c.verified_by.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::Algorithm;

    #[test]
    fn pae_matches_the_specification() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn sign_verify_and_tamper() {
        let a = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let b = PrivateKey::generate(Algorithm::EcdsaP256).unwrap();
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}".to_vec(), &[&a, &b]).unwrap();
        let json = env.to_json();
        let back = Envelope::from_json(json.as_bytes()).unwrap();
        assert_eq!(back, env);
        let keys = [a.public_key().clone(), b.public_key().clone()];
        assert_eq!(accepted_keys(&back.verify(&keys)).len(), 2);

        let mut other_type = back.clone();
        other_type.payload_type = "application/json".into();
        assert!(accepted_keys(&other_type.verify(&keys)).is_empty());
        let mut other_body = back.clone();
        other_body.payload = b"{ }".to_vec();
        assert!(accepted_keys(&other_body.verify(&keys)).is_empty());

        // A wrong keyid is only a hint: the right key still verifies.
        let mut renamed = back;
        renamed.signatures[0].keyid = "nobody".into();
        let checks = renamed.verify(&keys);
        assert!(!checks[0].keyid_known);
        assert_eq!(checks[0].verified_by.as_deref(), Some(a.key_id()));
    }

    #[test]
    fn hostile_envelopes_are_errors() {
        for text in [
            "",
            "[]",
            r#"{"payloadType":"x","payload":"%%%","signatures":[]}"#,
            r#"{"payloadType":"x","payload":"","signatures":[{"sig":"@@"}]}"#,
            r#"{"payloadType":1,"payload":"","signatures":[]}"#,
        ] {
            assert!(Envelope::from_json(text.as_bytes()).is_err(), "{text}");
        }
    }
}
