/*!
Reads a live cluster as the scan reads files: every served resource the credentials may list,
as [`Object`]s, with what could not be read said out loud.

# Brief overview

[`read`] connects with a kubeconfig (its current context or `--context`) or, inside a pod,
with the service account; discovers every group, version and resource the API server serves;
and lists each resource that supports `list`, 500 objects a page. Resources the credentials
may not list are [`Snapshot::unreadable`] and the rest is still read. Secret values are
blanked as they arrive, so they are never kept or reported.

Each object's [`Source::file`] is `cluster://CONTEXT/API-PATH`, its address on the API server.
*/

mod connect;
mod discover;
mod error;
mod list;
mod redact;

pub use connect::Target;
pub use error::ClusterError;

use palisade_model::Object;

/// What to read, and from where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Kubeconfig file; otherwise `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Context of the kubeconfig; otherwise its current context.
    pub context: Option<String>,
    /// Read only this namespace (and the Namespace object itself); otherwise everything.
    pub namespace: Option<String>,
    /// Objects per list page.
    pub page_size: u32,
}

/// What happened so far, for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Discovery found this many resources to list.
    Discovered(usize),
    /// One resource was listed (or could not be).
    Listed {
        /// `deployments.apps`, say.
        resource: String,
        /// Objects read.
        objects: usize,
    },
}

/// A resource that could not be listed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// `secrets`, `deployments.apps`.
    pub resource: String,
    /// `forbidden: ...`, or the error.
    pub reason: String,
    /// True when the API server refused (401, 403): the scan is partial by policy, not broken.
    pub denied: bool,
}

/// Everything read from a cluster.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Where: the context name, or `in-cluster`.
    pub cluster: String,
    /// The API server's address.
    pub server: String,
    /// Objects, ordered by resource, namespace and name.
    pub objects: Vec<Object>,
    /// Resources listed.
    pub resources: usize,
    /// Resources that could not be listed.
    pub unreadable: Vec<Unreadable>,
}

/// Connects and reads every listable resource.
pub async fn read(
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Snapshot, ClusterError> {
    let target = connect::connect(options).await?;
    let resources = discover::resources(&target, options.namespace.is_some()).await?;
    progress(Progress::Discovered(resources.len()));
    let page_size = if options.page_size == 0 {
        500
    } else {
        options.page_size
    };
    let listed = list::all(
        &target,
        &resources,
        options.namespace.as_deref(),
        page_size,
        progress,
    )
    .await;
    let mut snapshot = Snapshot {
        cluster: target.name.clone(),
        server: target.server.clone(),
        resources: resources.len(),
        ..Snapshot::default()
    };
    for part in listed {
        match part {
            Ok(mut objects) => snapshot.objects.append(&mut objects),
            Err(unreadable) => snapshot.unreadable.push(unreadable),
        }
    }
    if let Some(namespace) = &options.namespace {
        match list::namespace(&target, namespace).await {
            Ok(Some(object)) => snapshot.objects.push(object),
            Ok(None) => return Err(ClusterError::NoNamespace(namespace.clone())),
            Err(unreadable) => snapshot.unreadable.push(unreadable),
        }
    }
    Ok(snapshot)
}

/// [`read`] on a runtime of its own, for callers that are not async.
pub fn read_blocking(
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Snapshot, ClusterError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Runtime(e.to_string()))?;
    runtime.block_on(read(options, progress))
}

/// Makes rustls use ring; harmless when a provider is already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
