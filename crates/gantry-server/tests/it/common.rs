//! A server on 127.0.0.1 port 0 over a scratch repository and home.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_server::auth::{self, Role};
use gantry_server::{LogSink, ServeOptions, Server};
use gantry_store::{Home, Store};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: Home,
}

const PROMOTION: &str = "\
states:
  sandbox:
    allowed_transitions: [compliance_ready]
    requirements: []
  compliance_ready:
    allowed_transitions: [compliant]
    requirements: []
  compliant:
    allowed_transitions: [sandbox]
    requirements: [approved_promotion]
gates:
  approved_promotion: { type: manual, approvals_required: 1, approvers: [alice] }
approvers:
  alice: keys/alice.pub
";

fn service(name: &str, data: &[&str]) -> String {
    format!(
        "service:\n  name: {name}\n  spec:\n    api_version: v1\n    compliance_mode: compliant\n    dependencies:\n      runtime: []\n      data: [{}]\n      security: []\n",
        data.join(", ")
    )
}

impl Fixture {
    /// A repository with services `api` (depends on `db`) and `db`, a
    /// three-state machine whose last step needs alice's approval.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let g = root.join(".gantry");
        std::fs::create_dir_all(g.join("services")).unwrap();
        std::fs::create_dir_all(g.join("keys")).unwrap();
        std::fs::write(g.join("promotion.yml"), PROMOTION).unwrap();
        std::fs::write(g.join("services/api.yml"), service("api", &["db"])).unwrap();
        std::fs::write(g.join("services/db.yml"), service("db", &[])).unwrap();
        let alice = gantry_attest::PrivateKey::ed25519_from_seed(&[7; 32]).unwrap();
        std::fs::write(g.join("keys/alice.pub"), alice.public_key().to_pem()).unwrap();
        std::fs::write(dir.path().join("alice.key"), alice.to_pem(None).unwrap()).unwrap();
        let home = Home::new(dir.path().join("home"));
        Fixture { dir, root, home }
    }

    pub fn store(&self) -> Store {
        Store::open_in(&self.home, gantry_store::StoreOptions::default()).unwrap()
    }

    pub fn token(&self, name: &str, role: Role) -> String {
        auth::create_token(&self.store(), name, role, None)
            .unwrap()
            .token
    }

    pub fn alice_key(&self) -> PathBuf {
        self.dir.path().join("alice.key")
    }
}

/// A log sink the test can read.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

pub struct Running {
    pub addr: SocketAddr,
    pub log: Captured,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops accepting and waits for the requests in flight.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

pub fn options(f: &Fixture) -> ServeOptions {
    let mut o = ServeOptions::new(
        f.root.clone(),
        f.home.clone(),
        "127.0.0.1:0".parse().unwrap(),
    );
    o.approval_keys = vec![("alice".to_string(), f.alice_key())];
    o
}

pub async fn start(f: &Fixture) -> Running {
    start_with(options(f)).await
}

pub async fn start_with(mut o: ServeOptions) -> Running {
    let log = Captured::default();
    o.log = LogSink::new(log.clone());
    let server = Server::bind(o).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(30),
    ));
    Running {
        addr,
        log,
        stop: Some(stop),
        task: Some(task),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}
