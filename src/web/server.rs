//! Serving the application over TCP: HTTP/1.1 connections, at most
//! [`Limits::max_connections`] open at once and [`Limits::per_address`] from one address,
//! each closed if a request's headers take longer than [`Limits::header_timeout`] to arrive
//! (an idle keep-alive connection too), and a graceful stop that lets requests in flight
//! finish.
//!
//! A slow or silent client therefore holds a connection for seconds, not forever; a flood of
//! them waits in the kernel's accept queue instead of exhausting the process's files; and one
//! address cannot take every connection (its extra ones are closed at once), so a single
//! client cannot lock everyone else out. The application's own limits (body deadline, handler
//! timeout) are in [`super::app`].

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

use super::client::{Client, TrustedProxies};

/// Connections open at once unless `--max-connections` says otherwise. Each costs a file
/// descriptor and a few kilobytes; an open article page holds one (its live stream).
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections one address may hold open unless `--max-connections-per-address` says
/// otherwise: a quarter of the default cap, so that no single client can take it all, yet an
/// office behind one NAT address, each reader's open page holding a live stream, still fits.
pub const MAX_PER_ADDRESS: usize = 256;
/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight may take to finish once the server is asked to stop.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// The connection limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold open; trusted proxies, which
    /// carry everyone's connections, are not limited.
    pub per_address: usize,
    pub header_timeout: Duration,
    pub proxies: TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: MAX_CONNECTIONS,
            per_address: MAX_PER_ADDRESS,
            header_timeout: HEADER_TIMEOUT,
            proxies: TrustedProxies::default(),
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<String, usize>>);

/// One counted connection; uncounted when dropped.
struct Held {
    table: Arc<PerAddress>,
    key: String,
}

impl PerAddress {
    /// Counts a connection from `key`, or `None` when it already holds `cap`.
    fn hold(table: &Arc<PerAddress>, key: String, cap: usize) -> Option<Held> {
        let mut open = table.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key.clone()).or_default();
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Held {
            table: table.clone(),
            key,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits (up to 20 s) for the
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        // At the cap, stop accepting: new clients wait in the listen queue.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let held = if limits.proxies.contains(peer.ip()) {
            None
        } else {
            let key = Client::bucket(peer.ip());
            match PerAddress::hold(&per_address, key, limits.per_address.max(1)) {
                Some(held) => Some(held),
                None => {
                    // Closed unanswered: this address holds its share already.
                    tracing::debug!("{peer}: too many connections from one address, closed");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {peer}: {e}");
            }
            drop((permit, held));
        });
    }
    drop(listener);
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running {} s after the stop signal were cut off",
            STOP_GRACE.as_secs()
        );
    }
}
