//! What every handler can reach.

use std::sync::Arc;

use chrono::Utc;
use storeplane_db::{DbError, Repository};
use storeplane_domain::{Role, Store, User, UserName};

use crate::Metrics;
use crate::credentials::CredentialsSource;
use crate::dto::{StoreUrls, StoreView};
use crate::feed::{EventFeed, FeedCloser};
use crate::page_cache::PageCache;
use crate::ratelimit::Limiter;
use crate::renderer::StoreRenderer;
use crate::settings::{ApiSettings, AuthMode};

/// Shared application state: cheap to clone (everything is behind an `Arc`).
#[derive(Debug, Clone)]
pub struct AppState {
    pub repo: Arc<dyn Repository>,
    pub settings: Arc<ApiSettings>,
    pub credentials: Arc<dyn CredentialsSource>,
    /// Renders the revisions changes and rollbacks record, and knows the releases.
    pub renderer: Arc<dyn StoreRenderer>,
    pub metrics: Metrics,
    pub(crate) feed: EventFeed,
    pub(crate) views: StoreViews,
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
        renderer: Arc<dyn StoreRenderer>,
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
        let views = StoreViews {
            urls: settings.urls.clone(),
            renderer: renderer.clone(),
            schedule: settings.backup_schedule,
            keep_after_delete_days: settings.keep_backups_after_delete_days,
        };
        let (feed, closer) = EventFeed::start(repo.clone(), pages.clone());
        let limiter = Limiter::new(settings.rate_limit);
        let state = Self {
            repo,
            settings: Arc::new(settings),
            credentials,
            renderer,
            metrics,
            feed,
            views,
            limiter,
            pages,
            local_user,
        };
        Ok((state, closer))
    }

    /// The view of `store` the API sends.
    pub fn view(&self, store: &Store) -> StoreView {
        self.views.view(store)
    }

    /// Drops rate-limit buckets that are full again; call it now and then.
    pub fn shrink_rate_limits(&self) {
        self.limiter.shrink();
    }
}

/// Turns stores into the views the API sends: their URLs, and whether their release is
/// still the catalog's default.
#[derive(Debug, Clone)]
pub(crate) struct StoreViews {
    pub urls: StoreUrls,
    pub renderer: Arc<dyn StoreRenderer>,
    pub schedule: storeplane_domain::BackupSchedule,
    pub keep_after_delete_days: u32,
}

impl StoreViews {
    pub fn view(&self, store: &Store) -> StoreView {
        let default = self.renderer.default_release(store.spec.engine);
        self.urls.view(
            store,
            default.as_ref(),
            (self.schedule, self.keep_after_delete_days),
        )
    }
}
