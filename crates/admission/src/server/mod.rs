//! `palisade admission serve`: HTTPS only (rustls), one accept loop, the routes of
//! [`routes`], and a watcher that reloads the serving certificate and the policy when their
//! files change, without dropping a request.

mod metrics;
mod reload;
pub mod routes;
mod tls;

pub use metrics::Metrics;
pub use tls::TlsFiles;

use crate::config::AdmissionConfig;
use crate::engine::Engine;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use routes::ClientAuth;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Certificate, key, optional client CA.
    pub tls: TlsFiles,
    /// Policy file; the documented default without one.
    pub policy: Option<PathBuf>,
    /// Largest review accepted.
    pub max_review_bytes: usize,
    /// Reviews evaluated at once; more are refused with 503 (load shedding).
    pub max_in_flight: usize,
    /// For the TLS handshake, the request headers and the body each.
    pub read_timeout: Duration,
    /// Longest evaluation before the request fails (the webhook's failurePolicy applies).
    pub evaluation_timeout: Duration,
    /// How often the files are checked for changes.
    pub reload_interval: Duration,
}

impl ServeOptions {
    /// Defaults for everything but the address and the files.
    pub fn new(listen: SocketAddr, tls: TlsFiles, policy: Option<PathBuf>) -> ServeOptions {
        ServeOptions {
            listen,
            tls,
            policy,
            max_review_bytes: 3 * 1024 * 1024,
            max_in_flight: default_in_flight(),
            read_timeout: Duration::from_secs(10),
            evaluation_timeout: Duration::from_secs(4),
            reload_interval: Duration::from_secs(1),
        }
    }
}

/// Reviews evaluated at once by default: 16 per core. Evaluation is CPU work, so more in
/// flight only adds queueing; beyond it, requests are shed at once with 503.
pub fn default_in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from) * 16
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The policy file or its policies.
    #[error("policy: {0}")]
    Policy(String),
    /// Certificate, key or client CA.
    #[error("tls: {0}")]
    Tls(String),
    /// The address.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// What every connection and request shares.
#[derive(Debug)]
pub struct State {
    engine: RwLock<Arc<Engine>>,
    tls: RwLock<Arc<rustls::ServerConfig>>,
    mutual_tls: bool,
    /// Metrics.
    pub metrics: Metrics,
    permits: Arc<Semaphore>,
    ready: AtomicBool,
    options: ServeOptions,
}

impl State {
    /// The engine in force.
    pub fn engine(&self) -> Arc<Engine> {
        match self.engine.read() {
            Ok(engine) => Arc::clone(&engine),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn tls_config(&self) -> Arc<rustls::ServerConfig> {
        match self.tls.read() {
            Ok(config) => Arc::clone(&config),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn mutual_tls(&self) -> bool {
        self.mutual_tls
    }
}

/// Reads a policy file (or the default) and compiles it.
pub fn load_engine(policy: Option<&std::path::Path>) -> Result<Engine, String> {
    let config = match policy {
        Some(path) => AdmissionConfig::read(path).map_err(|e| e.to_string())?,
        None => AdmissionConfig::default_policy(),
    };
    Engine::build(config).map_err(|e| e.to_string())
}

/// Serves until `shutdown` completes, then stops accepting, lets open requests finish (up
/// to ten seconds) and returns.
pub async fn serve(
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let engine = load_engine(options.policy.as_deref()).map_err(ServeError::Policy)?;
    let tls = options.tls.load().map_err(ServeError::Tls)?;
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| ServeError::Listen(options.listen, e))?;
    let address = listener.local_addr().unwrap_or(options.listen);
    tracing::info!(
        %address,
        policy = %engine.config().origin,
        policies = engine.policy_count(),
        mutual_tls = options.tls.client_ca.is_some(),
        "palisade admission webhook listening"
    );
    let state = Arc::new(State {
        engine: RwLock::new(Arc::new(engine)),
        tls: RwLock::new(tls),
        mutual_tls: options.tls.client_ca.is_some(),
        metrics: Metrics::default(),
        permits: Arc::new(Semaphore::new(options.max_in_flight.max(1))),
        ready: AtomicBool::new(true),
        options,
    });
    let watcher = tokio::spawn(reload::watch(Arc::clone(&state)));
    let router = routes::router(Arc::clone(&state));
    let (stop, stopping) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(connection(Arc::clone(&state), router.clone(), tcp, stopping.clone()));
                }
                // Out of file descriptors, say: wait a moment rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
        while connections.try_join_next().is_some() {}
    }
    state.ready.store(false, Ordering::Relaxed);
    watcher.abort();
    let _ = stop.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("connections still open after 10 s; closing them");
    }
    tracing::info!("palisade admission webhook stopped");
    Ok(())
}

/// Streams an HTTP/2 client may have open on one connection.
const MAX_STREAMS_PER_CONNECTION: u32 = 64;

/// Go's answer to plain HTTP on a TLS port, so a misconfigured client learns why.
const PLAIN_HTTP: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

async fn connection(
    state: Arc<State>,
    router: axum::Router,
    mut tcp: TcpStream,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let timeout = state.options.read_timeout;
    let mut first = [0u8; 1];
    match tokio::time::timeout(timeout, tcp.peek(&mut first)).await {
        // 0x16: a TLS handshake record.
        Ok(Ok(1)) if first[0] == 0x16 => {}
        Ok(Ok(1)) => {
            let _ = tcp.write_all(PLAIN_HTTP).await;
            let _ = tcp.shutdown().await;
            return;
        }
        _ => return,
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(state.tls_config());
    let stream = match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let certified = stream
        .get_ref()
        .1
        .peer_certificates()
        .is_some_and(|certs| !certs.is_empty());
    let service = router.layer(axum::Extension(ClientAuth { certified }));
    let hyper_service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            service.clone().oneshot(request.map(axum::body::Body::new))
        });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout);
    // A bounded number of streams per connection: beyond it a request is refused at once
    // (REFUSED_STREAM, which clients retry) instead of queueing unseen before the handler.
    //
    // hyper closes a connection after 1,024 streams it reset for protocol errors. A shed
    // review is answered before its body is read, and the body's DATA frames still on the
    // wire then reach a reset stream: under sustained overload every long-lived connection
    // from the API server would hit the limit and fail all its reviews in flight. The limit
    // guards against clients that make a server start work and abandon it; here the
    // evaluation permits bound the work whatever happens to streams.
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .max_local_error_reset_streams(None);
    let conn = builder.serve_connection(TokioIo::new(stream), hyper_service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        _ = stopping.changed() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
