//! storeplane's metadata store: stores, their timelines, users and API tokens, idempotency
//! keys, store revisions, and the durable job queue the workers lease from.
//!
//! One [`Repository`] trait, two implementations: [`SqliteRepository`] (the embedded
//! default, a file in the data directory in WAL mode) and [`PgRepository`] (PostgreSQL, for
//! HA and for running many `storeplane worker` processes). Both bind their queries at run
//! time and run the same shared test suite. [`connect`] picks one from a [`DatabaseUrl`]
//! and runs migrations.

mod accounts;
mod backups;
mod connect;
mod error;
mod manifest;
mod password_reset;
mod postgres;
mod queue;
mod repository;
mod revisions;
mod rows;
mod sessions;
mod shared;
mod sql;
mod sqlite;
mod stores;
mod timeline;
mod url;

pub use backups::{BackupRefused, RequestBackup};
pub use connect::{ConnectOptions, connect, migrate};
pub use error::DbError;
pub use password_reset::ResetRefused;
pub use postgres::PgRepository;
pub use repository::{
    Backend, ChangeCause, ChangeOutcome, CreateStore, CreateStoreOutcome, Enqueued, IdempotencyKey,
    InitialRevision, NewApiToken, NewSession, RecordChange, RecordRestore, RecordRollback,
    Repository, RevisionQuery, RollbackRecorded, Session, StoreQuery, StoreRevisions,
};
pub use sqlite::SqliteRepository;
pub use url::{DatabaseUrl, InvalidDatabaseUrl};
