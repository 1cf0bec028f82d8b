//! Configuration: [`SimConfig`] for in-process use and [`SimArgs`], the command-line
//! flags a binary embeds to run the simulator.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::faults::{ErrorRule, Faults, Verb};
use crate::programs::Programs;

/// How the simulated cluster behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// How long a new pod takes to become ready (and a job's pod to finish).
    pub ready_delay: Duration,
    /// How often watches that allow bookmarks receive one.
    pub bookmark_interval: Duration,
    /// How many past events are kept for resuming watches; older versions get
    /// `410 Gone`.
    pub watch_history: usize,
    /// Faults to inject from the start.
    pub faults: Faults,
    /// What simulated programs leave behind (termination messages).
    pub programs: Programs,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            ready_delay: Duration::ZERO,
            bookmark_interval: Duration::from_secs(5),
            watch_history: 10_000,
            faults: Faults::default(),
            programs: Programs::default(),
        }
    }
}

/// Command-line flags of the simulator (a test double: a fake Kubernetes API server for
/// tests, demos and benchmarks, not a cluster).
#[derive(Debug, Clone, clap::Args)]
#[command(
    next_help_heading = "kube-sim: a simulated Kubernetes API server (a test double, not a cluster)"
)]
pub struct SimArgs {
    /// Address to listen on (plain HTTP, no authentication).
    #[arg(long, env = "KUBE_SIM_LISTEN", default_value = "127.0.0.1:8001")]
    pub listen: SocketAddr,

    /// Write a kubeconfig pointing at the simulator (context `kube-sim`) to this file.
    #[arg(long, env = "KUBE_SIM_KUBECONFIG_OUT", value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,

    /// Milliseconds before a new pod becomes ready and a job's pod finishes.
    #[arg(
        long,
        env = "KUBE_SIM_READY_DELAY",
        default_value_t = 0,
        value_name = "MS"
    )]
    pub ready_delay: u64,

    /// Milliseconds between watch bookmarks, for watches that allow them.
    #[arg(
        long,
        env = "KUBE_SIM_BOOKMARK_INTERVAL",
        default_value_t = 5000,
        value_name = "MS"
    )]
    pub bookmark_interval: u64,

    /// Past events kept so watches can resume; older resourceVersions get 410 Gone.
    #[arg(long, env = "KUBE_SIM_WATCH_HISTORY", default_value_t = 10_000)]
    pub watch_history: usize,

    /// Fail a share of requests: `VERBS=RATE:CODE`, e.g. `create,patch=0.1:503` or
    /// `*=0.05:500`; codes 500, 503, 429 (with Retry-After) or 409. Repeatable.
    #[arg(
        long = "fault-error",
        env = "KUBE_SIM_FAULT_ERRORS",
        value_delimiter = ';'
    )]
    pub fault_errors: Vec<ErrorRule>,

    /// Milliseconds of latency added to every API request.
    #[arg(
        long = "fault-latency",
        env = "KUBE_SIM_FAULT_LATENCY",
        default_value_t = 0,
        value_name = "MS"
    )]
    pub fault_latency: u64,

    /// Share of API requests (0.0 to 1.0) whose connection is closed without a response.
    #[arg(long, env = "KUBE_SIM_FAULT_RESET_RATE", default_value_t = 0.0)]
    pub fault_reset_rate: f64,

    /// Verbs the connection reset applies to (default: all). Repeatable.
    #[arg(
        long = "fault-reset-verb",
        env = "KUBE_SIM_FAULT_RESET_VERBS",
        value_delimiter = ','
    )]
    pub fault_reset_verbs: Vec<Verb>,

    /// A namespace whose pods never become ready (ImagePullBackOff), `*` for all.
    /// Repeatable.
    #[arg(
        long = "never-ready-namespace",
        env = "KUBE_SIM_NEVER_READY_NAMESPACES",
        value_delimiter = ','
    )]
    pub never_ready_namespaces: Vec<String>,

    /// A container image that can never be pulled: its pods stay in ImagePullBackOff in
    /// any namespace. Repeatable.
    #[arg(
        long = "never-ready-image",
        env = "KUBE_SIM_NEVER_READY_IMAGES",
        value_delimiter = ','
    )]
    pub never_ready_images: Vec<String>,

    /// A job that fails instead of completing, as `NAMESPACE/NAME`; either part may be `*`.
    /// Repeatable.
    #[arg(
        long = "failing-job",
        env = "KUBE_SIM_FAILING_JOBS",
        value_delimiter = ','
    )]
    pub failing_jobs: Vec<String>,
}

impl SimArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> SimConfig {
        SimConfig {
            ready_delay: Duration::from_millis(self.ready_delay),
            bookmark_interval: Duration::from_millis(self.bookmark_interval.max(1)),
            watch_history: self.watch_history,
            faults: Faults {
                errors: self.fault_errors.clone(),
                latency_ms: self.fault_latency,
                reset_rate: self.fault_reset_rate,
                reset_verbs: self.fault_reset_verbs.clone(),
                never_ready_namespaces: self
                    .never_ready_namespaces
                    .iter()
                    .cloned()
                    .collect::<BTreeSet<_>>(),
                never_ready_images: self.never_ready_images.iter().cloned().collect(),
                failing_jobs: self.failing_jobs.iter().cloned().collect(),
            },
            programs: Programs::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_says_it_is_a_test_double() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("a test double, not a cluster"), "{help}");
    }

    #[test]
    fn fault_flags_become_the_starting_faults() {
        let cli = Cli::parse_from([
            "sim",
            "--fault-error",
            "create=1:503",
            "--never-ready-namespace",
            "store-a",
            "--failing-job",
            "store-a/migrate",
            "--never-ready-image",
            "wordpress:9.9-bad",
            "--ready-delay",
            "20",
        ]);
        let config = cli.sim.config();
        assert_eq!(config.ready_delay, Duration::from_millis(20));
        assert_eq!(config.faults.errors[0].code, 503);
        assert!(config.faults.pods_never_ready("store-a"));
        assert!(config.faults.job_fails("store-a", "migrate"));
        assert!(config.faults.image_never_pulls("wordpress:9.9-bad"));
    }
}
