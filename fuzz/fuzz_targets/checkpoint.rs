//! Checkpoints and signed notes (C2SP signed-note, tlog-checkpoint) from
//! hostile text. The first byte picks the mode:
//!
//! - even: the input is a note, a checkpoint body, or a key text, read by
//!   every reader; none may panic;
//! - odd: the input is signed as a note by the test log's key first, so
//!   the checkpoint reader behind a valid signature is reached, and a
//!   checkpoint that reads writes back to itself.

#![no_main]

use std::sync::LazyLock;

use gantry_ledger::Checkpoint;
use gantry_ledger::note::{NoteSigner, NoteVerifier};
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
    if mode & 1 == 0 {
        let _ = NoteVerifier::from_text(text);
        let _ = NoteSigner::from_text(text);
        let _ = verifier.open(text);
        let _ = Checkpoint::open(text, &verifier);
        if let Ok(c) = Checkpoint::from_text(text) {
            roundtrip(&c);
        }
        return;
    }
    let Ok(note) = SIGNER.sign(text) else {
        return;
    };
    let opened = verifier.open(&note).expect("a note the key signed opens");
    assert_eq!(opened, text);
    if let Ok(c) = Checkpoint::open(&note, &verifier) {
        roundtrip(&c);
    }
});

fn roundtrip(c: &Checkpoint) {
    let text = c.to_text();
    let again = Checkpoint::from_text(&text);
    assert!(
        again.as_ref().is_ok_and(|a| a == c),
        "{c:?} wrote {text:?}, read back as {again:?}"
    );
}
