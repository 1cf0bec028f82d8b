//! What can go wrong in the metadata store, each case distinct so callers map it precisely
//! (a missing row is a 404, a taken name a 409, a lost lease a worker that must stop).

use std::path::PathBuf;

use storeplane_domain::{
    ChangeRefused, IllegalRevisionTransition, IllegalTransition, JobId, RollbackRefused,
};

use crate::InvalidDatabaseUrl;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{what} not found")]
    NotFound { what: &'static str },

    #[error("a store named {name:?} already exists")]
    NameTaken { name: String },

    #[error("the limit of {limit} live stores per user is reached")]
    QuotaExceeded { limit: u32 },

    #[error("the idempotency key was already used with a different request")]
    IdempotencyConflict,

    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),

    #[error(transparent)]
    IllegalRevisionTransition(#[from] IllegalRevisionTransition),

    /// A change the store's revisions do not allow now (409/412 at the API).
    #[error(transparent)]
    ChangeRefused(#[from] ChangeRefused),

    /// A rollback the store's revisions do not allow (404/409 at the API).
    #[error(transparent)]
    RollbackRefused(#[from] RollbackRefused),

    /// An admin password reset the store does not allow now (409 at the API).
    #[error(transparent)]
    ResetRefused(#[from] crate::ResetRefused),

    /// A backup the store does not allow now, or an operation refused while a backup is
    /// in progress (409 at the API).
    #[error(transparent)]
    BackupRefused(#[from] crate::BackupRefused),

    #[error("job {job} is no longer leased by {holder:?}")]
    LeaseLost { job: JobId, holder: String },

    #[error(transparent)]
    InvalidUrl(#[from] InvalidDatabaseUrl),

    #[error("data directory {} is not writable", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The database could not be reached; `url` is redacted.
    #[error("failed to connect to the database at {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("failed to migrate the database")]
    Migrate(#[source] sqlx::migrate::MigrateError),

    /// A row that does not decode into the domain (a bug or a hand-edited database).
    #[error("corrupt {what} row: {detail}")]
    Corrupt { what: &'static str, detail: String },

    #[error("database query failed")]
    Query(#[from] sqlx::Error),
}

impl DbError {
    /// Whether retrying the same operation later may succeed (the database was busy or
    /// unreachable) rather than failing the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. } => true,
            Self::Query(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
                ) || e.as_database_error().is_some_and(|d| {
                    // SQLite: SQLITE_BUSY / SQLITE_LOCKED; PostgreSQL: serialization failure,
                    // deadlock.
                    matches!(
                        d.code().as_deref(),
                        Some("5" | "6" | "517" | "40001" | "40P01")
                    )
                })
            }
            _ => false,
        }
    }
}
