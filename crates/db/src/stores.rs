//! Stores: creation (with its event, job and idempotency key in one transaction), reads,
//! and lifecycle moves as compare-and-set updates.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use storeplane_domain::{
    Actor, EventKind, IllegalTransition, JobKind, NewStoreEvent, Store, StoreId, StoreStatus,
};

use crate::repository::{CreateStore, CreateStoreOutcome, StoreQuery};
use crate::rows::{CountRow, IdRow, IdempotencyRow, StoreRow, convert_all, millis};
use crate::sql::{Conn, SqlBackend, args, is_name_taken, store_columns};
use crate::{DbError, queue, timeline};

const GET: &str = concat!("SELECT ", store_columns!(), " FROM stores WHERE id = $1");

/// Newest first; every filter is optional (a NULL parameter matches everything).
const LIST: &str = concat!(
    "SELECT ",
    store_columns!(),
    " FROM stores \
     WHERE ($1 IS NULL OR owner_id = $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR id < $3) \
     AND ($5 IS NULL OR name = $5) \
     ORDER BY id DESC LIMIT $4"
);

const INSERT: &str = concat!(
    "INSERT INTO stores (id, name, engine, plan, release, title, owner_id, status, status_reason, created_at, updated_at, restore_from) \
     VALUES ($1, $2, $3, $4, $7, $8, $5, 'pending', NULL, $6, $6, $9) RETURNING ",
    store_columns!()
);

const IDEMPOTENCY_GET: &str =
    "SELECT request_hash, store_id FROM idempotency_keys WHERE user_id = $1 AND key = $2";

const IDEMPOTENCY_INSERT: &str = "INSERT INTO idempotency_keys (user_id, key, request_hash, store_id, created_at) \
     VALUES ($1, $2, $3, $4, $5)";

const LIVE_COUNT: &str =
    "SELECT COUNT(*) AS count FROM stores WHERE owner_id = $1 AND status <> 'deleted'";

/// Moves a store to `$2` only if it still has the status `$5` the move was checked
/// against (so the event's `from` is true even when another writer got there first).
const SET_STATUS: &str = concat!(
    "UPDATE stores SET status = $2, status_reason = $3, updated_at = $4 \
     WHERE id = $1 AND status = $5 RETURNING ",
    store_columns!()
);

/// How often a compare-and-set is retried when the store moved between the update and
/// the read that explains why it matched nothing.
const CAS_ATTEMPTS: usize = 3;

async fn find<C: Conn>(conn: &mut C, id: StoreId) -> Result<Option<Store>, DbError> {
    let row: Option<StoreRow> = conn.fetch_optional(GET, args![id.to_string()]).await?;
    row.map(Store::try_from).transpose()
}

pub(crate) async fn find_existing<C: Conn>(conn: &mut C, id: StoreId) -> Result<Store, DbError> {
    find(conn, id)
        .await?
        .ok_or(DbError::NotFound { what: "store" })
}

pub(crate) async fn get<B: SqlBackend>(backend: &B, id: StoreId) -> Result<Store, DbError> {
    find_existing(&mut *backend.reader().await?, id).await
}

pub(crate) async fn list<B: SqlBackend>(
    backend: &B,
    query: &StoreQuery,
) -> Result<Vec<Store>, DbError> {
    let mut conn = backend.reader().await?;
    let args = args![
        query.owner.map(|o| o.to_string()),
        query.status.map(|s| s.as_str()),
        query.before.map(|b| b.to_string()),
        i64::from(query.limit),
        query.name.as_deref(),
    ];
    let rows: Vec<StoreRow> = conn.fetch_all(LIST, args).await?;
    convert_all(rows)
}

