//! What `serve` and `worker` share: how stores are built and how many are provisioned at
//! once, and starting the workers that do it.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use storeplane_blueprint::{Blueprint, PlatformSettings};
use storeplane_db::Repository;
use storeplane_kube::Applier;
use storeplane_worker::{ProvisionRunner, Timeouts, Worker, WorkerSettings, schedule_drift_checks};
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

    /// Seconds between drift checks of ready stores (jittered by half); 0 turns them off.
    #[arg(
        long,
        env = "STOREPLANE_DRIFT_INTERVAL",
        default_value_t = 300,
        value_name = "SECONDS"
    )]
    pub drift_interval: u64,
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
        let max_attempts = settings.retry.max_attempts;
        let worker = Worker::new(repo.clone(), Arc::new(runner), settings).run(stop.clone());
        let drift_interval = Duration::from_secs(self.drift_interval);
        Ok(Some(tokio::spawn(async move {
            if drift_interval.is_zero() {
                worker.await;
            } else {
                tokio::join!(
                    worker,
                    schedule_drift_checks(repo, drift_interval, max_attempts, stop)
                );
            }
        })))
    }
}

/// A lease holder name unique to this process: host, process id and a random part (pids
/// repeat across containers).
fn lease_holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "storeplane".to_owned());
    let random: u32 = rand::random();
    format!("{host}-{}-{random:08x}", std::process::id())
}
