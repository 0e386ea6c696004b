//! `palisade audit`: audit-log analysis.

mod analyze;
mod detectors;
mod serve;

use crate::args::AuditCommand;

/// Runs an audit subcommand.
pub fn run(command: &AuditCommand) -> anyhow::Result<u8> {
    match command {
        AuditCommand::Analyze(args) => analyze::run(args),
        AuditCommand::Serve(args) => serve::run(args),
    }
}
