//! Jobs with `environment:` as users run them: a branch the environment
//! refuses, a job waiting for a reviewer who approves from a second
//! process, a wait that times out, a failed health check that rolls back
//! by itself, and `gantry rollback`; each recorded as deployments.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::common::{commit_all, git};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A repository with its own home and a reviewer's key pair.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(environments: &str, workflow: &str) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        std::fs::create_dir_all(repo.root().join(".github/workflows")).unwrap();
        std::fs::create_dir_all(repo.root().join(".gantry/keys")).unwrap();
        for name in ["alice", "carol"] {
            let out = repo.gantry(&[
                "key",
                "generate",
                "--out",
                repo.key_prefix(name).to_str().unwrap(),
            ]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            std::fs::copy(
                repo.key_prefix(name).with_extension("pub"),
                repo.root().join(format!(".gantry/keys/{name}.pub")),
            )
            .unwrap();
        }
        std::fs::write(repo.root().join(".gantry/environments.yml"), environments).unwrap();
        std::fs::write(repo.root().join(".github/workflows/deploy.yml"), workflow).unwrap();
        std::fs::write(repo.root().join("health.txt"), "ok v1\n").unwrap();
        commit_all(&repo.root());
        repo
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn key_prefix(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        std::fs::create_dir_all(self.root()).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
        cmd.args(args)
            .current_dir(self.root())
            .env("GANTRY_HOME", self.home())
            .env("GANTRY_ACTOR", "carol")
            .env("PROD_TOKEN", "hunter2-prod-token")
            .env_remove("GANTRY_KEY_PASSWORD");
        cmd
    }

    fn gantry(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn deployments(&self) -> Vec<Value> {
        let out = self.gantry(&["deployments", "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["version"], 1);
        doc["deployments"].as_array().unwrap().clone()
    }

    fn commit(&self, health: &str) {
        std::fs::write(self.root().join("health.txt"), health).unwrap();
        git(&self.root(), &["commit", "-qam", health.trim()]);
    }
}

const PRODUCTION: &str = "\
environments:
  production:
    deployment_branches: [main, \"tags/v*\"]
    reviewers:
      alice: keys/alice.pub
      carol: keys/carol.pub
    approvals_required: 1
    secrets:
      DEPLOY_TOKEN: { env: PROD_TOKEN }
    vars: { REGION: eu-central-1 }
    service: web
";

const DEPLOY: &str = "\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"build sees [${{ secrets.DEPLOY_TOKEN }}]\"
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: ${{ startsWith(github.ref, 'refs/tags/') && 'production' || 'staging' }}
      url: https://example.com/${{ steps.d.outputs.region }}
    steps:
      - id: d
        run: |
          echo \"token=$TOKEN\"
          echo \"region=${{ vars.REGION }}\" >> \"$GITHUB_OUTPUT\"
        env:
          TOKEN: ${{ secrets.DEPLOY_TOKEN }}
";

#[test]
fn a_branch_the_environment_refuses_fails_the_job_with_the_rule() {
    let repo = Repo::new(
        &PRODUCTION.replace("[main, \"tags/v*\"]", "[\"tags/v*\"]"),
        &DEPLOY.replace(
            "${{ startsWith(github.ref, 'refs/tags/') && 'production' || 'staging' }}",
            "production",
        ),
    );
    let out = repo.gantry(&["run", "--ref", "refs/heads/feature/x"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "[deploy]   error: Branch \"feature/x\" is not allowed to deploy to production due to \
             environment protection rules: deployment_branches allows only `tags/v*` \
             (.gantry/environments.yml:3:26)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("token="), "no step ran: {stdout}");
    assert!(repo.deployments().is_empty());
}

#[test]
fn a_job_waits_for_a_reviewer_then_deploys_after_approve_from_another_process() {
    let repo = Repo::new(PRODUCTION, DEPLOY);
    let mut child = repo
        .command(&[
            "run",
            "--ref",
            "refs/tags/v1.0.0",
            "--format",
            "json",
            "--approval-timeout",
            "2m",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events: Vec<Value> = Vec::new();
    let mut run = 0;
    for line in lines.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if event["type"] == "run-started" {
            run = event["run_id"].as_u64().unwrap();
        }
        let waiting = event["type"] == "job-waiting";
        events.push(event);
        if waiting {
            break;
        }
    }
    let waiting = events.last().unwrap();
    assert_eq!(waiting["job"], "deploy");
    assert_eq!(
        waiting["reason"],
        "waiting for 1 approval of environment `production` (reviewers: alice, carol); \
         approve from another terminal with:"
    );
    // Meanwhile the deployment is queued.
    let queued = repo.deployments();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["state"], "queued");

    let run_text = run.to_string();
    let approve = |who: &str| {
        repo.gantry(&[
            "approve",
            "--run",
            &run_text,
            "--environment",
            "production",
            "--as",
            who,
            "--key",
            repo.key_prefix(who).with_extension("key").to_str().unwrap(),
        ])
    };
    // carol started the run: she may not approve it.
    let own = approve("carol");
    assert_eq!(own.status.code(), Some(2));
    assert!(
        text(&own.stderr).contains(
            "carol started the deployment to `production` and may not approve it (prevent_self_review)"
        ),
        "{}",
        text(&own.stderr)
    );
    // alice's key is not carol's.
    let wrong = repo.gantry(&[
        "approve",
        "--run",
        &run_text,
        "--environment",
        "production",
        "--as",
        "alice",
        "--key",
        repo.key_prefix("carol")
            .with_extension("key")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).contains("is not alice's"),
        "{}",
        text(&wrong.stderr)
    );

    let ok = approve("alice");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).starts_with(&format!(
            "alice approved run {run} for environment production"
        )),
        "{}",
        text(&ok.stdout)
    );
    let again = approve("alice");
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stdout));

    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{rest:?}\n{stderr}");
    let logs: Vec<String> = events
        .iter()
        .chain(&rest)
        .filter(|e| e["type"] == "log")
        .map(|e| {
            format!(
                "{} {}",
                e["job"].as_str().unwrap(),
                e["line"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        logs.contains(&format!(
            "deploy   gantry approve --run {run} --environment production --as alice --key KEY"
        )),
        "{logs:#?}"
    );
    assert!(logs.contains(&"deploy approved for environment `production` by alice".to_string()));
    // The environment's secret reached the deploy job, masked, and only it.
    assert!(logs.contains(&"deploy token=***".to_string()), "{logs:#?}");
    assert!(
        logs.contains(&"build build sees []".to_string()),
        "{logs:#?}"
    );
    assert!(!logs.iter().any(|l| l.contains("hunter2")));

    let deployed = repo.deployments();
    assert_eq!(deployed.len(), 1);
    let d = &deployed[0];
    assert_eq!(d["environment"], "production");
    assert_eq!(d["state"], "success");
    assert_eq!(d["ref"], "refs/tags/v1.0.0");
    assert_eq!(d["run"], run);
    assert_eq!(d["creator"], "carol");
    assert_eq!(d["url"], "https://example.com/eu-central-1");
    let states: Vec<&str> = d["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["queued", "in_progress", "success"]);
    // Every decision is evidence: the deployment's creation, its two
    // statuses, and alice's signed approval.
    let verify = repo.gantry(&["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).starts_with("4 entries"),
        "{}",
        text(&verify.stdout)
    );
    // ... all four for the service the environment deploys.
    let export = repo.gantry(&[
        "ledger",
        "export",
        "--service",
        "web",
        "--out",
        "audit",
        "--format",
        "json",
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let exported: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    let kinds: Vec<&str> = exported["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "deployment",
            "deployment-approval",
            "deployment",
            "deployment"
        ]
    );
}

#[test]
fn a_reviewer_who_rejects_fails_the_job_and_the_deployment() {
    let repo = Repo::new(PRODUCTION, DEPLOY);
    let mut child = repo
        .command(&["run", "--ref", "refs/tags/v3", "--approval-timeout", "2m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let waiting = line.contains("gantry approve --run");
        seen.push(line);
        if waiting {
            break;
        }
    }
    let run = seen[0]
        .split_whitespace()
        .find_map(|w| w.strip_prefix('#'))
        .unwrap()
        .to_string();
    let out = repo.gantry(&[
        "approve",
        "--run",
        &run,
        "--environment",
        "production",
        "--as",
        "alice",
        "--key",
        repo.key_prefix("alice")
            .with_extension("key")
            .to_str()
            .unwrap(),
        "--reject",
        "--comment",
        "not on a Friday",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(&format!("alice rejected run {run}")));
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest:#?}");
    assert!(
        rest.contains(
            &"[deploy]   error: alice rejected the deployment to environment `production`: \
              not on a Friday"
                .to_string()
        ),
        "{rest:#?}"
    );
    assert!(!rest.iter().any(|l| l.contains("token=")), "no step ran");
    let d = repo.deployments();
    assert_eq!(d[0]["state"], "failure");
}

#[test]
fn no_approval_within_the_timeout_fails_the_job_with_the_reason() {
    let repo = Repo::new(PRODUCTION, DEPLOY);
    let out = repo.gantry(&["run", "--ref", "refs/tags/v2", "--approval-timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[deploy] waiting: waiting for 1 approval"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "[deploy]   error: no approval for environment `production` within 1 s \
             (0 of 1 counted; --approval-timeout)"
        ),
        "{stdout}"
    );
    let d = repo.deployments();
    assert_eq!(d[0]["state"], "error");
}

/// An HTTP server on loopback that hands each connection to `handle`; it
/// stops when dropped.
struct Served {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    fn start(path: &str, handle: impl Fn(std::net::TcpStream) + Send + 'static) -> Served {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        stream
                            .set_read_timeout(Some(Duration::from_secs(5)))
                            .unwrap();
                        handle(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Served {
            url,
            stop,
            thread: Some(thread),
        }
    }

    /// Answers every request with 200 and the file's contents.
    fn file(path: PathBuf) -> Served {
        Served::start("/healthz", move |mut stream| {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = std::fs::read_to_string(&path).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        })
    }

    /// A webhook receiver: answers 200 and keeps each request's text.
    fn receiver() -> (Served, Arc<std::sync::Mutex<Vec<String>>>) {
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = got.clone();
        let served = Served::start("/hook", move |mut stream| {
            let request = read_request(&mut stream);
            kept.lock().unwrap().push(request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        });
        (served, got)
    }
}

/// Headers, then as many body bytes as they announce.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&request).into_owned()
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn staging(url: &str) -> String {
    format!(
        "environments:
  staging:
    deployment_branches: [main]
    health_check:
      url: {url}
      body: ok
      retries: 2
      backoff: 10ms
      deadline: 10s
    auto_rollback: true
"
    )
}

const SERVE: &str = "\
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: actions/checkout@v4
      - run: cp health.txt \"${{ vars.WWW }}/healthz\"
";

fn ids(deployments: &[Value]) -> Vec<(u64, String, Option<u64>)> {
    deployments
        .iter()
        .map(|d| {
            (
                d["id"].as_u64().unwrap(),
                d["state"].as_str().unwrap().to_string(),
                d["rollback_of"].as_u64(),
            )
        })
        .collect()
}

fn commit_of(d: &Value) -> String {
    d["commit"].as_str().unwrap().to_string()
}

#[test]
fn a_failed_health_check_rolls_back_by_itself_and_rollback_deploys_a_previous_success() {
    let www = tempfile::tempdir().unwrap();
    let served = Served::file(www.path().join("healthz"));
    let repo = Repo::new(&staging(&served.url), SERVE);
    let var = format!("WWW={}", www.path().display());
    let run = |repo: &Repo| repo.gantry(&["run", "--ref", "refs/heads/main", "--var", &var]);

    let first = run(&repo);
    assert!(first.status.success(), "{}", text(&first.stdout));
    assert!(
        text(&first.stdout).contains("is healthy after 1 attempt"),
        "{}",
        text(&first.stdout)
    );

    // The next version answers without `ok`: its deployment fails, and
    // the first is deployed again by itself.
    repo.commit("bad v2\n");
    let second = run(&repo);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stdout));
    let stdout = text(&second.stdout);
    assert!(
        stdout.contains("is unhealthy after 3 attempts: the body does not contain `ok`"),
        "{stdout}"
    );
    assert!(
        text(&second.stderr).contains(
            "auto_rollback: rolling `staging` back to deployment 1 (deployment 2 failed its health check)"
        ),
        "{}",
        text(&second.stderr)
    );
    let d = repo.deployments();
    assert_eq!(
        ids(&d),
        [
            (3, "success".into(), Some(1)),
            (2, "failure".into(), None),
            (1, "inactive".into(), None)
        ]
    );
    assert_eq!(
        commit_of(&d[0]),
        commit_of(&d[2]),
        "same commit as the first"
    );
    assert_eq!(
        std::fs::read_to_string(www.path().join("healthz")).unwrap(),
        "ok v1\n"
    );

    // A good third version, then a rollback by hand goes back to the
    // previous success (the rollback, at the first commit).
    // The third version's workflow says so; a rollback runs the workflow
    // as it was at the commit it deploys again.
    std::fs::write(
        repo.root().join(".github/workflows/deploy.yml"),
        format!("{SERVE}      - run: echo \"workflow of v3\"\n"),
    )
    .unwrap();
    repo.commit("ok v3\n");
    let third = run(&repo);
    assert!(third.status.success(), "{}", text(&third.stdout));
    assert!(text(&third.stdout).contains("workflow of v3"));
    let back = repo.gantry(&["rollback", "staging", "--var", &var]);
    assert!(
        back.status.success(),
        "{}\n{}",
        text(&back.stdout),
        text(&back.stderr)
    );
    assert!(
        text(&back.stderr).contains("rolling `staging` back to deployment 3"),
        "{}",
        text(&back.stderr)
    );
    assert!(
        !text(&back.stdout).contains("workflow of v3"),
        "{}",
        text(&back.stdout)
    );
    let d = repo.deployments();
    assert_eq!(
        ids(&d)[..2],
        [(5, "success".into(), Some(3)), (4, "inactive".into(), None)]
    );
    assert_eq!(commit_of(&d[0]), commit_of(&d[4]));
    assert_eq!(
        std::fs::read_to_string(www.path().join("healthz")).unwrap(),
        "ok v1\n"
    );

    // --to names the deployment; one that never succeeded is refused.
    let refused = repo.gantry(&["rollback", "staging", "--to", "2", "--var", &var]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("deployment 2 never succeeded (failure)"),
        "{}",
        text(&refused.stderr)
    );
    let human = repo.gantry(&["deployments", "--environment", "staging"]);
    let mut listing = text(&human.stdout);
    for (pattern, with) in [
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"\b[0-9a-f]{12}\b", "[COMMIT]"),
        (r"127\.0\.0\.1:\d+", "[SERVER]"),
    ] {
        listing = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&listing, with)
            .into_owned();
    }
    insta::assert_snapshot!("deployments_after_rollbacks", listing);
    drop(served);
}

#[test]
fn the_health_check_action_retries_and_fails_the_step_when_unhealthy() {
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("healthz"), "ok\n").unwrap();
    let served = Served::file(www.path().join("healthz"));
    let workflow = format!(
        "on: push
jobs:
  smoke:
    runs-on: ubuntu-latest
    steps:
      - uses: gantry/health-check@v1
        with:
          url: {url}
          body: ok
      - uses: gantry/health-check@v1
        with:
          url: {url}
          body: version 2
          retries: 1
          backoff: 10ms
",
        url = served.url
    );
    let repo = Repo::new("", &workflow);
    let out = repo.gantry(&["run", "--ref", "refs/heads/main"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "[smoke]   {} is healthy after 1 attempt",
            served.url
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "[smoke]   error: {} is unhealthy after 2 attempts: the body does not contain \
             `version 2` (no retries left of 1 retry)",
            served.url
        )),
        "{stdout}"
    );
    // A step is not a deployment.
    assert!(repo.deployments().is_empty());
}

#[test]
fn a_problem_in_environments_yml_stops_the_run_before_anything_runs() {
    let repo = Repo::new(
        "environments:\n  production:\n    wait_timer: soon\n",
        DEPLOY,
    );
    let out = repo.gantry(&["run", "--ref", "refs/heads/main"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(".gantry/environments.yml:3:17"), "{stderr}");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn a_deployment_notifies_the_environments_webhook_once_per_event() {
    let (receiver, received) = Served::receiver();
    let environments = format!(
        "environments:
  staging:
    deployment_branches: [main]
    notifications:
      - {{ type: webhook, url: {} }}
",
        receiver.url
    );
    let workflow = "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: staging\n    steps:\n      - run: echo deployed\n";
    let repo = Repo::new(&environments, workflow);
    let out = repo.gantry(&["run"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("notifications: 2 delivered"),
        "{}",
        text(&out.stderr)
    );
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:#?}");
    let bodies: Vec<Value> = got
        .iter()
        .map(|r| serde_json::from_str(&r[r.find("\r\n\r\n").unwrap() + 4..]).unwrap())
        .collect();
    let statuses: Vec<&str> = bodies
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["queued", "success"]);
    for b in &bodies {
        assert_eq!(b["event"], "deployment");
        assert_eq!(b["subject"], "staging");
    }
    assert_ne!(bodies[0]["idempotency_key"], bodies[1]["idempotency_key"]);
    // Nothing is left to send: a delivery pass attempts nothing.
    let again = repo.gantry(&["notifications", "deliver", "--format", "json"]);
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["attempts"], serde_json::json!([]), "{report:#}");
    assert_eq!(received.lock().unwrap().len(), 2);
    drop(receiver);
}

#[test]
fn the_delivery_example_walkthrough_runs_unattended() {
    let work = tempfile::tempdir().unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deliver/walkthrough.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(work.path())
        .env("GANTRY", env!("CARGO_BIN_EXE_gantry"))
        .env("NO_COLOR", "1")
        .env_remove("GANTRY_HOME")
        .output()
        .unwrap();
    let all = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "walkthrough failed\n{all}");
    assert!(all.contains("walkthrough: done"), "{all}");
    assert!(
        all.contains("Branch \"main\" is not allowed to deploy to production"),
        "{all}"
    );
    assert!(
        all.contains("alice approved run 3 for environment production"),
        "{all}"
    );
    assert!(
        all.contains(
            "rolling `staging` back to deployment 1 (deployment 3 failed its health check)"
        ),
        "{all}"
    );
    // The good canary is promoted through 10% and 50%; the bad one is
    // rolled back at the first interval; no request goes unanswered.
    for line in [
        "step 1/5: setWeight 10 (canary 10%)",
        "step 3/5: setWeight 50 (canary 50%)",
        "promoted: canary 100%",
        "analysis 1: failed",
        "rolled back: canary 0%",
    ] {
        assert!(all.contains(line), "{line}\n{all}");
    }
    assert_eq!(all.matches(" 0 unanswered").count(), 2, "{all}");
    for event in [
        "/rollout     promoted     rollout web promoted",
        "/rollout     rolled_back  rollout web rolled back",
        "/production  success      deployment 2 of refs/tags/v1.0.0",
        "/staging     failure      deployment 3 of refs/heads/main",
        "/staging     rolled_back  staging rolled back to deployment 1",
    ] {
        assert!(all.contains(event), "{event}\n{all}");
    }
    // Every entry of the ledger is the service web's evidence, and the
    // auditor's copy of it checks out.
    let count = |prefix: &str, suffix: &str| {
        all.lines()
            .find_map(|l| l.strip_prefix(prefix)?.split_once(suffix).map(|(n, _)| n))
            .and_then(|n| n.parse::<u64>().ok())
    };
    let total = count("", " entries, root ").expect("ledger verify's count");
    assert_eq!(count("exported ", " entries of web"), Some(total), "{all}");
    assert!(
        all.contains(&format!("{total} exported entries: ok")),
        "{all}"
    );
}
