//! Structured logs: human-readable by default, JSON for log pipelines.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured when standard error is a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log format.
    #[arg(long, global = true, env = "STOREPLANE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` directive syntax (e.g. `info`, `storeplane=debug,sqlx=warn`).
    #[arg(
        long,
        global = true,
        env = "STOREPLANE_LOG",
        default_value = "info,sqlx=warn",
        value_name = "FILTER"
    )]
    pub log: String,
}

/// kube's client logs every failed request at ERROR level; storeplane reports those
/// failures itself, with what it was doing, so they stay off unless the filter asks for
/// `kube_client` by name.
const QUIET_KUBE_CLIENT: &str = "kube_client::client::builder=off";

pub fn init(args: &LogArgs) -> anyhow::Result<()> {
    let mut directives = args.log.clone();
    if !directives.contains("kube_client") {
        directives.push(',');
        directives.push_str(QUIET_KUBE_CLIENT);
    }
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| anyhow::anyhow!("invalid --log filter {:?}: {e}", args.log))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match args.log_format {
        LogFormat::Pretty => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("failed to set up logging: {e}"))
}
