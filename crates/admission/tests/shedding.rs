//! Load shedding over HTTP/2: every shed review is answered, and the connection survives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use palisade_admission::server::{ServeOptions, TlsFiles, serve};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

struct Pki {
    _dir: tempfile::TempDir,
    tls: TlsFiles,
    ca: CertificateDer<'static>,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let cert = dir.path().join("tls.crt");
    let key_file = dir.path().join("tls.key");
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    Pki {
        tls: TlsFiles {
            cert,
            key: key_file,
            client_ca: None,
        },
        ca: ca.der().clone(),
        _dir: dir,
    }
}

fn client_config(ca: &CertificateDer<'static>, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

async fn tls(
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    for _ in 0..100 {
        if let Ok(tcp) = tokio::net::TcpStream::connect(address).await {
            let name = ServerName::try_from("127.0.0.1").unwrap();
            return tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start on {address}");
}

fn review() -> Bytes {
    // Large enough to span several DATA frames, so that some are still on the wire when the
    // shed answer comes.
    let padding = "x".repeat(60_000);
    Bytes::from(format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","kind":{{"group":"","version":"v1","kind":"Pod"}},"resource":{{"group":"","version":"v1","resource":"pods"}},"namespace":"default","operation":"CREATE","userInfo":{{"username":"ci"}},"object":{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p","annotations":{{"pad":"{padding}"}}}},"spec":{{"containers":[{{"name":"c","image":"nginx:1.27"}}]}}}}}}}}"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_shed_reviews_on_one_connection_are_all_answered() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pki = pki();
    let address: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut options = ServeOptions::new(address, pki.tls.clone(), None);
    options.max_in_flight = 1;
    options.read_timeout = Duration::from_secs(60);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(options, async {
        let _ = stopped.await;
    }));

    // One review that never finishes sending its body holds the only evaluation slot.
    let mut stalled = tls(address, client_config(&pki.ca, b"http/1.1")).await;
    stalled
        .write_all(b"POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{")
        .await
        .unwrap();
    stalled.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stream = tls(address, client_config(&pki.ca, b"h2")).await;
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let body = review();
    let mut tasks = tokio::task::JoinSet::new();
    // Thousands of reviews, most answered before their body is read.
    for _ in 0..3000 {
        let mut sender = sender.clone();
        let request = hyper::Request::post(format!("https://{address}/validate"))
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .unwrap();
        tasks.spawn(async move {
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            Ok::<u16, hyper::Error>(status)
        });
    }
    let (mut shed, mut other, mut errors) = (0, 0, Vec::new());
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(503) => shed += 1,
            Ok(_) => other += 1,
            // Streams opened before the client has read the server's stream limit are
            // refused unprocessed, which clients retry: shed too.
            Err(e) if format!("{e:?}").contains("REFUSED_STREAM") => shed += 1,
            Err(e) => errors.push(format!("{e:?}")),
        }
    }
    errors.dedup();
    assert!(errors.is_empty(), "{} failed: {errors:?}", errors.len());
    assert_eq!((shed, other), (3000, 0));

    // Once the slot is free, the same connection is served.
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut sender = sender.clone();
    let response = sender
        .send_request(
            hyper::Request::post(format!("https://{address}/validate"))
                .header("content-type", "application/json")
                .body(Full::new(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
