//! Backups: a row per backup of a store, from its request to its outcome, each step on the
//! store's timeline in the same transaction.
//!
//! A store takes one backup at a time (a partial unique index says so), and only while it
//! is ready and nothing else is being done to it: no revision in flight, no admin password
//! reset pending. A change, a rollback or a reset is refused in turn while a backup is
//! active, so the backup's Job always dumps the store the deployed revision runs. A request
//! queues the store's Reconcile job; the worker takes the backup on that pass.
//!
//! Scheduled backups are requested by [`schedule`], which the worker's scheduler calls for
//! each store [`due`] names. The schedule is computed from this table (one interval after
//! the newest scheduled backup was requested, or after the store was created), so it
//! survives restarts, needs no timer per store, and two replicas that tick together
//! request one backup: the second finds the first's row under the store's lock.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use storeplane_domain::{
    Actor, Backup, BackupFigures, BackupId, BackupKind, BackupSchedule, EventKind, JobKind,
    NewStoreEvent, RetryPolicy, StoreId, StoreStatus,
};

use crate::revisions::{heads, lock_store};
use crate::rows::{BackupRow, convert_all, millis};
use crate::sql::{Conn, SqlBackend, args};
use crate::{DbError, queue, timeline};

/// Why a backup cannot be requested, or another operation cannot start while one is
/// active (409 at the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupRefused {
    #[error("the store is {status}, not ready: it can be backed up once it is ready")]
    NotReady { status: StoreStatus },
    /// Refuses another backup, and a change, rollback or reset, until it is done.
    #[error("a {kind} backup is in progress; try again once it is done")]
    InProgress { kind: BackupKind },
    #[error("revision {revision} is being applied: back the store up once it is deployed")]
    RevisionInFlight { revision: u32 },
    #[error("an admin password reset is in progress; back the store up once it is done")]
    ResetInProgress,
    /// Only a backup that succeeded holds anything to restore.
    #[error("backup {backup} {status}: only a backup that succeeded can be restored")]
    NotRestorable {
        backup: BackupId,
        status: storeplane_domain::BackupStatus,
    },
    /// Only a deleted store's backups are purged; a live store's follow its retention.
    #[error(
        "the store is {status}: only a deleted store's backups can be purged (a live store's are pruned by retention)"
    )]
    NotDeleted { status: StoreStatus },
    /// A backup of another store is restored as a new store, not in place.
    #[error(
        "backup {backup} is another store's: restore it as a new store (`from_backup` when creating one)"
    )]
    OtherStore { backup: BackupId },
}

/// A backup request: who asked, why, and what kind.
#[derive(Debug, Clone)]
pub struct RequestBackup {
    pub store: StoreId,
    pub kind: BackupKind,
    pub actor: Actor,
    pub reason: String,
    pub now: DateTime<Utc>,
}

macro_rules! backup_columns {
    () => {
        "id, store_id, kind, status, actor, reason, revision, snapshot, size_bytes, \
         added_bytes, duration_ms, failure, created_at, started_at, finished_at, expires_at"
    };
}

const INSERT: &str = "INSERT INTO backups (id, store_id, kind, status, actor, reason, revision, \
     created_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7)";
const ONE: &str = concat!("SELECT ", backup_columns!(), " FROM backups WHERE id = $1");
const OF_STORE: &str = concat!(
    "SELECT ",
    backup_columns!(),
    " FROM backups WHERE store_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
);
const ACTIVE: &str = concat!(
    "SELECT ",
    backup_columns!(),
    " FROM backups WHERE store_id = $1 AND status IN ('pending', 'running')"
);
const LAST_SCHEDULED: &str =
    "SELECT MAX(created_at) AS at FROM backups WHERE store_id = $1 AND kind = 'scheduled'";
const START: &str = "UPDATE backups SET status = 'running', started_at = $2 \
     WHERE id = $1 AND status = 'pending'";
const SUCCEED: &str = "UPDATE backups SET status = 'succeeded', snapshot = $2, size_bytes = $3, \
     added_bytes = $4, duration_ms = $5, finished_at = $6 \
     WHERE id = $1 AND status IN ('pending', 'running')";
const FAIL: &str = "UPDATE backups SET status = 'failed', failure = $2, finished_at = $3 \
     WHERE id = $1 AND status IN ('pending', 'running')";
const READY_STORES: &str = "SELECT id, created_at, \
     (SELECT MAX(b.created_at) FROM backups b WHERE b.store_id = stores.id \
     AND b.kind = 'scheduled') AS last_scheduled \
     FROM stores WHERE status = 'ready'";
