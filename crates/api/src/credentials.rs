//! A store's admin credentials: the reveal-once endpoint, and the reset that makes new
//! ones revealable once again.
//!
//! The credentials live in the cluster (the store's Secret), never in the metadata store;
//! the API reads them through [`CredentialsSource`]. The metadata store only records
//! *that* they were revealed, so a second reveal is refused on every replica.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use storeplane_domain::{Store, StoreId};

use crate::dto::{CredentialsView, ErrorBody, ResetResponse};
use crate::error::ApiJson;
use crate::stores::store_id;
use crate::{ApiError, AppState, Caller};

/// A store's initial admin login.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Where the API reads a store's initial admin credentials from.
#[async_trait]
pub trait CredentialsSource: Send + Sync + std::fmt::Debug {
    /// The store's credentials, or `None` while provisioning has not created them yet.
    /// Errors are for the source being unreachable, and must not contain the secret.
    async fn admin_credentials(
        &self,
        store: &Store,
    ) -> Result<Option<AdminCredentials>, CredentialsError>;
}

#[derive(Debug, thiserror::Error)]
#[error("failed to read the admin credentials of store {store}: {reason}")]
pub struct CredentialsError {
    pub store: StoreId,
    pub reason: String,
}

/// Credentials held in memory, for tests (`serve` reads them from the store's Secret).
#[derive(Debug, Clone, Default)]
pub struct InMemoryCredentials {
    by_store: Arc<RwLock<HashMap<StoreId, AdminCredentials>>>,
}

impl InMemoryCredentials {
    pub fn insert(&self, store: StoreId, credentials: AdminCredentials) {
        self.by_store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(store, credentials);
    }
}

#[async_trait]
impl CredentialsSource for InMemoryCredentials {
    async fn admin_credentials(
        &self,
        store: &Store,
    ) -> Result<Option<AdminCredentials>, CredentialsError> {
        Ok(self
            .by_store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&store.id)
            .cloned())
    }
}

/// Reveal a store's initial admin credentials, once.
#[utoipa::path(
    post, path = "/api/v1/stores/{id}/credentials/reveal", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id")),
    responses(
        (status = 200, body = CredentialsView),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Provisioning has not created them yet", body = ErrorBody),
        (status = 410, description = "Already revealed", body = ErrorBody),
    )
)]
pub async fn reveal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<CredentialsView>, ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    let already_revealed = || {
        ApiError::new(
            StatusCode::GONE,
            "credentials_revealed",
            "the initial admin credentials were already revealed; reset the admin password to get new ones",
        )
    };
    if state.repo.credentials_revealed(store.id).await? {
        return Err(already_revealed());
    }
    // The Secret may hold a password WordPress does not have yet.
    if state.repo.pending_password_reset(store.id).await?.is_some() {
        return Err(ApiError::conflict(
            "operation_in_progress",
            "the admin password is being reset; reveal the new credentials once the reset is done",
        ));
    }
    let credentials = state
        .credentials
        .admin_credentials(&store)
        .await
        .map_err(|e| ApiError::unavailable("the cluster", e))?
        .ok_or_else(|| {
            ApiError::conflict(
                "credentials_not_ready",
                format!(
                    "the store is {}; its admin credentials exist once provisioning creates them",
                    store.status
                ),
            )
        })?;
    // Marking is a compare-and-set: of two concurrent reveals, exactly one wins.
    if !state
        .repo
        .mark_credentials_revealed(store.id, &caller.actor(), Utc::now())
        .await?
    {
        return Err(already_revealed());
    }
    let view = state.view(&store);
    Ok(ApiJson(CredentialsView {
        username: credentials.username,
        password: credentials.password,
        admin_url: view.admin_url,
    }))
}

/// Reset a store's admin password.
///
/// A new password is generated into the store's Secret and set in the store by the
/// engine's reset step; once that is done (the timeline says "admin password reset; the
/// new credentials can be revealed once"), the credentials can be revealed once again. The
/// password never appears on the timeline.
#[utoipa::path(
    post, path = "/api/v1/stores/{id}/credentials/reset", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id")),
    responses(
        (status = 202, description = "The reset is queued", body = ResetResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_ready`: the store is not ready; `operation_in_progress`: a change, a rollback or another reset is in flight", body = ErrorBody),
        (status = 429, description = "Too many changes at once", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(store.id = %id))]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<ResetResponse>), ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    state.limiter.check(&caller.identity)?;
    state
        .repo
        .request_password_reset(store.id, &caller.actor(), Utc::now())
        .await?;
    state.pages.invalidate();
    let store = state.repo.get_store(store.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(ResetResponse {
            store: state.view(&store),
        }),
    ))
}
