//! `palisade audit serve`: the API server's audit webhook, durable.
//!
//! # Brief overview
//!
//! The API server posts `audit.k8s.io/v1` `EventList` batches to `POST /audit` over HTTPS
//! ([`routes`]). A batch is appended to a write-ahead [`journal`] in the state directory and
//! synced (several concurrent batches share one sync) before it is answered 200. One
//! [`process`] thread reads the journal in order, runs the detectors, writes their alerts to
//! the [`sink`] and then records a [`checkpoint`]; after a crash, analysis resumes at the
//! checkpoint and every acknowledged event is analysed once (see `process` for why alerts are
//! not repeated). Under overload, batches are refused with 429 or 503 and `Retry-After`, and
//! memory stays bounded: a bounded number of batches in flight and a bounded backlog on disk.
//!
//! State directory: `journal/` (segments), `checkpoint`.

mod checkpoint;
mod echo;
mod journal;
mod metrics;
mod process;
mod progress;
mod record;
pub mod routes;
mod sink;
mod tls;

pub use echo::Echo;
pub use sink::Output;
pub use tls::TlsFiles;

use crate::Detector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use metrics::Metrics;
use progress::Progress;
use routes::ClientAuth;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, mpsc};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port, see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// Certificate, key, optional client CA.
    pub tls: TlsFiles,
    /// Where the journal and the checkpoint live; one server per directory.
    pub state_dir: PathBuf,
    /// Where alerts go.
    pub output: Output,
    /// Largest batch accepted (413 beyond).
    pub max_batch_bytes: usize,
    /// Journal bytes accepted but not analysed yet, at most (429 beyond).
    pub max_backlog_bytes: u64,
    /// Batches being received or written at once (503 beyond).
    pub max_in_flight: usize,
    /// A segment is closed and a new one begun past this size.
    pub segment_bytes: u64,
    /// For the TLS handshake, the request headers and the body each.
    pub read_timeout: Duration,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
}

impl ServeOptions {
    /// Defaults for everything but the address, the certificate and the state directory.
    pub fn new(listen: SocketAddr, tls: TlsFiles, state_dir: PathBuf) -> ServeOptions {
        ServeOptions {
            listen,
            tls,
            state_dir,
            output: Output::Stdout,
            max_batch_bytes: 16 * 1024 * 1024,
            max_backlog_bytes: 256 * 1024 * 1024,
            max_in_flight: 16,
            segment_bytes: 64 * 1024 * 1024,
            read_timeout: Duration::from_secs(10),
            reload_interval: Duration::from_secs(1),
        }
    }
}

/// Why the server could not start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Certificate, key or client CA.
    #[error("tls: {0}")]
    Tls(String),
    /// The address.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    /// A file of the state directory or the alert output.
    #[error("{}: {source}", path.display())]
    State {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// State that cannot be trusted.
    #[error("{0}")]
    Corrupt(String),
}

