//! `storeplane worker`: provisioning workers without the API, so deployments on
//! PostgreSQL scale out by adding worker processes.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use storeplane_blueprint::Blueprint;
use storeplane_kube::Applier;
use tokio::sync::watch;

use crate::cluster::ClusterArgs;
use crate::database::DatabaseArgs;
use crate::provisioning::ProvisioningArgs;
use crate::shutdown;

#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub provisioning: ProvisioningArgs,

    /// Seconds in-flight jobs may take to finish after a shutdown signal before their
    /// leases are handed back.
    #[arg(
        long,
        env = "STOREPLANE_SHUTDOWN_GRACE",
        default_value_t = 20,
        value_name = "SECONDS"
    )]
    pub shutdown_grace: u64,
}

pub async fn run(args: WorkerArgs) -> anyhow::Result<()> {
    let stop_signal = shutdown::signal();
    anyhow::ensure!(
        args.provisioning.workers > 0,
        "--workers must be at least 1 for `storeplane worker`"
    );
    let platform = args.provisioning.platform.settings()?;
    let repo = args.database.connect().await?;
    crate::backfill::backfill_revisions(repo.as_ref(), &Blueprint::new(platform.clone())?).await?;
    let cluster = args.cluster.connect().await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let grace = Duration::from_secs(args.shutdown_grace);
    let workers = args
        .provisioning
        .spawn_workers(
            repo,
            platform,
            Applier::new(cluster.client.clone()),
            grace,
            stop_rx,
        )?
        .context("no workers to run")?;
    stop_signal.await;
    let _ = stop_tx.send(true);
    workers.await.context("the worker task failed")
}