const EXPIRE_NOW: &str = "UPDATE backups SET expires_at = $2 WHERE store_id = $1 AND (expires_at IS NULL OR expires_at > $2)";
const EXPIRED_STORES: &str = "SELECT DISTINCT store_id AS id FROM backups WHERE expires_at <= $1";
const PURGE: &str = "DELETE FROM backups WHERE store_id = $1 AND expires_at <= $2";
const KEPT: &str =
    "SELECT COUNT(*) AS count FROM backups WHERE store_id = $1 AND status = 'succeeded'";
const EXPIRE: &str =
    "UPDATE backups SET expires_at = $2 WHERE store_id = $1 AND expires_at IS NULL";

#[derive(sqlx::FromRow)]
struct AtRow {
    at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    count: i64,
}

#[derive(sqlx::FromRow)]
struct ReadyRow {
    id: String,
    created_at: i64,
    last_scheduled: Option<i64>,
}

fn from_millis(at: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(at)
}

fn backup_event(
    backup: &Backup,
    actor: &Actor,
    now: DateTime<Utc>,
    message: String,
    status: &str,
) -> NewStoreEvent {
    NewStoreEvent::new(
        backup.store_id,
        now,
        EventKind::Step,
        actor.clone(),
        message,
    )
    .with_detail(json!({
        "step": "backup",
        "backup": backup.id,
        "kind": backup.kind,
        "status": status,
    }))
}

async fn one<C: Conn>(conn: &mut C, id: BackupId) -> Result<Backup, DbError> {
    let row: Option<BackupRow> = conn.fetch_optional(ONE, args![id.to_string()]).await?;
    row.ok_or(DbError::NotFound { what: "backup" })?.try_into()
}

async fn active<C: Conn>(conn: &mut C, store: StoreId) -> Result<Option<Backup>, DbError> {
    let row: Option<BackupRow> = conn
        .fetch_optional(ACTIVE, args![store.to_string()])
        .await?;
    row.map(Backup::try_from).transpose()
}

/// Refuses an operation on a store (locked by the caller's transaction) while it has a
/// backup active: a change, a rollback or a reset waits for the backup to finish.
pub(crate) async fn refuse_while_backing_up<C: Conn>(
    conn: &mut C,
    store: StoreId,
) -> Result<(), DbError> {
    match active(conn, store).await? {
        Some(backup) => Err(BackupRefused::InProgress { kind: backup.kind }.into()),
        None => Ok(()),
    }
}

/// The backup `id`, checked to be `store`'s and to have succeeded, for a restore in place.
pub(crate) async fn restorable<C: Conn>(
    conn: &mut C,
    id: BackupId,
    store: StoreId,
) -> Result<Backup, DbError> {
    let backup = one(conn, id).await?;
    if backup.store_id != store {
        return Err(BackupRefused::OtherStore { backup: id }.into());
    }
    if backup.status != storeplane_domain::BackupStatus::Succeeded {
        return Err(BackupRefused::NotRestorable {
            backup: id,
            status: backup.status,
        }
        .into());
    }
    Ok(backup)
}

/// Checks, under the store's lock, that it may take a backup now.
async fn may_back_up<B: SqlBackend, C: Conn>(conn: &mut C, store: StoreId) -> Result<(), DbError> {
    let locked = lock_store::<B, _>(conn, store).await?;
    if locked.status != StoreStatus::Ready {
        return Err(BackupRefused::NotReady {
            status: locked.status,
        }
        .into());
    }
    refuse_while_backing_up(conn, store).await?;
    if let Some(revision) = heads(conn, store).await?.in_flight() {
        return Err(BackupRefused::RevisionInFlight {
            revision: revision.number.get(),
        }
        .into());
    }
    if locked.password_reset_pending {
        return Err(BackupRefused::ResetInProgress.into());
    }
    Ok(())
}

/// Inserts the backup, queues the store's job and writes the "requested" event, in the
/// caller's transaction (the store locked and checked).
async fn insert<C: Conn>(conn: &mut C, request: &RequestBackup) -> Result<Backup, DbError> {
    let deployed = heads(conn, request.store).await?.deployed.map(|r| r.number);
    let id = BackupId::generate();
    conn.execute(
        INSERT,
        args![
            id.to_string(),
            request.store.to_string(),
            request.kind.as_str(),
            request.actor.to_string(),
            request.reason.clone(),
            deployed.map(crate::rows::number_arg),
            millis(request.now)
        ],
    )
    .await?;
    queue::enqueue_in(
        conn,
        request.store,
        JobKind::Reconcile,
        RetryPolicy::default().max_attempts,
        request.now,
    )
    .await?;
    let backup = one(conn, id).await?;
    let mut message = match request.kind {
        BackupKind::Scheduled => "scheduled backup requested".to_owned(),
        kind => format!("{kind} backup requested by {}", request.actor),
    };
    if !request.reason.is_empty() {
        message = format!("{message}: {}", request.reason);
    }
    let event = backup_event(&backup, &request.actor, request.now, message, "requested");
    timeline::insert(conn, &event).await?;
    Ok(backup)
}

