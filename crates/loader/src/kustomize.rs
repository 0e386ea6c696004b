//! Renders a kustomize directory with `kubectl kustomize`.

use crate::error::LoadError;
use std::path::Path;
use std::process::Command;

/// The command used to render kustomizations (`kubectl`, or `$PALISADE_KUBECTL`).
pub fn kubectl() -> String {
    std::env::var("PALISADE_KUBECTL").unwrap_or_else(|_| "kubectl".to_string())
}

/// Runs `kubectl kustomize DIR` and returns the rendered YAML.
pub fn render(dir: &Path) -> Result<String, LoadError> {
    let program = kubectl();
    let output = Command::new(&program)
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                LoadError::File(format!(
                    "kustomize directory, but `{program}` is not installed: install kubectl \
                     (it includes kustomize) or render it yourself and pipe the output: \
                     kubectl kustomize DIR | palisade scan -"
                ))
            } else {
                LoadError::File(format!("could not run `{program} kustomize`: {e}"))
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(LoadError::File(format!(
            "`{program} kustomize` failed: {}",
            clean_stderr(&stderr)
        )));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| LoadError::File("`kubectl kustomize` printed non-UTF-8 output".into()))
}

/// kubectl wraps errors in a log header (`E1124 13:41:32.9 5718 run.go:72] "command failed"
/// err=<...>`) over several lines; keep the error itself, on one line.
fn clean_stderr(stderr: &str) -> String {
    let text = stderr
        .split_once(" err=")
        .map(|(_, rest)| rest)
        .unwrap_or(stderr);
    let text = text
        .trim()
        .trim_start_matches(['<', '"'])
        .trim_end_matches(['>', '"']);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_kubectl_errors() {
        let raw = "E1124 13:41:36.822816    5834 run.go:72] \"command failed\" err=<\n\taccumulating resources: missing\n >\n";
        assert_eq!(clean_stderr(raw), "accumulating resources: missing");
        assert_eq!(clean_stderr("error: plain\n"), "error: plain");
    }
}
