//! The values the revision methods of [`crate::Repository`] take and return.

use chrono::{DateTime, Utc};
use storeplane_domain::{
    Actor, ChangeRequest, CheckpointRestore, Job, Revision, RevisionContent, RevisionNumber,
    StoreId,
};

/// Why a change is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeCause {
    /// A person (or the API on their behalf) asked for a release, plan or title.
    Request(ChangeRequest),
    /// The platform settings changed what the store's deployed spec renders (an ingress
    /// class, a domain): a revision of the same spec, recorded only when the rendered
    /// manifest differs from the deployed one.
    Platform,
}

/// A change to record: the decision ([`storeplane_domain::decide_change`] or
/// [`storeplane_domain::decide_rerender`]) is taken inside the transaction, against the
/// store's revisions as they are then, so that of two concurrent changes one is recorded
/// and the other refused as in progress.
#[derive(Debug, Clone)]
pub struct RecordChange {
    pub store: StoreId,
    pub cause: ChangeCause,
    /// The caller's rendering of the spec the change results in (the request applied to
    /// the deployed revision's spec, as the caller read it). If the store moved on since,
    /// the change is refused as stale, never recorded with a rendering of another spec.
    pub content: RevisionContent,
    pub actor: Actor,
    pub reason: String,
    /// Attempts the job that carries the revision out is allowed.
    pub max_attempts: u32,
    pub now: DateTime<Utc>,
}

/// What [`crate::Repository::record_change`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The result equals the deployed revision: nothing recorded.
    NoOp { deployed: Revision },
    /// A `pending` revision was recorded and a job queued (or joined) to carry it out.
    Recorded { revision: Revision, job: Job },
}

/// A restore in place: the backup, and the deployed revision's spec rendered again.
#[derive(Debug, Clone)]
pub struct RecordRestore {
    pub store: StoreId,
    pub backup: storeplane_domain::BackupId,
    pub content: RevisionContent,
    pub actor: Actor,
    pub reason: String,
    pub max_attempts: u32,
    pub now: DateTime<Utc>,
}

/// A rollback to record; decided by [`storeplane_domain::decide_rollback`] inside the
/// transaction.
#[derive(Debug, Clone)]
pub struct RecordRollback {
    pub store: StoreId,
    pub target: RevisionNumber,
    /// Restore the checkpoint taken before the earliest data migration since the target
    /// (orders written since are lost); without it such a rollback is refused.
    pub restore_checkpoint: bool,
    /// A rendering of the target's spec with today's platform settings, used only when the
    /// target's manifest was pruned (`NoManifest` is refused when it is needed and absent).
    pub rerendered: Option<RevisionContent>,
    pub actor: Actor,
    pub reason: String,
    pub max_attempts: u32,
    pub now: DateTime<Utc>,
}

/// A recorded rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRecorded {
    /// The new `pending` revision (`rollback_of` the target, `restores` set when a
    /// checkpoint is to be restored first).
    pub revision: Revision,
    pub job: Job,
    pub restore: Option<CheckpointRestore>,
}

/// Revision 1 of a store that has none: a store created before revisions existed (the
/// backfill at start, `deployed: true`, actor `system:upgrade`), or a new store whose
/// first provisioning begins (`deployed: false`: recorded `applying`).
#[derive(Debug, Clone)]
pub struct InitialRevision {
    pub store: StoreId,
    /// The store's spec as it runs, with its release resolved, rendered by the caller.
    pub content: RevisionContent,
    pub actor: Actor,
    pub reason: String,
    pub deployed: bool,
    pub now: DateTime<Utc>,
}

/// Which of a store's revisions to list: newest first, `limit` at most, older than
/// `before` (the last number of the previous page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisionQuery {
    pub before: Option<RevisionNumber>,
    pub limit: u32,
}

/// The two revisions that say where a store stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreRevisions {
    /// The revision the store runs (`None` before its first is deployed).
    pub deployed: Option<Revision>,
    /// The newest revision (the deployed one when nothing happened since).
    pub latest: Option<Revision>,
}

impl StoreRevisions {
    /// The revision a worker is to carry out: the newest, if it is pending or applying.
    pub fn in_flight(&self) -> Option<&Revision> {
        self.latest.as_ref().filter(|r| r.is_in_flight())
    }
}
