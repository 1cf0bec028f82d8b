//! The `storeplane` binary: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;
use storeplane::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match storeplane::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line that names the problem and its causes, outermost first.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
