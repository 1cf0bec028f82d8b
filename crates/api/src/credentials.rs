//! A store's initial admin credentials and the reveal-once endpoint.
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

use crate::dto::{CredentialsView, ErrorBody};
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
