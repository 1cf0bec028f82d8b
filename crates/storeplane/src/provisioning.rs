//! What `serve` and `worker` share: how stores are built and how many are provisioned at
//! once, and starting the workers that do it.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use storeplane_blueprint::{Blueprint, FrontDoor, PlatformSettings};
use storeplane_db::Repository;
use storeplane_kube::Applier;
use storeplane_worker::{
    ProvisionRunner, StorefrontCheck, Timeouts, Worker, WorkerSettings, schedule_backups,
    schedule_drift_checks,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The platform's choices for every store: a settings file, and flags for the common ones
/// (a flag wins over the file).
#[derive(Debug, Clone, Args)]
pub struct PlatformArgs {
    /// YAML file of platform settings (base_domain, front_door, gateway, ingress_class,
    /// ingress_namespace, storage_class, releases, plans, tls, cluster_issuer,
    /// allow_internet_egress, pod_security_version, revisions, backups); see docs/configuration.md.
    #[arg(long, env = "STOREPLANE_PLATFORM_CONFIG", value_name = "FILE")]
    pub platform_config: Option<PathBuf>,

    /// Stores are reached at `<name>.<base domain>` [default: 127.0.0.1.nip.io].
    #[arg(long, env = "STOREPLANE_BASE_DOMAIN", value_name = "DOMAIN")]
    pub base_domain: Option<String>,

    /// Serve stores over HTTPS: store URLs use https; each Ingress gets a TLS section, and
    /// with the Gateway its HTTPS listener's certificate serves every store.
    #[arg(long, env = "STOREPLANE_STORE_HTTPS")]
    pub store_https: bool,

    /// How requests reach stores: `gateway` (an HTTPRoute on the platform Gateway) or
    /// `ingress` (an Ingress with --ingress-class) [default: gateway].
    #[arg(long, env = "STOREPLANE_FRONT_DOOR", value_name = "gateway|ingress")]
    pub front_door: Option<FrontDoor>,

    /// The platform Gateway every store's HTTPRoute attaches to [default: storeplane].
    #[arg(long, env = "STOREPLANE_GATEWAY_NAME", value_name = "NAME")]
    pub gateway_name: Option<String>,

    /// The platform Gateway's namespace [default: storeplane].
    #[arg(long, env = "STOREPLANE_GATEWAY_NAMESPACE", value_name = "NAMESPACE")]
    pub gateway_namespace: Option<String>,

    /// The Gateway listener (sectionName) store routes attach to [default: every listener
    /// that admits them].
    #[arg(long, env = "STOREPLANE_GATEWAY_LISTENER", value_name = "NAME")]
    pub gateway_listener: Option<String>,

    /// The namespace the Gateway's proxies run in, the only one allowed to reach a store's
    /// web pod with the Gateway front door [default: traefik].
    #[arg(
        long,
        env = "STOREPLANE_GATEWAY_DATA_PLANE_NAMESPACE",
        value_name = "NAMESPACE"
    )]
    pub gateway_data_plane_namespace: Option<String>,

    /// The ingress class of every store's Ingress [default: nginx].
    #[arg(long, env = "STOREPLANE_INGRESS_CLASS", value_name = "CLASS")]
    pub ingress_class: Option<String>,

    /// The namespace of the ingress controller, the only one allowed to reach a store's
    /// web pod with the Ingress front door [default: ingress-nginx].
    #[arg(long, env = "STOREPLANE_INGRESS_NAMESPACE", value_name = "NAMESPACE")]
    pub ingress_namespace: Option<String>,

    /// The StorageClass of every store volume [default: the cluster's default].
    #[arg(long, env = "STOREPLANE_STORAGE_CLASS", value_name = "CLASS")]
    pub storage_class: Option<String>,

    /// A cert-manager ClusterIssuer for per-store certificates through HTTP-01 (implies
    /// --store-https; needs --front-door ingress).
    #[arg(long, env = "STOREPLANE_CLUSTER_ISSUER", value_name = "NAME")]
    pub cluster_issuer: Option<String>,

    /// Let store web pods reach the internet on ports 80 and 443 (payment gateways).
    #[arg(long, env = "STOREPLANE_ALLOW_INTERNET_EGRESS")]
    pub allow_internet_egress: bool,

    /// Whether a revision not deployed by its deadline takes the store back to the
    /// revision it ran (true), or leaves it failed on the new one (false) [default: true].
    #[arg(
        long,
        env = "STOREPLANE_AUTO_ROLLBACK",
        value_name = "true|false",
        action = clap::ArgAction::Set
    )]
    pub auto_rollback: Option<bool>,

    /// Seconds a store revision may take, from its start until deployed (checkpoint,
    /// apply, readiness and upgrade step together), at least 10 [default: 600].
    #[arg(long, env = "STOREPLANE_REVISION_DEADLINE", value_name = "SECONDS")]
    pub revision_deadline: Option<u64>,

    /// Rendered manifests kept per store (the newest ones; revisions themselves are kept
    /// for good), at least 1 [default: 10].
    #[arg(long, env = "STOREPLANE_KEEP_MANIFESTS", value_name = "N")]
    pub keep_manifests: Option<u32>,
}

