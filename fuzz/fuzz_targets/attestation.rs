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
        // The digests of an empty file.
        vec![(
            "dist/app.tar.gz".to_string(),
            gantry_attest::digest::FileDigests {
                sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                sha384: "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b".into(),
                sha512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e".into(),
            },
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
