//! ECDSA P-256 signatures must be canonical: a high `s` (the malleated
//! twin (r, n - s) of a valid signature) is rejected, and gantry signs
//! with a low `s`. Before, both forms verified.

use gantry_attest::verify::{Policy, verify};
use gantry_attest::{Algorithm, Envelope, PrivateKey, pae};
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::DecodePublicKey as _;

use crate::common::{envelope, subject};

/// The order of P-256, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `N - s`, big-endian.
fn negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    out
}

#[test]
fn high_s_ecdsa_signatures_are_rejected() {
    let key = PrivateKey::generate(Algorithm::EcdsaP256).unwrap();
    let raw_key = p256::ecdsa::VerifyingKey::from_public_key_der(key.public_key().der()).unwrap();
    for round in 0..8 {
        let message = format!("message {round}");
        let low = key.sign_raw_ecdsa(message.as_bytes()).unwrap();
        let mut high = low.clone();
        high[32..].copy_from_slice(&negate(&low[32..]));
        // Both are valid ECDSA; only the low-s form is canonical.
        let parsed = p256::ecdsa::Signature::from_slice(&high).unwrap();
        assert!(raw_key.verify(message.as_bytes(), &parsed).is_ok());
        assert!(key.public_key().verify(message.as_bytes(), &low));
        assert!(
            !key.public_key().verify(message.as_bytes(), &high),
            "round {round}"
        );
        let der = parsed.to_der();
        assert!(!key.public_key().verify(message.as_bytes(), der.as_bytes()));
        // gantry's DER signatures are low-s, every time.
        let signed = key.sign(message.as_bytes()).unwrap();
        let back = p256::ecdsa::Signature::from_der(&signed).unwrap();
        assert_eq!(back.normalize_s(), back, "round {round}");
    }
}

#[test]
fn an_envelope_with_a_high_s_signature_is_not_verified() {
    let key = PrivateKey::generate(Algorithm::EcdsaP256).unwrap();
    let bytes = envelope(
        &key,
        vec![subject("dist/app", &[("sha256", "00".repeat(32))])],
    );
    let mut env = Envelope::from_json(&bytes).unwrap();
    let raw = key
        .sign_raw_ecdsa(&pae(&env.payload_type, &env.payload))
        .unwrap();
    let high = p256::ecdsa::Signature::from_slice(&[&raw[..32], &negate(&raw[32..])[..]].concat())
        .unwrap();
    env.signatures[0].sig = high.to_der().as_bytes().to_vec();
    let policy = Policy {
        keys: vec![key.public_key().clone()],
        threshold: 1,
        ..Policy::default()
    };
    assert!(verify(&bytes, &policy).passed());
    let report = verify(env.to_json().as_bytes(), &policy);
    assert!(!report.passed(), "{:?}", report.checks);
}
