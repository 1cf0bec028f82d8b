//! Changing a store and going back: `PATCH /api/v1/stores/{id}`, the rollback, a store's
//! revisions (list, one with its manifest, the diff of two) and the release catalog.
//!
//! What a change or a rollback does to a store's revisions is decided by the metadata
//! store inside its transaction (so that of two concurrent changes one is recorded and
//! the other refused); this module validates the request, renders the spec the change
//! results in, and maps the refusals to HTTP.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use serde::Deserialize;
use similar::TextDiff;
use storeplane_db::{
    ChangeCause, ChangeOutcome, RecordChange, RecordRollback, RevisionQuery, RollbackRecorded,
};
use storeplane_domain::{
    ChangeRefused, ChangeRequest, Plan, ReleaseName, Revision, RevisionNumber, RevisionStatus,
    RollbackRefused, Store, StoreId, StoreSpec, StoreStatus, StoreTitle,
};
use utoipa::IntoParams;

use crate::dto::{
    ChangeResponse, ChangeStoreRequest, ErrorBody, Page, ReleaseView, RevisionDetail, RevisionDiff,
    RevisionView, RollbackRequest,
};
use crate::error::{ApiJson, ApiQuery};
use crate::renderer::RenderRefused;
use crate::stores::{page_limit, store_id};
use crate::{ApiError, AppState, Caller};

/// The longest reason a change or a rollback may give.
pub const MAX_REASON_CHARS: usize = 500;

/// The releases of the platform's catalog, per engine, with each engine's default marked.
#[utoipa::path(
    get, path = "/api/v1/releases", tag = "catalog",
    responses((status = 200, body = [ReleaseView]))
)]
pub async fn releases(State(state): State<AppState>, _caller: Caller) -> ApiJson<Vec<ReleaseView>> {
    ApiJson(state.renderer.releases())
}

/// Parses a revision number from the path.
fn revision_number(raw: &str) -> Result<RevisionNumber, ApiError> {
    parse_number(raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_revision",
            format!(
                "{:?} is not a revision number (a whole number from 1)",
                raw.chars().take(32).collect::<String>()
            ),
        )
    })
}

/// 1 to 10 digits that make a revision number (no sign, no leading zero).
fn parse_number(raw: &str) -> Option<RevisionNumber> {
    let digits = (1..=10).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_digit())
        && !raw.starts_with('0');
    digits
        .then(|| raw.parse::<u32>().ok())
        .flatten()
        .and_then(RevisionNumber::new)
}

fn if_match(headers: &HeaderMap) -> Result<Option<RevisionNumber>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    inner
        .parse::<u32>()
        .ok()
        .filter(|_| inner.len() <= 9 && !inner.starts_with(['0', '+']))
        .and_then(RevisionNumber::new)
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_request",
                "If-Match must be a revision number, as the store's ETag gives it (\"3\")",
            )
            .with_field("If-Match")
        })
}

pub(crate) fn reason(reason: Option<String>) -> Result<String, ApiError> {
    let reason = reason.unwrap_or_default();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::unprocessable(
            "invalid_reason",
            format!("the reason must be at most {MAX_REASON_CHARS} characters"),
        )
        .with_field("reason"));
    }
    Ok(reason)
}

/// A release of another engine's catalog is refused with `409 release_of_another_engine`:
/// it exists, but a store keeps its engine. A name in no catalog is left to rendering
/// (`422 unknown_release`).
fn check_release_engine(state: &AppState, spec: &StoreSpec) -> Result<(), ApiError> {
    let Some(release) = &spec.release else {
        return Ok(());
    };
    let releases = state.renderer.releases();
    let own = |r: &&crate::dto::ReleaseView| r.engine == spec.engine;
    if releases.iter().any(|r| own(&r) && r.name == *release) {
        return Ok(());
    }
    let Some(other) = releases.iter().find(|r| r.name == *release) else {
        return Ok(());
    };
    let available: Vec<String> = releases
        .iter()
        .filter(own)
        .map(|r| r.name.to_string())
        .collect();
    Err(ApiError::conflict(
        "release_of_another_engine",
        format!(
            "release {release} is a {} release; this store runs {} (its releases: {})",
            other.engine,
            spec.engine,
            available.join(", ")
        ),
    )
    .with_field("release"))
}

