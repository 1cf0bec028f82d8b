//! storeplane's domain model: what a store is, how its lifecycle may move, what its
//! timeline records, how jobs are retried, and what a change, a rollback or a failed
//! upgrade does to a store's revisions.
//!
//! This crate is pure: it knows nothing of HTTP, SQL or Kubernetes and never reads the
//! clock or a random source itself. Time and randomness are passed in, so every rule here
//! is tested without I/O.

mod backup;
mod event;
mod job;
mod lifecycle;
mod name;
mod release;
mod revision;
mod store;
mod user;

pub use backup::{
    ActiveBackup, Backup, BackupFigures, BackupHealth, BackupId, BackupKind, BackupSchedule,
    BackupStatus, StoreBackups, human_bytes,
};
pub use event::{Actor, EventKind, NewStoreEvent, StoreEvent, UnknownActor};
pub use job::{Job, JobId, JobKind, JobState, RetryPolicy};
pub use lifecycle::{IllegalTransition, StoreStatus};
pub use name::{InvalidName, NameRule, StoreName};
pub use release::{InvalidSpecValue, ReleaseName, StoreTitle};
pub use revision::{
    ChangeDecision, ChangeRefused, ChangeRequest, Checkpoint, CheckpointRestore,
    IllegalRevisionTransition, InvalidRevisionNumber, Remediation, Replay, Revision,
    RevisionContent, RevisionNumber, RevisionStatus, RollbackDecision, RollbackRefused,
    decide_change, decide_remediation, decide_rerender, decide_rollback, describe_spec_change,
    replaced_data,
};
pub use store::{Engine, InFlightRevision, Plan, Store, StoreId, StoreSpec, UnknownVariant};
pub use user::{InvalidUserName, Role, User, UserId, UserName};
