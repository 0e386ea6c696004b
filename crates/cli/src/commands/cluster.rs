//! `scan --cluster`: a live cluster read into what the scan pipeline takes from files.

use crate::args::ScanArgs;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_cluster::{Options, Progress, Snapshot};
use palisade_loader::Loaded;
use palisade_model::InputError;
use std::io::IsTerminal;

/// Reads the cluster; returns its objects and its name. Resources the credentials may not
/// list are said on stderr and kept as notices; other failures to list are input errors.
pub fn read(args: &ScanArgs) -> anyhow::Result<(Loaded, String)> {
    let options = Options {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
        page_size: args.chunk_size,
    };
    let bar = bar(args);
    let snapshot = palisade_cluster::read_blocking(&options, &|event| match event {
        Progress::Discovered(n) => bar.set_length(n as u64),
        Progress::Listed { resource, .. } => {
            bar.set_message(resource);
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    let snapshot = snapshot.map_err(|e| anyhow::anyhow!("--cluster: {e}"))?;
    let denied: Vec<&str> = snapshot
        .unreadable
        .iter()
        .filter(|u| u.denied)
        .map(|u| u.resource.as_str())
        .collect();
    if !denied.is_empty() {
        eprintln!(
            "palisade: warning: not allowed to list {} of {} resources, scanned the rest: {}",
            denied.len(),
            snapshot.resources,
            denied.join(", ")
        );
    }
    let name = snapshot.cluster.clone();
    Ok((loaded(snapshot), name))
}

fn loaded(snapshot: Snapshot) -> Loaded {
    let mut loaded = Loaded {
        objects: snapshot.objects,
        ..Loaded::default()
    };
    for unreadable in snapshot.unreadable {
        let entry = InputError {
            file: format!("cluster://{}", snapshot.cluster),
            line: None,
            column: None,
            message: format!("cannot list {}: {}", unreadable.resource, unreadable.reason),
        };
        if unreadable.denied {
            loaded.notices.push(entry);
        } else {
            loaded.errors.push(entry);
        }
    }
    loaded
}

fn bar(args: &ScanArgs) -> ProgressBar {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} listing {pos}/{len} resources {wide_bar} {elapsed} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}
