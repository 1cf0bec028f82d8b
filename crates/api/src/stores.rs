//! `/api/v1/stores`: create, list, read, delete and retry stores, and read their timelines.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use storeplane_db::{CreateStore, IdempotencyKey, StoreQuery};
use storeplane_domain::{Engine, Plan, StoreId, StoreName, StoreSpec, StoreStatus};
use utoipa::IntoParams;

use crate::dto::{CreateStoreRequest, ErrorBody, EventView, Page, StoreView};
use crate::error::{ApiJson, ApiQuery};
use crate::page_cache::PageKey;
use crate::{ApiError, AppState, Caller, cursor};

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Parses a store id from the path.
pub fn store_id(raw: &str) -> Result<StoreId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            format!("{:?} is not a store id (a UUID)", truncate(raw)),
        )
    })
}

fn truncate(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// Turns the loosely typed request into a validated spec, naming the first bad field.
fn validate(request: &CreateStoreRequest, engines: &[Engine]) -> Result<StoreSpec, ApiError> {
    let name = StoreName::parse(&request.name)
        .map_err(|e| ApiError::unprocessable("invalid_name", e.to_string()).with_field("name"))?;
    let engine: Engine =
        request
            .engine
            .parse()
            .map_err(|e: storeplane_domain::UnknownVariant| {
                ApiError::unprocessable("unknown_engine", e.to_string()).with_field("engine")
            })?;
    if !engines.contains(&engine) {
        return Err(ApiError::unprocessable(
            "engine_unavailable",
            format!(
                "the {engine} engine is not available yet; use one of: {}",
                engines
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_field("engine"));
    }
    let plan: Plan = request
        .plan
        .parse()
        .map_err(|e: storeplane_domain::UnknownVariant| {
            ApiError::unprocessable("unknown_plan", e.to_string()).with_field("plan")
        })?;
    Ok(StoreSpec::new(name, engine, plan))
}

fn idempotency_key(
    headers: &HeaderMap,
    spec: &StoreSpec,
    from_backup: Option<storeplane_domain::BackupId>,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    // Exactly what the document's pattern says; HTTP already strips the whitespace around
    // a header value.
    let key = Some(value.as_bytes())
        .filter(|k| {
            (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&k.len()) && k.iter().all(u8::is_ascii_graphic)
        })
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or_else(|| {
            ApiError::bad_request("bad_request", format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"))
                .with_field("Idempotency-Key")
        })?;
    // The hash covers the request's meaning, not its bytes: the same store asked for with
    // different whitespace or field order is the same request.
    let canonical = format!("{}\n{}\n{}", spec.name, spec.engine, spec.plan);
    let canonical = match from_backup {
        Some(backup) => format!("{canonical}\n{backup}"),
        None => canonical,
    };
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash: hex::encode(Sha256::digest(canonical)),
    }))
}

/// Create a store.
///
/// Leaves the store `pending` with its provisioning job queued, in one transaction.
#[utoipa::path(
    post, path = "/api/v1/stores", tag = "stores",
    request_body = CreateStoreRequest,
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Repeat a create safely: the same key and body return the same store. 1 to 255 visible ASCII characters")),
    responses(
        (status = 202, description = "Accepted; provisioning is queued", body = StoreView),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = ErrorBody),
        (status = 404, description = "`unknown_backup`: `from_backup` names no backup of yours", body = ErrorBody),
        (status = 409, description = "Name taken, quota reached or idempotency key reused; `from_backup` names a backup that did not succeed (`backup_not_restorable`), expired (`backup_expired`), or is of another engine (`engine_mismatch`)", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "Invalid name, engine or plan, or a field missing or unknown", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CreateStoreRequest>,
) -> Result<(StatusCode, ApiJson<StoreView>), ApiError> {
    let spec = validate(&request, &state.settings.engines)?;
    let idempotency = idempotency_key(&headers, &spec, request.from_backup)?;
    state.limiter.check(&caller.identity)?;
    if let Some(backup) = request.from_backup {
        restorable_as_new(&state, &caller, backup, &spec).await?;
    }
    let quota = state.settings.store_quota;
    let outcome = state
        .repo
        .create_store(CreateStore {
            id: StoreId::generate(),
            spec,
            owner: caller.user.id,
            actor: caller.actor(),
            live_store_limit: (quota > 0).then_some(quota),
            max_attempts: state.settings.job_max_attempts,
            idempotency,
            restore_from: request.from_backup,
            now: Utc::now(),
        })
        .await?;
    state.pages.invalidate();
    Ok((StatusCode::ACCEPTED, ApiJson(state.view(outcome.store()))))
}

/// Checks that `caller` may make a store of `spec` from `backup`: a backup of one of the
/// stores they may see (deleted or not) that succeeded, has not expired, and is of the same
/// engine. A backup they may not see is as unknown as one that does not exist.
async fn restorable_as_new(
    state: &AppState,
    caller: &Caller,
    id: storeplane_domain::BackupId,
    spec: &StoreSpec,
) -> Result<(), ApiError> {
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_backup",
            format!("there is no backup {id} of yours"),
        )
        .with_field("from_backup")
    };
    let backup = match state.repo.get_backup(id).await {
        Ok(backup) => backup,
        Err(storeplane_db::DbError::NotFound { .. }) => return Err(unknown()),
        Err(e) => return Err(e.into()),
    };
    let source = state.repo.get_store(backup.store_id).await?;
    if !caller.may_access(&source.owner) {
        return Err(unknown());
    }
    if backup.status != storeplane_domain::BackupStatus::Succeeded {
        return Err(ApiError::conflict(
            "backup_not_restorable",
            format!(
                "backup {id} {}: only a backup that succeeded can be restored",
                backup.status
            ),
        ));
    }
    if backup.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::conflict(
            "backup_expired",
            format!("backup {id} expired with its deleted store and is being purged"),
        ));
    }
    if source.spec.engine != spec.engine {
        return Err(ApiError::conflict(
            "engine_mismatch",
            format!(
                "backup {id} is of a {} store: create the new store with engine {}",
                source.spec.engine, source.spec.engine
            ),
        )
        .with_field("engine"));
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page: the id of its last store.
    #[param(value_type = Option<String>, format = Uuid)]
    cursor: Option<String>,
    /// Only stores in this status.
    #[param(value_type = Option<StoreStatus>)]
    status: Option<String>,
    /// Only the live store with this name.
    name: Option<String>,
}

