//! Backups of a store: take one now, and list them with what each holds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use storeplane_db::{RecordRestore, RequestBackup};
use storeplane_domain::{BackupKind, StoreId};

use crate::auth::Caller;
use crate::dto::{
    BackupList, BackupView, ChangeResponse, CreateBackupRequest, ErrorBody, RestoreRequest,
};
use crate::error::{ApiError, ApiJson, OptionalJson};
use crate::revisions::{check_changeable, reason, view};
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
    request_body(content = Option<CreateBackupRequest>, description = "Optional: why, for the timeline"),
    responses(
        (status = 202, description = "The backup is queued", body = BackupView),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_ready`: the store is not ready; `backup_in_progress`, `revision_in_flight`, `password_reset_in_progress`: something else is in progress", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "A body not sent as `application/json`", body = ErrorBody),
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

/// Restore one of the store's backups in place.
///
/// Recorded as a revision of the spec the store runs, which a worker carries out like a
/// change: a checkpoint of the database first (so the restore itself can be rolled back),
/// then the backup's database and files replace the store's, then the engine's upgrade
/// step (for data of an older release), and readiness. Every order, customer and upload
/// written since the backup was taken is lost.
#[utoipa::path(
    post, path = "/api/v1/stores/{id}/restore", tag = "backups",
    params(("id" = StoreId, Path, description = "Store id")),
    request_body = RestoreRequest,
    responses(
        (status = 202, description = "The restore is recorded and queued", body = ChangeResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, description = "No such store, or no such backup", body = ErrorBody),
        (status = 409, description = "`operation_in_progress`, `backup_in_progress`, `not_changeable`: the store cannot take it now; `backup_not_restorable`: the backup did not succeed; `backup_of_another_store`: restore it as a new store instead", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_reason`, or a field missing, unknown or of the wrong type", body = ErrorBody),
        (status = 429, description = "Too many changes at once", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(store.id = %id))]
pub async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> Result<(StatusCode, ApiJson<ChangeResponse>), ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    let reason = reason(body.reason)?;
    state.limiter.check(&caller.identity)?;
    check_changeable(&store)?;
    // A backup of a store the caller may not see is as unknown as one that does not exist.
    let backup = state.repo.get_backup(body.backup).await?;
    let source = state.repo.get_store(backup.store_id).await?;
    if !caller.may_access(&source.owner) {
        return Err(ApiError::not_found("backup"));
    }
    let deployed = match store.deployed_revision {
        Some(number) => state.repo.get_revision(store.id, number).await?,
        None => {
            return Err(ApiError::conflict(
                "operation_in_progress",
                "the store is still being provisioned; restore it once it is ready",
            ));
        }
    };
    let content = state.renderer.render(store.id, &deployed.spec)?;
    let revision = state
        .repo
        .record_restore(RecordRestore {
            store: store.id,
            backup: body.backup,
            content,
            actor: caller.actor(),
            reason,
            max_attempts: state.settings.job_max_attempts,
            now: Utc::now(),
        })
        .await?;
    state.pages.invalidate();
    let message = format!(
        "revision {} recorded: restore backup {}; a checkpoint is taken first, then every order, customer and upload written since the backup is lost",
        revision.number,
        body.backup.short()
    );
    let store = state.repo.get_store(store.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(ChangeResponse {
            store: state.view(&store),
            revision: view(&state, &revision).await?,
            changed: true,
            message,
            data_loss: true,
        }),
    ))
}

/// Purge a deleted store's backups (admins only).
///
/// Its backups would be kept until `expires_at` (the platform's retention after deletion);
/// this makes them expire now, and a worker then deletes the store's repository key, which
/// leaves every snapshot unreadable, and their rows. It cannot be undone.
#[utoipa::path(
    delete, path = "/api/v1/stores/{id}/backups", tag = "backups",
    params(("id" = StoreId, Path, description = "Store id")),
    responses(
        (status = 202, description = "The backups expire now; a worker purges them", body = BackupList),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 403, description = "Only an admin may purge backups", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_deleted`: a live store's backups follow its retention", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(store.id = %id))]
pub async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<BackupList>), ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    if !caller.user.is_admin() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only an admin may purge a store's backups; they expire by themselves after the retention period",
        ));
    }
    state.limiter.check(&caller.identity)?;
    state
        .repo
        .expire_backups_now(store.id, &caller.actor(), Utc::now())
        .await?;
    let backups = state.repo.store_backups(store.id, LIST_LIMIT).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(BackupList {
            items: backups.iter().map(BackupView::from).collect(),
        }),
    ))
}
