//! Keys, attestations, verification and the evidence ledger as a user
//! drives them, checked by independent verifiers: securesystemslib's DSSE
//! implementation for envelopes, and `interop_tlog.py` (RFC 9162 and the
//! C2SP formats, written from the specifications) for proofs and
//! checkpoints. Tampering with any of it must be caught by both gantry and
//! the independent verifiers.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::copy_dir;

/// A fixed clock for attestations and ledger entries: 2026-01-01.
const EPOCH: &str = "1767225600";

struct Env {
    dir: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// Exit code and output, as a snapshot shows them.
    fn text(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.path("dist")).unwrap();
        std::fs::write(env.path("dist/app"), "the app\n").unwrap();
        std::fs::write(env.path("dist/app.sig.txt"), "release notes\n").unwrap();
        std::fs::create_dir_all(env.path(".github/workflows")).unwrap();
        std::fs::write(
            env.path(".github/workflows/release.yml"),
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n",
        )
        .unwrap();
        std::fs::write(
            env.path("sbom.cdx.json"),
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}"#,
        )
        .unwrap();
        env
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn gantry(&self, args: &[&str]) -> Out {
        let out = Command::new(env!("CARGO_BIN_EXE_gantry"))
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("GANTRY_HOME", self.path("home"))
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("GANTRY_KEY_PASSWORD", "correct horse")
            .output()
            .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs gantry with the words of `line` as arguments.
    fn gantry_line(&self, line: &str) -> Out {
        self.gantry(&line.split_whitespace().collect::<Vec<_>>())
    }

    /// Runs gantry with the words of `line` and insists on exit 0.
    fn ok_line(&self, line: &str) -> Out {
        self.ok(&line.split_whitespace().collect::<Vec<_>>())
    }

    /// Runs gantry and insists on exit 0.
    fn ok(&self, args: &[&str]) -> Out {
        let out = self.gantry(args);
        assert_eq!(out.code, 0, "gantry {args:?}\n{}", out.text());
        out
    }
}

/// Snapshot filters: what differs between runs (keys are random).
fn filters(env: &Env) -> Vec<(String, &'static str)> {
    let tmp = env.dir.path().display().to_string();
    vec![
        (regex_escape(&tmp), "[TMP]"),
        (r"ledger/[0-9a-f]{8}".into(), "ledger/[LOG]"),
        (r"\b[0-9a-f]{64}\b".into(), "[SHA256]"),
        (r"\b[0-9a-f]{16}\b".into(), "[ID]"),
        (r"[A-Za-z0-9+/]{40,}={0,2}".into(), "[BASE64]"),
    ]
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

macro_rules! snapshot {
    ($env:expr, $name:expr, $text:expr) => {{
        let filters = filters($env);
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        insta::with_settings!({ filters => filters }, {
            insta::assert_snapshot!($name, $text);
        });
    }};
}

/// Whether a Python module is importable; in CI its absence is a failure.
fn python_has(module: &str, install: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let reason = format!("python3 cannot import {module} ({install}; .ci/run installs it)");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{reason}");
        }
        eprintln!("skipping: {reason}");
    }
    found
}

/// Runs `interop_tlog.py`; true when it accepts.
fn tlog_accepts(args: &[&Path]) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/interop_tlog.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "interop_tlog.py failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Shown with a failing test: why the verifier said what it said.
    eprintln!(
        "interop_tlog.py {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    code == Some(0)
}

/// Flips one bit of a file, at `at` bytes from its start (or its end when
/// negative).
fn flip(path: &Path, at: isize) {
    let mut bytes = std::fs::read(path).unwrap();
    let i = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at.unsigned_abs()
    };
    bytes[i] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn the_independent_tlog_verifier_agrees_with_the_rfc_vectors() {
    if !python_has("cryptography", "python3 -m pip install cryptography") {
        return;
    }
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/merkle");
    if !vectors.is_dir() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{} is missing",
            vectors.display()
        );
        eprintln!("skipping: {} is missing", vectors.display());
        return;
    }
    // The verifier the other tests trust must itself pass every vector.
    assert!(tlog_accepts(&[Path::new("vectors"), &vectors]));
}

