//! Loopback HTTP backends that the tests start and stop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a backend answers to its n-th request (counted from 0).
pub type Behaviour = Arc<dyn Fn(u64) -> (StatusCode, Duration) + Send + Sync>;

/// A loopback HTTP/1.1 server answering with `name` as the body; it stops
/// when dropped.
pub struct Backend {
    pub addr: SocketAddr,
    pub served: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn backend(name: &'static str, behaviour: Behaviour) -> Backend {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let counter = served.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let behaviour = behaviour.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let (status, delay) = behaviour(n);
                    async move {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        let mut response =
                            Response::new(Full::new(Bytes::from_static(name.as_bytes())));
                        *response.status_mut() = status;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Backend { addr, served, task }
}

/// Always 200 at once.
pub fn ok() -> Behaviour {
    Arc::new(|_| (StatusCode::OK, Duration::ZERO))
}

/// A free loopback port (bound, then released for another program).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
