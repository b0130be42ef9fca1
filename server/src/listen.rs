//! The accept loop, with the limits a server facing hostile clients needs and
//! `axum::serve` does not offer: a time limit on reading each request's
//! headers (a client that sends half a header, or nothing, is disconnected
//! instead of holding a connection forever) and a cap on open connections
//! (beyond it, new ones wait in the kernel's backlog until one closes).
//! Body and whole-request time limits are layers in [`crate::app`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The server's own limits (`HEADER_READ_TIMEOUT_MS`, `REQUEST_BODY_TIMEOUT_MS`,
/// `REQUEST_TIMEOUT_MS`, `MAX_CONNECTIONS`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers.
    pub header_read_timeout: Duration,
    /// Time to send a request's body.
    pub request_body_timeout: Duration,
    /// Time for a whole request.
    pub request_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

/// How long in-flight requests get to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Serve `app` on `listener` until `shutdown` resolves, then let open
/// requests finish (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, usually: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(req)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's doing (reset, timed out headers).
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!("requests still open after the drain time; stopping anyway");
        },
    }
}