#[test]
fn keys_attestations_and_the_ledger_check_out_independently() {
    if !python_has("cryptography", "python3 -m pip install cryptography") {
        return;
    }
    let env = Env::new();

    let key = env.ok_line("key generate --out signer");
    snapshot!(&env, "key_generate", key.text());
    let pem = std::fs::read_to_string(env.path("signer.key")).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{pem}"
    );

    let sbom = env.ok_line(
        "attest -t cyclonedx -p sbom.cdx.json -s dist/app -k signer.key -o sbom.intoto.json",
    );
    snapshot!(&env, "attest_sbom", sbom.text());
    env.ok_line(
        "attest -t slsa-provenance -s dist -k signer.key -o build.intoto.json \
         --workflow .github/workflows/release.yml --event push --ref refs/tags/v1.2.0 --run-id 42",
    );
    let verified = env.ok_line("verify --key signer.pub --attestation build.intoto.json --subject dist --predicate-type slsa-provenance");
    snapshot!(&env, "verify_ok", verified.text());
    env.ok_line("verify --key signer.pub --attestation sbom.intoto.json --subject dist/app");

    // The reference DSSE implementation accepts gantry's files as written.
    if python_has(
        "securesystemslib.dsse",
        "python3 -m pip install 'securesystemslib[crypto]==1.6.0'",
    ) {
        let dsse =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../gantry-attest/tests/interop_dsse.py");
        let envelope: serde_json::Value =
            serde_json::from_slice(&std::fs::read(env.path("sbom.intoto.json")).unwrap()).unwrap();
        let keyid = envelope["signatures"][0]["keyid"]
            .as_str()
            .unwrap()
            .to_string();
        for (file, accepted) in [("sbom.intoto.json", true), ("build.intoto.json", true)] {
            let status = Command::new("python3")
                .arg(&dsse)
                .arg(env.path(file))
                .arg("1")
                .arg(format!("{keyid}={}", env.path("signer.pub").display()))
                .status()
                .unwrap();
            assert_eq!(status.success(), accepted, "{file}");
        }
    }

    for (file, version) in [
        ("sbom.intoto.json", "1.2.0"),
        ("build.intoto.json", "1.2.0"),
    ] {
        env.ok(&[
            "ledger",
            "append",
            file,
            "--service",
            "billing",
            "--service-version",
            version,
            "--key",
            "signer.pub",
        ]);
    }
    // Other services' evidence shares the log, so proofs have some depth.
    for _ in 0..3 {
        env.ok_line("ledger append build.intoto.json --service search");
    }
    let export = env.ok_line("ledger export --service billing --out audit");
    snapshot!(&env, "ledger_export", export.text());
    env.ok_line("ledger verify --export audit");
    let audit = env.path("audit");
    assert!(tlog_accepts(&[Path::new("export"), &audit]));

    let consistency = env.ok_line("ledger prove --from 2 --size 5 --format json");
    std::fs::write(env.path("consistency.json"), &consistency.stdout).unwrap();
    assert!(tlog_accepts(&[
        Path::new("consistency"),
        &env.path("consistency.json")
    ]));
    let mut proof: serde_json::Value = serde_json::from_str(&consistency.stdout).unwrap();
    proof["old_size"] = serde_json::json!(3);
    std::fs::write(env.path("consistency.json"), proof.to_string()).unwrap();
    assert!(!tlog_accepts(&[
        Path::new("consistency"),
        &env.path("consistency.json")
    ]));

    // Any changed byte of the export is caught by gantry and the
    // independent verifier alike.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(audit.join("manifest.json")).unwrap()).unwrap();
    let first = &manifest["entries"][0];
    let proof_file = first["proof"].as_str().unwrap();
    let entry_file = first["entry"].as_str().unwrap();
    // (what to change, the byte: 0 and up from the start, negative from the end)
    let cases: [(&str, isize); 4] = [
        (entry_file, 40),
        // The first hash line of the proof (after the header and index lines).
        (proof_file, 40),
        // The checkpoint's signature.
        ("ledger/checkpoint", -10),
        ("ledger/log.pub", -5),
    ];
    for (n, (file, at)) in cases.into_iter().enumerate() {
        let copy = env.path(&format!("tampered-{n}"));
        copy_dir(&audit, &copy);
        flip(&copy.join(file), at);
        assert!(
            !tlog_accepts(&[Path::new("export"), &copy]),
            "{file} at {at}"
        );
        let gantry = env.gantry(&["ledger", "verify", "--export", &format!("tampered-{n}")]);
        // A damaged key is unusable input (2); everything else fails the check (1).
        let expected = if file.ends_with("log.pub") { 2 } else { 1 };
        assert_eq!(gantry.code, expected, "{file} at {at}: {}", gantry.text());
    }
    // The log itself: a changed byte in its entries is found and located.
    flip(&env.path("home/ledger/entries"), 100);
    let broken = env.gantry_line("ledger verify");
    assert_eq!(broken.code, 1, "{}", broken.text());
    snapshot!(&env, "ledger_verify_tampered", broken.text());
}

