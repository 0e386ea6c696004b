//! Which inputs to read: files, directories (recursively), `-` for stdin, and kustomize
//! directories rendered with `kubectl kustomize`.

use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A YAML or JSON file.
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// A directory with a kustomization file.
    Kustomize(PathBuf),
    /// A path that cannot be read as an input, with the reason.
    Unreadable(PathBuf, String),
    /// A directory that is not plain manifests (a Helm chart), with what to do instead.
    Skipped(PathBuf, String),
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// True if the directory holds a kustomization file.
pub fn is_kustomization_dir(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

fn is_helm_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file() && dir.join("templates").is_dir()
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expands the paths given on the command line into inputs, in a stable order.
pub fn expand(paths: &[PathBuf]) -> Vec<Input> {
    expand_with(paths, true)
}

/// [`expand`], reading the YAML files of kustomization directories as they are instead of
/// rendering them: for policy repositories, whose kustomizations only package the files.
pub fn expand_files(paths: &[PathBuf]) -> Vec<Input> {
    expand_with(paths, false)
}

fn expand_with(paths: &[PathBuf], kustomize: bool) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if path.is_dir() {
            walk_dir(path, kustomize, &mut inputs);
        } else if path.is_file() {
            inputs.push(Input::File(path.clone()));
        } else if path.exists() {
            inputs.push(Input::Unreadable(
                path.clone(),
                "not a regular file or directory".into(),
            ));
        } else {
            inputs.push(Input::Unreadable(
                path.clone(),
                "no such file or directory".into(),
            ));
        }
    }
    inputs
}

fn walk_dir(root: &Path, kustomize: bool, inputs: &mut Vec<Input>) {
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                inputs.push(Input::Unreadable(path, e.to_string()));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_type().is_dir() {
            let hidden = entry.depth() > 0
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with('.'));
            if hidden {
                walker.skip_current_dir();
            } else if kustomize && is_kustomization_dir(path) {
                inputs.push(Input::Kustomize(path.to_path_buf()));
                walker.skip_current_dir();
            } else if is_helm_chart(path) {
                inputs.push(Input::Skipped(
                    path.to_path_buf(),
                    "Helm chart: templates are not plain YAML; render it and pipe the output: \
                     helm template NAME DIR | palisade scan -"
                        .into(),
                ));
                walker.skip_current_dir();
            }
        } else if entry.file_type().is_file() && is_manifest_name(path) {
            inputs.push(Input::File(path.to_path_buf()));
        }
    }
}
