/// Why a cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// No kubeconfig and not in a pod.
    #[error("no cluster credentials: {0}")]
    NoCredentials(String),
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The API server could not be reached or refused discovery.
    #[error("cannot reach the API server at {server}: {message}")]
    Unreachable {
        /// Its address.
        server: String,
        /// What failed.
        message: String,
    },
    /// `--namespace` names a namespace that does not exist.
    #[error("namespace {0:?} does not exist")]
    NoNamespace(String),
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(String),
}
