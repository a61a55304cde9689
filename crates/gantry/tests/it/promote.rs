//! `gantry promote` and its companions as users run them: the example's
//! walkthrough end to end, twenty concurrent promotions of one package, a
//! lock left by a killed process, cycles, untrusted signatures, approvals
//! with the wrong key, the offline check of an exported evidence chain, and
//! the JSON contract of `gantry promote --format json` with its exit codes.
//! The evidence is made with gantry itself (`key generate`, `attest`,
//! `ledger append`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// A repository with its own `$GANTRY_HOME` (inside the temp dir).
struct Repo {
    dir: tempfile::TempDir,
}

const DB: &str = "\
service:
  name: db
  spec:
    api_version: v1
    compliance_mode: compliant
";

const API: &str = "\
service:
  name: api
  spec:
    api_version: v1
    compliance_mode: compliant
    dependencies:
      data: [db]
";

const WEB: &str = "\
service:
  name: web
  spec:
    api_version: v1
    compliance_mode: compliant
    dependencies:
      runtime: [api]
";

/// Tests gate compliance_ready, approvals gate compliant.
const PROMOTION: &str = "\
states:
  sandbox:
    allowed_transitions: [compliance_ready]
    requirements: []
  compliance_ready:
    allowed_transitions: [compliant]
    requirements: [all_tests_passing, dependencies_compliant]
  compliant:
    allowed_transitions: [sandbox]
    requirements: [approved_promotion]
trusted_keys: [keys/ci.pub]
approvers:
  alice: keys/alice.pub
  bob: keys/bob.pub
approvals_required: 1
";

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="suite" tests="2" failures="0" errors="0" skipped="0">
  <testsuite name="unit" tests="2" failures="0" errors="0" skipped="0" time="0.1">
    <testcase classname="unit" name="one" time="0.05"/>
    <testcase classname="unit" name="two" time="0.05"/>
  </testsuite>
</testsuites>
"#;

const SERVICES: [&str; 3] = ["db", "api", "web"];

impl Repo {
    /// Three services (web → api → db), the promotion configuration and
    /// keys for ci (trusted), alice and bob (approvers) and mallory
    /// (nobody).
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        for (path, body) in [
            (".gantry/services/db.yml", DB),
            (".gantry/services/api.yml", API),
            (".gantry/services/web.yml", WEB),
            (".gantry/promotion.yml", PROMOTION),
            ("junit.xml", JUNIT),
            ("artifact.bin", "the release\n"),
        ] {
            repo.write(path, body);
        }
        std::fs::create_dir_all(repo.path(".gantry/keys")).unwrap();
        for who in ["ci", "alice", "bob", "mallory"] {
            repo.ok(&["key", "generate", "--out", &format!(".gantry/keys/{who}")]);
        }
        repo
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn home(&self) -> PathBuf {
        self.path(".home")
    }

    fn write(&self, rel: &str, body: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gantry"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("GANTRY_HOME", self.home())
            .env("GANTRY_ACTOR", "release-bot")
            .env_remove("GANTRY_KEY_PASSWORD");
        command
    }

