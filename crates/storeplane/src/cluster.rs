//! Which Kubernetes cluster `serve` manages: the built-in simulated one (`--sim`), or a
//! real one through a kubeconfig or the pod's service account. storeplane never falls back
//! to the simulator by itself: with no cluster found and no `--sim`, it says so and stops.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_sim::{SimConfig, SimHandle};
use storeplane_kube::ClientRateLimit;

/// How long start-up waits for the cluster's API server to answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Manage kube-sim, the built-in simulated cluster (a test double, not a cluster),
    /// started inside this process: for demos and development without Kubernetes.
    #[arg(long, env = "STOREPLANE_SIM", conflicts_with_all = ["kubeconfig", "kube_context"])]
    pub sim: bool,

    /// Kubeconfig file of the cluster to manage (default: `$KUBECONFIG`, then
    /// `~/.kube/config`, then, inside a pod, its service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use (default: the current context).
    #[arg(long, env = "STOREPLANE_KUBE_CONTEXT", value_name = "NAME")]
    pub kube_context: Option<String>,

    /// Kubernetes API requests per second this process may send (a token bucket shared by
    /// all its workers and the API).
    #[arg(
        long,
        env = "STOREPLANE_KUBE_QPS",
        default_value = "50",
        value_name = "N"
    )]
    pub kube_qps: NonZeroU32,

    /// Kubernetes API requests that may go at once above `--kube-qps`.
    #[arg(
        long,
        env = "STOREPLANE_KUBE_BURST",
        default_value = "100",
        value_name = "N"
    )]
    pub kube_burst: NonZeroU32,
}

/// The cluster storeplane manages.
pub struct Cluster {
    pub client: kube::Client,
    /// What people are shown: the kubeconfig context, `in-cluster`, or `kube-sim (simulated)`.
    pub name: String,
    pub server: String,
    pub simulated: bool,
    /// Keeps the in-process simulator running as long as the cluster is in use.
    _sim: Option<SimHandle>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl ClusterArgs {
    /// Finds the cluster and checks that its API server answers.
    pub async fn connect(&self) -> anyhow::Result<Cluster> {
        let (config, name, sim) = if self.sim {
            let sim = SimHandle::start(SimConfig::default())
                .await
                .context("failed to start the simulated cluster")?;
            tracing::warn!(url = %sim.url(), "managing kube-sim, the built-in simulated cluster: a test double, not a cluster");
            (
                sim.kube_config(),
                "kube-sim (simulated)".to_owned(),
                Some(sim),
            )
        } else {
            let (config, name) = self.real_cluster().await?;
            (config, name, None)
        };
        let server = config.cluster_url.to_string();
        let limit = ClientRateLimit {
            qps: self.kube_qps,
            burst: self.kube_burst,
        };
        let client = storeplane_kube::client(config, limit)
            .context("failed to build a Kubernetes client")?;
        let version = tokio::time::timeout(REACH_TIMEOUT, client.apiserver_version())
            .await
            .map_err(|_| anyhow::anyhow!("the Kubernetes API server of cluster {name} ({server}) did not answer within {} s", REACH_TIMEOUT.as_secs()))?
            .with_context(|| format!("failed to reach the Kubernetes API server of cluster {name} ({server})"))?;
        tracing::info!(cluster = %name, %server, version = %version.git_version, "managing Kubernetes cluster");
        Ok(Cluster {
            client,
            name,
            server,
            simulated: sim.is_some(),
            _sim: sim,
        })
    }

    async fn real_cluster(&self) -> anyhow::Result<(kube::Config, String)> {
        let options = KubeConfigOptions {
            context: self.kube_context.clone(),
            ..KubeConfigOptions::default()
        };
        let kubeconfig = match &self.kubeconfig {
            Some(path) => Some(
                Kubeconfig::read_from(path)
                    .with_context(|| format!("failed to read kubeconfig {}", path.display()))?,
            ),
            // A missing default kubeconfig is not an error yet: the pod's account may do.
            None => Kubeconfig::read().ok(),
        };
        if let Some(kubeconfig) = kubeconfig {
            let context = options
                .context
                .clone()
                .or_else(|| kubeconfig.current_context.clone())
                .unwrap_or_else(|| "default".to_owned());
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| format!("failed to use kubeconfig context {context}"))?;
            return Ok((config, context));
        }
        match kube::Config::incluster() {
            Ok(config) => Ok((config, "in-cluster".to_owned())),
            Err(_) => anyhow::bail!(
                "no Kubernetes cluster found (no kubeconfig in $KUBECONFIG or ~/.kube/config, and not running in a pod): \
                 pass --kubeconfig FILE, or --sim to use the built-in simulated cluster"
            ),
        }
    }
}