pub(crate) async fn request<B: SqlBackend>(
    backend: &B,
    request: RequestBackup,
) -> Result<Backup, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    may_back_up::<B, _>(conn, request.store).await?;
    let backup = insert(conn, &request).await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(backup)
}

/// Requests the checkpoint backup taken before revision `before` is applied (by the
/// worker, in that revision's pass: no refusal applies, the revision being its reason);
/// the one already requested when there is one.
pub(crate) async fn request_checkpoint<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    before: storeplane_domain::RevisionNumber,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Backup, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_store::<B, _>(conn, store).await?;
    if let Some(active) = active(conn, store).await? {
        return Ok(active);
    }
    let backup = insert(
        conn,
        &RequestBackup {
            store,
            kind: BackupKind::Checkpoint,
            actor: actor.clone(),
            reason: format!("before revision {before}"),
            now,
        },
    )
    .await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(backup)
}

/// Requests the store's scheduled backup if it is due at `request.now` by `schedule`;
/// `None` when it is not due (another replica requested it first), or the store cannot
/// take one now (the next tick tries again).
pub(crate) async fn schedule<B: SqlBackend>(
    backend: &B,
    schedule: BackupSchedule,
    request: RequestBackup,
) -> Result<Option<Backup>, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    match may_back_up::<B, _>(conn, request.store).await {
        Ok(()) => {}
        Err(DbError::BackupRefused(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    let store = crate::stores::find_existing(conn, request.store).await?;
    let last: Option<AtRow> = conn
        .fetch_optional(LAST_SCHEDULED, args![request.store.to_string()])
        .await?;
    let last = last.and_then(|row| row.at).and_then(from_millis);
    match schedule.next_due(last, store.created_at) {
        Some(due) if due <= request.now => {}
        _ => return Ok(None),
    }
    let backup = insert(conn, &request).await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(Some(backup))
}

/// The ready stores whose scheduled backup is due at `now` by `schedule`, oldest due
/// first.
pub(crate) async fn due<B: SqlBackend>(
    backend: &B,
    schedule: BackupSchedule,
    now: DateTime<Utc>,
) -> Result<Vec<StoreId>, DbError> {
    let rows: Vec<ReadyRow> = backend
        .reader()
        .await?
        .fetch_all(READY_STORES, args![])
        .await?;
    let mut due: Vec<(DateTime<Utc>, StoreId)> = rows
        .into_iter()
        .filter_map(|row| {
            let created = from_millis(row.created_at)?;
            let last = row.last_scheduled.and_then(from_millis);
            let at = schedule.next_due(last, created)?;
            let id = row.id.parse().ok()?;
            (at <= now).then_some((at, id))
        })
        .collect();
    due.sort();
    Ok(due.into_iter().map(|(_, id)| id).collect())
}

pub(crate) async fn get<B: SqlBackend>(backend: &B, id: BackupId) -> Result<Backup, DbError> {
    one(&mut *backend.reader().await?, id).await
}

/// The store's backups, newest first, at most `limit`.
pub(crate) async fn list<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    limit: u32,
) -> Result<Vec<Backup>, DbError> {
    let rows: Vec<BackupRow> = backend
        .reader()
        .await?
        .fetch_all(
            OF_STORE,
            args![store.to_string(), i64::from(limit.clamp(1, 1000))],
        )
        .await?;
    convert_all(rows)
}

/// The store's active backup, if any.
pub(crate) async fn active_of<B: SqlBackend>(
    backend: &B,
    store: StoreId,
) -> Result<Option<Backup>, DbError> {
    active(&mut *backend.reader().await?, store).await
}

/// Marks a pending backup running, with its event; a running one is returned as it is (a
/// worker that died after starting it runs the pass again).
pub(crate) async fn start<B: SqlBackend>(
    backend: &B,
    id: BackupId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Backup, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let changed = conn
        .execute(START, args![id.to_string(), millis(now)])
        .await?;
    let backup = one(conn, id).await?;
    if changed == 0 {
        return Ok(backup);
    }
    let message = format!("taking a {} backup", backup.kind);
    let event = backup_event(&backup, actor, now, message, "running");
    timeline::insert(conn, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(backup)
}

/// Records an active backup's outcome, with its event: the figures restic reported, or
/// why it failed. A backup already finished is returned as it is.
pub(crate) async fn finish<B: SqlBackend>(
    backend: &B,
    id: BackupId,
    outcome: Result<BackupFigures, String>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Backup, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let changed = match &outcome {
        Ok(figures) => {
            let size = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            conn.execute(
                SUCCEED,
                args![
                    id.to_string(),
                    figures.snapshot.clone(),
                    size(figures.size_bytes),
                    size(figures.added_bytes),
                    size(figures.duration_ms),
                    millis(now)
                ],
            )
            .await?
        }
        Err(reason) => {
            conn.execute(FAIL, args![id.to_string(), reason.clone(), millis(now)])
                .await?
        }
    };
    let backup = one(conn, id).await?;
    if changed == 0 {
        return Ok(backup);
    }
    let (message, status) = match &outcome {
        Ok(figures) => (
            format!(
                "backup {} taken (snapshot {}): {}",
                backup.id.short(),
                short(&figures.snapshot),
                figures.describe()
            ),
            "succeeded",
        ),
        Err(reason) => (format!("{} backup failed: {reason}", backup.kind), "failed"),
    };
    let event = backup_event(&backup, actor, now, message, status);
    timeline::insert(conn, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(backup)
}

/// A snapshot's id as restic shows it: its first eight digits.
fn short(snapshot: &str) -> &str {
    snapshot.get(..8).unwrap_or(snapshot)
}

/// For a store being torn down: its backups expire `retention` after `now` (those that
/// expire already keep their time), and an active one fails, since its Job goes with the
/// namespace. Returns how many backups the store keeps until then.
pub(crate) async fn expire<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    now: DateTime<Utc>,
    retention: Duration,
    actor: &Actor,
) -> Result<u64, DbError> {
    if let Some(backup) = active_of(backend, store).await? {
        let reason = "the store was deleted before it finished".to_owned();
        finish(backend, backup.id, Err(reason), actor, now).await?;
    }
    let mut tx = backend.begin().await?;
    tx.execute(EXPIRE, args![store.to_string(), millis(now + retention)])
        .await?;
    let kept: Option<CountRow> = tx.fetch_optional(KEPT, args![store.to_string()]).await?;
    B::commit(tx).await?;
    Ok(kept.map_or(0, |row| u64::try_from(row.count).unwrap_or(0)))
}

/// Expires a deleted store's backups now, for an admin's purge; refused for a store that
/// is not deleted (its backups are kept by retention). Returns how many will be purged.
pub(crate) async fn expire_now<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let locked = lock_store::<B, _>(conn, store).await?;
    if locked.status != StoreStatus::Deleted {
        return Err(BackupRefused::NotDeleted {
            status: locked.status,
        }
        .into());
    }
    let purged = conn
        .execute(EXPIRE_NOW, args![store.to_string(), millis(now)])
        .await?;
    let event = NewStoreEvent::new(
        store,
        now,
        EventKind::Step,
        actor.clone(),
        format!("the store's backups were purged by {actor}; they cannot be restored any more"),
    )
    .with_detail(json!({"step": "backup", "status": "purging", "backups": purged}));
    timeline::insert(conn, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(purged)
}

/// The stores that have backups past their expiry.
pub(crate) async fn expired<B: SqlBackend>(
    backend: &B,
    now: DateTime<Utc>,
) -> Result<Vec<StoreId>, DbError> {
    let rows: Vec<crate::rows::IdRow> = backend
        .reader()
        .await?
        .fetch_all(EXPIRED_STORES, args![millis(now)])
        .await?;
    rows.into_iter()
        .map(|row| {
            row.id
                .parse()
                .map_err(|e| crate::rows::corrupt("backup", format_args!("store_id: {e}")))
        })
        .collect()
}

/// Deletes the store's backups past their expiry (the caller has deleted its key first,
/// which makes their snapshots unreadable), with an event. Returns how many went.
pub(crate) async fn purge<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let purged = conn
        .execute(PURGE, args![store.to_string(), millis(now)])
        .await?;
    if purged == 0 {
        return Ok(0);
    }
    let event = NewStoreEvent::new(
        store,
        now,
        EventKind::Step,
        actor.clone(),
        format!(
            "{purged} expired backup{} purged: the store's key is deleted, so nothing can read them",
            if purged == 1 { "" } else { "s" }
        ),
    )
    .with_detail(json!({"step": "backup", "status": "purged", "backups": purged}));
    timeline::insert(conn, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(purged)
}
