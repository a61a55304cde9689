//! Helpers the areas share: signed envelopes over chosen subjects.

use std::collections::BTreeMap;

use gantry_attest::{PrivateKey, Statement, Subject, attest, predicate};

/// A subject named `name` with the given digests.
pub(crate) fn subject(name: &str, digests: &[(&str, String)]) -> Subject {
    Subject {
        name: name.to_string(),
        digest: digests
            .iter()
            .map(|(a, d)| (a.to_string(), d.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// An envelope's JSON bytes: a CycloneDX statement about `subjects`,
/// signed by `key`.
pub(crate) fn envelope(key: &PrivateKey, subjects: Vec<Subject>) -> Vec<u8> {
    let statement = Statement::new(
        subjects,
        predicate::CYCLONEDX,
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6"}),
    );
    attest(&statement, &[key]).unwrap().to_json().into_bytes()
}