/// Turns the loosely typed body into a change request, naming the first bad field.
fn change_request(body: &ChangeStoreRequest) -> Result<ChangeRequest, ApiError> {
    if body.release.is_none() && body.plan.is_none() && body.title.is_none() {
        return Err(ApiError::unprocessable(
            "empty_change",
            "nothing to change: send at least one of release, plan and title",
        ));
    }
    let release = body
        .release
        .as_deref()
        .map(ReleaseName::parse)
        .transpose()
        .map_err(|e| {
            ApiError::unprocessable("unknown_release", e.to_string()).with_field("release")
        })?;
    let plan = body
        .plan
        .as_deref()
        .map(str::parse::<Plan>)
        .transpose()
        .map_err(|e| ApiError::unprocessable("unknown_plan", e.to_string()).with_field("plan"))?;
    let title = body
        .title
        .as_deref()
        .map(StoreTitle::parse)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_title", e.to_string()).with_field("title"))?;
    Ok(ChangeRequest {
        release,
        plan,
        title,
        if_match: None,
    })
}

/// Refuses a change or rollback of a store that is going away.
pub(crate) fn check_changeable(store: &Store) -> Result<(), ApiError> {
    match store.status {
        StoreStatus::Deleting | StoreStatus::Deleted => Err(ChangeRefused::NotChangeable {
            status: store.status,
        }
        .into()),
        _ => Ok(()),
    }
}

/// The view of `revision`, with what changed since the revision before it.
pub(crate) async fn view(state: &AppState, revision: &Revision) -> Result<RevisionView, ApiError> {
    let previous = match RevisionNumber::new(revision.number.get() - 1) {
        Some(number) => Some(state.repo.get_revision(revision.store_id, number).await?),
        _ => None,
    };
    Ok(RevisionView::of(revision, previous.as_ref()))
}