impl PlatformArgs {
    /// The settings file with the flags laid over it, validated: a wrong setting stops
    /// start-up with its name.
    pub fn settings(&self) -> anyhow::Result<PlatformSettings> {
        let mut settings = match &self.platform_config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("failed to read platform settings {}", path.display())
                })?;
                serde_saphyr::from_str::<PlatformSettings>(&text).map_err(|error| {
                    // The parser's message comes with a source snippet; the first line
                    // (position and problem) is what belongs in a one-line error.
                    let error = error.to_string();
                    let first = error.lines().next().unwrap_or_default();
                    anyhow::anyhow!(
                        "platform settings {} are not valid: {}",
                        path.display(),
                        first.trim_start_matches("error: ")
                    )
                })?
            }
            None => PlatformSettings::default(),
        };
        let overrides = [
            (&self.base_domain, &mut settings.base_domain),
            (&self.ingress_class, &mut settings.ingress_class),
            (&self.ingress_namespace, &mut settings.ingress_namespace),
            (&self.gateway_name, &mut settings.gateway.name),
            (&self.gateway_namespace, &mut settings.gateway.namespace),
            (
                &self.gateway_data_plane_namespace,
                &mut settings.gateway.data_plane_namespace,
            ),
        ];
        for (flag, setting) in overrides {
            if let Some(value) = flag {
                value.clone_into(setting);
            }
        }
        if let Some(front_door) = self.front_door {
            settings.front_door = front_door;
        }
        if self.gateway_listener.is_some() {
            settings.gateway.listener.clone_from(&self.gateway_listener);
        }
        if self.storage_class.is_some() {
            settings.storage_class.clone_from(&self.storage_class);
        }
        if self.cluster_issuer.is_some() {
            settings.cluster_issuer.clone_from(&self.cluster_issuer);
            settings.tls = true;
        }
        if let Some(auto_rollback) = self.auto_rollback {
            settings.revisions.auto_rollback = auto_rollback;
        }
        if let Some(deadline) = self.revision_deadline {
            settings.revisions.deadline_seconds = deadline;
        }
        if let Some(keep) = self.keep_manifests {
            settings.revisions.keep_manifests = keep;
        }
        settings.tls |= self.store_https;
        settings.allow_internet_egress |= self.allow_internet_egress;
        // Validated here so a bad setting stops start-up rather than every provisioning.
        settings.clone().validate()?;
        Ok(settings)
    }
}

#[derive(Debug, Clone, Args)]
pub struct ProvisioningArgs {
    #[command(flatten)]
    pub platform: PlatformArgs,

    /// Stores provisioned at once by this process's workers, which also caps this
    /// process's concurrent reconciles; with `serve`, 0 runs no workers in that process
    /// (run `storeplane worker` processes instead).
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

    /// Seconds a store's workloads may take to become ready before the attempt fails with
    /// the reason read from the cluster.
    #[arg(
        long,
        env = "STOREPLANE_READY_TIMEOUT",
        default_value_t = 600,
        value_name = "SECONDS"
    )]
    pub ready_timeout: u64,

    /// Seconds a store's namespace may take to go away before the teardown attempt fails
    /// naming what holds it.
    #[arg(
        long,
        env = "STOREPLANE_TEARDOWN_TIMEOUT",
        default_value_t = 300,
        value_name = "SECONDS"
    )]
    pub teardown_timeout: u64,

    /// Seconds the storefront check at the end of provisioning may take; 0 skips it.
    /// The check is best effort: its result goes on the timeline and never fails a store.
    #[arg(
        long,
        env = "STOREPLANE_STOREFRONT_CHECK_TIMEOUT",
        default_value_t = 5,
        value_name = "SECONDS"
    )]
    pub storefront_check_timeout: u64,

    /// Reach every storefront at this address for the check (the Gateway's proxy Service,
    /// say `traefik.traefik.svc:80`, or the ingress controller's,
    /// `ingress-nginx-controller.ingress-nginx.svc:80`) instead of through DNS; the request
    /// still names the store's host.
    #[arg(
        long,
        env = "STOREPLANE_STOREFRONT_CHECK_VIA",
        value_name = "HOST:PORT",
        value_parser = host_and_port
    )]
    pub storefront_check_via: Option<String>,

    /// Seconds a job's lease lasts without a heartbeat: how soon another worker takes over
    /// the jobs of a worker that died. Heartbeats come every third of it.
    #[arg(
        long,
        env = "STOREPLANE_LEASE_TTL",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(3..),
        value_name = "SECONDS"
    )]
    pub lease_ttl: u64,

    /// Seconds between looks for stores whose scheduled backup is due (the schedule itself
    /// is `backups.schedule` in the platform settings).
    #[arg(
        long,
        env = "STOREPLANE_BACKUP_TICK",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "SECONDS"
    )]
    pub backup_tick: u64,

    /// Attempts a provisioning or teardown job gets before the store is marked failed.
    #[arg(
        long,
        env = "STOREPLANE_MAX_ATTEMPTS",
        default_value = "5",
        value_name = "N"
    )]
    pub max_attempts: NonZeroU32,
}

