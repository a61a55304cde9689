//! `gantry serve`: a JSON HTTP API, Prometheus metrics and a dashboard
//! over the same store and libraries the CLI uses (gantry-store for runs
//! and tests, gantry-promote for services, packages and promotions,
//! gantry-ledger for checkpoints and proofs), so the two never disagree.
//!
//! Every request but `/healthz` carries a token (`Authorization: Bearer`,
//! or the dashboard's cookie); the role of the token decides what it may
//! do, and is checked before anything is looked up, so a refusal never
//! tells whether the object exists.

mod api;
pub mod auth;
mod charts;
mod dashboard;
pub mod grafana;
mod metrics;
mod problem;
mod server;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use api::{ApiDoc, router};
pub use metrics::Metrics;
pub use problem::Problem;
pub use server::{
    ServeError, ServeOptions, Server, TlsFiles, app, is_loopback, serve, shutdown_signal,
};

/// Where the access log goes: one line per request (method, path without
/// the query, status, milliseconds, the caller's token name). It never
/// holds a token: not the header, not the query, not the cookie.
#[derive(Clone)]
pub struct LogSink(Arc<Mutex<Box<dyn Write + Send>>>);

impl LogSink {
    pub fn new(w: impl Write + Send + 'static) -> LogSink {
        LogSink(Arc::new(Mutex::new(Box::new(w))))
    }

    pub fn stderr() -> LogSink {
        LogSink::new(std::io::stderr())
    }

    pub(crate) fn line(&self, line: &str) {
        if let Ok(mut w) = self.0.lock() {
            let _ = writeln!(w, "{line}");
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    home: gantry_store::Home,
    store: gantry_store::Store,
    /// Approvers' private keys by approver name (`--approval-key`).
    approval_keys: Vec<(String, gantry_attest::PrivateKey)>,
    metrics: Metrics,
    log: LogSink,
    /// Told of every promotion and approval, for the dashboard's live view.
    changes: tokio::sync::watch::Sender<u64>,
    /// Served over TLS: the session cookie is `Secure`.
    tls: bool,
}

impl AppState {
    pub fn new(
        root: PathBuf,
        home: gantry_store::Home,
        store: gantry_store::Store,
        approval_keys: Vec<(String, gantry_attest::PrivateKey)>,
        log: LogSink,
        tls: bool,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                root,
                home,
                store,
                approval_keys,
                metrics: Metrics::default(),
                log,
                changes: tokio::sync::watch::channel(0).0,
                tls,
            }),
        }
    }

    pub fn store(&self) -> &gantry_store::Store {
        &self.inner.store
    }

    pub(crate) fn changed(&self) {
        self.inner.changes.send_modify(|n| *n += 1);
    }
}