#[test]
fn verify_says_which_check_failed_and_why() {
    let env = Env::new();
    env.ok_line("key generate --out signer");
    env.ok_line("key generate --algorithm ecdsa-p256 --out stranger");
    env.ok_line(
        "attest -t cyclonedx -p sbom.cdx.json -s dist/app -k signer.key -o sbom.intoto.json",
    );
    let verify = |extra: &[&str], attestation: &str| {
        let mut args = vec!["verify", "--attestation", attestation];
        args.extend_from_slice(extra);
        env.gantry(&args)
    };

    let stranger = verify(&["--key", "stranger.pub"], "sbom.intoto.json");
    assert_eq!(stranger.code, 1);
    snapshot!(&env, "verify_untrusted_key", stranger.text());

    let wrong_type = verify(
        &["--key", "signer.pub", "--predicate-type", "slsa-provenance"],
        "sbom.intoto.json",
    );
    assert_eq!(wrong_type.code, 1);
    snapshot!(&env, "verify_wrong_predicate_type", wrong_type.text());

    let threshold = verify(
        &[
            "--key",
            "signer.pub",
            "--key",
            "stranger.pub",
            "--threshold",
            "2",
        ],
        "sbom.intoto.json",
    );
    assert_eq!(threshold.code, 1);
    snapshot!(&env, "verify_threshold", threshold.text());

    std::fs::write(env.path("dist/app"), "the app, patched\n").unwrap();
    let changed = verify(
        &["--key", "signer.pub", "--subject", "dist/app"],
        "sbom.intoto.json",
    );
    assert_eq!(changed.code, 1);
    snapshot!(&env, "verify_changed_subject", changed.text());

    // One changed byte of the signed payload.
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("sbom.intoto.json")).unwrap()).unwrap();
    let payload = envelope["payload"].as_str().unwrap().to_string();
    let swapped = if payload.starts_with('e') { "f" } else { "e" };
    envelope["payload"] = serde_json::json!(format!("{swapped}{}", &payload[1..]));
    std::fs::write(env.path("forged.intoto.json"), envelope.to_string()).unwrap();
    let forged = verify(&["--key", "signer.pub"], "forged.intoto.json");
    assert_eq!(forged.code, 1, "{}", forged.text());
    snapshot!(&env, "verify_forged_payload", forged.text());

    let missing = verify(&["--key", "signer.pub"], "nothing.intoto.json");
    assert_eq!(missing.code, 2, "{}", missing.text());
}

