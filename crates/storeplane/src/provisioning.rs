//! What `serve` and `worker` share: how stores are built and how many are provisioned at
//! once, and starting the workers that do it.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use storeplane_blueprint::{Blueprint, PlatformSettings};
use storeplane_db::Repository;
use storeplane_kube::Applier;
use storeplane_worker::{ProvisionRunner, Timeouts, Worker, WorkerSettings};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Args)]
pub struct ProvisioningArgs {
    /// Stores are reached at `<name>.<base domain>`.
    #[arg(
        long,
        env = "STOREPLANE_BASE_DOMAIN",
        default_value = "127.0.0.1.nip.io",
        value_name = "DOMAIN"
    )]
    pub base_domain: String,

    /// Serve stores over HTTPS: store URLs use https and each Ingress gets a TLS section.
    #[arg(long, env = "STOREPLANE_STORE_HTTPS")]
    pub store_https: bool,

    /// Stores provisioned at once by this process's workers; with `serve`, 0 runs no
    /// workers in that process (run `storeplane worker` processes instead).
    #[arg(
        long,
        env = "STOREPLANE_WORKERS",
        default_value_t = 4,
        value_name = "N"
    )]
    pub workers: usize,
}

impl ProvisioningArgs {
    /// Starts the workers (none if `--workers 0`); they stop when `stop` turns true, giving
    /// in-flight jobs `grace` before handing their leases back.
    pub fn spawn_workers(
        &self,
        repo: Arc<dyn Repository>,
        applier: Applier,
        grace: Duration,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Option<JoinHandle<()>>> {
        if self.workers == 0 {
            return Ok(None);
        }
        let blueprint = Blueprint::new(PlatformSettings {
            base_domain: self.base_domain.clone(),
            tls: self.store_https,
            ..PlatformSettings::default()
        })?;
        let runner = ProvisionRunner::new(repo.clone(), blueprint, applier, Timeouts::default());
        let settings = WorkerSettings {
            concurrency: self.workers,
            shutdown_grace: grace,
            ..WorkerSettings::new(lease_holder())
        };
        Ok(Some(tokio::spawn(
            Worker::new(repo, Arc::new(runner), settings).run(stop),
        )))
    }
}

/// A lease holder name unique to this process: host, process id and a random part (pids
/// repeat across containers).
fn lease_holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "storeplane".to_owned());
    let random: u32 = rand::random();
    format!("{host}-{}-{random:08x}", std::process::id())
}
