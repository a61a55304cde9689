//! Feeds arbitrary bytes to the DSSE envelope reader and to `verify`
//! against fixed Ed25519 and P-256 keys: errors or a report, never a panic.
//! An envelope that reads must write back to one that reads the same.

#![no_main]

use std::sync::LazyLock;

use gantry_attest::verify::{Policy, verify};
use gantry_attest::{Envelope, PrivateKey, PublicKey};
use libfuzzer_sys::fuzz_target;

static KEYS: LazyLock<Vec<PublicKey>> = LazyLock::new(|| {
    let ed = PrivateKey::ed25519_from_seed(&[7; 32]).expect("ed25519 key");
    let p256 = PrivateKey::p256_from_scalar(&[1; 32]).expect("p256 key");
    vec![ed.public_key().clone(), p256.public_key().clone()]
});

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_json(data) {
        let _ = envelope.pae();
        let checks = envelope.verify(&KEYS);
        let _ = gantry_attest::dsse::accepted_keys(&checks);
        let again = Envelope::from_json(envelope.to_json().as_bytes());
        assert!(
            again.as_ref().is_ok_and(|a| *a == envelope),
            "{envelope:?} wrote back as {again:?}"
        );
    }
    let policy = Policy {
        keys: KEYS.clone(),
        threshold: 1,
        predicate_type: None,
        files: Vec::new(),
    };
    let report = verify(data, &policy);
    let _ = report.passed();
});
