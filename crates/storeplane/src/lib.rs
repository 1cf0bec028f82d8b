//! storeplane's command line: subcommands and the wiring that connects the layers.

mod backfill;
mod cli;
mod cluster;
mod credentials;
mod database;
mod logging;
mod migrate;
mod provisioning;
mod render;
mod serve;
mod shutdown;
mod store_renderer;
mod token;
mod worker;

pub use cli::{Cli, Command};

/// Runs a parsed command line to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    logging::init(&cli.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Worker(args) => worker::run(args).await,
            Command::Token(args) => token::run(args).await,
            Command::Store(args) => storeplane_client::run(args).await,
            Command::Render(args) => render::run(args),
            Command::Sim(args) => Ok(kube_sim::run(&args, shutdown::signal()).await?),
        }
    })
}
