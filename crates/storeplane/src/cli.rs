//! The command line, declared with clap. Every flag can also be set through a
//! `STOREPLANE_*` environment variable.

use clap::{Args, Parser, Subcommand};

use crate::database::DatabaseArgs;
use crate::logging::LogArgs;
use crate::render::RenderArgs;
use crate::serve::ServeArgs;
use crate::token::TokenArgs;
use crate::worker::WorkerArgs;

/// storeplane: self-service e-commerce stores on Kubernetes, each in its own fenced-off
/// namespace.
#[derive(Debug, Parser)]
#[command(name = "storeplane", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server, the dashboard and the in-process workers.
    Serve(ServeArgs),
    /// Run provisioning workers only (scale out on PostgreSQL by adding these).
    Worker(WorkerArgs),
    /// Apply pending database migrations and exit (`serve` also applies them at start).
    Migrate(MigrateArgs),
    /// Manage API tokens.
    Token(TokenArgs),
    /// Create, inspect and delete stores through the API.
    Store(storeplane_client::StoreArgs),
    /// Print the Kubernetes objects a store is made of, as YAML, without touching a cluster.
    Render(RenderArgs),
    /// Run kube-sim, the simulated Kubernetes API server: a test double for demos and
    /// tests, not a cluster.
    Sim(kube_sim::SimArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_fall_back_to_environment_variables() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("STOREPLANE_LOG_FORMAT"), "{help}");
    }
}
