use palisade_model::Object;
use std::collections::{HashMap, HashSet};

/// Every object of a scan, indexed for cross-object checks.
///
/// Built once per scan; rules only read it, so evaluation runs in parallel without locks.
#[derive(Debug)]
pub struct Context<'a> {
    objects: &'a [Object],
    by_kind: HashMap<&'a str, Vec<usize>>,
    by_kind_namespace: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    namespaces: HashSet<&'a str>,
}

impl<'a> Context<'a> {
    /// Indexes the objects of a scan.
    pub fn new(objects: &'a [Object]) -> Self {
        let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_kind_namespace: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        let mut namespaces = HashSet::new();
        for (i, o) in objects.iter().enumerate() {
            by_kind.entry(o.kind()).or_default().push(i);
            by_kind_namespace
                .entry(o.kind())
                .or_default()
                .entry(o.effective_namespace())
                .or_default()
                .push(i);
            if o.kind() == "Namespace" {
                namespaces.insert(o.name());
            }
        }
        Context {
            objects,
            by_kind,
            by_kind_namespace,
            namespaces,
        }
    }

    /// Every object.
    pub fn all(&self) -> &'a [Object] {
        self.objects
    }

    /// Objects of a kind.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(self.by_kind.get(kind))
    }

    /// Objects of a kind in a namespace (`""`: objects with no namespace written).
    pub fn of_kind_in(&self, kind: &str, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(
            self.by_kind_namespace
                .get(kind)
                .and_then(|by_ns| by_ns.get(namespace)),
        )
    }

    /// True when the scan includes objects of this kind at all: cross-object checks that
    /// need, say, NetworkPolicies to judge coverage should still run when there are none,
    /// but checks about references (a binding's role) only judge what they can see.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.by_kind.contains_key(kind)
    }

    /// Names of the Namespace objects scanned.
    pub fn declared_namespaces(&self) -> &HashSet<&'a str> {
        &self.namespaces
    }

    fn pick<'s>(&'s self, idx: Option<&'s Vec<usize>>) -> impl Iterator<Item = &'a Object> + 's {
        let objects = self.objects;
        idx.into_iter()
            .flatten()
            .filter_map(move |i| objects.get(*i))
    }
}
