//! Backups of a store: take one now, and list them with what each holds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use storeplane_db::RequestBackup;
use storeplane_domain::{BackupKind, StoreId};

use crate::auth::Caller;
use crate::dto::{BackupList, BackupView, CreateBackupRequest, ErrorBody};
use crate::error::{ApiError, ApiJson, OptionalJson};
use crate::revisions::reason;
use crate::state::AppState;
use crate::stores::store_id;

/// How many backups a list shows: retention keeps a few dozen at most.
const LIST_LIMIT: u32 = 200;

/// Back a store up now.
///
/// The store's database (a consistent dump) and files go into its own repository,
/// encrypted with its own key. The backup is `pending` until a worker takes it, then
/// `running`; the timeline tells each step, and `GET /api/v1/stores/{id}/backups` shows
/// its outcome, size and snapshot. While it runs the store keeps serving; a change, a
/// rollback or a password reset waits for it.
#[utoipa::path(
    post, path = "/api/v1/stores/{id}/backups", tag = "backups",
    params(("id" = StoreId, Path, description = "Store id")),
    request_body(content = CreateBackupRequest, description = "Optional: why, for the timeline"),
    responses(
        (status = 202, description = "The backup is queued", body = BackupView),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_ready`: the store is not ready; `backup_in_progress`, `revision_in_flight`, `password_reset_in_progress`: something else is in progress", body = ErrorBody),
        (status = 422, description = "`invalid_reason`, or a field unknown or of the wrong type", body = ErrorBody),
        (status = 429, description = "Too many changes at once", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(store.id = %id))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CreateBackupRequest>,
) -> Result<(StatusCode, ApiJson<BackupView>), ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    let reason = reason(body.unwrap_or_default().reason)?;
    state.limiter.check(&caller.identity)?;
    let backup = state
        .repo
        .request_backup(RequestBackup {
            store: store.id,
            kind: BackupKind::Manual,
            actor: caller.actor(),
            reason,
            now: Utc::now(),
        })
        .await?;
    state.pages.invalidate();
    Ok((StatusCode::ACCEPTED, ApiJson(BackupView::from(&backup))))
}

/// A store's backups, newest first: scheduled, manual, and the checkpoints taken before
/// upgrades, with their outcome, size, what each added to the repository and the
/// snapshot. A deleted store's backups are listed until they expire.
#[utoipa::path(
    get, path = "/api/v1/stores/{id}/backups", tag = "backups",
    params(("id" = StoreId, Path, description = "Store id")),
    responses(
        (status = 200, body = BackupList),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(store.id = %id))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<BackupList>, ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    let backups = state.repo.store_backups(store.id, LIST_LIMIT).await?;
    Ok(ApiJson(BackupList {
        items: backups.iter().map(BackupView::from).collect(),
    }))
}
