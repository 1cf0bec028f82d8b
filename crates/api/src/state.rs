//! What every handler can reach.

use std::sync::Arc;

use chrono::Utc;
use storeplane_db::{DbError, Repository};
use storeplane_domain::{Role, User, UserName};

use crate::Metrics;
use crate::credentials::CredentialsSource;
use crate::feed::{EventFeed, FeedCloser};
use crate::page_cache::PageCache;
use crate::ratelimit::Limiter;
use crate::settings::{ApiSettings, AuthMode};

/// Shared application state: cheap to clone (everything is behind an `Arc`).
#[derive(Debug, Clone)]
pub struct AppState {
    pub repo: Arc<dyn Repository>,
    pub settings: Arc<ApiSettings>,
    pub credentials: Arc<dyn CredentialsSource>,
    pub metrics: Metrics,
    pub(crate) feed: EventFeed,
    pub(crate) limiter: Limiter,
    pub(crate) pages: Arc<PageCache>,
    /// The user everyone is under `--auth none`.
    pub(crate) local_user: Option<User>,
}

/// The name of the user everyone is under `--auth none`.
pub const LOCAL_USER: &str = "local";

impl AppState {
    /// Builds the state and starts the live-update feed (stopped through the returned
    /// [`FeedCloser`] at shutdown).
    pub async fn start(
        repo: Arc<dyn Repository>,
        settings: ApiSettings,
        credentials: Arc<dyn CredentialsSource>,
        metrics: Metrics,
    ) -> Result<(Self, FeedCloser), DbError> {
        let local_user = match settings.auth {
            AuthMode::None => {
                let name = UserName::parse(LOCAL_USER).map_err(|e| DbError::Corrupt {
                    what: "user",
                    detail: e.to_string(),
                })?;
                Some(repo.ensure_user(&name, Role::Admin, Utc::now()).await?)
            }
            _ => None,
        };
        let pages = Arc::new(PageCache::default());
        let (feed, closer) = EventFeed::start(repo.clone(), pages.clone());
        let limiter = Limiter::new(settings.rate_limit);
        let state = Self {
            repo,
            settings: Arc::new(settings),
            credentials,
            metrics,
            feed,
            limiter,
            pages,
            local_user,
        };
        Ok((state, closer))
    }

    /// Drops rate-limit buckets that are full again; call it now and then.
    pub fn shrink_rate_limits(&self) {
        self.limiter.shrink();
    }
}
