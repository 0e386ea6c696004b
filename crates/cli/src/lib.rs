/*!
The `palisade` command (also installed as the `kubectl-palisade` plugin).

This crate only wires the engines together: [`args`] parses flags, `commands/` validates them and
calls the loader, the scan pipeline and the report writers. Exit codes: 0 clean (or below
`--fail-on`), 1 findings at or above `--fail-on`, 2 usage or input errors.
*/

pub mod args;
mod commands;
mod output;

use args::{Cli, Command};
use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

/// Exit status: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: usage or input errors.
pub const EXIT_ERROR: u8 = 2;

/// Runs the command line; `bin_name` is how the user invoked us (for help and completions).
pub fn run(bin_name: &'static str) -> ExitCode {
    quiet_parser_panics();
    let matches = Cli::command().bin_name(bin_name).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(&args),
        Command::Controls(cmd) => commands::controls::run(&cmd),
        Command::Frameworks(cmd) => commands::frameworks::run(&cmd),
        Command::Policy(cmd) => commands::policy::run(&cmd),
        Command::Admission(cmd) => commands::admission::run(&cmd),
        Command::Audit(cmd) => commands::audit::run(&cmd),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), bin_name, &mut std::io::stdout());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("palisade: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The loader turns a panic inside the YAML parser into an input error with file and line;
/// the default hook would still print a backtrace-like message for it, so it stays quiet for
/// those. Every other panic is a bug and is reported as usual.
fn quiet_parser_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .location()
            .is_some_and(|l| l.file().contains("libyaml-safer"))
        {
            return;
        }
        default_hook(info);
    }));
}
