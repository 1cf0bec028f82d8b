//! `storeplane serve`: the API server (and, as later layers land, the dashboard and the
//! in-process workers).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ipnet::IpNet;
use storeplane_api::dto::{ClusterView, PlanView};
use storeplane_api::{ApiSettings, AppState, AuthMode, Metrics, RateLimit};
use storeplane_blueprint::{Blueprint, PlatformSettings};
use storeplane_db::Repository;
use storeplane_domain::{Engine, Plan, Role, UserName};
use storeplane_kube::Applier;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cluster::{Cluster, ClusterArgs};
use crate::credentials::ClusterCredentials;
use crate::database::DatabaseArgs;
use crate::provisioning::ProvisioningArgs;
use crate::store_renderer::BlueprintRenderer;
use crate::{shutdown, token};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthKind {
    /// API tokens and dashboard sessions from a login link.
    Token,
    /// Trust a reverse proxy's user header (oauth2-proxy and the like); tokens work too.
    Proxy,
    /// No authentication: everyone is the local admin. Only on a loopback address.
    None,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub provisioning: ProvisioningArgs,

    /// Address to listen on.
    #[arg(
        long,
        env = "STOREPLANE_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    /// Seconds in-flight requests may take to finish after a shutdown signal.
    #[arg(
        long,
        env = "STOREPLANE_SHUTDOWN_GRACE",
        default_value_t = 20,
        value_name = "SECONDS"
    )]
    pub shutdown_grace: u64,

    /// How callers authenticate.
    #[arg(long, env = "STOREPLANE_AUTH", value_enum, default_value_t = AuthKind::Token)]
    pub auth: AuthKind,

    /// With `--auth proxy`: the header that names the user.
    #[arg(
        long,
        env = "STOREPLANE_AUTH_PROXY_HEADER",
        default_value = "X-Forwarded-User",
        value_name = "HEADER"
    )]
    pub auth_proxy_header: String,

    /// With `--auth proxy`: addresses (CIDR) of the proxies whose user header is trusted.
    #[arg(
        long,
        env = "STOREPLANE_AUTH_PROXY_TRUSTED",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub auth_proxy_trusted: Vec<IpNet>,

    /// Proxies (CIDR) whose `X-Forwarded-For` names the client, for rate limiting.
    #[arg(
        long,
        env = "STOREPLANE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// Live stores each user may have; 0 for no limit.
    #[arg(
        long,
        env = "STOREPLANE_STORE_QUOTA",
        default_value_t = 5,
        value_name = "N"
    )]
    pub store_quota: u32,

    /// Store creations, deletions, changes and rollbacks each user (or client address) may
    /// make per minute; 0 for no limit.
    #[arg(
        long,
        env = "STOREPLANE_RATE_LIMIT_PER_MINUTE",
        default_value_t = 60,
        value_name = "N"
    )]
    pub rate_limit_per_minute: u32,

    /// Creations, deletions, changes and rollbacks allowed in a burst.
    #[arg(
        long,
        env = "STOREPLANE_RATE_LIMIT_BURST",
        default_value_t = 10,
        value_name = "N"
    )]
    pub rate_limit_burst: u32,

    /// Mark the session cookie `Secure` (when users reach storeplane over HTTPS).
    #[arg(long, env = "STOREPLANE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The URL people open storeplane at, for the login link (default: the listen address).
    #[arg(long, env = "STOREPLANE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

impl ServeArgs {
    fn settings(
        &self,
        cluster: &Cluster,
        platform: &PlatformSettings,
    ) -> anyhow::Result<ApiSettings> {
        let auth = match self.auth {
            AuthKind::Token => AuthMode::Token,
            AuthKind::Proxy => {
                anyhow::ensure!(
                    !self.auth_proxy_trusted.is_empty(),
                    "--auth proxy needs --auth-proxy-trusted with the proxies' addresses"
                );
                AuthMode::Proxy {
                    header: self.auth_proxy_header.to_ascii_lowercase(),
                    trusted: self.auth_proxy_trusted.clone(),
                }
            }
            AuthKind::None => {
                anyhow::ensure!(
                    self.listen.ip().is_loopback(),
                    "--auth none is refused on {}: without authentication, listen on a loopback address such as 127.0.0.1",
                    self.listen
                );
                AuthMode::None
            }
        };
        Ok(ApiSettings {
            auth,
            trusted_proxies: self.trusted_proxies.clone(),
            urls: storeplane_api::dto::StoreUrls {
                scheme: if platform.tls { "https" } else { "http" },
                base_domain: platform.base_domain.clone(),
                paths: engine_paths()?,
            },
            store_quota: self.store_quota,
            rate_limit: RateLimit {
                per_minute: self.rate_limit_per_minute,
                burst: self.rate_limit_burst,
            },
            secure_cookies: self.secure_cookies,
            job_max_attempts: self.provisioning.max_attempts.get(),
            cluster: ClusterView {
                name: cluster.name.clone(),
                simulated: cluster.simulated,
            },
            plans: plan_views(platform),
            backup_schedule: platform.backups.schedule(),
            keep_backups_after_delete_days: platform.backups.keep_after_delete_days,
            ..ApiSettings::default()
        })
    }
}