/// `gantry run --attest`: provenance for what a run uploaded.
#[test]
fn a_run_signs_provenance_for_its_artifacts() {
    let env = Env::new();
    std::fs::create_dir_all(env.path(".github/actions/hello")).unwrap();
    std::fs::write(
        env.path(".github/actions/hello/action.yml"),
        "name: hello\nruns:\n  using: composite\n  steps:\n    - run: echo hello\n      shell: bash\n",
    )
    .unwrap();
    std::fs::write(env.path("Cargo.lock"), "version = 4\n").unwrap();
    std::fs::write(
        env.path(".github/workflows/build.yml"),
        "on:\n  workflow_dispatch:\n    inputs:\n      flavour:\n        default: plain\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/hello\n      - run: mkdir -p out && echo \"built ${{ inputs.flavour }}\" > out/app.txt\n      - uses: actions/upload-artifact@v4\n        with:\n          name: app\n          path: out/\n",
    )
    .unwrap();
    std::fs::write(
        env.path(".github/workflows/broken.yml"),
        "on: workflow_dispatch\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: mkdir out && echo x > out/x\n      - uses: actions/upload-artifact@v4\n        with:\n          name: x\n          path: out/\n      - run: exit 3\n",
    )
    .unwrap();
    crate::common::commit_all(env.dir.path());
    let head = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(env.dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    env.ok_line("key generate --out signer");

    // Usage mistakes stop before anything runs.
    let no_key = env.gantry_line("run -e workflow_dispatch build.yml --attest");
    assert_eq!(no_key.code, 2, "{}", no_key.text());
    assert!(no_key.stderr.contains("--key"), "{}", no_key.text());
    std::fs::write(env.path("bad.key"), "not a key").unwrap();
    let bad_key = env.gantry_line("run -e workflow_dispatch build.yml --attest --key bad.key");
    assert_eq!(bad_key.code, 2, "{}", bad_key.text());
    let runs = env.gantry_line("runs");
    assert!(
        !runs.stdout.contains("build.yml"),
        "nothing ran: {}",
        runs.text()
    );

    let run = env.ok_line(
        "run -e workflow_dispatch build.yml -i flavour=spicy --attest --key signer.key --attest-dir prov",
    );
    assert!(
        run.stderr
            .contains("provenance: artifact `app` (1 file(s))"),
        "{}",
        run.text()
    );
    let envelope = env.path("prov/app.intoto.json");
    env.ok_line("runs download 1 --dir fetched");
    let verified = env.ok_line(
        "verify --key signer.pub --attestation prov/app.intoto.json --subject fetched/app \
         --predicate-type slsa-provenance",
    );
    assert!(verified.stdout.contains("verified"), "{}", verified.text());

    // The predicate names the run, its parameters, its sources and logs.
    let env_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&envelope).unwrap()).unwrap();
    let payload = base64_decode(env_json["payload"].as_str().unwrap());
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let p = &statement["predicate"];
    assert_eq!(statement["subject"][0]["name"], "app/app.txt");
    assert_eq!(p["runDetails"]["metadata"]["invocationId"], "1");
    let external = &p["buildDefinition"]["externalParameters"];
    assert_eq!(external["workflow"]["path"], ".github/workflows/build.yml");
    assert_eq!(external["event"], "workflow_dispatch");
    assert_eq!(external["inputs"]["flavour"], "spicy");
    let deps = p["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    let dep_names: Vec<&str> = deps.iter().filter_map(|d| d["name"].as_str()).collect();
    assert!(
        deps.iter()
            .any(|d| d["digest"]["gitCommit"] == head.as_str()),
        "{deps:?}"
    );
    assert!(
        dep_names.contains(&".github/actions/hello/action.yml"),
        "{dep_names:?}"
    );
    assert!(dep_names.contains(&"Cargo.lock"), "{dep_names:?}");
    let logs = p["runDetails"]["byproducts"].as_array().unwrap();
    assert!(
        logs.iter().any(|l| l["name"] == "build/2.log"
            && l["digest"]["sha256"]
                .as_str()
                .is_some_and(|d| d.len() == 64)),
        "{logs:?}"
    );
    assert!(p["runDetails"]["metadata"]["startedOn"].is_string());

    // A changed artifact no longer matches.
    std::fs::write(env.path("fetched/app/app.txt"), "built otherwise\n").unwrap();
    let changed = env.gantry_line(
        "verify --key signer.pub --attestation prov/app.intoto.json --subject fetched/app",
    );
    assert_eq!(changed.code, 1, "{}", changed.text());

    // A failed run signs nothing.
    let failed = env.gantry_line(
        "run -e workflow_dispatch broken.yml --attest --key signer.key --attest-dir prov2",
    );
    assert_eq!(failed.code, 1, "{}", failed.text());
    assert!(
        failed.stderr.contains("provenance: none signed"),
        "{}",
        failed.text()
    );
    assert!(!env.path("prov2").exists());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// `ledger verify` used to cut a torn tail off (and re-index whole frames)
/// as it opened the log: now it reports the tail and writes nothing, an
/// append refuses to write on top of it, and `ledger repair` removes it.
#[test]
fn ledger_verify_never_writes_and_repair_removes_only_a_torn_tail() {
    let env = Env::new();
    env.ok_line("key generate --out signer");
    env.ok_line(
        "attest -t cyclonedx -p sbom.cdx.json -s dist/app -k signer.key -o sbom.intoto.json",
    );
    env.ok_line("ledger append sbom.intoto.json --service billing");
    let entries = env.path("home/ledger/entries");
    let clean = std::fs::read(&entries).unwrap();
    let mut torn = clean.clone();
    torn.extend_from_slice(&[0, 0, 0, 9, b'{']);
    std::fs::write(&entries, &torn).unwrap();

    let verify = env.gantry_line("ledger verify");
    assert_eq!(verify.code, 1, "{}", verify.text());
    assert!(
        verify.stdout.contains("gantry ledger repair"),
        "{}",
        verify.text()
    );
    assert_eq!(std::fs::read(&entries).unwrap(), torn, "verify wrote");

    let append = env.gantry_line("ledger append sbom.intoto.json --service billing");
    assert_eq!(append.code, 2, "{}", append.text());
    assert!(
        append.stderr.contains("gantry ledger repair"),
        "{}",
        append.text()
    );
    assert_eq!(std::fs::read(&entries).unwrap(), torn, "append wrote");

    let repair = env.ok_line("ledger repair --format json");
    let report: serde_json::Value = serde_json::from_str(&repair.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["entries"], 1);
    assert_eq!(std::fs::read(&entries).unwrap(), clean);
    env.ok_line("ledger verify");
    env.ok_line("ledger append sbom.intoto.json --service billing");

    // An acknowledged entry cut short: repair refuses and names it.
    let now = std::fs::read(&entries).unwrap();
    std::fs::write(&entries, &now[..now.len() - 3]).unwrap();
    let refused = env.gantry_line("ledger repair");
    assert_eq!(refused.code, 2, "{}", refused.text());
    assert!(refused.stderr.contains("entry 1"), "{}", refused.text());
    assert_eq!(std::fs::read(&entries).unwrap(), &now[..now.len() - 3]);
}

/// A crash while an append wrote its commit slot leaves that slot torn:
/// `ledger verify` reports a torn tail and `ledger repair` says it rewrote
/// the slot, after which the ledger verifies and appends again.
#[test]
fn ledger_repair_rewrites_a_commit_slot_torn_by_a_crash() {
    let env = Env::new();
    env.ok_line("key generate --out signer");
    env.ok_line(
        "attest -t cyclonedx -p sbom.cdx.json -s dist/app -k signer.key -o sbom.intoto.json",
    );
    env.ok_line("ledger append sbom.intoto.json --service billing");
    let committed = env.path("home/ledger/committed");
    let before = std::fs::read(&committed).unwrap();
    env.ok_line("ledger append sbom.intoto.json --service billing");
    // The second append wrote slot 0 (sequence 2); keep its first 40
    // bytes, as a crash part way through that write would.
    let mut torn = std::fs::read(&committed).unwrap();
    torn[40..512].copy_from_slice(&before[40..512]);
    std::fs::write(&committed, &torn).unwrap();

    let verify = env.gantry_line("ledger verify");
    assert_eq!(verify.code, 1, "{}", verify.text());
    assert!(verify.stdout.contains("slot 0"), "{}", verify.text());
    let repair = env.ok_line("ledger repair");
    assert!(
        repair.stdout.contains("rewrote the commit slot"),
        "{}",
        repair.text()
    );
    env.ok_line("ledger verify");
    env.ok_line("ledger append sbom.intoto.json --service billing");
}

/// The JSON of key, verify and ledger commands comes from typed documents
/// that carry a version, not from ad-hoc objects.
#[test]
fn evidence_json_outputs_are_versioned_documents() {
    let env = Env::new();
    let json = |line: &str| -> serde_json::Value {
        let out = env.ok_line(line);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{line}: {e}\n{}", out.text()))
    };
    let generated = json("key generate --out signer --format json");
    assert_eq!(generated["version"], 1);
    assert_eq!(generated["encrypted"], true);
    let shown = json("key show signer.pub --format json");
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["keyid"], generated["keyid"]);
    assert_eq!(shown["private"], false);
    env.ok_line(
        "attest -t cyclonedx -p sbom.cdx.json -s dist/app -k signer.key -o sbom.intoto.json",
    );
    let verified = json("verify -k signer.pub -a sbom.intoto.json -s dist/app --format json");
    assert_eq!(verified["version"], 1);
    assert_eq!(verified["verified"], true);
    let appended = json("ledger append sbom.intoto.json --service billing --format json");
    assert_eq!(
        (appended["version"].clone(), appended["index"].clone()),
        (1.into(), 0.into())
    );
    env.ok_line("ledger append sbom.intoto.json --service billing");
    for line in [
        "ledger checkpoint --format json",
        "ledger prove --entry 0 --format json",
        "ledger prove --from 1 --format json",
        "ledger verify --format json",
        "ledger repair --format json",
    ] {
        assert_eq!(json(line)["version"], 1, "{line}");
    }
    env.ok_line("ledger export --service billing --out audit");
    assert_eq!(
        json("ledger verify --export audit --format json")["version"],
        1
    );
}
