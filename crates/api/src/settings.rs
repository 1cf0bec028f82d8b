//! How the API behaves: authentication mode, limits and where stores are reached.

use std::time::Duration;

use ipnet::IpNet;
use storeplane_domain::Engine;

use crate::dto::{ClusterView, EnginePaths, PlanView, StoreUrls};

/// How callers prove who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// API tokens (`Authorization: Bearer`) and dashboard session cookies.
    Token,
    /// A trusted reverse proxy (oauth2-proxy and the like) names the user in `header`;
    /// requests from other addresses are treated as unauthenticated. Tokens work too.
    Proxy { header: String, trusted: Vec<IpNet> },
    /// Everyone is the local admin. Only allowed on a loopback listener.
    None,
}

/// Token-bucket limits on store creations, deletions, changes and rollbacks, per identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests replenished per minute; 0 turns the limit off.
    pub per_minute: u32,
    /// Requests allowed in a burst.
    pub burst: u32,
}

/// Everything the API needs to know beyond its state.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub auth: AuthMode,
    /// Addresses whose `X-Forwarded-For` is believed when identifying a client.
    pub trusted_proxies: Vec<IpNet>,
    pub urls: StoreUrls,
    /// Live stores a user may have; 0 for no limit.
    pub store_quota: u32,
    pub rate_limit: RateLimit,
    /// Engines that can be provisioned today.
    pub engines: Vec<Engine>,
    /// Attempts a provisioning or teardown job gets before the store is failed.
    pub job_max_attempts: u32,
    /// How long a dashboard session lasts.
    pub session_ttl: Duration,
    /// Set the session cookie's `Secure` attribute (when served over HTTPS).
    pub secure_cookies: bool,
    /// The cluster stores are provisioned in.
    pub cluster: ClusterView,
    /// The plans and their sizes, as the dashboard shows them (empty: sizes unknown).
    pub plans: Vec<PlanView>,
    /// How often stores are backed up by schedule (`backups.schedule`).
    pub backup_schedule: storeplane_domain::BackupSchedule,
    /// Days a deleted store's backups are kept (`backups.keep_after_delete_days`).
    pub keep_backups_after_delete_days: u32,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            auth: AuthMode::Token,
            trusted_proxies: Vec::new(),
            urls: StoreUrls {
                scheme: "http",
                base_domain: "127.0.0.1.nip.io".to_owned(),
                paths: EnginePaths::builtin(),
            },
            store_quota: 5,
            rate_limit: RateLimit {
                per_minute: 60,
                burst: 10,
            },
            engines: Engine::ALL.to_vec(),
            job_max_attempts: 5,
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            cluster: ClusterView::default(),
            plans: Vec::new(),
            backup_schedule: storeplane_domain::BackupSchedule::hours(24),
            keep_backups_after_delete_days: 30,
        }
    }
}

/// The body size the API accepts; store requests are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