pub(crate) async fn create<B: SqlBackend>(
    backend: &B,
    request: CreateStore,
) -> Result<CreateStoreOutcome, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let owner = request.owner.to_string();
    let owner_row: Option<IdRow> = conn
        .fetch_optional(B::LOCK_OWNER, args![owner.as_str()])
        .await?;
    if owner_row.is_none() {
        return Err(DbError::NotFound { what: "user" });
    }

    if let Some(key) = &request.idempotency {
        let seen: Option<IdempotencyRow> = conn
            .fetch_optional(IDEMPOTENCY_GET, args![owner.as_str(), key.key.as_str()])
            .await?;
        if let Some(seen) = seen {
            if seen.request_hash != key.request_hash {
                return Err(DbError::IdempotencyConflict);
            }
            let id = seen
                .store_id
                .parse()
                .map_err(|e| crate::rows::corrupt("idempotency key", e))?;
            let store = find_existing(conn, id).await?;
            return Ok(CreateStoreOutcome::Replayed { store });
        }
    }

    if let Some(limit) = request.live_store_limit {
        let live: Option<CountRow> = conn
            .fetch_optional(LIVE_COUNT, args![owner.as_str()])
            .await?;
        if live.map_or(0, |c| c.count) >= i64::from(limit) {
            return Err(DbError::QuotaExceeded { limit });
        }
    }

    let now = millis(request.now);
    let spec = &request.spec;
    let inserted = conn
        .fetch_optional::<StoreRow>(
            INSERT,
            args![
                request.id.to_string(),
                spec.name.as_str(),
                spec.engine.as_str(),
                spec.plan.as_str(),
                owner.as_str(),
                now,
                spec.release.as_ref().map(|r| r.as_str()),
                spec.title.as_ref().map(|t| t.as_str()),
                request.restore_from.map(|id| id.to_string()),
            ],
        )
        .await
        .map_err(|e| {
            if is_name_taken(&e) {
                DbError::NameTaken {
                    name: spec.name.to_string(),
                }
            } else {
                e.into()
            }
        })?;
    let store = Store::try_from(
        inserted.ok_or_else(|| crate::rows::corrupt("store", "the insert returned no row"))?,
    )?;

    let job = queue::enqueue_in(
        conn,
        store.id,
        JobKind::Provision,
        request.max_attempts,
        request.now,
    )
    .await?
    .job;
    if let Some(key) = &request.idempotency {
        let args = args![
            owner.as_str(),
            key.key.as_str(),
            key.request_hash.as_str(),
            store.id.to_string(),
            now
        ];
        conn.execute(IDEMPOTENCY_INSERT, args).await?;
    }
    let message = match request.restore_from {
        Some(backup) => format!(
            "store {} created from backup {}; its first provisioning restores it",
            spec.name,
            backup.short()
        ),
        None => format!("store {} created", spec.name),
    };
    let created = NewStoreEvent::new(
        store.id,
        request.now,
        EventKind::Created,
        request.actor.clone(),
        message,
    )
    .with_detail(json!({
        "name": spec.name,
        "engine": spec.engine,
        "plan": spec.plan,
        "from_backup": request.restore_from,
    }));
    timeline::insert(conn, &created).await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(CreateStoreOutcome::Created { store, job })
}

/// The outcome of a compare-and-set move inside a transaction.
enum Moved {
    /// The store moved from `from`; the update is done, its event not yet written.
    Changed { store: Store, from: StoreStatus },
    /// The store already had the target status.
    Unchanged(Store),
}