/// A `HOST:PORT` flag, checked when it is read (the host is looked up when used).
fn host_and_port(value: &str) -> Result<String, String> {
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(value.to_owned())
        }
        _ => {
            Err("expected HOST:PORT, e.g. ingress-nginx-controller.ingress-nginx.svc:80".to_owned())
        }
    }
}

impl ProvisioningArgs {
    /// Starts the workers (none if `--workers 0`); they stop when `stop` turns true, giving
    /// in-flight jobs `grace` before handing their leases back.
    pub fn spawn_workers(
        &self,
        repo: Arc<dyn Repository>,
        settings: PlatformSettings,
        applier: Applier,
        grace: Duration,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Option<JoinHandle<()>>> {
        if self.workers == 0 {
            return Ok(None);
        }
        let blueprint = Blueprint::new(settings)?;
        let schedule = blueprint.settings().backups.schedule();
        let timeouts = Timeouts {
            ready: Duration::from_secs(self.ready_timeout),
            teardown: Duration::from_secs(self.teardown_timeout),
        };
        let mut runner = ProvisionRunner::new(repo.clone(), blueprint, applier, timeouts)
            .with_backup_credentials(backup_credentials()?);
        if self.storefront_check_timeout > 0 {
            let check = StorefrontCheck::new(
                Duration::from_secs(self.storefront_check_timeout),
                self.storefront_check_via.clone(),
            )
            .context("failed to set up the storefront check")?;
            runner = runner.with_storefront_check(check);
        }
        let mut settings = WorkerSettings {
            concurrency: self.workers,
            lease: Duration::from_secs(self.lease_ttl),
            heartbeat: Duration::from_secs(self.lease_ttl) / 3,
            shutdown_grace: grace,
            ..WorkerSettings::new(lease_holder())
        };
        settings.retry.max_attempts = self.max_attempts.get();
        let max_attempts = settings.retry.max_attempts;
        let runner = Arc::new(runner);
        let worker = Worker::new(repo.clone(), runner.clone(), settings).run(stop.clone());
        let drift_interval = Duration::from_secs(self.drift_interval);
        let backups = schedule_backups(
            repo.clone(),
            runner,
            schedule,
            Duration::from_secs(self.backup_tick),
            stop.clone(),
        );
        Ok(Some(tokio::spawn(async move {
            if drift_interval.is_zero() {
                tokio::join!(worker, backups);
            } else {
                tokio::join!(
                    worker,
                    backups,
                    schedule_drift_checks(repo, drift_interval, max_attempts, stop)
                );
            }
        })))
    }
}

/// The environment variables that hold the platform's object-store credentials, for backups
/// to an S3 repository. Read from the environment only (the chart sets them from the
/// platform's Secret), never from a flag, so they never appear in a process's arguments.
pub const BACKUP_ACCESS_KEY_ENV: &str = "STOREPLANE_BACKUP_S3_ACCESS_KEY_ID";
pub const BACKUP_SECRET_KEY_ENV: &str = "STOREPLANE_BACKUP_S3_SECRET_ACCESS_KEY";

/// The object-store credentials from the environment: both or neither.
fn backup_credentials() -> anyhow::Result<Option<storeplane_blueprint::S3Credentials>> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (read(BACKUP_ACCESS_KEY_ENV), read(BACKUP_SECRET_KEY_ENV)) {
        (Some(access_key_id), Some(secret_access_key)) => {
            Ok(Some(storeplane_blueprint::S3Credentials {
                access_key_id,
                secret_access_key,
            }))
        }
        (None, None) => Ok(None),
        (Some(_), None) => {
            anyhow::bail!("{BACKUP_ACCESS_KEY_ENV} is set but {BACKUP_SECRET_KEY_ENV} is not")
        }
        (None, Some(_)) => {
            anyhow::bail!("{BACKUP_SECRET_KEY_ENV} is set but {BACKUP_ACCESS_KEY_ENV} is not")
        }
    }
}

/// A lease holder name unique to this process: host, process id and a random part (pids
/// repeat across containers).
fn lease_holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "storeplane".to_owned());
    let random: u32 = rand::random();
    format!("{host}-{}-{random:08x}", std::process::id())
}
