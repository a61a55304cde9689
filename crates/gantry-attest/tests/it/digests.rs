//! `verify` checks every digest algorithm a subject lists, or refuses one
//! it cannot check. Before, only `sha256` was compared: a subject whose
//! `sha512` no longer matched the file, or that listed an algorithm gantry
//! cannot compute, passed.

use gantry_attest::digest::FileDigests;
use gantry_attest::verify::{Policy, Report, verify};
use gantry_attest::{Algorithm, PrivateKey};

use crate::common::{envelope, subject};

fn check(subjects: Vec<gantry_attest::Subject>, file: &[u8]) -> Report {
    let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let bytes = envelope(&key, subjects);
    let policy = Policy {
        keys: vec![key.public_key().clone()],
        threshold: 1,
        predicate_type: None,
        files: vec![("dist/app".into(), FileDigests::of(file))],
    };
    verify(&bytes, &policy)
}

fn subject_detail(r: &Report) -> String {
    r.checks
        .iter()
        .find(|c| c.check == "subject")
        .map(|c| c.detail.clone())
        .unwrap_or_default()
}

#[test]
fn every_listed_digest_must_match() {
    let good = FileDigests::of(b"app");
    let bad = FileDigests::of(b"other");
    let r = check(
        vec![subject(
            "dist/app",
            &[
                ("sha256", good.sha256.clone()),
                ("sha512", good.sha512.clone()),
            ],
        )],
        b"app",
    );
    assert!(r.passed(), "{:?}", r.checks);
    assert!(
        subject_detail(&r).contains(", sha512 ") && subject_detail(&r).ends_with(" match"),
        "{}",
        subject_detail(&r)
    );

    // sha256 matches but sha512 does not: not verified.
    let r = check(
        vec![subject(
            "dist/app",
            &[
                ("sha256", good.sha256.clone()),
                ("sha512", bad.sha512.clone()),
            ],
        )],
        b"app",
    );
    assert!(!r.passed());
    assert!(
        subject_detail(&r).contains("sha512"),
        "{}",
        subject_detail(&r)
    );

    // Only sha384 listed: it is checked, both ways.
    let only = vec![subject("dist/app", &[("sha384", good.sha384.clone())])];
    assert!(check(only.clone(), b"app").passed());
    let r = check(only, b"changed");
    assert!(!r.passed());
    assert!(
        subject_detail(&r).contains("the file changed"),
        "{}",
        subject_detail(&r)
    );
}

#[test]
fn a_digest_gantry_cannot_check_is_refused_not_ignored() {
    let good = FileDigests::of(b"app");
    let r = check(
        vec![subject(
            "dist/app",
            &[
                ("sha256", good.sha256.clone()),
                ("blake2b", "00".repeat(32)),
            ],
        )],
        b"app",
    );
    assert!(!r.passed(), "{:?}", r.checks);
    let detail = subject_detail(&r);
    assert!(
        detail.contains("`blake2b`") && detail.contains("cannot check"),
        "{detail}"
    );
}

#[test]
fn a_malformed_sha512_is_an_invalid_statement() {
    let r = check(
        vec![subject("dist/app", &[("sha512", "ABC".into())])],
        b"app",
    );
    assert!(
        r.checks.iter().any(|c| c.check == "statement" && !c.passed),
        "{:?}",
        r.checks
    );
}

/// A FIFO or a device given as a subject or an input is an error, not a
/// hang or an endless read.
#[test]
fn a_fifo_or_device_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        let err = gantry_attest::digest::file_digests(path).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = gantry_attest::read_limited(path, 1024).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(Policy::files_from_paths(dir.path(), &[path.to_path_buf()]).is_err());
    }
}

/// A `/proc` file (a "regular file" with no real size) is never read or
/// digested as a subject or a predicate.
#[cfg(target_os = "linux")]
#[test]
fn proc_files_are_refused_not_read() {
    let path = std::path::Path::new("/proc/self/status");
    let err = gantry_attest::digest::file_digests(path).unwrap_err();
    assert!(err.to_string().contains("system file"), "{err}");
    let err = gantry_attest::read_limited(path, 1 << 20).unwrap_err();
    assert!(err.to_string().contains("system file"), "{err}");
}
