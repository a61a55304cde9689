//! c2sp.org/tlog-proof files from hostile text. The first byte picks the
//! mode:
//!
//! - even: the input is a proof file, parsed and verified against the
//!   test log's key; nothing may panic;
//! - odd: the input's checkpoint part is taken as a checkpoint body and
//!   signed by the test log's key, so inclusion verification behind a
//!   valid signature is reached; a proof that parses writes back to
//!   itself.

#![no_main]

use std::sync::LazyLock;

use gantry_ledger::hash::leaf_hash;
use gantry_ledger::note::NoteSigner;
use gantry_ledger::proof::TlogProof;
use libfuzzer_sys::fuzz_target;

static SIGNER: LazyLock<NoteSigner> =
    LazyLock::new(|| NoteSigner::generate("fuzz.example/log").expect("a note key"));

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let verifier = SIGNER.verifier();
    let Ok(mut proof) = TlogProof::parse(text) else {
        return;
    };
    let again = TlogProof::parse(&proof.to_text());
    assert!(
        again.as_ref().is_ok_and(|a| *a == proof),
        "{proof:?} read back as {again:?}"
    );
    if mode & 1 == 1 {
        let Ok(note) = SIGNER.sign(&proof.checkpoint) else {
            return;
        };
        proof.checkpoint = note;
    }
    let leaf = leaf_hash(proof.extra.as_deref().unwrap_or(b"entry"));
    let _ = proof.verify(&leaf, &verifier);
});
