//! Keep-alive HTTP/1.1 connections from the router to one upstream.
//!
//! A connection is taken for one exchange and goes back to the idle list
//! only when its response body has been read to the end, so a connection
//! is never shared by two requests and never reused in the middle of a
//! body. Idle connections the upstream has closed are noticed when taken
//! and dropped, and one whose request upload is still going (its
//! response came first) is not taken until hyper says it is ready; at
//! most 1,024 stay idle per upstream, and none is used after 90 seconds
//! idle (it is closed when the pool is next used). A request that the
//! upstream closed a pooled connection on before any of it was written
//! is sent once more on a new connection; nothing that may have reached
//! the upstream is ever sent twice.
//!
//! This is what hyper-util's general client pool does for the router,
//! without its per-request key hashing, URI handling and connect
//! machinery: one pool per upstream, a plain list, one short lock.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{Builder, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Idle connections kept per upstream; more are closed after their
/// exchange.
const MAX_IDLE: usize = 1024;

/// How long a connection may stay idle and still be used; older ones
/// are closed when the pool is next used.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// When TCP keepalive probes start on a quiet upstream connection.
const KEEPALIVE: Duration = Duration::from_secs(60);

type Sender = SendRequest<Incoming>;

/// The upstream could not be reached, or broke off the exchange (the
/// router answers 502 either way, and counts it against that side).
#[derive(Debug)]
pub(crate) struct UpstreamFailed;

pub(crate) struct Pool {
    /// `host:port` as the upstream URL names it (port 80 when it names
    /// none).
    address: String,
    /// Oldest first; the most recently used is taken first.
    idle: Mutex<VecDeque<(Sender, Instant)>>,
}

impl Pool {
    pub(crate) fn new(host: &str, port: Option<u16>) -> Arc<Pool> {
        Arc::new(Pool {
            address: format!("{host}:{}", port.unwrap_or(80)),
            idle: Mutex::new(VecDeque::new()),
        })
    }

    /// Sends `request` (origin-form URI, `Host` set) and returns the
    /// response, whose body gives the connection back when it ends.
    pub(crate) async fn send(
        self: &Arc<Self>,
        mut request: Request<Incoming>,
    ) -> Result<Response<UpstreamBody>, UpstreamFailed> {
        let mut fresh = false;
        loop {
            let mut sender = match self.take_idle() {
                Some(sender) => sender,
                None => {
                    fresh = true;
                    self.connect().await?
                }
            };
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let body = UpstreamBody {
                        inner: body,
                        ended: false,
                        sender: Some(sender),
                        pool: self.clone(),
                    };
                    return Ok(Response::from_parts(parts, body));
                }
                Err(mut failed) => match failed.take_message() {
                    // Nothing was written: a pooled connection the upstream
                    // had just closed. Once more, on a new one.
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(UpstreamFailed),
                },
            }
        }
    }

    /// The newest idle connection that is open and ready, if there is
    /// one. One the upstream closed is dropped; one still busy (its
    /// response ended before the request's upload did) stays for later.
    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.lock();
        expire(&mut idle, Instant::now());
        let mut at = idle.len();
        while at > 0 {
            at -= 1;
            if idle[at].0.is_closed() {
                idle.remove(at);
            } else if idle[at].0.is_ready() {
                return idle.remove(at).map(|(sender, _)| sender);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Sender, UpstreamFailed> {
        let stream = TcpStream::connect(&self.address)
            .await
            .map_err(|_| UpstreamFailed)?;
        let _ = stream.set_nodelay(true);
        // Probes on a quiet connection, so that one a firewall forgot is
        // found dead before a request is written to it.
        let _ = socket2::SockRef::from(&stream)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(KEEPALIVE));
        let (sender, connection) = Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|_| UpstreamFailed)?;
        // The connection's own task: it ends when the upstream closes it
        // or when its sender is dropped.
        tokio::spawn(connection);
        Ok(sender)
    }

    fn give_back(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let now = Instant::now();
        let mut idle = self.lock();
        expire(&mut idle, now);
        if idle.len() < MAX_IDLE {
            idle.push_back((sender, now));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Sender, Instant)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops the connections idle for longer than [`IDLE_TIMEOUT`] (the
/// oldest are first).
fn expire(idle: &mut VecDeque<(Sender, Instant)>, now: Instant) {
    while idle
        .front()
        .is_some_and(|(_, since)| now.duration_since(*since) > IDLE_TIMEOUT)
    {
        idle.pop_front();
    }
}

/// An upstream response body, streamed as it arrives; its connection goes
/// back to the pool once the body has been read to the end.
pub struct UpstreamBody {
    inner: Incoming,
    /// The body's last frame has been read.
    ended: bool,
    sender: Option<Sender>,
    pool: Arc<Pool>,
}

impl std::fmt::Debug for UpstreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamBody").finish_non_exhaustive()
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            // A broken exchange: its connection is not reused.
            Poll::Ready(Some(Err(_))) => this.sender = None,
            Poll::Ready(None) => this.ended = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for UpstreamBody {
    fn drop(&mut self) {
        // Only a body read to its end leaves the connection clean.
        if let Some(sender) = self.sender.take()
            && (self.ended || self.inner.is_end_stream())
        {
            self.pool.give_back(sender);
        }
    }
}
