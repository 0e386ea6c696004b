//! What the baselines read from one event: who, what, where from, with what client.

use crate::Event;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The identity class all nodes share when nodes are grouped.
pub const NODE_CLASS: &str = "system:node:*";

/// The identity of events with no `user.username`.
pub const NO_USER: &str = "(no user)";

/// Longest operation, source or user-agent key kept; longer values are cut (at a character
/// boundary) so that one hostile request cannot grow the profile.
const MAX_KEY_BYTES: usize = 128;

/// The features of one event. Borrowed from the event, or from the scratch buffers that
/// [`Scratch::extract`] fills, so that reading them allocates nothing.
#[derive(Debug)]
pub struct Features<'a> {
    /// Identity key: `user.username`, or [`NODE_CLASS`] for nodes when grouped.
    pub identity: &'a str,
    /// `verb`, `""` when absent.
    pub verb: &'a str,
    /// `verb resource[/subresource]`, or `verb /segment` for a non-resource URL.
    pub operation: &'a str,
    /// `objectRef.namespace`.
    pub namespace: Option<&'a str>,
    /// The client's network: the first `sourceIPs` entry as a /24 (IPv4) or /64 (IPv6).
    pub source: Option<&'a str>,
    /// The first source address, as written.
    pub source_ip: Option<&'a str>,
    /// Whether the source is a public address (not private, loopback or link-local).
    pub source_public: bool,
    /// The user agent's product name, without version or platform.
    pub user_agent: Option<&'a str>,
    /// The request stays in the identity's own namespace: a service account
    /// (`system:serviceaccount:NS:NAME`) acting in `NS`.
    pub own_namespace: bool,
}

/// Reusable buffers for the keys that are built rather than borrowed.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    operation: String,
    source: String,
}

impl Scratch {
    /// The features of `event`.
    pub fn extract<'a>(&'a mut self, event: &'a Event, group_nodes: bool) -> Features<'a> {
        // The typed fields: no JSON lookups.
        let identity = match event.user_name() {
            Some(user) if group_nodes && user.starts_with("system:node:") => NODE_CLASS,
            Some(user) => user,
            None => NO_USER,
        };
        let verb = event.verb().unwrap_or("");
        let resource = event.resource().filter(|s| !s.is_empty());
        let namespace = event.namespace().filter(|s| !s.is_empty());
        match resource {
            Some(resource) => resource_key(
                verb,
                resource,
                event.subresource().filter(|s| !s.is_empty()),
                &mut self.operation,
            ),
            None => path_key(verb, event.request_uri(), &mut self.operation),
        }
        let source_ip = event.source_ips().next();
        let source_public = source_ip.is_some_and(|ip| network(ip, &mut self.source));
        let own_namespace = namespace.is_some_and(|ns| {
            identity
                .strip_prefix("system:serviceaccount:")
                .and_then(|sa| sa.split_once(':'))
                .is_some_and(|(own, _)| own == ns)
        });
        Features {
            identity,
            verb,
            operation: &self.operation,
            namespace,
            source: source_ip.map(|_| self.source.as_str()),
            source_ip,
            source_public,
            user_agent: event.user_agent().map(user_agent_family),
            own_namespace,
        }
    }
}

fn resource_key(verb: &str, resource: &str, sub: Option<&str>, out: &mut String) {
    out.clear();
    out.push_str(verb);
    out.push(' ');
    out.push_str(resource);
    if let Some(sub) = sub {
        out.push('/');
        out.push_str(sub);
    }
    truncate(out, MAX_KEY_BYTES);
}

/// Non-resource URLs (/healthz, /apis/...) by their first segment: discovery paths name
/// every group and version, which would make each upgrade look new.
fn path_key(verb: &str, uri: Option<&str>, out: &mut String) {
    out.clear();
    out.push_str(verb);
    out.push_str(" /");
    let path = uri.unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    out.push_str(path.trim_start_matches('/').split('/').next().unwrap_or(""));
    truncate(out, MAX_KEY_BYTES);
}

/// Writes the /24 or /64 network of `ip` into `out`; true when it is a public address.
/// An unreadable address is kept as written (cut to the key limit) and counted as public:
/// it is unusual, and unusual is what the baselines report.
fn network(ip: &str, out: &mut String) -> bool {
    out.clear();
    let addr = match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        Ok(v4) => v4,
        Err(_) => {
            out.push_str(ip);
            truncate(out, MAX_KEY_BYTES);
            return true;
        }
    };
    // Writing to a String cannot fail.
    let _ = match addr {
        // The parser accepts only canonical dotted quads, so the text up to the last dot is
        // the /24 as written.
        IpAddr::V4(_) if ip.contains('.') && !ip.contains(':') => {
            out.push_str(ip.rsplit_once('.').map_or(ip, |(net, _)| net));
            out.push_str(".0/24");
            Ok(())
        }
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            write!(out, "{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            let prefix = std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0);
            write!(out, "{prefix}/64")
        }
    };
    is_public(addr)
}

fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            // 100.64.0.0/10 is carrier-grade NAT, which clusters use for pods too.
            let shared = a == 100 && (64..128).contains(&b);
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || shared)
        }
        IpAddr::V6(v6) => {
            let [first, ..] = v6.segments();
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
        }
    }
}

/// The product name of a user agent: `kubectl/v1.29.1 (linux/amd64) kubernetes/abc` is
/// `kubectl`, `Go-http-client/2.0` is `Go-http-client`. Versions change with every upgrade;
/// the program does not.
pub fn user_agent_family(ua: &str) -> &str {
    let ua = ua.trim();
    let end = ua.find(['/', ' ', '(', ';']).unwrap_or(ua.len());
    let family = ua.get(..end).unwrap_or(ua);
    let family = if family.is_empty() { ua } else { family };
    cut(family, MAX_KEY_BYTES)
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

fn truncate(s: &mut String, max: usize) {
    let keep = cut(s, max).len();
    s.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Origin;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Event {
        Event::new(v, Origin::new("t", 1))
    }

    #[test]
    fn reads_a_resource_request() {
        let e = event(json!({
            "verb": "create", "user": {"username": "system:serviceaccount:ci:builder"},
            "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "prod"},
            "sourceIPs": ["203.0.113.7", "10.0.0.1"],
            "userAgent": "kubectl/v1.29.1 (linux/amd64) kubernetes/abc"
        }));
        let mut s = Scratch::default();
        let f = s.extract(&e, true);
        assert_eq!(f.identity, "system:serviceaccount:ci:builder");
        assert_eq!(f.operation, "create pods/exec");
        assert_eq!(f.namespace, Some("prod"));
        assert_eq!(f.source, Some("203.0.113.0/24"));
        assert_eq!(f.source_ip, Some("203.0.113.7"));
        assert!(f.source_public);
        assert_eq!(f.user_agent, Some("kubectl"));
        assert!(!f.own_namespace);
        let e = event(
            json!({"verb": "get", "user": {"username": "system:serviceaccount:ci:b"},
                             "objectRef": {"resource": "secrets", "namespace": "ci"}}),
        );
        assert!(s.extract(&e, true).own_namespace);
    }

    #[test]
    fn groups_nodes_only_when_asked() {
        let e = event(json!({"verb": "get", "user": {"username": "system:node:worker-3"}}));
        let mut s = Scratch::default();
        assert_eq!(s.extract(&e, true).identity, NODE_CLASS);
        assert_eq!(s.extract(&e, false).identity, "system:node:worker-3");
        let e = event(json!({"verb": "get"}));
        assert_eq!(s.extract(&e, true).identity, NO_USER);
    }

    #[test]
    fn non_resource_requests_are_keyed_by_first_segment() {
        let mut s = Scratch::default();
        for (uri, key) in [
            ("/apis/discovery.k8s.io/v1?timeout=32s", "get /apis"),
            ("/readyz", "get /readyz"),
            ("/", "get /"),
        ] {
            let e = event(json!({"verb": "get", "requestURI": uri}));
            assert_eq!(s.extract(&e, true).operation, key);
        }
    }

    #[test]
    fn networks_are_prefixes_and_private_ranges_are_not_public() {
        let mut out = String::new();
        assert!(!network("10.244.1.17", &mut out));
        assert_eq!(out, "10.244.1.0/24");
        assert!(!network("100.96.3.4", &mut out));
        assert!(network("2001:db8:1:2:3:4:5:6", &mut out));
        assert_eq!(out, "2001:db8:1:2::/64");
        assert!(!network("fd00::1", &mut out));
        assert!(!network("::ffff:192.168.1.9", &mut out));
        assert_eq!(out, "192.168.1.0/24");
        assert!(network("not-an-ip", &mut out));
        assert_eq!(out, "not-an-ip");
    }

    #[test]
    fn user_agent_families_drop_versions() {
        for (ua, family) in [
            ("kubectl/v1.29.1 (linux/amd64) kubernetes/abc", "kubectl"),
            ("Go-http-client/2.0", "Go-http-client"),
            (
                "kube-controller-manager/v1.26.0 (linux/amd64) kubernetes/b46a3f8/system:serviceaccount:kube-system:x",
                "kube-controller-manager",
            ),
            ("Mozilla/5.0 (X11; Linux x86_64)", "Mozilla"),
            ("curl", "curl"),
            ("  ", ""),
            ("/v1", "/v1"),
        ] {
            assert_eq!(user_agent_family(ua), family, "{ua}");
        }
        let long = "é".repeat(100);
        assert_eq!(user_agent_family(&long).len(), 128);
    }

    #[test]
    fn long_keys_are_cut_at_character_boundaries() {
        let resource = format!("a{}", "é".repeat(100));
        let e = event(json!({"verb": "get", "objectRef": {"resource": resource}}));
        let mut s = Scratch::default();
        let op = s.extract(&e, true).operation.to_string();
        assert!(op.len() <= MAX_KEY_BYTES && op.starts_with("get aé"));
    }
}
