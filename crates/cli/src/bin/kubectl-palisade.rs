//! `kubectl palisade`: the same command, installed as a kubectl plugin.

fn main() -> std::process::ExitCode {
    palisade_cli::run("kubectl palisade")
}