/// Where each engine's pages are, as its blueprint says.
fn engine_paths() -> anyhow::Result<Vec<(Engine, storeplane_api::dto::EnginePaths)>> {
    Engine::ALL
        .iter()
        .map(|&engine| {
            let paths = Blueprint::paths(engine)?;
            Ok((
                engine,
                storeplane_api::dto::EnginePaths {
                    storefront: paths.storefront,
                    admin: paths.admin,
                },
            ))
        })
        .collect()
}

/// Each engine's plans and their share of the cluster (the namespace's quota), as the
/// dashboard shows them.
fn plan_views(platform: &PlatformSettings) -> Vec<PlanView> {
    Engine::ALL
        .iter()
        .flat_map(|&engine| {
            Plan::ALL.iter().map(move |&plan| {
                let quota = platform.plans_for(engine).get(plan).quota;
                PlanView {
                    engine,
                    plan,
                    cpu: quota.limits.cpu.to_string(),
                    memory: quota.limits.memory.to_string(),
                    storage: quota.storage.to_string(),
                }
            })
        })
        .collect()
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let stop_signal = shutdown::signal();
    let platform = args.provisioning.platform.settings()?;
    let repo = args.database.connect().await?;
    let blueprint = Blueprint::new(platform.clone())?;
    crate::backfill::backfill_revisions(repo.as_ref(), &blueprint).await?;
    let cluster = args.cluster.connect().await?;
    let settings = args.settings(&cluster, &platform)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let auth = settings.auth.clone();
    let applier = Applier::new(cluster.client.clone());
    let credentials = Arc::new(ClusterCredentials {
        applier: applier.clone(),
    });
    let renderer = Arc::new(BlueprintRenderer { blueprint });
    let (state, feed) = AppState::start(
        repo.clone(),
        settings,
        credentials,
        renderer,
        Metrics::global(),
    )
    .await?;
    let router = storeplane_api::router(state.clone());

    let (stop_tx, mut stop_rx) = watch::channel(false);
    let workers = args.provisioning.spawn_workers(
        repo.clone(),
        platform,
        applier,
        Duration::from_secs(args.shutdown_grace),
        stop_rx.clone(),
    )?;
    let mut server = tokio::spawn(storeplane_api::serve(listener, router, async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    tracing::info!(%address, "storeplane listening on http://{address}");
    if auth != AuthMode::None {
        let base = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        print_login_link(repo.as_ref(), base.trim_end_matches('/')).await?;
    }
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.shrink_rate_limits();
        }
    });

    tokio::select! {
        result = &mut server => return result.context("the server task failed")?.context("the server failed"),
        () = stop_signal => {}
    }
    housekeeping.abort();
    feed.close();
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(args.shutdown_grace);
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result
            .context("the server task failed")?
            .context("the server failed")?,
        Err(_) => tracing::warn!(
            grace_seconds = args.shutdown_grace,
            "in-flight requests outlived the grace period; stopping anyway"
        ),
    }
    if let Some(workers) = workers {
        // The workers give in-flight jobs the same grace period, then hand their leases back.
        workers.await.context("the worker task failed")?;
    }
    tracing::info!("storeplane stopped");
    Ok(())
}

/// Prints a one-time link that signs the admin in to the dashboard. It goes to standard
/// output, never to the logs: the link is a credential.
async fn print_login_link(repo: &dyn Repository, base: &str) -> anyhow::Result<()> {
    let admin = UserName::parse(token::ADMIN_USER)?;
    let link = token::login_link(repo, &admin, Role::Admin, base).await?;
    println!(
        "storeplane is running. Sign in from a browser (the link works once, within 24 h;\n`storeplane token login-link` prints another):\n\n    {link}\n"
    );
    Ok(())
}
