//! The `storeplane` binary: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;
use storeplane::Cli;

// The API serves many small JSON documents from several threads at once; glibc's malloc
// spends a large share of that time on arena locks, mimalloc does not (about twice the
// list throughput in the API load benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
