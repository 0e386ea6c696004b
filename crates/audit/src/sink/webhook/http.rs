//! One HTTP/1.1 connection to the endpoint, plain or TLS, opened on first use and again
//! after an error.

use super::WebhookOptions;
use crate::sink::SinkError;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// What the endpoint made of a request.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// 2xx.
    Accepted,
    /// 429 or 5xx: try again, after `Retry-After` if it said.
    Retry(Option<Duration>),
    /// Any other status: repeating the request will not help.
    Refused,
    /// No answer: could not connect, or the connection failed.
    Unreachable,
}

pub(super) struct Endpoint {
    host: String,
    port: u16,
    /// `Host` header value.
    authority: String,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connection: Option<SendRequest<Full<Bytes>>>,
}

impl Endpoint {
    pub(super) fn new(options: &WebhookOptions) -> Result<Endpoint, SinkError> {
        let bad = |why: String| SinkError::Config(format!("webhook URL {:?}: {why}", options.url));
        let uri: Uri = options.url.parse().map_err(|e| bad(format!("{e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("expected http:// or https://".into())),
        };
        let host = uri.host().ok_or_else(|| bad("no host".into()))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri
            .authority()
            .map_or_else(|| host.clone(), ToString::to_string);
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), ToString::to_string);
        let mut headers = Vec::new();
        for (name, value) in &options.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| SinkError::Config(format!("webhook header {name:?}: {e}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|e| SinkError::Config(format!("webhook header {name}: {e}")))?;
            headers.push((name, value));
        }
        let tls = if https {
            let config = client_config(options.ca_file.as_deref())?;
            let name = ServerName::try_from(host.clone())
                .map_err(|e| bad(format!("host for TLS: {e}")))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            if options.ca_file.is_some() {
                return Err(bad("a CA file is given but the URL is not https://".into()));
            }
            None
        };
        Ok(Endpoint {
            host,
            port,
            authority,
            path,
            headers,
            tls,
            connection: None,
        })
    }

    pub(super) fn disconnect(&mut self) {
        self.connection = None;
    }

    /// POSTs a JSON body once.
    pub(super) async fn post(&mut self, body: Bytes) -> Answer {
        if self.connection.as_ref().is_some_and(SendRequest::is_closed) {
            self.connection = None;
        }
        if self.connection.is_none() {
            match self.connect().await {
                Ok(sender) => self.connection = Some(sender),
                Err(_) => return Answer::Unreachable,
            }
        }
        let Some(sender) = self.connection.as_mut() else {
            return Answer::Unreachable;
        };
        let mut request = Request::post(self.path.as_str())
            .header(HOST, self.authority.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("palisade/", env!("CARGO_PKG_VERSION")));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let Ok(request) = request.body(Full::new(body)) else {
            return Answer::Refused;
        };
        if sender.ready().await.is_err() {
            self.connection = None;
            return Answer::Unreachable;
        }
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(_) => {
                self.connection = None;
                return Answer::Unreachable;
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Read the body so the connection can carry the next request.
        if response.into_body().collect().await.is_err() {
            self.connection = None;
        }
        classify(status, retry_after)
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| e.to_string())?;
                handshake(TokioIo::new(stream)).await
            }
            None => handshake(TokioIo::new(tcp)).await,
        }
    }
}

async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    // The connection is driven on the delivery thread's runtime while requests run.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

fn classify(status: StatusCode, retry_after: Option<Duration>) -> Answer {
    if status.is_success() {
        Answer::Accepted
    } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Answer::Retry(retry_after)
    } else {
        Answer::Refused
    }
}

/// rustls with the CA file's certificates, or the system's trust store.
fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig, SinkError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |e: String| SinkError::Config(format!("{}: {e}", path.display()));
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
            for cert in certs {
                roots
                    .add(cert.map_err(|e| bad(e.to_string()))?)
                    .map_err(|e| bad(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(bad("no CA certificate".into()));
            }
        }
        None => {
            // Unreadable entries of the system store are skipped, as every TLS client does.
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SinkError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify(StatusCode::OK, None), Answer::Accepted);
        assert_eq!(classify(StatusCode::NO_CONTENT, None), Answer::Accepted);
        let later = Some(Duration::from_secs(3));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, later),
            Answer::Retry(later)
        );
        assert_eq!(classify(StatusCode::BAD_GATEWAY, None), Answer::Retry(None));
        assert_eq!(classify(StatusCode::BAD_REQUEST, None), Answer::Refused);
        assert_eq!(classify(StatusCode::UNAUTHORIZED, None), Answer::Refused);
    }

    #[test]
    fn urls_and_settings_are_checked() {
        let endpoint = |url: &str| Endpoint::new(&WebhookOptions::new(url));
        let ok = endpoint("http://127.0.0.1:8080/alerts?token=1")
            .ok()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(
            (ok.host.as_str(), ok.port, ok.path.as_str()),
            ("127.0.0.1", 8080, "/alerts?token=1")
        );
        let default = endpoint("https://[::1]/")
            .ok()
            .unwrap_or_else(|| unreachable!());
        assert_eq!((default.host.as_str(), default.port), ("::1", 443));
        for bad in ["ftp://x/", "not a url", "/relative"] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
        let mut options = WebhookOptions::new("http://127.0.0.1/");
        options.ca_file = Some("ca.crt".into());
        assert!(Endpoint::new(&options).is_err());
        let mut options = WebhookOptions::new("https://127.0.0.1/");
        options.ca_file = Some("/nonexistent/ca.crt".into());
        let error = Endpoint::new(&options)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("/nonexistent/ca.crt"), "{error}");
    }
}
