//! Signs arbitrary bytes as an in-toto payload with a fixed key and verifies
//! the envelope, so the statement, predicate and subject checks behind a
//! valid signature are reached. The first byte picks the policy. Nothing
//! may panic, and the signature check must pass.

#![no_main]

use std::sync::LazyLock;

use gantry_attest::verify::{Policy, verify};
use gantry_attest::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey};
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<PrivateKey> =
    LazyLock::new(|| PrivateKey::ed25519_from_seed(&[7; 32]).expect("ed25519 key"));

const PREDICATES: &[&str] = &[
    "slsa-provenance",
    "https://slsa.dev/provenance/v1",
    "test-result",
    "vsa",
    "sbom",
    "https://in-toto.io/attestation/vulns/v0.2",
    "https://example.com/custom/v1",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let Ok(envelope) = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.to_vec(), &[&*KEY]) else {
        return;
    };
    let predicate_type = match selector & 0x0f {
        0 => None,
        n => PREDICATES
            .get(usize::from(n - 1) % PREDICATES.len())
            .map(|p| p.to_string()),
    };
    let files = if selector & 0x10 != 0 {
        vec![(
            "dist/app.tar.gz".to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_string(),
        )]
    } else {
        Vec::new()
    };
    let policy = Policy {
        keys: vec![KEY.public_key().clone()],
        threshold: usize::from(selector >> 5).max(1),
        predicate_type,
        files,
    };
    let report = verify(envelope.to_json().as_bytes(), &policy);
    let _ = report.passed();
    if policy.threshold == 1 {
        let signatures = report.checks.iter().find(|c| c.check == "signatures");
        assert!(
            signatures.is_some_and(|c| c.passed),
            "a correctly signed envelope failed the signature check: {:?}",
            report.checks
        );
    }
});