/// Change a store's release, plan or title.
///
/// The request is applied to the deployed revision's spec; when the result differs, a
/// new revision is recorded and queued (`202`), and a worker applies it (a release change
/// takes a checkpoint of the database first and runs the engine's upgrade step). When the
/// result is what the store runs, nothing is recorded (`200`, `changed: false`).
#[utoipa::path(
    patch, path = "/api/v1/stores/{id}", tag = "stores",
    request_body = ChangeStoreRequest,
    params(
        ("id" = StoreId, Path, description = "Store id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = "^(\"[1-9][0-9]{0,8}\"|[1-9][0-9]{0,8})$", description = "The store's latest revision as the caller read it (its ETag): the change is refused with 412 if the store moved on since"),
    ),
    responses(
        (status = 200, description = "Nothing to change: the store already runs the result", body = ChangeResponse),
        (status = 202, description = "A revision was recorded; a worker applies it", body = ChangeResponse),
        (status = 400, description = "A malformed id, body or If-Match", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`operation_in_progress` (a revision is pending or applying, or the first provisioning has not finished), `not_changeable` (the store is being deleted, or its first provisioning failed), `release_of_another_engine` (a release of another engine's catalog)", body = ErrorBody),
        (status = 412, description = "`stale_revision`: If-Match is not the store's latest revision", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`empty_change`, `unknown_release`, `unknown_plan`, `invalid_title`, `invalid_reason`, or a field unknown or of the wrong type", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    )
)]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangeStoreRequest>,
) -> Result<(StatusCode, ApiJson<ChangeResponse>), ApiError> {
    let id = store_id(&id)?;
    let mut request = change_request(&body)?;
    let reason = reason(body.reason)?;
    request.if_match = if_match(&headers)?;
    let store = caller.visible_store(&state, id).await?;
    state.limiter.check(&caller.identity)?;
    check_changeable(&store)?;
    let heads = state.repo.store_revisions(store.id).await?;
    if let Some(in_flight) = heads.in_flight() {
        return Err(ChangeRefused::InProgress {
            revision: (in_flight.number != RevisionNumber::FIRST || heads.deployed.is_some())
                .then_some(in_flight.number),
        }
        .into());
    }
    let Some(deployed) = heads.deployed else {
        return Err(ApiError::conflict(
            "not_changeable",
            "the store's first provisioning did not finish; retry it before changing it",
        ));
    };
    let spec = request.apply_to(&deployed.spec);
    check_release_engine(&state, &spec)?;
    let content = state.renderer.render(store.id, &spec)?;
    let outcome = state
        .repo
        .record_change(RecordChange {
            store: store.id,
            cause: ChangeCause::Request(request),
            content,
            actor: caller.actor(),
            reason,
            max_attempts: state.settings.job_max_attempts,
            now: Utc::now(),
        })
        .await?;
    let (status, revision, changed, message) = match outcome {
        ChangeOutcome::NoOp { deployed } => {
            let message = format!(
                "nothing to change: the store already runs revision {} with these settings",
                deployed.number
            );
            (StatusCode::OK, deployed, false, message)
        }
        ChangeOutcome::Recorded { revision, .. } => {
            state.pages.invalidate();
            let message = format!(
                "revision {} recorded: {}; queued for a worker to apply",
                revision.number,
                storeplane_domain::describe_spec_change(&deployed.spec, &revision.spec)
            );
            (StatusCode::ACCEPTED, revision, true, message)
        }
    };
    let store = state.repo.get_store(store.id).await?;
    Ok((
        status,
        ApiJson(ChangeResponse {
            store: state.view(&store),
            revision: view(&state, &revision).await?,
            changed,
            message,
            data_loss: false,
        }),
    ))
}

/// The revision a rollback goes back to when the request names none: the newest one
/// before the deployed revision that was deployed itself (now superseded).
async fn default_target(state: &AppState, store: &Store) -> Result<RevisionNumber, ApiError> {
    let heads = state.repo.store_revisions(store.id).await?;
    if let Some(in_flight) = heads.in_flight() {
        return Err(RollbackRefused::InProgress {
            revision: in_flight.number,
        }
        .into());
    }
    let none = || {
        ApiError::conflict(
            "no_previous_revision",
            "the store has no earlier deployed revision to roll back to",
        )
    };
    let mut before = Some(heads.deployed.ok_or_else(none)?.number);
    while let Some(number) = before {
        let page = state
            .repo
            .list_revisions(
                store.id,
                &RevisionQuery {
                    before: Some(number),
                    limit: 100,
                },
            )
            .await?;
        if let Some(found) = page.iter().find(|r| r.status == RevisionStatus::Superseded) {
            return Ok(found.number);
        }
        before = (page.len() == 100)
            .then(|| page.last().map(|r| r.number))
            .flatten();
    }
    Err(none())
}

/// Roll a store back to an earlier revision.
///
/// Records a new revision that replays the target's spec and manifest (its spec rendered
/// again with today's platform settings when its manifest is no longer kept). Going back
/// to a release older than one whose upgrade step migrated the store's data is refused
/// (`409 would_lose_data`) unless `restore_checkpoint` is set: then the database is
/// restored from the checkpoint taken before that upgrade, and every order written since
/// is lost (`data_loss: true`).
#[utoipa::path(
    post, path = "/api/v1/stores/{id}/rollback", tag = "stores",
    request_body = RollbackRequest,
    params(("id" = StoreId, Path, description = "Store id")),
    responses(
        (status = 202, description = "The rollback revision was recorded; a worker applies it", body = ChangeResponse),
        (status = 400, description = "A malformed id or body", body = ErrorBody),
        (status = 404, description = "`not_found` (the store), `unknown_revision`", body = ErrorBody),
        (status = 409, description = "`would_lose_data`, `operation_in_progress`, `already_deployed`, `no_previous_revision`, `manifest_pruned` (the target can no longer be rendered), `not_changeable`", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_revision`, `invalid_reason`, or a field unknown or of the wrong type", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    )
)]
pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RollbackRequest>,
) -> Result<(StatusCode, ApiJson<ChangeResponse>), ApiError> {
    let id = store_id(&id)?;
    let target = body
        .revision
        .map(|n| {
            u32::try_from(n)
                .ok()
                .and_then(RevisionNumber::new)
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "invalid_revision",
                        format!("{n} is not a revision number (a whole number from 1)"),
                    )
                    .with_field("revision")
                })
        })
        .transpose()?;
    let reason = reason(body.reason)?;
    let store = caller.visible_store(&state, id).await?;
    state.limiter.check(&caller.identity)?;
    check_changeable(&store)?;
    let target = match target {
        Some(target) => target,
        None => default_target(&state, &store).await?,
    };
    let wanted = match state.repo.get_revision(store.id, target).await {
        Ok(revision) => revision,
        Err(storeplane_db::DbError::NotFound { .. }) => {
            return Err(RollbackRefused::UnknownRevision { revision: target }.into());
        }
        Err(e) => return Err(e.into()),
    };
    let rerendered = if wanted.manifest_kept {
        None
    } else {
        Some(
            state
                .renderer
                .render(store.id, &wanted.spec)
                .map_err(|refused| match refused {
                    RenderRefused::Failed(_) => ApiError::from(refused),
                    other => ApiError::conflict(
                        "manifest_pruned",
                        format!(
                            "the manifest of revision {target} is no longer kept, and its spec cannot be rendered again: {other}"
                        ),
                    ),
                })?,
        )
    };
    let RollbackRecorded {
        revision, restore, ..
    } = state
        .repo
        .record_rollback(RecordRollback {
            store: store.id,
            target,
            restore_checkpoint: body.restore_checkpoint,
            rerendered,
            actor: caller.actor(),
            reason,
            max_attempts: state.settings.job_max_attempts,
            now: Utc::now(),
        })
        .await?;
    state.pages.invalidate();
    let mut message = format!(
        "revision {} recorded: roll back to revision {target}",
        revision.number
    );
    if let Some(restore) = &restore {
        message.push_str(&format!(
            "; the database is restored from the checkpoint taken before revision {} first, and every order written since is lost",
            restore.revision
        ));
    }
    let store = state.repo.get_store(store.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(ChangeResponse {
            store: state.view(&store),
            revision: view(&state, &revision).await?,
            changed: true,
            message,
            data_loss: restore.is_some(),
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RevisionParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page: the number of its last revision.
    #[param(value_type = Option<String>, pattern = "^[0-9]{1,9}$")]
    cursor: Option<String>,
}

/// A store's revisions, newest first.
#[utoipa::path(
    get, path = "/api/v1/stores/{id}/revisions", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id"), RevisionParams),
    responses(
        (status = 200, body = Page<RevisionView>),
        (status = 400, description = "A malformed id, limit or cursor, or an unknown parameter", body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<RevisionParams>,
) -> Result<ApiJson<Page<RevisionView>>, ApiError> {
    let id = store_id(&id)?;
    let limit = page_limit(params.limit, 50, 200)?;
    let before = match params.cursor.as_deref() {
        None => None,
        Some(cursor) => {
            let valid =
                (1..=9).contains(&cursor.len()) && cursor.bytes().all(|b| b.is_ascii_digit());
            let number = valid.then(|| cursor.parse::<u32>().ok()).flatten().ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "the cursor must be a revision number (1 to 9 digits): pass back a next_cursor, or start from the first page",
                )
                .with_field("cursor")
            })?;
            Some(number)
        }
    };
    let store = caller.visible_store(&state, id).await?;
    // Nothing is older than revision 1.
    if before == Some(0) {
        return Ok(ApiJson(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    }
    // One more than the page: it says whether a next page exists, and it is the revision
    // before the page's last, which that one's `changes` are read against.
    let revisions = state
        .repo
        .list_revisions(
            store.id,
            &RevisionQuery {
                before: before.and_then(RevisionNumber::new),
                limit: limit + 1,
            },
        )
        .await?;
    let shown = revisions.len().min(limit as usize);
    let items = (0..shown)
        .map(|i| {
            let revision = &revisions[i];
            let previous = revisions
                .get(i + 1)
                .filter(|p| p.number.get() + 1 == revision.number.get());
            RevisionView::of(revision, previous)
        })
        .collect::<Vec<_>>();
    let next_cursor = (revisions.len() > limit as usize)
        .then(|| items.last().map(|r| r.number.to_string()))
        .flatten();
    Ok(ApiJson(Page { items, next_cursor }))
}

/// One revision of a store, with its manifest.
#[utoipa::path(
    get, path = "/api/v1/stores/{id}/revisions/{number}", tag = "stores",
    params(
        ("id" = StoreId, Path, description = "Store id"),
        ("number" = u32, Path, minimum = 1, maximum = 4294967295_u64, description = "Revision number"),
    ),
    responses(
        (status = 200, body = RevisionDetail),
        (status = 400, description = "A malformed id or revision number", body = ErrorBody),
        (status = 404, description = "No such store, or no such revision of it", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, number)): Path<(String, String)>,
) -> Result<ApiJson<RevisionDetail>, ApiError> {
    let id = store_id(&id)?;
    let number = revision_number(&number)?;
    let store = caller.visible_store(&state, id).await?;
    let revision = state.repo.get_revision(store.id, number).await?;
    let manifest = state.repo.revision_manifest(store.id, number).await?;
    Ok(ApiJson(RevisionDetail {
        revision: view(&state, &revision).await?,
        manifest,
    }))
}

/// The unified diff of two revisions' manifests.
#[utoipa::path(
    get, path = "/api/v1/stores/{id}/revisions/{from}/diff/{to}", tag = "stores",
    params(
        ("id" = StoreId, Path, description = "Store id"),
        ("from" = u32, Path, minimum = 1, maximum = 4294967295_u64, description = "The revision diffed from (`---`)"),
        ("to" = u32, Path, minimum = 1, maximum = 4294967295_u64, description = "The revision diffed to (`+++`)"),
    ),
    responses(
        (status = 200, body = RevisionDiff),
        (status = 400, description = "A malformed id or revision number", body = ErrorBody),
        (status = 404, description = "No such store, or no such revision of it", body = ErrorBody),
        (status = 409, description = "`manifest_pruned`: a manifest is no longer kept", body = ErrorBody),
    )
)]
pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, from, to)): Path<(String, String, String)>,
) -> Result<ApiJson<RevisionDiff>, ApiError> {
    let id = store_id(&id)?;
    let (from, to) = (revision_number(&from)?, revision_number(&to)?);
    let store = caller.visible_store(&state, id).await?;
    let manifest = |number: RevisionNumber| {
        let state = &state;
        async move {
            state
                .repo
                .revision_manifest(store.id, number)
                .await?
                .ok_or_else(|| {
                    ApiError::conflict(
                        "manifest_pruned",
                        format!(
                            "the manifest of revision {number} is no longer kept (only the newest ones are)"
                        ),
                    )
                })
        }
    };
    let (old, new) = (manifest(from).await?, manifest(to).await?);
    let diff = TextDiff::from_lines(&old, &new)
        .unified_diff()
        .header(&format!("revision {from}"), &format!("revision {to}"))
        .to_string();
    Ok(ApiJson(RevisionDiff {
        from,
        to,
        identical: old == new,
        diff,
    }))
}
