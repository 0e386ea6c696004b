/*!
A real control plane for tests: `scripts/test-cluster start` in a temporary directory, a
kubeconfig for its administrator, `kubectl` against it, and `scripts/test-cluster stop` when
the handle is dropped (also when the test panics).

The binaries are built once and cached (`PALISADE_CLUSTER_CACHE`; `scripts/test` sets it);
a first start on a machine without them builds them, which takes minutes and needs Go.
*/

#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)] // test support fails loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running kube-apiserver and etcd.
#[derive(Debug)]
pub struct TestCluster {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl TestCluster {
    /// Starts a cluster and waits until it is ready.
    pub fn start() -> TestCluster {
        Self::start_in(new_dir(), None)
    }

    /// Starts a cluster whose API server also posts its audit events, in batches, to the
    /// audit webhook at `url` (such as `https://127.0.0.1:PORT/audit`), trusting `ca` for
    /// its certificate and presenting `client` (certificate, key) when given.
    pub fn start_with_audit_webhook(
        url: &str,
        ca: &Path,
        client: Option<(&Path, &Path)>,
    ) -> TestCluster {
        let dir = new_dir();
        let config = dir.path().join("audit-webhook.kubeconfig");
        let user = match client {
            Some((crt, key)) => format!(
                "{{client-certificate: {}, client-key: {}}}",
                crt.display(),
                key.display()
            ),
            None => "{}".to_string(),
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: palisade\n  cluster: {{server: \"{url}\", certificate-authority: {}}}\nusers:\n- name: kube-apiserver\n  user: {user}\ncontexts:\n- name: audit\n  context: {{cluster: palisade, user: kube-apiserver}}\ncurrent-context: audit\n",
            ca.display()
        );
        std::fs::write(&config, text).expect("write the audit webhook kubeconfig");
        Self::start_in(dir, Some(&config))
    }

    fn start_in(dir: tempfile::TempDir, audit_webhook: Option<&Path>) -> TestCluster {
        let mut command = Command::new(root().join("scripts/test-cluster"));
        command.arg("start").arg(dir.path()).stdin(Stdio::null());
        if let Some(config) = audit_webhook {
            command.env("PALISADE_AUDIT_WEBHOOK_CONFIG", config);
        }
        let out = command.output().expect("run scripts/test-cluster");
        assert!(
            out.status.success(),
            "scripts/test-cluster start failed (run scripts/test, which builds the API server):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let kubeconfig = dir.path().join("kubeconfig");
        TestCluster { dir, kubeconfig }
    }

    /// The administrator's kubeconfig (context `palisade-test`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The state directory: `pki/` (CA and keys), `audit.log`, logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The API server's address, `https://127.0.0.1:PORT`.
    pub fn server(&self) -> String {
        let ports = std::fs::read_to_string(self.dir().join("ports")).expect("ports file");
        let port = ports
            .lines()
            .find_map(|l| l.strip_prefix("kube_apiserver="))
            .expect("kube_apiserver port");
        format!("https://127.0.0.1:{port}")
    }

    /// `kubectl ARGS` with this cluster's kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with_input(args, None)
    }

    /// `kubectl ARGS` with `input` on stdin.
    pub fn kubectl_with_input(&self, args: &[&str], input: Option<&str>) -> Output {
        use std::io::Write;
        let mut child = Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl (scripts/test installs it)");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(text) = input {
            stdin.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(stdin);
        child.wait_with_output().expect("kubectl")
    }

    /// `kubectl ARGS`, which must succeed; returns its stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Server-side apply of a YAML text, which must succeed.
    pub fn apply(&self, yaml: &str) {
        let out = self.kubectl_with_input(
            &["apply", "--server-side", "--force-conflicts", "-f", "-"],
            Some(yaml),
        );
        assert!(
            out.status.success(),
            "kubectl apply failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A kubeconfig for user `name` in groups `groups`, with a client certificate signed by
    /// the cluster's CA (openssl), written next to the administrator's.
    pub fn user_kubeconfig(&self, name: &str, groups: &[&str]) -> PathBuf {
        let pki = self.dir().join("pki");
        let key = pki.join(format!("user-{name}.key"));
        let crt = pki.join(format!("user-{name}.crt"));
        let mut subject: String = groups.iter().map(|g| format!("/O={g}")).collect();
        subject.push_str(&format!("/CN={name}"));
        new_pair(
            &subject,
            Some((&pki.join("ca.crt"), &pki.join("ca.key"))),
            &[
                "basicConstraints=critical,CA:FALSE",
                "extendedKeyUsage=clientAuth",
            ],
            (&key, &crt),
        );
        let path = self.dir().join(format!("kubeconfig-{name}"));
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: palisade-test\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: {name}\n  user:\n    client-certificate: {}\n    client-key: {}\ncontexts:\n- name: {name}\n  context: {{cluster: palisade-test, user: {name}}}\ncurrent-context: {name}\n",
            self.server(),
            pki.join("ca.crt").display(),
            crt.display(),
            key.display()
        );
        std::fs::write(&path, config).expect("write kubeconfig");
        path
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/test-cluster"))
            .arg("stop")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn new_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("palisade-cluster-")
        .tempdir()
        .expect("temporary directory")
}

/// A CA and a serving certificate for `127.0.0.1` and `localhost`, made with openssl.
#[derive(Debug)]
pub struct Certificates {
    /// Where the files are.
    pub dir: PathBuf,
}

impl Certificates {
    /// A new CA (`ca.crt`, `ca.key`) and a serving pair (`tls.crt`, `tls.key`) in `dir`.
    pub fn new(dir: &Path) -> Certificates {
        std::fs::create_dir_all(dir).expect("certificate directory");
        new_pair(
            "/CN=palisade-webhook-ca",
            None,
            &[
                "basicConstraints=critical,CA:TRUE",
                "keyUsage=critical,keyCertSign",
            ],
            (&dir.join("ca.key"), &dir.join("ca.crt")),
        );
        let certs = Certificates {
            dir: dir.to_path_buf(),
        };
        certs.issue(
            "tls",
            "/CN=127.0.0.1",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        );
        certs
    }

    /// Signs a new pair `NAME.crt`, `NAME.key` with the CA; `extension` is one `-addext`.
    pub fn issue(&self, name: &str, subject: &str, extension: &str) {
        let dir = &self.dir;
        // Written next to the final files and renamed, as a mounted Secret changes: the
        // server never reads half a file.
        new_pair(
            subject,
            Some((&dir.join("ca.crt"), &dir.join("ca.key"))),
            &["basicConstraints=critical,CA:FALSE", extension],
            (
                &dir.join(format!("{name}.key.new")),
                &dir.join(format!("{name}.crt.new")),
            ),
        );
        for ext in ["key", "crt"] {
            std::fs::rename(
                dir.join(format!("{name}.{ext}.new")),
                dir.join(format!("{name}.{ext}")),
            )
            .expect("rename certificate");
        }
    }

    /// A file of the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The CA certificate, base64, for a webhook's `caBundle`.
    pub fn ca_bundle(&self) -> String {
        let pem = std::fs::read(self.file("ca.crt")).expect("ca.crt");
        base64(&pem)
    }
}

/// An ECDSA P-256 key and certificate (`key`, `crt`), valid 2 days, self-signed or signed
/// by `ca` (certificate, key), with one `-addext` per extension.
fn new_pair(
    subject: &str,
    ca: Option<(&Path, &Path)>,
    extensions: &[&str],
    (key, crt): (&Path, &Path),
) {
    let mut command = Command::new("openssl");
    command.args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
    ]);
    command.args(["-nodes", "-days", "2", "-subj", subject]);
    if let Some((ca_crt, ca_key)) = ca {
        command.arg("-CA").arg(ca_crt).arg("-CAkey").arg(ca_key);
    }
    for extension in extensions {
        command.args(["-addext", extension]);
    }
    let out = command
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(crt)
        .output()
        .expect("openssl (scripts/test needs it)");
    assert!(
        out.status.success(),
        "openssl could not make {}: {}",
        crt.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A free port on 127.0.0.1 (free when asked; taken by whoever binds it first).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `palisade admission serve` process, killed on drop.
#[derive(Debug)]
pub struct Webhook {
    child: std::process::Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its log (stderr).
    pub log: PathBuf,
}

impl Webhook {
    /// Starts `BIN admission serve` with `args` on a free port with the certificates, and
    /// waits until `/healthz` answers over HTTPS.
    pub fn start(bin: &Path, certs: &Certificates, args: &[&str]) -> Webhook {
        let port = free_port();
        let log = certs.dir.join(format!("webhook-{port}.log"));
        let child = Command::new(bin)
            .args([
                "admission",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--tls-cert")
            .arg(certs.file("tls.crt"))
            .arg("--tls-key")
            .arg(certs.file("tls.key"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start palisade admission serve");
        let webhook = Webhook { child, port, log };
        for _ in 0..100 {
            let out = webhook.curl(certs, &["/healthz"]);
            if out.status.success() {
                return webhook;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the webhook did not start:\n{}", webhook.log_text());
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// `curl -sS --cacert ca.crt URL+PATH ARGS...` (the path is the first argument).
    pub fn curl(&self, certs: &Certificates, args: &[&str]) -> Output {
        let (path, rest) = args.split_first().expect("a path");
        Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(certs.file("ca.crt"))
            .arg(format!("{}{path}", self.url()))
            .args(rest)
            .output()
            .expect("curl (scripts/test needs it)")
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it (SIGKILL) and waits.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.kill();
    }
}