impl ServeError {
    fn state(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
        move |source| ServeError::State {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What every connection and request shares.
#[derive(Debug)]
pub struct State {
    tls: Arc<RwLock<Arc<rustls::ServerConfig>>>,
    mutual_tls: bool,
    metrics: Arc<Metrics>,
    progress: Arc<Progress>,
    journal: mpsc::Sender<journal::Message>,
    permits: Arc<Semaphore>,
    ready: AtomicBool,
    options: ServeOptions,
}

impl State {
    fn tls_config(&self) -> Arc<rustls::ServerConfig> {
        match self.tls.read() {
            Ok(config) => Arc::clone(&config),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

/// A server with its journal recovered and its threads running, not yet accepting.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    address: SocketAddr,
    state: Arc<State>,
    writer: std::thread::JoinHandle<()>,
    consumer: std::thread::JoinHandle<Result<(), ServeError>>,
}

impl Server {
    /// Loads TLS, recovers the journal and the output, starts the journal writer and the
    /// consumer with `detectors`, and binds the address.
    pub async fn bind(
        options: ServeOptions,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Result<Server, ServeError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = options.tls.load().map_err(ServeError::Tls)?;
        let listener = TcpListener::bind(options.listen)
            .await
            .map_err(|e| ServeError::Listen(options.listen, e))?;
        let address = listener.local_addr().unwrap_or(options.listen);
        let state_dir = &options.state_dir;
        std::fs::create_dir_all(state_dir).map_err(ServeError::state(state_dir))?;
        let (checkpoint, mark) = checkpoint::Checkpoint::open(&state_dir.join("checkpoint"))?;
        let journal_dir = state_dir.join("journal");
        let recovery = journal::recover(&journal_dir, mark.offset)?;
        let sink = sink::Sink::open(&options.output, &mark)?;
        let progress = Arc::new(Progress::new(recovery.end, recovery.start));
        let metrics = Arc::new(Metrics::default());
        tracing::info!(
            state = %state_dir.display(),
            backlog_bytes = recovery.end - recovery.start,
            truncated_bytes = recovery.truncated,
            "journal recovered"
        );
        let writer = journal::Writer::open(&journal_dir, &recovery, options.segment_bytes)?;
        let consumer = process::Consumer::new(process::Parts {
            dir: journal_dir,
            start: recovery.start,
            detectors,
            sink,
            checkpoint,
            progress: Arc::clone(&progress),
            metrics: Arc::clone(&metrics),
        })?;
        let (journal, inbox) = mpsc::channel();
        let writer = spawn("palisade-journal", {
            let (progress, metrics) = (Arc::clone(&progress), Arc::clone(&metrics));
            move || journal::run(writer, inbox, progress, metrics)
        })?;
        let consumer = spawn("palisade-analysis", {
            let progress = Arc::clone(&progress);
            move || {
                let result = consumer.run();
                if let Err(e) = &result {
                    tracing::error!(error = %e, "analysis stopped: batches are refused until a restart");
                    progress.fail();
                }
                result
            }
        })?;
        let state = Arc::new(State {
            tls: Arc::new(RwLock::new(tls)),
            mutual_tls: options.tls.client_ca.is_some(),
            metrics,
            progress,
            journal,
            permits: Arc::new(Semaphore::new(options.max_in_flight.max(1))),
            ready: AtomicBool::new(true),
            options,
        });
        Ok(Server {
            listener,
            address,
            state,
            writer,
            consumer,
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes; then stops accepting, lets open requests finish (up
    /// to ten seconds), analyses what the journal holds, and returns.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ServeError> {
        let Server {
            listener,
            address,
            state,
            writer,
            consumer,
        } = self;
        tracing::info!(%address, mutual_tls = state.mutual_tls, "palisade audit webhook listening");
        let watcher = tokio::spawn(tls::watch(
            state.options.tls.clone(),
            Arc::clone(&state.tls),
            state.options.reload_interval,
        ));
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
        drop(listener);
        let _ = stop.send(true);
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("connections still open after 10 s; closing them");
        }
        let _ = state.journal.send(journal::Message::Stop);
        tracing::info!(
            backlog_bytes = state.progress.backlog(),
            "analysing what the journal holds before stopping"
        );
        let joined = tokio::task::spawn_blocking(move || {
            let _ = writer.join();
            consumer.join()
        })
        .await;
        tracing::info!("palisade audit webhook stopped");
        match joined {
            Ok(Ok(result)) => result,
            _ => Err(ServeError::Corrupt(
                "the analysis thread panicked".to_string(),
            )),
        }
    }
}

/// Binds and serves until `shutdown` (see [`Server`]).
pub async fn serve(
    options: ServeOptions,
    detectors: Vec<Box<dyn Detector>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    Server::bind(options, detectors).await?.run(shutdown).await
}

fn spawn<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, ServeError> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(work)
        .map_err(|e| ServeError::Corrupt(format!("cannot start the {name} thread: {e}")))
}

/// Streams an HTTP/2 client may have open on one connection.
const MAX_STREAMS_PER_CONNECTION: u32 = 64;

/// Go's answer to plain HTTP on a TLS port, so a misconfigured client learns why.
const PLAIN_HTTP: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// One connection: TLS (with a timeout), then HTTP/1.1 or HTTP/2, as the admission webhook
/// serves them.
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
        Ok(Ok(1)) if first == [0x16] => {}
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
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION);
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
