//! Reloads on change: the serving certificate (with key and client CA) and the policy file
//! (with the policy files it names). Files are compared by content, so the symlink swaps of
//! mounted Secrets and ConfigMaps are seen. A change that does not load is logged and
//! counted, and what is in force stays in force.

use super::{State, load_engine};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

/// Checks the files every `reload_interval`, forever.
pub async fn watch(state: Arc<State>) {
    let tls_files = state.options.tls.paths();
    let mut tls_seen = fingerprint(&tls_files);
    let mut policy_seen = fingerprint(&policy_files(&state));
    let mut interval = tokio::time::interval(state.options.reload_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = fingerprint(&tls_files);
        if now != tls_seen {
            tls_seen = now;
            let files = state.options.tls.clone();
            match tokio::task::spawn_blocking(move || files.load()).await {
                Ok(Ok(config)) => {
                    if let Ok(mut tls) = state.tls.write() {
                        *tls = config;
                    }
                    state.metrics.reload("tls", "ok");
                    tracing::info!("serving certificate reloaded");
                }
                Ok(Err(e)) => {
                    state.metrics.reload("tls", "error");
                    tracing::error!(error = %e, "serving certificate not reloaded; the previous one stays in use");
                }
                Err(_) => state.metrics.reload("tls", "error"),
            }
        }
        let files = policy_files(&state);
        let now = fingerprint(&files);
        if now != policy_seen {
            policy_seen = now;
            let policy = state.options.policy.clone();
            match tokio::task::spawn_blocking(move || load_engine(policy.as_deref())).await {
                Ok(Ok(engine)) => {
                    let origin = engine.config().origin.clone();
                    if let Ok(mut current) = state.engine.write() {
                        *current = Arc::new(engine);
                    }
                    state.metrics.reload("policy", "ok");
                    tracing::info!(policy = %origin, "policy reloaded");
                }
                Ok(Err(e)) => {
                    state.metrics.reload("policy", "error");
                    tracing::error!(error = %e, "policy not reloaded; the previous one stays in force");
                }
                Err(_) => state.metrics.reload("policy", "error"),
            }
        }
    }
}

/// The policy file and every file of the policies it names.
fn policy_files(state: &State) -> Vec<PathBuf> {
    let Some(policy) = &state.options.policy else {
        return Vec::new();
    };
    let mut files = vec![policy.clone()];
    let named = state.engine().config().policies.clone();
    for input in palisade_loader::expand_files(&named) {
        if let palisade_loader::Input::File(path) = input {
            files.push(path);
        }
    }
    files
}

/// A hash of the files' contents; a missing file hashes as missing.
fn fingerprint(files: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        match std::fs::read(file) {
            Ok(bytes) => bytes.hash(&mut hasher),
            Err(_) => "missing".hash(&mut hasher),
        }
    }
    hasher.finish()
}
