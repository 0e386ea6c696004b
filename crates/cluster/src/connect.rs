//! Credentials as kubectl finds them: `--kubeconfig`, `KUBECONFIG`, `~/.kube/config`, and in
//! a pod the service account.

use crate::{ClusterError, Options};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// A connected cluster.
#[derive(Clone)]
pub struct Target {
    /// The client.
    pub client: Client,
    /// The context name, or `in-cluster`.
    pub name: String,
    /// The API server's address.
    pub server: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Builds a client from the options.
pub async fn connect(options: &Options) -> Result<Target, ClusterError> {
    crate::install_crypto_provider();
    let (config, name) = config(options).await?;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| ClusterError::Unreachable {
        server: server.clone(),
        message: e.to_string(),
    })?;
    Ok(Target {
        client,
        name,
        server: server.trim_end_matches('/').to_string(),
    })
}

async fn config(options: &Options) -> Result<(Config, String), ClusterError> {
    let kubeconfig =
        match &options.kubeconfig {
            Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
                ClusterError::Kubeconfig(format!("{}: {}", path.display(), chain(&e)))
            })?),
            None => match Kubeconfig::read() {
                Ok(kubeconfig) => Some(kubeconfig),
                // Set but unreadable is an error; absent falls through to in-cluster.
                Err(e) if std::env::var_os("KUBECONFIG").is_some() => {
                    return Err(ClusterError::Kubeconfig(format!(
                        "$KUBECONFIG: {}",
                        chain(&e)
                    )));
                }
                Err(_) => None,
            },
        };
    match kubeconfig {
        Some(kubeconfig) => {
            let name = options
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone())
                .unwrap_or_default();
            if let Some(context) = &options.context
                && !kubeconfig.contexts.iter().any(|c| &c.name == context)
            {
                let known: Vec<&str> = kubeconfig
                    .contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(ClusterError::Kubeconfig(format!(
                    "no context {context:?} (contexts: {})",
                    known.join(", ")
                )));
            }
            let select = KubeConfigOptions {
                context: options.context.clone(),
                ..KubeConfigOptions::default()
            };
            let config = Config::from_custom_kubeconfig(kubeconfig, &select)
                .await
                .map_err(|e| ClusterError::Kubeconfig(chain(&e)))?;
            Ok((config, name))
        }
        None if options.context.is_some() => Err(ClusterError::Kubeconfig(
            "--context needs a kubeconfig, and none was found".to_string(),
        )),
        None => {
            let config = Config::incluster().map_err(|e| {
                ClusterError::NoCredentials(format!(
                    "no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not in a pod ({})",
                    chain(&e)
                ))
            })?;
            Ok((config, "in-cluster".to_string()))
        }
    }
}

/// An error with its causes, `outer: inner: root`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
