//! Keep-alive HTTP/1.1 connections from the router to one upstream.
//!
//! A connection is taken for one exchange and goes back to the idle list
//! only when its response body has been read to the end, so a connection
//! is never shared by two requests and never reused in the middle of a
//! body. Idle connections the upstream has closed are noticed when taken
//! and dropped; at most 1,024 stay idle per upstream, none for longer
//! than 90 seconds. A request that the upstream closed a pooled connection on
//! before any of it was written is sent once more on a new connection;
//! nothing that may have reached the upstream is ever sent twice.
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

/// How long a connection may stay idle before the router closes it
/// (noticed when another goes back to the pool).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

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
        request: Request<Incoming>,
    ) -> Result<Response<UpstreamBody>, UpstreamFailed> {
        let mut request = request;
        let mut fresh = false;
        loop {
            let mut sender = match self.take_idle().await {
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

    /// An idle connection that is still open, if there is one.
    async fn take_idle(&self) -> Option<Sender> {
        loop {
            let (mut sender, _) = self.lock().pop_back()?;
            // Ready at once for an open connection; an error for one the
            // upstream closed while it was idle.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    async fn connect(&self) -> Result<Sender, UpstreamFailed> {
        let stream = TcpStream::connect(&self.address)
            .await
            .map_err(|_| UpstreamFailed)?;
        let _ = stream.set_nodelay(true);
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
        while idle
            .front()
            .is_some_and(|(_, since)| now.duration_since(*since) > IDLE_TIMEOUT)
        {
            idle.pop_front();
        }
        if idle.len() < MAX_IDLE {
            idle.push_back((sender, now));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Sender, Instant)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
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