/// Moves the store to `to`, leaving `status_reason` as the reason it is now in that
/// status (a person-readable cause for `failed`; cleared otherwise unless given).
async fn move_status<C: Conn>(
    conn: &mut C,
    id: StoreId,
    to: StoreStatus,
    status_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Moved, DbError> {
    let allowed_from = to.predecessors();
    for _ in 0..CAS_ATTEMPTS {
        let current = find_existing(conn, id).await?;
        let before = current.status;
        if before == to {
            return Ok(Moved::Unchanged(current));
        }
        if !allowed_from.contains(&before) {
            return Err(IllegalTransition { from: before, to }.into());
        }
        let args = args![
            id.to_string(),
            to.as_str(),
            status_reason,
            millis(now),
            before.as_str()
        ];
        let row: Option<StoreRow> = conn.fetch_optional(SET_STATUS, args).await?;
        if let Some(row) = row {
            return Ok(Moved::Changed {
                store: row.try_into()?,
                from: before,
            });
        }
    }
    // Still moving under us after several tries: report what it is now.
    let current = find_existing(conn, id).await?;
    Err(IllegalTransition {
        from: current.status,
        to,
    }
    .into())
}

fn status_event(
    store: &Store,
    from: StoreStatus,
    reason: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> NewStoreEvent {
    let to = store.status;
    let message = match reason {
        Some(reason) => format!("status changed from {from} to {to}: {reason}"),
        None => format!("status changed from {from} to {to}"),
    };
    NewStoreEvent::new(
        store.id,
        now,
        EventKind::StatusChanged,
        actor.clone(),
        message,
    )
    .with_detail(json!({ "from": from, "to": to, "reason": reason }))
}

pub(crate) async fn set_status<B: SqlBackend>(
    backend: &B,
    id: StoreId,
    to: StoreStatus,
    reason: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
    note: Option<&NewStoreEvent>,
) -> Result<Store, DbError> {
    let mut tx = backend.begin().await?;
    match move_status(&mut *tx, id, to, reason, now).await? {
        Moved::Unchanged(store) => Ok(store),
        Moved::Changed { store, from } => {
            timeline::insert(&mut *tx, &status_event(&store, from, reason, actor, now)).await?;
            if let Some(note) = note {
                timeline::insert(&mut *tx, note).await?;
            }
            B::commit(tx).await?;
            backend.announce_events();
            Ok(store)
        }
    }
}

const SET_OUTPUTS: &str = "UPDATE stores SET outputs = $2 WHERE id = $1";

pub(crate) async fn set_outputs<B: SqlBackend>(
    backend: &B,
    id: StoreId,
    outputs: &BTreeMap<String, String>,
    note: &NewStoreEvent,
) -> Result<Store, DbError> {
    let json = serde_json::to_string(outputs).map_err(|e| DbError::Corrupt {
        what: "store",
        detail: format!("outputs: {e}"),
    })?;
    let mut tx = backend.begin().await?;
    if tx.execute(SET_OUTPUTS, args![id.to_string(), json]).await? == 0 {
        return Err(DbError::NotFound { what: "store" });
    }
    timeline::insert(&mut *tx, note).await?;
    let store = find_existing(&mut *tx, id).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(store)
}

pub(crate) async fn request_deletion<B: SqlBackend>(
    backend: &B,
    id: StoreId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Store, DbError> {
    let mut tx = backend.begin().await?;
    let current = find_existing(&mut *tx, id).await?;
    if matches!(current.status, StoreStatus::Deleting | StoreStatus::Deleted) {
        return Ok(current);
    }
    let reason = Some("deletion requested");
    match move_status(&mut *tx, id, StoreStatus::Deleting, None, now).await? {
        Moved::Unchanged(store) => Ok(store),
        Moved::Changed { store, from } => {
            // Teardown gets the same attempt budget as whatever it replaces, or the default.
            let attempts = queue_attempts(&mut *tx, id).await?;
            queue::enqueue_in(&mut *tx, id, JobKind::Teardown, attempts, now).await?;
            timeline::insert(&mut *tx, &status_event(&store, from, reason, actor, now)).await?;
            B::commit(tx).await?;
            backend.announce_events();
            backend.announce_jobs();
            Ok(store)
        }
    }
}

/// The attempts allowed to a teardown: the store's last job's budget (set by whoever
/// created the store), or the retry policy's default when it never had one.
async fn queue_attempts<C: Conn>(conn: &mut C, id: StoreId) -> Result<u32, DbError> {
    const LAST_BUDGET: &str = "SELECT CAST(max_attempts AS BIGINT) AS count FROM jobs WHERE store_id = $1 ORDER BY id DESC LIMIT 1";
    let row: Option<CountRow> = conn
        .fetch_optional(LAST_BUDGET, args![id.to_string()])
        .await?;
    Ok(row
        .and_then(|r| u32::try_from(r.count).ok())
        .unwrap_or(storeplane_domain::RetryPolicy::default().max_attempts))
}

pub(crate) async fn retry<B: SqlBackend>(
    backend: &B,
    id: StoreId,
    actor: &Actor,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Result<Store, DbError> {
    let mut tx = backend.begin().await?;
    let current = find_existing(&mut *tx, id).await?;
    match current.status {
        // Already retried (a repeated click): its job is queued.
        StoreStatus::Pending => return Ok(current),
        StoreStatus::Failed => {}
        from => {
            return Err(IllegalTransition {
                from,
                to: StoreStatus::Pending,
            }
            .into());
        }
    }
    let reason = Some("retry requested");
    match move_status(&mut *tx, id, StoreStatus::Pending, None, now).await? {
        Moved::Unchanged(store) => Ok(store),
        Moved::Changed { store, from } => {
            queue::enqueue_in(&mut *tx, id, JobKind::Provision, max_attempts, now).await?;
            timeline::insert(&mut *tx, &status_event(&store, from, reason, actor, now)).await?;
            B::commit(tx).await?;
            backend.announce_events();
            backend.announce_jobs();
            Ok(store)
        }
    }
}

const REVEALED: &str = "SELECT credentials_revealed_at AS at FROM stores WHERE id = $1";

/// Sets the reveal time only if none is set: the compare-and-set that lets exactly one of
/// two concurrent reveals through.
const MARK_REVEALED: &str = "UPDATE stores SET credentials_revealed_at = $2 WHERE id = $1 AND credentials_revealed_at IS NULL";

#[derive(Debug, sqlx::FromRow)]
struct RevealedRow {
    at: Option<i64>,
}

pub(crate) async fn credentials_revealed<B: SqlBackend>(
    backend: &B,
    id: StoreId,
) -> Result<bool, DbError> {
    let mut conn = backend.reader().await?;
    let row: Option<RevealedRow> = conn.fetch_optional(REVEALED, args![id.to_string()]).await?;
    Ok(row.ok_or(DbError::NotFound { what: "store" })?.at.is_some())
}

pub(crate) async fn mark_credentials_revealed<B: SqlBackend>(
    backend: &B,
    id: StoreId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut tx = backend.begin().await?;
    if tx
        .execute(MARK_REVEALED, args![id.to_string(), millis(now)])
        .await?
        == 0
    {
        // Either revealed already or no such store: tell them apart for the caller.
        find_existing(&mut *tx, id).await?;
        return Ok(false);
    }
    let event = NewStoreEvent::new(
        id,
        now,
        EventKind::CredentialsRevealed,
        actor.clone(),
        format!("initial admin credentials revealed to {actor}"),
    );
    timeline::insert(&mut *tx, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(true)
}
