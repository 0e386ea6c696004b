//! `palisade`: continuous security and compliance for Kubernetes.

fn main() -> std::process::ExitCode {
    palisade_cli::run("palisade")
}
