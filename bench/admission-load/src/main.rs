//! `palisade-admission-load`: sends AdmissionReviews at a fixed rate over HTTPS (HTTP/2, a
//! few connections, as the API server calls webhooks) and reports latency percentiles
//! measured from when each request was due, so a stalled server cannot hide its queue
//! (no coordinated omission), plus 503s (shed), errors, and the server's peak resident memory.

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    /// `https://127.0.0.1:PORT/validate`.
    #[arg(long)]
    url: String,
    /// CA of the server's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// AdmissionReview bodies, sent in turn (a file of one JSON review per line).
    #[arg(long)]
    reviews: PathBuf,
    /// Requests per second.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seconds.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// HTTP/2 connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// A request not answered in this many milliseconds is an error (the API server's
    /// webhook timeout).
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Server process whose peak resident memory (VmHWM) is reported.
    #[arg(long)]
    pid: Option<u32>,
    /// Label of this run in the output.
    #[arg(long, default_value = "run")]
    label: String,
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    shed: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    /// The first few distinct errors, to say what they were.
    kinds: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Counts {
    fn error(&self, kind: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut kinds) = self.kinds.lock()
            && (kinds.len() < 8 || kinds.contains_key(&kind))
        {
            *kinds.entry(kind).or_default() += 1;
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn connect(
    args: &Args,
    config: Arc<rustls::ClientConfig>,
) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let authority = args
        .url
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .context("--url must be https://HOST:PORT/PATH")?;
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_string();
    let tcp = tokio::net::TcpStream::connect(authority).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(host)?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .handshake(TokioIo::new(tls))
        .await?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.ca)? {
        roots.add(cert?)?;
    }
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let config = Arc::new(config);
    let reviews: Vec<Bytes> = std::fs::read_to_string(&args.reviews)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Bytes::from(l.to_string()))
        .collect();
    anyhow::ensure!(
        !reviews.is_empty(),
        "no reviews in {}",
        args.reviews.display()
    );
    let mut senders = Vec::new();
    for _ in 0..args.connections.max(1) {
        senders.push(connect(&args, Arc::clone(&config)).await?);
    }
    let uri: hyper::Uri = args.url.parse()?;
    let counts = Arc::new(Counts::default());
    let total = args.rate * args.duration;
    let interval = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let timeout = Duration::from_millis(args.timeout_ms);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let start = Instant::now();
    let peak = Arc::new(AtomicU64::new(0));
    if let Some(pid) = args.pid {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                if let Some(kib) = hwm(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let slot = i as usize % senders.len();
        // A connection the server closed (as it may under overload) is opened again, as the
        // API server would.
        if senders.get(slot).is_some_and(|s| s.is_closed())
            && let Ok(fresh) = connect(&args, Arc::clone(&config)).await
            && let Some(old) = senders.get_mut(slot)
        {
            *old = fresh;
        }
        let Some(sender) = senders.get(slot) else {
            continue;
        };
        let mut sender = sender.clone();
        let body = reviews
            .get(i as usize % reviews.len())
            .cloned()
            .unwrap_or_default();
        let request = hyper::Request::post(uri.clone())
            .header("content-type", "application/json")
            .body(Full::new(body))?;
        let counts = Arc::clone(&counts);
        let tx = tx.clone();
        tasks.spawn(async move {
            let answer = tokio::time::timeout(timeout, async {
                let response = sender.send_request(request).await?;
                let status = response.status();
                response.into_body().collect().await?;
                Ok::<_, anyhow::Error>(status)
            })
            .await;
            match answer {
                Ok(Ok(status)) if status == 200 => {
                    counts.ok.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(due.elapsed().as_micros() as u64);
                }
                Ok(Ok(status)) if status == 503 => {
                    counts.shed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Ok(status)) => counts.error(format!("HTTP {status}")),
                // The server refused the stream before reading it: shed, explicitly.
                Ok(Err(e)) if format!("{e:#}").contains("refused stream") => {
                    counts.shed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(e)) => counts.error(format!("{e:#}")),
                Err(_) => {
                    counts.timeouts.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    drop(tx);
    let elapsed = start.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    while let Some(micros) = rx.recv().await {
        latencies.push(micros);
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies.get(index).copied().unwrap_or(0) as f64 / 1000.0
    };
    let result = serde_json::json!({
        "label": args.label,
        "rate": args.rate,
        "seconds": args.duration,
        "sent": total,
        "achievedRate": (total as f64 / elapsed).round(),
        "ok": counts.ok.load(Ordering::Relaxed),
        "shed": counts.shed.load(Ordering::Relaxed),
        "errors": counts.errors.load(Ordering::Relaxed),
        "timeouts": counts.timeouts.load(Ordering::Relaxed),
        "p50Ms": pct(0.50),
        "p99Ms": pct(0.99),
        "p999Ms": pct(0.999),
        "maxMs": pct(1.0),
        "peakRssMiB": args.pid.map(|_| peak.load(Ordering::Relaxed) as f64 / 1024.0),
        "errorKinds": counts.kinds.lock().map(|k| k.clone()).unwrap_or_default(),
    });
    println!("{result}");
    Ok(())
}

/// VmHWM of a process, KiB: the peak resident set since it started.
fn hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
