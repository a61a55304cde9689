//! The `Deployer` on a real store: wait timer, cancellation, secrets,
//! the events hook, and the rollback a failed health check asks for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_deliver::deploy::{DeployRequest, Deployer, Notice};
use gantry_deliver::environments::SecretSource;
use gantry_deliver::events::{DeploymentEvent, DeploymentEvents};
use gantry_deliver::health::HealthCheck;
use gantry_deliver::{Environment, Environments};
use gantry_store::{DeploymentState, RunId, Store};

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl DeploymentEvents for Recorder {
    fn deployment_event(&self, event: &DeploymentEvent) {
        let line = match event {
            DeploymentEvent::StatusChanged {
                deployment,
                deactivated,
                ..
            } => format!(
                "{} {} {} {deactivated:?}",
                event.name(),
                deployment.id,
                deployment.state
            ),
            other => format!("{} {}", other.name(), other.deployment().id),
        };
        self.0.lock().unwrap().push(line);
    }
}

struct Fixture {
    _home: tempfile::TempDir,
    deployer: Deployer,
    events: Arc<Recorder>,
}

fn fixture(env: Environment) -> Fixture {
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(home.path()).unwrap());
    let mut environments = Environments::default();
    environments.environments.insert(env.name.clone(), env);
    let mut deployer = Deployer::new(
        home.path().to_path_buf(),
        environments,
        store,
        Some(home.path().join("ledger")),
        "carol".into(),
    );
    let events = Arc::new(Recorder::default());
    deployer.events = events.clone();
    Fixture {
        _home: home,
        deployer,
        events,
    }
}

fn request(run: u64) -> DeployRequest {
    DeployRequest {
        run: RunId(run),
        job_id: "deploy".into(),
        job_name: "deploy".into(),
        workflow_path: ".github/workflows/deploy.yml".into(),
        environment: "production".into(),
        git_ref: Some("refs/heads/main".into()),
        commit: Some(format!("c{run}")),
        record: true,
    }
}

fn notices() -> (Arc<Mutex<Vec<Notice>>>, impl Fn(Notice) + Send + Sync) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (seen, move |n| s.lock().unwrap().push(n))
}

#[tokio::test]
async fn the_wait_timer_is_shown_as_waiting_and_then_the_deployment_runs() {
    let mut env = Environment::unprotected("production");
    env.wait_timer = Duration::from_millis(30);
    let f = fixture(env);
    let (seen, say) = notices();
    let admitted = f
        .deployer
        .enter(&request(1), &say, &|| false)
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap()[0],
        Notice::Waiting("waiting 0.03 s (wait_timer of environment `production`)".into())
    );
    let id = admitted.deployment.unwrap();
    let d = f.deployer.store.deployment(id).unwrap().unwrap();
    assert_eq!(d.state, DeploymentState::InProgress);
    assert_eq!(d.creator, "carol");
    assert!(
        f.deployer
            .leave(&request(1), &admitted, Some(true), Some("https://x"), &say)
            .await
    );
    assert_eq!(
        *f.events.0.lock().unwrap(),
        [
            "created 1",
            "status_changed 1 in_progress []",
            "status_changed 1 success []"
        ]
    );
    assert!(f.deployer.take_evidence_failures().is_empty());
}

#[tokio::test]
async fn a_cancelled_wait_for_reviewers_ends_the_deployment_in_error() {
    let mut env = Environment::unprotected("production");
    let key =
        gantry_attest::keys::PrivateKey::generate(gantry_attest::keys::Algorithm::Ed25519).unwrap();
    env.reviewers
        .insert("alice".into(), key.public_key().clone());
    env.approvals_required = 1;
    let f = fixture(env);
    let (seen, say) = notices();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let cancelled = || calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 2;
    let refused = f
        .deployer
        .enter(&request(7), &say, &cancelled)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        "cancelled while waiting for approval of environment `production`"
    );
    assert!(seen.lock().unwrap().contains(&Notice::Info(
        "  gantry approve --run 7 --environment production --as alice --key KEY".into()
    )));
    let d = &f.deployer.store.deployments(None, 10).unwrap()[0];
    assert_eq!(d.state, DeploymentState::Error);
    assert_eq!(d.description.as_deref(), Some(refused.as_str()));
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_refuses_the_job_before_any_deployment() {
    let mut env = Environment::unprotected("production");
    env.secrets.insert(
        "TOKEN".into(),
        SecretSource::Env("GANTRY_TEST_DEPLOY_SURELY_UNSET".into()),
    );
    let f = fixture(env);
    let (_, say) = notices();
    let refused = f
        .deployer
        .enter(&request(1), &say, &|| false)
        .await
        .unwrap_err();
    assert!(
        refused.contains("GANTRY_TEST_DEPLOY_SURELY_UNSET"),
        "{refused}"
    );
    assert!(f.deployer.store.deployments(None, 10).unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_health_check_with_auto_rollback_asks_for_the_previous_success() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let mut env = Environment::unprotected("production");
    let mut check = HealthCheck::new(url);
    check.retries = 0;
    env.health_check = Some(check);
    env.auto_rollback = true;
    let f = fixture(env);
    let (_, say) = notices();

    // A first deployment without its health check (the job failed), one
    // recorded as a success by hand, then one whose check fails.
    let failed = f
        .deployer
        .enter(&request(1), &say, &|| false)
        .await
        .unwrap();
    assert!(
        !f.deployer
            .leave(&request(1), &failed, Some(false), None, &say)
            .await
    );
    let good = f
        .deployer
        .enter(&request(2), &say, &|| false)
        .await
        .unwrap();
    let good_id = good.deployment.unwrap();
    f.deployer
        .store
        .set_deployment_state(good_id, DeploymentState::Success, None, None)
        .unwrap();
    let bad = f
        .deployer
        .enter(&request(3), &say, &|| false)
        .await
        .unwrap();
    assert!(
        !f.deployer
            .leave(&request(3), &bad, Some(true), None, &say)
            .await
    );
    let wanted = f.deployer.take_rollbacks();
    assert_eq!(wanted.len(), 1);
    assert_eq!(wanted[0].from, bad.deployment.unwrap());
    assert_eq!(wanted[0].to, Some(good_id));
    let d = f
        .deployer
        .store
        .deployment(bad.deployment.unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(d.state, DeploymentState::Failure);
    assert!(
        d.description
            .as_deref()
            .unwrap()
            .contains("is unhealthy after 1 attempt"),
        "{d:?}"
    );
    assert!(f.deployer.take_rollbacks().is_empty(), "asked once");
}

#[tokio::test]
async fn a_window_gate_that_is_closed_refuses_the_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let source = gantry_workflow::SourceFile::new(
        ".gantry/environments.yml",
        "environments:\n  production:\n    gates:\n      freeze:\n        validator: window\n        \
         timezone: UTC\n        allow: [\"2000-01-01 - 2000-01-02\"]\n",
    );
    let envs = Environments::parse(&source, dir.path()).unwrap();
    let env = envs.environments["production"].clone();
    let f = fixture(env);
    let (_, say) = notices();
    let refused = f
        .deployer
        .enter(&request(1), &say, &|| false)
        .await
        .unwrap_err();
    assert!(
        refused.starts_with(
            "gate `freeze` of environment `production` does not allow a deployment now: "
        ),
        "{refused}"
    );
    assert!(f.deployer.store.deployments(None, 10).unwrap().is_empty());
}
