/*!
A real control plane for tests: `scripts/test-cluster start` in a temporary directory, a
kubeconfig for its administrator, `kubectl` against it, and `scripts/test-cluster stop` when
the handle is dropped (also when the test panics).

The binaries are built once and cached (`PALISADE_CLUSTER_CACHE`; `scripts/test` sets it);
a first start on a machine without them builds them, which takes minutes and needs Go.
*/

#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)] // test support fails loudly

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
        let dir = tempfile::Builder::new()
            .prefix("palisade-cluster-")
            .tempdir()
            .expect("temporary directory");
        let out = Command::new(root().join("scripts/test-cluster"))
            .arg("start")
            .arg(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/test-cluster");
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
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "1", "-subj", &subject])
            .arg("-CA")
            .arg(pki.join("ca.crt"))
            .arg("-CAkey")
            .arg(pki.join("ca.key"))
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=clientAuth"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(
            status.success(),
            "openssl could not make a client certificate"
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