pub(crate) fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match limit.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        n => Err(ApiError::bad_request(
            "bad_request",
            format!("limit must be 1 to {max} (got {n})"),
        )
        .with_field("limit")),
    }
}

/// List stores, newest first.
#[utoipa::path(
    get, path = "/api/v1/stores", tag = "stores", params(ListParams),
    responses((status = 200, body = Page<StoreView>), (status = 400, description = "A malformed limit, cursor or status, or an unknown parameter", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let limit = page_limit(params.limit, 50, 200)?;
    let status = params
        .status
        .map(|s| s.parse::<StoreStatus>())
        .transpose()
        .map_err(|e| ApiError::bad_request("bad_request", e.to_string()).with_field("status"))?;
    let before = params.cursor.as_deref().map(cursor::store).transpose()?;
    let key = PageKey {
        owner: (!caller.user.is_admin()).then_some(caller.user.id),
        status,
        name: params.name,
        before,
        limit,
    };
    if let Some(page) = state.pages.get(&key) {
        return Ok(json_bytes(page));
    }
    let generation = state.pages.generation();
    let query = StoreQuery {
        owner: key.owner,
        status: key.status,
        name: key.name.clone(),
        before: key.before,
        limit: limit + 1,
    };
    let mut stores = state.repo.list_stores(&query).await?;
    let next_cursor = (stores.len() > limit as usize).then(|| {
        stores.truncate(limit as usize);
        cursor::of_store(stores[stores.len() - 1].id)
    });
    let items: Vec<StoreView> = stores.iter().map(|s| state.view(s)).collect();
    let page =
        Bytes::from(serde_json::to_vec(&Page { items, next_cursor }).map_err(ApiError::internal)?);
    state.pages.put(key, generation, page.clone());
    Ok(json_bytes(page))
}

fn json_bytes(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Read one store.
#[utoipa::path(
    get, path = "/api/v1/stores/{id}", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id")),
    responses(
        (status = 200, body = StoreView, headers(("ETag" = String, description = "The store's latest revision, quoted (`\"3\"`): send it back as `If-Match` on a change. Absent before the store's first revision is recorded"))),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    let mut response = ApiJson(state.view(&store)).into_response();
    if let Some(latest) = store.latest_revision
        && let Ok(etag) = HeaderValue::try_from(format!("\"{latest}\""))
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// Delete a store.
///
/// Moves it to `deleting` and queues its teardown. Deleting a store that is already
/// deleting or deleted returns it as it is.
#[utoipa::path(
    delete, path = "/api/v1/stores/{id}", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id")),
    responses((status = 202, body = StoreView), (status = 400, description = "The id is not a UUID", body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<StoreView>), ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    if matches!(store.status, StoreStatus::Deleting | StoreStatus::Deleted) {
        return Ok((StatusCode::ACCEPTED, ApiJson(state.view(&store))));
    }
    state.limiter.check(&caller.identity)?;
    let store = state
        .repo
        .request_deletion(store.id, &caller.actor(), Utc::now())
        .await?;
    state.pages.invalidate();
    Ok((StatusCode::ACCEPTED, ApiJson(state.view(&store))))
}

/// Retry a failed store.
#[utoipa::path(
    post, path = "/api/v1/stores/{id}/retry", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id")),
    responses((status = 202, body = StoreView), (status = 400, description = "The id is not a UUID", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<StoreView>), ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    if store.status != StoreStatus::Failed {
        return Err(ApiError::conflict(
            "conflict",
            format!(
                "only a failed store can be retried; this one is {}",
                store.status
            ),
        ));
    }
    let store = state
        .repo
        .retry_store(
            store.id,
            &caller.actor(),
            state.settings.job_max_attempts,
            Utc::now(),
        )
        .await?;
    state.pages.invalidate();
    Ok((StatusCode::ACCEPTED, ApiJson(state.view(&store))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page: the `seq` of its last event.
    #[param(value_type = Option<String>, pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
}

/// A store's timeline, oldest first.
#[utoipa::path(
    get, path = "/api/v1/stores/{id}/events", tag = "stores",
    params(("id" = StoreId, Path, description = "Store id"), EventParams),
    responses((status = 200, body = Page<EventView>), (status = 400, description = "A malformed id, limit or cursor, or an unknown parameter", body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<EventParams>,
) -> Result<ApiJson<Page<EventView>>, ApiError> {
    let store = caller.visible_store(&state, store_id(&id)?).await?;
    let limit = page_limit(params.limit, 100, 500)?;
    let after = params
        .cursor
        .as_deref()
        .map(cursor::event)
        .transpose()?
        .unwrap_or(0);
    let mut events = state.repo.store_events(store.id, after, limit + 1).await?;
    let next_cursor = (events.len() > limit as usize).then(|| {
        events.truncate(limit as usize);
        cursor::of_event(events[events.len() - 1].seq)
    });
    Ok(ApiJson(Page {
        items: events.into_iter().map(EventView::from).collect(),
        next_cursor,
    }))
}