    fn gantry(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs gantry, insisting on exit 0.
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.gantry(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "gantry {args:?}\nstdout:\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }

    /// A package of every service at 1.0.0; its id.
    /// `gantry promote ID --to compliance_ready --format json`, started
    /// with its output piped.
    fn spawn_promotion(&self, id: &str) -> Child {
        self.command(&[
            "promote",
            id,
            "--to",
            "compliance_ready",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    }

    fn package(&self) -> String {
        let out = self.ok(&[
            "package",
            "create",
            "--version",
            "1.0.0",
            "web",
            "api",
            "db",
            "--format",
            "json",
        ]);
        json(&out)["package"]["id"].as_str().unwrap().to_string()
    }

    /// A passing test-result attestation for `service` 1.0.0 signed by
    /// `signer`, appended to the ledger.
    fn tests_signed_by(&self, service: &str, signer: &str) {
        let envelope = format!("{service}.{signer}.tests.intoto.json");
        self.ok(&[
            "attest",
            "-t",
            "test-result",
            "-p",
            "junit.xml",
            "-s",
            "artifact.bin",
            "-k",
            &format!(".gantry/keys/{signer}.key"),
            "-o",
            &envelope,
        ]);
        self.ok(&[
            "ledger",
            "append",
            &envelope,
            "--service",
            service,
            "--service-version",
            "1.0.0",
        ]);
    }

    /// Complete compliance_ready evidence for every service.
    fn evidence(&self) {
        for service in SERVICES {
            self.tests_signed_by(service, "ci");
        }
    }

    /// The validation records of a promotion: (service, decision).
    fn validations(&self, id: &str) -> Vec<(String, String)> {
        let detail = json(&self.ok(&["promotions", id, "--format", "json"]));
        detail["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["record"]["evidence"]["type"] == "validation")
            .map(|r| {
                (
                    r["record"]["service"].as_str().unwrap().to_string(),
                    r["record"]["evidence"]["data"]["decision"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    }
}

/// Waits for `child` at most `limit`; kills it and fails if it is not done.
fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

#[test]
fn the_example_walkthrough_runs_unattended_and_promotes_the_release() {
    let work = tempfile::tempdir().unwrap();
    let script = workspace_root().join("examples/services/walkthrough.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(work.path())
        .env("GANTRY", env!("CARGO_BIN_EXE_gantry"))
        .env("NO_COLOR", "1")
        .env_remove("GANTRY_HOME")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "walkthrough failed\nstdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("walkthrough: done"), "{stdout}");
    // The first refusal names every missing piece.
    assert!(stdout.contains("no signed test-result for service-c 1.4.0"));
    assert!(stdout.contains(
        "dependencies not yet compliance_ready or later: service-c is blocked in this promotion"
    ));
    assert!(stdout.contains("15 exported entries: ok") || stdout.contains("exported entries: ok"));

    let example = work.path().join("example");
    let gantry = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gantry"))
            .args(args)
            .current_dir(&example)
            .env("GANTRY_HOME", work.path().join("home"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        json(&out)
    };
    let release: Value =
        serde_json::from_slice(&std::fs::read(example.join("release.json")).unwrap()).unwrap();
    let release = release["package"]["id"].as_str().unwrap().to_string();

    // The release package's promotion to compliant is recorded as promoted,
    // in dependency order.
    let promotions = gantry(&["promotions", "--format", "json"]);
    let summary = promotions["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == release.as_str())
        .unwrap_or_else(|| panic!("no promotion {release}: {promotions:#}"));
    let to_compliant: Vec<&Value> = summary["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["to"] == "compliant" && a["decision"] == "promoted")
        .collect();
    assert_eq!(to_compliant.len(), 1, "{summary:#}");
    let order: Vec<&str> = to_compliant[0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["service-c", "service-b", "service-a"]);
    let approvers: Vec<&str> = summary["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["approver"].as_str().unwrap())
        .collect();
    assert!(approvers.contains(&"bob") && approvers.contains(&"carol"));
    assert!(!approvers.contains(&"alice"), "{approvers:?}");

    // Every attempt names each service once, however close together the
    // attempts were: the first package was refused, then promoted.
    for promotion in promotions["promotions"].as_array().unwrap() {
        for attempt in promotion["attempts"].as_array().unwrap() {
            let mut names: Vec<&str> = attempt["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["service"].as_str().unwrap())
                .collect();
            names.sort_unstable();
            assert_eq!(
                names,
                ["service-a", "service-b", "service-c"],
                "{attempt:#}"
            );
        }
    }
    let first = &promotions["promotions"][0]["attempts"];
    let decisions: Vec<(&str, &str)> = first
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["to"].as_str().unwrap(), a["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("compliance_ready", "blocked"),
            ("compliance_ready", "promoted"),
            ("compliant", "blocked")
        ]
    );

    // Every service's 1.4.0 is compliant now.
    let services = gantry(&["services", "--format", "json"]);
    for service in services["services"].as_array().unwrap() {
        let compliant = service["states"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["state"] == "compliant")
            .unwrap();
        assert_eq!(
            compliant["versions"],
            serde_json::json!(["1.4.0"]),
            "{service:#}"
        );
    }
    assert_eq!(services["services"].as_array().unwrap().len(), 3);
}

#[test]
fn twenty_concurrent_promotions_of_one_package_promote_it_once() {
    let repo = Repo::new();
    let id = repo.package();
    repo.evidence();
    let children: Vec<Child> = (0..20).map(|_| repo.spawn_promotion(&id)).collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| wait_bounded(c, Duration::from_secs(120), "gantry promote"))
        .collect();
    let mut promoted = 0;
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report = json(out);
        assert_eq!(report["decision"], "promoted", "{report:#}");
        let recorded = report["recorded"].as_array().unwrap();
        if recorded.is_empty() {
            assert!(
                report["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("nothing to do")),
                "{report:#}"
            );
            for service in report["services"].as_array().unwrap() {
                assert_eq!(service["decision"], "unchanged", "{report:#}");
            }
        } else {
            promoted += 1;
            // A request and a validation per service.
            assert_eq!(recorded.len(), 2 * SERVICES.len(), "{report:#}");
            for service in report["services"].as_array().unwrap() {
                assert_eq!(service["decision"], "promoted", "{report:#}");
            }
        }
    }
    assert_eq!(promoted, 1, "exactly one process promotes");

    let mut validations = repo.validations(&id);
    validations.sort();
    assert_eq!(
        validations,
        [("api", "promoted"), ("db", "promoted"), ("web", "promoted")]
            .map(|(s, d)| (s.to_string(), d.to_string()))
    );
    let verify = repo.ok(&["ledger", "verify"]);
    assert!(
        text(&verify.stdout).contains(": ok"),
        "{}",
        text(&verify.stdout)
    );
}

/// Whether another process holds the lock of `file` (flock -n fails).
fn held(file: &Path) -> bool {
    !Command::new("flock")
        .args(["-n", "-E", "75"])
        .arg(file)
        .arg("true")
        .status()
        .expect("the flock program (util-linux) runs")
        .success()
}

#[test]
fn a_lock_held_by_a_killed_process_is_recovered() {
    let repo = Repo::new();
    let id = repo.package();
    repo.evidence();
    let locks = repo.home().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    let lock = locks.join("promote-api.lock");
    // `flock` and its `sleep` in a process group of their own, so both
    // die together and nothing alive holds the lock afterwards.
    let mut holder = {
        use std::os::unix::process::CommandExt as _;
        Command::new("flock")
            .arg(&lock)
            .args(["sleep", "60"])
            .process_group(0)
            .spawn()
            .expect("the flock program (util-linux) runs")
    };
    let start = Instant::now();
    while !held(&lock) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "flock never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A promotion now waits for the holder, and says so.
    let mut waiting = repo.spawn_promotion(&id);
    let (lines, said) = std::sync::mpsc::channel();
    let stderr = waiting.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    let told = loop {
        match said.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("waiting: another promotion holds api") => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    let killed = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", holder.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    holder.wait().unwrap();
    let out = wait_bounded(waiting, Duration::from_secs(30), "gantry promote");
    let stderr = reader.join().unwrap();
    assert!(told, "the promotion never said it waits for api:\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = json(&out);
    assert_eq!(report["decision"], "promoted");
    assert_eq!(report["recorded"].as_array().unwrap().len(), 6);
    assert!(!held(&lock));
}

#[test]
fn a_cycle_in_the_catalog_is_shown_whole_with_each_edge() {
    let repo = Repo::new();
    repo.write(
        ".gantry/services/db.yml",
        &format!("{DB}    dependencies:\n      security: [web]\n"),
    );
    let out = repo.gantry(&["services"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("dependency cycle: api → db → web → api"),
        "{stderr}"
    );
    for edge in [
        "api → db at .gantry/services/api.yml:7",
        "db → web at .gantry/services/db.yml:7",
        "web → api at .gantry/services/web.yml:7",
    ] {
        assert!(stderr.contains(edge), "missing `{edge}` in\n{stderr}");
    }
    // Promotion refuses the same way.
    let out = repo.gantry(&["package", "create", "--version", "1.0.0", "db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("dependency cycle"));
}

#[test]
fn evidence_signed_by_an_untrusted_key_never_satisfies_a_gate() {
    let repo = Repo::new();
    let id = repo.package();
    for service in SERVICES {
        repo.tests_signed_by(service, "mallory");
    }
    let out = repo.gantry(&["promote", &id, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["decision"], "blocked");
    for service in report["services"].as_array().unwrap() {
        let gate = service["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "all_tests_passing")
            .unwrap();
        assert_eq!(gate["result"], "fail", "{gate:#}");
        let reason = gate["reason"].as_str().unwrap();
        assert!(reason.contains("untrusted"), "{reason}");
    }
    // Once CI signs them too, they pass: the untrusted ones never counted
    // against anything, they just never counted.
    repo.evidence();
    let out = repo.gantry(&["promote", &id, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn an_approval_with_a_key_that_is_not_the_approvers_is_refused() {
    let repo = Repo::new();
    let id = repo.package();
    let out = repo.gantry(&[
        "approve",
        &id,
        "--as",
        "alice",
        "--key",
        ".gantry/keys/mallory.key",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is not alice's"), "{stderr}");
    // Nothing was recorded.
    let promotions = json(&repo.ok(&["promotions", "--format", "json"]));
    assert_eq!(promotions["promotions"], serde_json::json!([]));
    // An approver nobody configured is refused too.
    let out = repo.gantry(&[
        "approve",
        &id,
        "--as",
        "mallory",
        "--key",
        ".gantry/keys/mallory.key",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// Changes the byte at `at` of `path` and returns the original.
fn change_byte(path: &Path, at: usize) -> Vec<u8> {
    let original = std::fs::read(path).unwrap();
    let mut changed = original.clone();
    changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(path, changed).unwrap();
    original
}

#[test]
fn an_exported_chain_verifies_offline_and_any_changed_byte_is_located() {
    let repo = Repo::new();
    let id = repo.package();
    repo.evidence();
    repo.ok(&["promote", &id]);
    repo.ok(&[
        "approve",
        &id,
        "--as",
        "bob",
        "--key",
        ".gantry/keys/bob.key",
    ]);
    repo.ok(&["promote", &id, "--to", "compliant"]);
    repo.ok(&["ledger", "export", "--service", "api", "--out", "audit"]);
    let out = repo.ok(&["ledger", "verify", "--export", "audit"]);
    assert!(text(&out.stdout).contains("exported entries: ok"));

    let folder = repo.path("audit/promotions").join(&id);
    let entry = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".entry.json"))
        .min()
        .unwrap();
    for name in ["validation.json".to_string(), entry] {
        let file = folder.join(&name);
        let len = std::fs::metadata(&file).unwrap().len() as usize;
        let shown = format!("promotions/{id}/{name}");
        // The first and last byte and some between.
        for at in [0, len / 7, len / 3, len / 2, 2 * len / 3, len - 2, len - 1] {
            let original = change_byte(&file, at);
            let out = repo.gantry(&["ledger", "verify", "--export", "audit"]);
            std::fs::write(&file, &original).unwrap();
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "byte {at} of {name}: {stdout}");
            assert!(
                stdout.contains(&format!("FAIL {shown}")),
                "byte {at} of {name} not located:\n{stdout}{}",
                text(&out.stderr)
            );
        }
    }
    // Restored, it verifies again.
    repo.ok(&["ledger", "verify", "--export", "audit"]);
}

fn gate_fields(gate: &Value) {
    let keys: Vec<&str> = gate
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in ["name", "type", "level", "result", "reason"] {
        assert!(keys.contains(&key), "gate without `{key}`: {gate:#}");
    }
    assert!(["blocking", "manual", "policy"].contains(&gate["type"].as_str().unwrap()));
    assert!(
        ["required", "required_if_present", "recommended"]
            .contains(&gate["level"].as_str().unwrap())
    );
    assert!(
        ["pass", "fail", "pending", "skipped"].contains(&gate["result"].as_str().unwrap()),
        "{gate:#}"
    );
    assert!(gate["reason"].is_string());
}

/// The report's services: (service, from, to, decision), every gate checked.
fn services_of(report: &Value) -> Vec<(String, String, String, String)> {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            for gate in s["gates"].as_array().unwrap() {
                gate_fields(gate);
            }
            let field = |k: &str| s[k].as_str().unwrap().to_string();
            (
                field("service"),
                field("from"),
                field("to"),
                field("decision"),
            )
        })
        .collect()
}

#[test]
fn promote_json_is_one_object_in_promotion_order_with_its_exit_codes() {
    let repo = Repo::new();
    let id = repo.package();

    // Blocked: exit 1, every service in dependency order, each gate named.
    let out = repo.gantry(&["promote", &id, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["package"], id.as_str());
    assert_eq!(report["decision"], "blocked");
    let blocked: Vec<_> = SERVICES
        .iter()
        .map(|s| {
            (
                s.to_string(),
                "sandbox".to_string(),
                "compliance_ready".to_string(),
                "blocked".to_string(),
            )
        })
        .collect();
    assert_eq!(services_of(&report), blocked);
    let gates: Vec<(&str, &str)> = report["services"][0]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        gates,
        [
            ("all_tests_passing", "fail"),
            ("dependencies_compliant", "pass")
        ]
    );
    assert_eq!(report["services"][1]["gates"][1]["result"], "fail");

    // Promoted: exit 0.
    repo.evidence();
    let out = repo.gantry(&["promote", &id, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["decision"], "promoted");
    assert!(
        services_of(&report)
            .iter()
            .all(|(_, from, to, d)| from == "sandbox"
                && to == "compliance_ready"
                && d == "promoted")
    );

    // Waiting for an approval: pending, exit 1.
    let out = repo.gantry(&["promote", &id, "--to", "compliant", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["decision"], "pending", "{report:#}");
    let first = &report["services"][0];
    assert_eq!(first["decision"], "pending");
    assert_eq!(first["gates"][0]["name"], "approved_promotion");
    assert_eq!(first["gates"][0]["type"], "manual");
    assert_eq!(first["gates"][0]["result"], "pending");

    // Bad input: exit 2, nothing on stdout.
    for args in [
        vec!["promote", id.as_str(), "--to", "complaint"],
        vec!["promote", "ffffffffffff"],
        vec!["promote", id.as_str(), "--format", "yaml"],
    ] {
        let out = repo.gantry(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), "", "{args:?}");
    }
    let out = repo.gantry(&["promote", &id, "--to", "complaint"]);
    assert!(
        text(&out.stderr).contains("did you mean `compliant`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_evidence_chain_record_appended_by_hand_is_refused() {
    let repo = Repo::new();
    let package = "f".repeat(64);
    // A validation saying api 6.6.6 was promoted to compliant, without a
    // package, gates or approvals; and one that is not a chain record at
    // all but claims to be.
    let forged = serde_json::json!({
        "promotion_id": package, "timestamp": "2026-12-06T00:00:00Z",
        "service": "api", "previous_hash": "",
        "evidence": {"type": "validation", "signatures": [], "data": {
            "package": package, "version": "6.6.6", "from": "compliance_ready",
            "to": "compliant", "decision": "promoted", "package_decision": "promoted",
            "gates": []}},
    });
    repo.write("forged.json", &forged.to_string());
    repo.write("bogus.json", "{\"hello\": \"world\"}");
    for (predicate, extra) in [
        (
            "forged.json",
            vec![
                "--kind",
                "promotion-validation",
                "--service",
                "api",
                "--service-version",
                "6.6.6",
                "--promotion",
                package.as_str(),
            ],
        ),
        ("bogus.json", vec![]),
    ] {
        repo.ok(&[
            "attest",
            "-t",
            "https://gantry.dev/attestation/evidence-chain/v1",
            "-p",
            predicate,
            "-s",
            "artifact.bin",
            "-k",
            ".gantry/keys/mallory.key",
            "-o",
            "chain.intoto.json",
        ]);
        let mut args = vec!["ledger", "append", "chain.intoto.json"];
        args.extend(extra);
        let out = repo.gantry(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("evidence chain record"), "{stderr}");
    }
    // Nothing moved, and promotion still reads the chain.
    let services = json(&repo.ok(&["services", "--format", "json"]));
    assert!(!services.to_string().contains("6.6.6"), "{services:#}");
    repo.ok(&["promotions"]);
    let id = repo.package();
    repo.evidence();
    repo.ok(&["promote", &id]);
}

#[test]
fn promoting_again_says_every_service_is_already_there() {
    let repo = Repo::new();
    let id = repo.package();
    repo.evidence();
    let args = ["promote", id.as_str(), "--to", "compliance_ready"];
    let first = text(&repo.ok(&args).stdout);
    assert!(first.contains(": promoted"), "{first}");
    let again = text(&repo.ok(&args).stdout);
    let headline = again.lines().next().unwrap_or_default();
    assert!(
        headline.ends_with("compliance_ready: already there"),
        "{again}"
    );
    assert!(!again.contains("promoted\n"), "{again}");
}

#[test]
fn an_approval_is_spent_by_the_promotion_it_allowed() {
    let repo = Repo::new();
    let id = repo.package();
    repo.evidence();
    let approve = [
        "approve",
        id.as_str(),
        "--as",
        "alice",
        "--key",
        ".gantry/keys/alice.key",
    ];
    repo.ok(&["promote", &id, "--to", "compliance_ready"]);
    repo.ok(&approve);
    repo.ok(&["promote", &id, "--to", "compliant"]);
    // Back to the sandbox and up again: the first approval does not carry over.
    repo.ok(&["promote", &id, "--to", "sandbox"]);
    repo.ok(&["promote", &id, "--to", "compliance_ready"]);
    let again = repo.gantry(&["promote", &id, "--to", "compliant", "--format", "json"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    let report = json(&again);
    assert_eq!(report["decision"], "pending", "{report:#}");
    let reasons = report.to_string();
    assert!(
        reasons.contains("spent by the move recorded in entry"),
        "{report:#}"
    );
    // A fresh approval by the same approver counts.
    repo.ok(&approve);
    repo.ok(&["promote", &id, "--to", "compliant"]);
}
