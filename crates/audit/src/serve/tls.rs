//! TLS from PEM files (certificate, key, optional client CA) and its reload when they change.
//! The same scheme as the admission webhook's: connections already open keep their
//! configuration, so a rotation drops nothing, and a change that does not load is logged while
//! the previous certificate stays in use.

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The files TLS is read from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Serving certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA whose client certificates are required on `/audit` (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    fn paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.cert.clone(), self.key.clone()];
        paths.extend(self.client_ca.clone());
        paths
    }

    /// Reads the files into a server configuration (HTTP/2 and HTTP/1.1 by ALPN).
    pub fn load(&self) -> Result<Arc<ServerConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| format!("{}: {e}", self.cert.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate", self.cert.display()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| format!("{}: {e}", self.key.display()))?;
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let roots = roots(ca)?;
                // Clients without a certificate still complete the handshake, so that health
                // and metrics stay open to probes; `/audit` requires one.
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .allow_unauthenticated()
                        .build()
                        .map_err(|e| format!("{}: {e}", ca.display()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| format!("{} and {}: {e}", self.cert.display(), self.key.display()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn roots(ca: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))? {
        let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no CA certificate", ca.display()));
    }
    Ok(roots)
}

/// Checks the files every `interval`, forever, and swaps in a configuration that loads.
pub async fn watch(files: TlsFiles, current: Arc<RwLock<Arc<ServerConfig>>>, interval: Duration) {
    let paths = files.paths();
    let mut seen = fingerprint(&paths);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = fingerprint(&paths);
        if now == seen {
            continue;
        }
        seen = now;
        let files = files.clone();
        match tokio::task::spawn_blocking(move || files.load()).await {
            Ok(Ok(config)) => {
                if let Ok(mut tls) = current.write() {
                    *tls = config;
                }
                tracing::info!("serving certificate reloaded");
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "serving certificate not reloaded; the previous one stays in use");
            }
            Err(_) => {}
        }
    }
}

/// A hash of the files' contents (compared by content: mounted Secrets change by symlink).
fn fingerprint(files: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        match std::fs::read(file) {
            Ok(bytes) => bytes.hash(&mut hasher),
            Err(_) => "missing".hash(&mut hasher),
        }
    }
    hasher.finish()
}
