//! What the `serve` tests share: certificates, an in-process server, a small blocking HTTPS
//! client, and batches of events with known auditIDs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)] // test support fails loudly; each test binary uses part of it

use palisade_audit::Detector;
use palisade_audit::serve::{Output, ServeError, ServeOptions, Server, TlsFiles};
use palisade_testkit::Certificates;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Certificates for the server and a client, and a state directory.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub certs: Certificates,
}

impl Setup {
    pub fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let certs = Certificates::new(&dir.path().join("pki"));
        certs.issue(
            "client",
            "/CN=kube-apiserver",
            "extendedKeyUsage=clientAuth",
        );
        Setup { dir, certs }
    }

    /// Options on a free loopback port, alerts to `alerts.jsonl`.
    pub fn options(&self) -> ServeOptions {
        let mut options = ServeOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            TlsFiles {
                cert: self.certs.file("tls.crt"),
                key: self.certs.file("tls.key"),
                client_ca: None,
            },
            self.dir.path().join("state"),
        );
        options.output = Output::File(self.output());
        options
    }

    pub fn output(&self) -> PathBuf {
        self.dir.path().join("alerts.jsonl")
    }

    /// The auditIDs of the echo alerts written so far (complete lines only: the server may
    /// be writing the next one).
    pub fn echoed(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.output()).unwrap_or_default();
        text.split_inclusive('\n')
            .filter_map(|line| line.strip_suffix('\n'))
            .map(|line| {
                let alert: serde_json::Value = serde_json::from_str(line).unwrap();
                alert["events"][0]["auditID"].as_str().unwrap().to_string()
            })
            .collect()
    }

    pub fn client(&self, address: SocketAddr, with_certificate: bool) -> Client {
        let client = with_certificate
            .then(|| (self.certs.file("client.crt"), self.certs.file("client.key")));
        Client::new(&self.certs.file("ca.crt"), client, address)
    }
}

/// A server running on its own runtime.
pub struct Running {
    runtime: tokio::runtime::Runtime,
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), ServeError>>>,
}

impl Running {
    pub fn start(options: ServeOptions, detectors: Vec<Box<dyn Detector>>) -> Running {
        Self::try_start(options, detectors).unwrap()
    }

    pub fn try_start(
        options: ServeOptions,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Result<Running, ServeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(Server::bind(options, detectors))?;
        let address = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = runtime.spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Ok(Running {
            runtime,
            address,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Graceful stop: open requests finish, the journal is analysed to its end.
    pub fn stop(mut self) -> Result<(), ServeError> {
        let _ = self.stop.take().unwrap().send(());
        let task = self.task.take().unwrap();
        self.runtime.block_on(task).unwrap()
    }
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// HTTPS/1.1, one request per connection.
pub struct Client {
    config: Arc<rustls::ClientConfig>,
    address: SocketAddr,
}

impl Client {
    pub fn new(ca: &Path, certificate: Option<(PathBuf, PathBuf)>, address: SocketAddr) -> Client {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match certificate {
            Some((crt, key)) => {
                let chain = CertificateDer::pem_file_iter(&crt)
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                builder
                    .with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(&key).unwrap())
                    .unwrap()
            }
            None => builder.with_no_client_auth(),
        };
        Client {
            config: Arc::new(config),
            address,
        }
    }

    /// `POST /audit` with a JSON body.
    pub fn post(&self, body: &[u8]) -> std::io::Result<Answer> {
        self.request("POST", "/audit", body)
    }

    pub fn get(&self, path: &str) -> std::io::Result<Answer> {
        self.request("GET", path, b"")
    }

    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Answer> {
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let connection = rustls::ClientConnection::new(Arc::clone(&self.config), name)
            .map_err(std::io::Error::other)?;
        let tcp = TcpStream::connect_timeout(&self.address, Duration::from_secs(5))?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut tls = rustls::StreamOwned::new(connection, tcp);
        // Large bodies wait for `100 Continue`, as Go's client can: a server refusing early
        // (413, 429) answers before the body is sent, instead of resetting a half-sent one.
        let expect = body.len() > 16 * 1024;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
            body.len(),
            if expect {
                "Expect: 100-continue\r\n"
            } else {
                ""
            }
        );
        let mut bytes = Vec::new();
        if expect {
            tls.write_all(head.as_bytes())?;
            tls.flush()?;
            let interim = read_head(&mut tls, &mut bytes)?;
            if interim.starts_with("HTTP/1.1 100") {
                bytes.clear();
                tls.write_all(body)?;
                tls.flush()?;
            }
        } else {
            let mut request = head.into_bytes();
            request.extend_from_slice(body);
            tls.write_all(&request)?;
            tls.flush()?;
        }
        let read = tls.read_to_end(&mut bytes);
        if bytes.is_empty() {
            read?;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
        Ok(Answer {
            status,
            head: head.to_string(),
            body: body.to_string(),
        })
    }
}

/// Reads up to the end of a response head into `bytes`; the head.
fn read_head(tls: &mut impl Read, bytes: &mut Vec<u8>) -> std::io::Result<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(String::from_utf8_lossy(&bytes[..end]).into_owned());
        }
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other(
                "the connection closed before a response",
            ));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// An `EventList` of `ids.len()` events (each about 600 bytes), one per auditID.
pub fn batch(ids: &[String]) -> Vec<u8> {
    let items: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{{"username":"system:serviceaccount:shop:app","groups":["system:serviceaccounts","system:authenticated"]}},"sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.34.4","objectRef":{{"resource":"secrets","namespace":"default","name":"db","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z","stageTimestamp":"2026-01-01T00:00:00.001000Z","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
        items.join(",")
    )
    .into_bytes()
}

/// `n` auditIDs `PREFIX-0` ...
pub fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

/// Waits (up to 30 s) until `done` holds.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting until {what}");
}

/// A metric's value from the exposition text (the first sample of that name).
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
