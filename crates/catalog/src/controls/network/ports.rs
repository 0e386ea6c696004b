//! PAL-712: NodePort and LoadBalancer Services that put an administrative or data port (SSH,
//! RDP, the Docker and kubelet APIs, etcd, databases, caches, brokers) outside the cluster.

use super::services::{internal_load_balancer, service_type};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-712",
    target: Target::Kinds(&["Service"]),
    check,
};

/// A sensitive service: its well-known port, what it is, and the port names charts and
/// IANA give it.
struct Sensitive {
    port: u64,
    service: &'static str,
    names: &'static [&'static str],
}

const fn sensitive(port: u64, service: &'static str, names: &'static [&'static str]) -> Sensitive {
    Sensitive {
        port,
        service,
        names,
    }
}

const SENSITIVE: &[Sensitive] = &[
    sensitive(22, "SSH", &["ssh"]),
    sensitive(23, "telnet", &["telnet"]),
    sensitive(3389, "RDP", &["rdp", "ms-wbt-server"]),
    sensitive(2375, "the Docker API", &["docker"]),
    sensitive(2376, "the Docker API (TLS)", &["docker-s", "docker-tls"]),
    sensitive(10250, "the kubelet API", &["kubelet"]),
    sensitive(10255, "the kubelet read-only API", &[]),
    sensitive(2379, "etcd", &["etcd", "etcd-client"]),
    sensitive(2380, "etcd peer traffic", &["etcd-peer", "etcd-server"]),
    sensitive(
        6443,
        "the Kubernetes API server",
        &["kube-apiserver", "apiserver"],
    ),
    sensitive(3306, "MySQL", &["mysql"]),
    sensitive(5432, "PostgreSQL", &["postgres", "postgresql"]),
    sensitive(1433, "SQL Server", &["mssql", "ms-sql-s", "sqlserver"]),
    sensitive(1521, "Oracle Database", &["oracle"]),
    sensitive(6379, "Redis", &["redis"]),
    sensitive(11211, "memcached", &["memcache", "memcached"]),
    sensitive(27017, "MongoDB", &["mongo", "mongodb"]),
    sensitive(9200, "Elasticsearch", &["elasticsearch"]),
    sensitive(9300, "Elasticsearch transport", &[]),
    sensitive(5601, "Kibana", &["kibana"]),
    sensitive(9092, "Kafka", &["kafka"]),
    sensitive(5672, "RabbitMQ (AMQP)", &["amqp", "rabbitmq"]),
    sensitive(15672, "the RabbitMQ management API", &[]),
    sensitive(8500, "the Consul API", &["consul"]),
    sensitive(2181, "ZooKeeper", &["zookeeper"]),
];

fn by_number(value: Option<&Value>) -> Option<&'static Sensitive> {
    let port = value.and_then(Value::as_u64)?;
    SENSITIVE.iter().find(|s| s.port == port)
}

/// Port names as Helm charts write them: the service name, possibly after a `tcp-` prefix
/// (`tcp-postgresql`, `tcp-redis`).
fn by_name(value: Option<&Value>) -> Option<&'static Sensitive> {
    let name = value.and_then(Value::as_str)?.to_ascii_lowercase();
    let name = name.strip_prefix("tcp-").unwrap_or(&name);
    SENSITIVE.iter().find(|s| s.names.contains(&name))
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let (kind, place) = match service_type(object) {
        "NodePort" => ("NodePort", "on every node's addresses"),
        "LoadBalancer" if !internal_load_balancer(object) => {
            ("LoadBalancer", "outside the cluster")
        }
        _ => return,
    };
    for (i, entry) in items(object.at("/spec/ports")) {
        let port = entry.get("port");
        let target = entry.get("targetPort");
        let name = entry.get("name");
        let Some(found) = by_number(port)
            .or_else(|| by_number(target))
            .or_else(|| by_name(target))
            .or_else(|| by_name(name))
        else {
            continue;
        };
        let mut described = format!("port {}", text(port).unwrap_or_else(|| "?".into()));
        if let Some(target) = text(target).filter(|t| Some(t) != text(port).as_ref()) {
            described.push_str(&format!(" → targetPort {target}"));
        }
        if let Some(name) = name.and_then(Value::as_str) {
            described.push_str(&format!(" (name {name:?})"));
        }
        hits.push(
            format!("/spec/ports/{i}"),
            format!(
                "{kind} Service exposes {} {place}: {described}",
                found.service
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_numbers_and_names() {
        assert_eq!(by_number(Some(&json!(5432))).map(|s| s.port), Some(5432));
        assert!(by_number(Some(&json!(8080))).is_none());
        assert!(by_number(Some(&json!("22"))).is_none());
        assert_eq!(
            by_name(Some(&json!("tcp-Redis"))).map(|s| s.port),
            Some(6379)
        );
        assert!(by_name(Some(&json!("http"))).is_none());
        assert!(by_name(Some(&json!("redis-metrics"))).is_none());
    }
}
