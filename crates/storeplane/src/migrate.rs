//! `storeplane migrate`: apply pending migrations explicitly (for deployments that run
//! them as a separate step before rolling out new replicas).

use crate::cli::MigrateArgs;

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let url = args.database.url()?;
    storeplane_db::migrate(&url, &args.database.connect_options()).await?;
    println!("database {url} is up to date");
    Ok(())
}
