//! Rows as both databases return them, and their conversion into the domain.
//!
//! The schemas are the same on both backends (text ids, BIGINT Unix milliseconds), so one
//! row type decodes from either. A value the domain rejects is reported as
//! [`DbError::Corrupt`], never a panic.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use storeplane_domain::{
    ActiveBackup, Backup, BackupFigures, InFlightRevision, Job, JobId, ReleaseName, Revision,
    RevisionNumber, Store, StoreBackups, StoreEvent, StoreId, StoreName, StoreSpec, StoreTitle,
    User, UserId, UserName,
};

use crate::DbError;

pub(crate) fn corrupt(what: &'static str, detail: impl Display) -> DbError {
    DbError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

/// Parses a column with the type's `FromStr`, naming the row and column when it fails.
fn parse<T>(what: &'static str, column: &str, raw: &str) -> Result<T, DbError>
where
    T: FromStr,
    T::Err: Display,
{
    raw.parse()
        .map_err(|e| corrupt(what, format_args!("{column} {raw:?}: {e}")))
}

fn time(what: &'static str, column: &str, millis: i64) -> Result<DateTime<Utc>, DbError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| corrupt(what, format_args!("{column} {millis} is out of range")))
}

fn count(what: &'static str, column: &str, value: i32) -> Result<u32, DbError> {
    u32::try_from(value).map_err(|_| corrupt(what, format_args!("{column} {value} is negative")))
}

fn optional_time(
    what: &'static str,
    column: &str,
    millis: Option<i64>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    millis.map(|at| time(what, column, at)).transpose()
}

fn revision_number(
    what: &'static str,
    column: &str,
    value: i32,
) -> Result<RevisionNumber, DbError> {
    u32::try_from(value)
        .ok()
        .and_then(RevisionNumber::new)
        .ok_or_else(|| {
            corrupt(
                what,
                format_args!("{column} {value} is not a revision number"),
            )
        })
}

/// A revision number as its column stores it.
pub(crate) fn number_arg(number: RevisionNumber) -> i32 {
    // Revision numbers grow by one per change of one store: far below i32::MAX.
    i32::try_from(number.get()).unwrap_or(i32::MAX)
}

/// Unix milliseconds, the unit every time column is stored in.
pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoreRow {
    id: String,
    name: String,
    engine: String,
    plan: String,
    release: Option<String>,
    title: Option<String>,
    owner_id: String,
    status: String,
    status_reason: Option<String>,
    deployed_revision: Option<i32>,
    last_checked_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    outputs: Option<String>,
    restore_from: Option<String>,
    latest_revision: Option<i32>,
    in_flight_revision: Option<i32>,
    in_flight_rollback_of: Option<i32>,
    in_flight_restores_backup: Option<String>,
    password_reset_pending: bool,
    active_backup_id: Option<String>,
    active_backup_kind: Option<String>,
    last_scheduled_backup_at: Option<i64>,
    last_backup_succeeded_at: Option<i64>,
}

impl TryFrom<StoreRow> for Store {
    type Error = DbError;

    fn try_from(row: StoreRow) -> Result<Self, DbError> {
        const WHAT: &str = "store";
        let name = StoreName::parse(&row.name)
            .map_err(|e| corrupt(WHAT, format_args!("name {:?}: {e}", row.name)))?;
        Ok(Store {
            id: parse::<StoreId>(WHAT, "id", &row.id)?,
            spec: StoreSpec {
                name,
                engine: parse(WHAT, "engine", &row.engine)?,
                plan: parse(WHAT, "plan", &row.plan)?,
                release: row
                    .release
                    .as_deref()
                    .map(ReleaseName::parse)
                    .transpose()
                    .map_err(|e| corrupt(WHAT, format_args!("release: {e}")))?,
                title: row
                    .title
                    .as_deref()
                    .map(StoreTitle::parse)
                    .transpose()
                    .map_err(|e| corrupt(WHAT, format_args!("title: {e}")))?,
            },
            owner: parse::<UserId>(WHAT, "owner_id", &row.owner_id)?,
            status: parse(WHAT, "status", &row.status)?,
            status_reason: row.status_reason,
            deployed_revision: row
                .deployed_revision
                .map(|n| revision_number(WHAT, "deployed_revision", n))
                .transpose()?,
            latest_revision: row
                .latest_revision
                .map(|n| revision_number(WHAT, "latest_revision", n))
                .transpose()?,
            in_flight: row
                .in_flight_revision
                .map(|n| -> Result<InFlightRevision, DbError> {
                    Ok(InFlightRevision {
                        number: revision_number(WHAT, "in_flight_revision", n)?,
                        rollback_of: row
                            .in_flight_rollback_of
                            .map(|r| revision_number(WHAT, "in_flight_rollback_of", r))
                            .transpose()?,
                        restores_backup: row
                            .in_flight_restores_backup
                            .as_deref()
                            .map(|id| parse(WHAT, "in_flight_restores_backup", id))
                            .transpose()?,
                    })
                })
                .transpose()?,
            password_reset_pending: row.password_reset_pending,
            backups: StoreBackups {
                active: match (&row.active_backup_id, &row.active_backup_kind) {
                    (Some(id), Some(kind)) => Some(ActiveBackup {
                        id: parse(WHAT, "active_backup_id", id)?,
                        kind: parse(WHAT, "active_backup_kind", kind)?,
                    }),
                    _ => None,
                },
                last_scheduled_at: optional_time(
                    WHAT,
                    "last_scheduled_backup_at",
                    row.last_scheduled_backup_at,
                )?,
                last_succeeded_at: optional_time(
                    WHAT,
                    "last_backup_succeeded_at",
                    row.last_backup_succeeded_at,
                )?,
            },
            last_checked_at: optional_time(WHAT, "last_checked_at", row.last_checked_at)?,
            outputs: row
                .outputs
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| corrupt(WHAT, format_args!("outputs: {e}")))?
                .unwrap_or_default(),
            restore_from: row
                .restore_from
                .as_deref()
                .map(|id| parse(WHAT, "restore_from", id))
                .transpose()?,
            created_at: time(WHAT, "created_at", row.created_at)?,
            updated_at: time(WHAT, "updated_at", row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct JobRow {
    id: i64,
    store_id: String,
    kind: String,
    state: String,
    attempts: i32,
    max_attempts: i32,
    run_at: i64,
    lease_holder: Option<String>,
    lease_expires_at: Option<i64>,
    rerun: bool,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<JobRow> for Job {
    type Error = DbError;

    fn try_from(row: JobRow) -> Result<Self, DbError> {
        const WHAT: &str = "job";
        Ok(Job {
            id: JobId(row.id),
            store_id: parse::<StoreId>(WHAT, "store_id", &row.store_id)?,
            kind: parse(WHAT, "kind", &row.kind)?,
            state: parse(WHAT, "state", &row.state)?,
            attempts: count(WHAT, "attempts", row.attempts)?,
            max_attempts: count(WHAT, "max_attempts", row.max_attempts)?,
            run_at: time(WHAT, "run_at", row.run_at)?,
            lease_holder: row.lease_holder,
            lease_expires_at: row
                .lease_expires_at
                .map(|at| time(WHAT, "lease_expires_at", at))
                .transpose()?,
            rerun: row.rerun,
            last_error: row.last_error,
            created_at: time(WHAT, "created_at", row.created_at)?,
            updated_at: time(WHAT, "updated_at", row.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    name: String,
    role: String,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = DbError;

    fn try_from(row: UserRow) -> Result<Self, DbError> {
        const WHAT: &str = "user";
        Ok(User {
            id: parse::<UserId>(WHAT, "id", &row.id)?,
            name: UserName::parse(&row.name)
                .map_err(|e| corrupt(WHAT, format_args!("name: {e}")))?,
            role: parse(WHAT, "role", &row.role)?,
            created_at: time(WHAT, "created_at", row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    store_id: String,
    at: i64,
    kind: String,
    message: String,
    detail: String,
    actor: String,
}

impl TryFrom<EventRow> for StoreEvent {
    type Error = DbError;

    fn try_from(row: EventRow) -> Result<Self, DbError> {
        const WHAT: &str = "store event";
        Ok(StoreEvent {
            seq: row.seq,
            store_id: parse::<StoreId>(WHAT, "store_id", &row.store_id)?,
            at: time(WHAT, "at", row.at)?,
            kind: parse(WHAT, "kind", &row.kind)?,
            message: row.message,
            detail: serde_json::from_str(&row.detail)
                .map_err(|e| corrupt(WHAT, format_args!("detail: {e}")))?,
            actor: parse(WHAT, "actor", &row.actor)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RevisionRow {
    store_id: String,
    number: i32,
    spec: String,
    platform_digest: String,
    manifest_digest: String,
    manifest_kept: bool,
    actor: String,
    reason: String,
    status: String,
    failure: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    checkpoint: Option<String>,
    rollback_of: Option<i32>,
    restores: Option<i32>,
    migrates_data: bool,
    restores_backup: Option<String>,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = DbError;

    fn try_from(row: RevisionRow) -> Result<Self, DbError> {
        const WHAT: &str = "store revision";
        Ok(Revision {
            store_id: parse::<StoreId>(WHAT, "store_id", &row.store_id)?,
            number: revision_number(WHAT, "number", row.number)?,
            spec: serde_json::from_str(&row.spec)
                .map_err(|e| corrupt(WHAT, format_args!("spec: {e}")))?,
            platform_digest: row.platform_digest,
            manifest_digest: row.manifest_digest,
            manifest_kept: row.manifest_kept,
            actor: parse(WHAT, "actor", &row.actor)?,
            reason: row.reason,
            status: parse(WHAT, "status", &row.status)?,
            failure: row.failure,
            created_at: time(WHAT, "created_at", row.created_at)?,
            started_at: optional_time(WHAT, "started_at", row.started_at)?,
            finished_at: optional_time(WHAT, "finished_at", row.finished_at)?,
            checkpoint: row
                .checkpoint
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| corrupt(WHAT, format_args!("checkpoint: {e}")))?,
            rollback_of: row
                .rollback_of
                .map(|n| revision_number(WHAT, "rollback_of", n))
                .transpose()?,
            restores: row
                .restores
                .map(|n| revision_number(WHAT, "restores", n))
                .transpose()?,
            restores_backup: row
                .restores_backup
                .as_deref()
                .map(|id| parse(WHAT, "restores_backup", id))
                .transpose()?,
            migrates_data: row.migrates_data,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct BackupRow {
    id: String,
    store_id: String,
    kind: String,
    status: String,
    actor: String,
    reason: String,
    revision: Option<i32>,
    snapshot: Option<String>,
    size_bytes: Option<i64>,
    added_bytes: Option<i64>,
    duration_ms: Option<i64>,
    failure: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    expires_at: Option<i64>,
}

impl TryFrom<BackupRow> for Backup {
    type Error = DbError;

    fn try_from(row: BackupRow) -> Result<Self, DbError> {
        const WHAT: &str = "backup";
        let bytes = |column: &str, value: Option<i64>| -> Result<u64, DbError> {
            value
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| corrupt(WHAT, format_args!("{column} missing or negative")))
        };
        let figures = match row.snapshot {
            Some(snapshot) => Some(BackupFigures {
                snapshot,
                size_bytes: bytes("size_bytes", row.size_bytes)?,
                added_bytes: bytes("added_bytes", row.added_bytes)?,
                duration_ms: bytes("duration_ms", row.duration_ms)?,
            }),
            None => None,
        };
        Ok(Backup {
            id: parse(WHAT, "id", &row.id)?,
            store_id: parse(WHAT, "store_id", &row.store_id)?,
            kind: parse(WHAT, "kind", &row.kind)?,
            status: parse(WHAT, "status", &row.status)?,
            actor: parse(WHAT, "actor", &row.actor)?,
            reason: row.reason,
            revision: row
                .revision
                .map(|n| revision_number(WHAT, "revision", n))
                .transpose()?,
            figures,
            failure: row.failure,
            created_at: time(WHAT, "created_at", row.created_at)?,
            started_at: optional_time(WHAT, "started_at", row.started_at)?,
            finished_at: optional_time(WHAT, "finished_at", row.finished_at)?,
            expires_at: optional_time(WHAT, "expires_at", row.expires_at)?,
        })
    }
}

/// A revision's compressed manifest (`None` once pruned).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ManifestRow {
    pub manifest: Option<Vec<u8>>,
}

/// An idempotency key's record: which request it came with and what it created.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    pub request_hash: String,
    pub store_id: String,
}

/// A single text column (an id).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct IdRow {
    pub id: String,
}

/// A single count.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CountRow {
    pub count: i64,
}

/// Converts every row, failing on the first that does not decode.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, DbError>
where
    T: TryFrom<R, Error = DbError>,
{
    rows.into_iter().map(T::try_from).collect()
}
