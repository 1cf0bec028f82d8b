//! What the two backends share: one way to run a statement on either database, and the
//! seam ([`SqlBackend`]) where they differ.
//!
//! The repository logic (stores, timeline, queue, accounts) is written once, generic over
//! [`SqlBackend`]. SQLite and PostgreSQL accept the same SQL for almost everything here
//! (`$1` placeholders, `RETURNING`, `ON CONFLICT`), so a backend only supplies how it opens
//! connections and transactions, the few statements whose text must differ, and how it
//! keeps the event sequence gap-free for readers.

use std::fmt;
use std::future::Future;
use std::ops::DerefMut;

use futures::stream::BoxStream;
use sqlx::postgres::PgRow;
use sqlx::query::Query;
use sqlx::sqlite::SqliteRow;
use sqlx::{Database, Encode, FromRow, Type};

use crate::Backend;

/// A value bound to a statement parameter. Statements are bound through this enum rather
/// than generically so that the shared logic needs no per-database trait bounds.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    BigInt(Option<i64>),
    Int(Option<i32>),
    Bool(bool),
    Bytes(Option<Vec<u8>>),
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Self::BigInt(Some(value))
    }
}

impl From<i32> for Arg {
    fn from(value: i32) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i32>> for Arg {
    fn from(value: Option<i32>) -> Self {
        Self::Int(value)
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Self::BigInt(value)
    }
}

impl From<Option<Vec<u8>>> for Arg {
    fn from(value: Option<Vec<u8>>) -> Self {
        Self::Bytes(value)
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

/// Builds the argument list of a statement: `args![id, name, now_ms]`.
macro_rules! args {
    ($($value:expr),* $(,)?) => { vec![$($crate::sql::Arg::from($value)),*] };
}
pub(crate) use args;

/// A row type that decodes from either database.
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// A connection (or a transaction's connection) that runs the shared statements.
pub(crate) trait Conn: Send {
    /// Taken inside a transaction before it inserts an event, so that events become
    /// visible to readers in `seq` order; `None` where commits are already serialized.
    const EVENT_ORDER_LOCK: Option<&'static str>;

    /// Run in a transaction that made a job runnable, to wake the workers of every process
    /// sharing the database (delivered when, and only if, it commits); `None` where
    /// [`SqlBackend::announce_jobs`] wakes this process's workers instead.
    const JOBS_NOTIFY: Option<&'static str>;

    /// Runs a statement, returning the number of rows it changed.
    fn execute(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    fn fetch_optional<R: Record>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<R>, sqlx::Error>> + Send;

    fn fetch_all<R: Record>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<R>, sqlx::Error>> + Send;
}

/// Implements [`Conn`] for a driver's connection type.
macro_rules! impl_conn {
    ($db:ty, $conn:ty, $event_order_lock:expr, $jobs_notify:expr) => {
        impl $crate::sql::Conn for $conn {
            const EVENT_ORDER_LOCK: Option<&'static str> = $event_order_lock;
            const JOBS_NOTIFY: Option<&'static str> = $jobs_notify;

            async fn execute(
                &mut self,
                sql: &'static str,
                args: Vec<$crate::sql::Arg>,
            ) -> Result<u64, sqlx::Error> {
                let query = $crate::sql::bind(sqlx::query::<$db>(sql), args);
                Ok(query.execute(self).await?.rows_affected())
            }

            async fn fetch_optional<R: $crate::sql::Record>(
                &mut self,
                sql: &'static str,
                args: Vec<$crate::sql::Arg>,
            ) -> Result<Option<R>, sqlx::Error> {
                let query = $crate::sql::bind(sqlx::query::<$db>(sql), args);
                query
                    .fetch_optional(self)
                    .await?
                    .map(|row| R::from_row(&row))
                    .transpose()
            }

            async fn fetch_all<R: $crate::sql::Record>(
                &mut self,
                sql: &'static str,
                args: Vec<$crate::sql::Arg>,
            ) -> Result<Vec<R>, sqlx::Error> {
                let query = $crate::sql::bind(sqlx::query::<$db>(sql), args);
                query
                    .fetch_all(self)
                    .await?
                    .iter()
                    .map(R::from_row)
                    .collect()
            }
        }
    };
}
pub(crate) use impl_conn;

/// Binds `args` to `query` in order.
pub(crate) fn bind<DB>(
    query: Query<'static, DB, DB::Arguments>,
    args: Vec<Arg>,
) -> Query<'static, DB, DB::Arguments>
where
    DB: Database,
    Option<String>: for<'e> Encode<'e, DB> + Type<DB>,
    Option<i64>: for<'e> Encode<'e, DB> + Type<DB>,
    Option<i32>: for<'e> Encode<'e, DB> + Type<DB>,
    bool: for<'e> Encode<'e, DB> + Type<DB>,
    Option<Vec<u8>>: for<'e> Encode<'e, DB> + Type<DB>,
{
    args.into_iter().fold(query, |query, arg| match arg {
        Arg::Text(value) => query.bind(value),
        Arg::BigInt(value) => query.bind(value),
        Arg::Int(value) => query.bind(value),
        Arg::Bool(value) => query.bind(value),
        Arg::Bytes(value) => query.bind(value),
    })
}

/// One database behind the shared repository logic.
pub(crate) trait SqlBackend: Send + Sync + fmt::Debug {
    type Db: Database<Connection: Conn>;

    const BACKEND: Backend;

    /// Leases the oldest runnable job; binds `$1` now, `$2` holder, `$3` lease expiry.
    const LEASE: &'static str;

    /// Locks the owner's row for the rest of the transaction, so concurrent creates by one
    /// user see each other's idempotency keys and count each other's stores; binds `$1`
    /// user id and returns the id.
    const LOCK_OWNER: &'static str;

    /// Locks the store's row for the rest of the transaction, so that two transactions
    /// recording a revision for one store run one after the other (the second sees the
    /// first's revision); binds `$1` store id and returns the id.
    const LOCK_STORE: &'static str;

    /// A transaction on a connection that may write; rolled back if dropped uncommitted.
    type Tx<'a>: DerefMut<Target = <Self::Db as Database>::Connection> + Send
    where
        Self: 'a;

    /// A connection that may write, for single statements (each its own transaction).
    type Writer<'a>: DerefMut<Target = <Self::Db as Database>::Connection> + Send
    where
        Self: 'a;

    /// A connection for reads.
    type Reader<'a>: DerefMut<Target = <Self::Db as Database>::Connection> + Send
    where
        Self: 'a;

    fn begin(&self) -> impl Future<Output = Result<Self::Tx<'_>, sqlx::Error>> + Send;

    fn commit<'a>(tx: Self::Tx<'a>) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a
    where
        Self: 'a;

    fn writer(&self) -> impl Future<Output = Result<Self::Writer<'_>, sqlx::Error>> + Send;

    fn reader(&self) -> impl Future<Output = Result<Self::Reader<'_>, sqlx::Error>> + Send;

    /// Tells this process's listeners that a transaction that appended events committed.
    /// Nothing to do where the database itself notifies listeners (PostgreSQL).
    fn announce_events(&self) {}

    /// Wakes whenever events may have been appended; see `Repository::event_wakeups`.
    fn event_wakeups(&self) -> BoxStream<'static, ()>;

    /// Tells this process's workers that a transaction that made a job runnable committed.
    /// Nothing to do where the database itself notifies listeners (PostgreSQL).
    fn announce_jobs(&self) {}

    /// Wakes whenever a job may have become runnable; see `Repository::job_wakeups`.
    fn job_wakeups(&self) -> BoxStream<'static, ()>;
}

/// The columns of `stores`, in [`crate::rows::StoreRow`] order.
///
/// The revision columns come from `store_revisions` by index lookups (its primary key,
/// and the partial index that allows one revision in flight per store), and the backup
/// columns from `backups` likewise (the partial index of active backups, and the index by
/// store), so a page of stores reads where each stands in one query rather than one more
/// per store.
macro_rules! store_columns {
    () => {
        "id, name, engine, plan, release, title, owner_id, status, status_reason, \
         deployed_revision, last_checked_at, created_at, updated_at, outputs, restore_from, \
         (SELECT MAX(sr.number) FROM store_revisions sr WHERE sr.store_id = stores.id) \
         AS latest_revision, \
         (SELECT sr.number FROM store_revisions sr WHERE sr.store_id = stores.id \
         AND sr.status IN ('pending', 'applying')) AS in_flight_revision, \
         (SELECT sr.rollback_of FROM store_revisions sr WHERE sr.store_id = stores.id \
         AND sr.status IN ('pending', 'applying')) AS in_flight_rollback_of, \
         (SELECT sr.restores_backup FROM store_revisions sr WHERE sr.store_id = stores.id \
         AND sr.status IN ('pending', 'applying')) AS in_flight_restores_backup, \
         (admin_password_generation > admin_password_applied) AS password_reset_pending, \
         (SELECT b.id FROM backups b WHERE b.store_id = stores.id \
         AND b.status IN ('pending', 'running')) AS active_backup_id, \
         (SELECT b.kind FROM backups b WHERE b.store_id = stores.id \
         AND b.status IN ('pending', 'running')) AS active_backup_kind, \
         (SELECT MAX(b.created_at) FROM backups b WHERE b.store_id = stores.id \
         AND b.kind = 'scheduled') AS last_scheduled_backup_at, \
         (SELECT MAX(b.finished_at) FROM backups b WHERE b.store_id = stores.id \
         AND b.status = 'succeeded') AS last_backup_succeeded_at"
    };
}
pub(crate) use store_columns;

/// The columns of `store_revisions` but the manifest itself, in
/// [`crate::rows::RevisionRow`] order.
macro_rules! revision_columns {
    () => {
        "store_id, number, spec, platform_digest, manifest_digest, \
         (manifest IS NOT NULL) AS manifest_kept, actor, reason, status, failure, created_at, \
         started_at, finished_at, checkpoint, rollback_of, restores, migrates_data, restores_backup"
    };
}
pub(crate) use revision_columns;

/// The columns of `jobs`, in [`crate::rows::JobRow`] order.
macro_rules! job_columns {
    () => {
        "id, store_id, kind, state, attempts, max_attempts, run_at, lease_holder, \
         lease_expires_at, rerun, last_error, created_at, updated_at"
    };
}
pub(crate) use job_columns;

/// The lease statement, given each backend's row-locking clause for its candidate
/// subqueries.
///
/// Expired leases are taken over before queued jobs: their work was started and orphaned by
/// a worker that died, so it is the oldest outstanding work. Each candidate comes from its
/// own partial index in order, so leasing stays cheap however many finished jobs the table
/// holds. The uncorrelated subqueries are evaluated once, before the update.
macro_rules! lease_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_holder = $2, \
             lease_expires_at = $3, updated_at = $1 \
             WHERE id = COALESCE(\
               (SELECT id FROM jobs WHERE state = 'leased' AND lease_expires_at < $1 \
                ORDER BY lease_expires_at, id LIMIT 1 ",
            $lock,
            "), \
               (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1 \
                ORDER BY run_at, id LIMIT 1 ",
            $lock,
            ")) RETURNING ",
            $crate::sql::job_columns!()
        )
    };
}
pub(crate) use lease_sql;

/// Whether `error` is the unique index on live store names refusing a second store.
pub(crate) fn is_name_taken(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|e| {
        e.is_unique_violation()
            // PostgreSQL names the index; SQLite names the column.
            && (e.constraint() == Some("stores_live_name") || e.message().contains("stores.name"))
    })
}
