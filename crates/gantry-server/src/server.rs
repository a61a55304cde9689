//! Listening: the accept loop, TLS, the layers every request goes
//! through (access log and metrics, body limit, timeout), and graceful
//! shutdown (no new connections, in-flight requests finish).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::{AppState, LogSink};

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How to serve.
pub struct ServeOptions {
    /// The repository whose `.gantry/` holds the catalog and promotion rules.
    pub root: PathBuf,
    pub home: gantry_store::Home,
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    /// Serve plain HTTP on a non-loopback address.
    pub insecure: bool,
    /// `NAME=KEYFILE`: the private key the server signs `NAME`'s approvals with.
    pub approval_keys: Vec<(String, PathBuf)>,
    pub log: LogSink,
    /// The longest a request may take to answer.
    pub request_timeout: Duration,
    /// The longest a client may take to send a request's head.
    pub header_timeout: Duration,
    /// The largest request body.
    pub body_limit: usize,
}

impl ServeOptions {
    /// The defaults for `root` and `home` on `listen`.
    pub fn new(root: PathBuf, home: gantry_store::Home, listen: SocketAddr) -> ServeOptions {
        ServeOptions {
            root,
            home,
            listen,
            tls: None,
            insecure: false,
            approval_keys: Vec::new(),
            log: LogSink::stderr(),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            body_limit: 1 << 20,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0} is not a loopback address: serving it needs TLS (--tls-cert and --tls-key), or --insecure to serve plain HTTP anyway"
    )]
    NeedsTls(SocketAddr),
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Store(#[from] gantry_store::StoreError),
    #[error("approval key for `{name}` ({}): {reason}", path.display())]
    ApprovalKey {
        name: String,
        path: PathBuf,
        reason: String,
    },
}

/// Whether `addr` is reachable only from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// A bound server, not yet serving.
pub struct Server {
    listener: TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    header_timeout: Duration,
    state: AppState,
}

fn load_tls(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate in it",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.key.display())))?;
    // ring is the provider the workspace already builds (for reqwest);
    // rustls deprecates it only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

fn load_key(name: &str, path: &PathBuf) -> Result<gantry_attest::PrivateKey, ServeError> {
    let error = |reason: String| ServeError::ApprovalKey {
        name: name.to_string(),
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let password = std::env::var("GANTRY_KEY_PASSWORD").ok();
    gantry_attest::PrivateKey::from_pem(&text, password.as_deref().map(str::as_bytes))
        .map_err(|e| error(e.to_string()))
}

/// The route a request matched (its template, so ids do not make new
/// series), or `unmatched`.
fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string())
}

async fn access(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    // The path only: a `?token=` of the dashboard's first request must
    // never reach the log.
    let path = req.uri().path().to_string();
    let route = route_of(&req);
    let response = next.run(req).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.inner.metrics.request(&method, &route, status, took);
    state.inner.log.line(&format!(
        "{} {method} {path} {status} {:.1}ms",
        jiff::Timestamp::now(),
        took.as_secs_f64() * 1000.0
    ));
    response
}

/// The whole application: the API, metrics, the dashboard, and the layers.
pub fn app(state: AppState, request_timeout: Duration, body_limit: usize) -> axum::Router {
    let (api, _) = crate::api::router();
    api.layer(middleware::from_fn_with_state(state.clone(), access))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .with_state(state)
}

impl Server {
    /// Opens the store, loads the keys and binds the address.
    pub async fn bind(options: ServeOptions) -> Result<Server, ServeError> {
        if options.tls.is_none() && !options.insecure && !is_loopback(&options.listen) {
            return Err(ServeError::NeedsTls(options.listen));
        }
        let tls = options.tls.as_ref().map(load_tls).transpose()?;
        let mut keys = Vec::new();
        for (name, path) in &options.approval_keys {
            keys.push((name.clone(), load_key(name, path)?));
        }
        let store =
            gantry_store::Store::open_in(&options.home, gantry_store::StoreOptions::default())?;
        let state = AppState::new(
            options.root,
            options.home,
            store,
            keys,
            options.log,
            tls.is_some(),
        );
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: options.listen,
                    source,
                })?;
        Ok(Server {
            listener,
            app: app(state.clone(), options.request_timeout, options.body_limit),
            tls,
            header_timeout: options.header_timeout,
            state,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting and waits
    /// for the requests in flight (at most `grace`).
    pub async fn run(self, shutdown: impl Future<Output = ()>, grace: Duration) {
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let Ok((stream, _peer)) = accepted else {
                // Out of descriptors or a connection reset before accept:
                // wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(self.app.clone());
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(self.header_timeout);
            match &self.tls {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let watcher = graceful.watcher();
                    let header_timeout = self.header_timeout;
                    tokio::spawn(async move {
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                        else {
                            return;
                        };
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        let _ = watcher.watch(conn).await;
                    });
                }
            }
        }
        drop(self.listener);
        let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
    }
}

/// Installs SIGTERM and SIGINT handlers now and returns a future that
/// completes on either. Installing them before the address is announced
/// means a signal sent right after the first request is never lost to the
/// default action (the process dying with status 15).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        match handlers {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// `gantry serve`: binds, tells `on_listen` the address, serves until
/// SIGTERM or SIGINT, then lets the requests in flight finish (at most
/// `grace`).
pub fn serve(
    options: ServeOptions,
    grace: Duration,
    on_listen: impl FnOnce(SocketAddr, bool),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Bind {
            addr: options.listen,
            source,
        })?;
    runtime.block_on(async move {
        let tls = options.tls.is_some();
        let server = Server::bind(options).await?;
        let shutdown = shutdown_signal();
        if let Ok(addr) = server.local_addr() {
            on_listen(addr, tls);
        }
        server.run(shutdown, grace).await;
        Ok(())
    })
}
