//! The one repository trait both backends implement, and the values it takes.
//!
//! Every method that changes a store also appends to its timeline in the same
//! transaction, so the timeline never disagrees with the row. Time is always passed in
//! (`now`), never read here, so tests control it and leases can be expired at will.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use storeplane_domain::{
    Actor, Backup, BackupFigures, BackupId, BackupSchedule, Checkpoint, Job, JobId, JobKind,
    NewStoreEvent, RetryPolicy, Revision, RevisionNumber, RevisionStatus, Role, Store, StoreEvent,
    StoreId, StoreSpec, StoreStatus, User, UserId, UserName,
};

use crate::DbError;

mod revisions;

pub use revisions::{
    ChangeCause, ChangeOutcome, InitialRevision, RecordChange, RecordRestore, RecordRollback,
    RevisionQuery, RollbackRecorded, StoreRevisions,
};

/// Which database a repository talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A request to create a store: the row, its `created` event and its provisioning job are
/// written in one transaction, or none of them is.
#[derive(Debug, Clone)]
pub struct CreateStore {
    pub id: StoreId,
    pub spec: StoreSpec,
    pub owner: UserId,
    pub actor: Actor,
    /// The owner's limit of live stores, checked inside the transaction; `None` for none.
    pub live_store_limit: Option<u32>,
    /// Attempts the provisioning job is allowed.
    pub max_attempts: u32,
    pub idempotency: Option<IdempotencyKey>,
    /// The backup the store is made from (checked by the caller: it succeeded, and the
    /// caller may read it); its first provisioning restores it.
    pub restore_from: Option<BackupId>,
    pub now: DateTime<Utc>,
}

/// An `Idempotency-Key` header and a hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    /// A digest of the request body: the same key with another body is a conflict.
    pub request_hash: String,
}

/// What [`Repository::create_store`] did.
#[derive(Debug, Clone)]
pub enum CreateStoreOutcome {
    /// The store was created and its provisioning job queued.
    Created { store: Store, job: Job },
    /// The idempotency key had been used for the same request: the store it created then.
    Replayed { store: Store },
}

impl CreateStoreOutcome {
    pub fn store(&self) -> &Store {
        match self {
            Self::Created { store, .. } | Self::Replayed { store } => store,
        }
    }
}

/// Which stores to list: newest first, `limit` at most, after a cursor.
#[derive(Debug, Clone, Default)]
pub struct StoreQuery {
    /// Only this owner's stores (`None`: everyone's, for admins).
    pub owner: Option<UserId>,
    pub status: Option<StoreStatus>,
    /// Only stores with this name.
    pub name: Option<String>,
    /// Only stores older than this one (the last id of the previous page).
    pub before: Option<StoreId>,
    pub limit: u32,
}

/// A dashboard session about to be recorded: only the hash of its id is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Hex SHA-256 of the session id the cookie carries.
    pub token_hash: String,
    pub user: UserId,
    /// The token cookie-authenticated changes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// A live dashboard session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
}

/// The outcome of [`Repository::enqueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub job: Job,
    /// True when the store already had an active job and the request joined it.
    pub coalesced: bool,
}

/// A new API token: only its hash ever reaches the database.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user: UserId,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub label: String,
    pub now: DateTime<Utc>,
}

/// The metadata store. Implementations are cheap to clone behind an `Arc` and safe to share
/// between tasks; every method is one transaction.
#[async_trait]
pub trait Repository: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;

    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), DbError>;

    // ---- users and tokens ----

    /// Returns the user with this name, creating it with `role` if absent (an existing
    /// user's role is raised to admin when `role` is admin, never lowered).
    async fn ensure_user(
        &self,
        name: &UserName,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<User, DbError>;

    async fn user_by_name(&self, name: &UserName) -> Result<User, DbError>;

    async fn create_api_token(&self, token: NewApiToken) -> Result<(), DbError>;

    /// The user owning the unrevoked token with this hash; records its last use.
    async fn user_by_token_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DbError>;

    /// Revokes the token with this hash: it no longer authenticates anyone. Revoking a
    /// revoked token changes nothing; `NotFound` if no token has the hash.
    async fn revoke_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), DbError>;

    /// Records a one-time login link (by hash) that signs `user` in until `expires_at`.
    async fn create_login_token(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Uses up a login link: its user, once; `NotFound` if unknown, used or expired.
    async fn consume_login_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DbError>;

    async fn create_session(&self, session: NewSession) -> Result<(), DbError>;

    /// The unexpired session with this id hash; `NotFound` otherwise.
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Session, DbError>;

    // ---- stores ----

    /// Creates a store in `pending` with its `created` event and provisioning job, in one
    /// transaction. `NameTaken` if a live store has the name, `QuotaExceeded` past the
    /// owner's limit, `IdempotencyConflict` for a reused key with another request.
    async fn create_store(&self, request: CreateStore) -> Result<CreateStoreOutcome, DbError>;

    async fn get_store(&self, id: StoreId) -> Result<Store, DbError>;

    async fn list_stores(&self, query: &StoreQuery) -> Result<Vec<Store>, DbError>;

    /// Moves a store to `to` if the lifecycle allows it from its current status
    /// (compare-and-set, so two writers cannot both move it), recording a `status_changed`
    /// event. Moving to the status it already has changes nothing and records nothing.
    async fn set_store_status(
        &self,
        id: StoreId,
        to: StoreStatus,
        reason: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Store, DbError>;

    /// Like [`Repository::set_store_status`], and appends `note` in the same transaction
    /// when the status moves: a word that must be on the timeline exactly once with the
    /// move (the URL a store became ready at), even if the process dies right after it.
    async fn set_store_status_noting(
        &self,
        id: StoreId,
        to: StoreStatus,
        reason: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
        note: NewStoreEvent,
    ) -> Result<Store, DbError>;

    /// Moves the store to `deleting` and queues its teardown job, in one transaction.
    /// Idempotent: a store already deleting or deleted is returned as it is.
    async fn request_deletion(
        &self,
        id: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Store, DbError>;

    /// Moves a failed store back to `pending` with a fresh provisioning job.
    async fn retry_store(
        &self,
        id: StoreId,
        actor: &Actor,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Store, DbError>;

    /// Whether the store's initial admin credentials were already revealed.
    async fn credentials_revealed(&self, id: StoreId) -> Result<bool, DbError>;

    /// Records that the credentials were revealed, with a `credentials_revealed` event.
    /// Returns false (and records nothing) if they already were: of two concurrent
    /// reveals exactly one gets true.
    async fn mark_credentials_revealed(
        &self,
        id: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError>;

    // ---- timeline ----

    async fn append_event(&self, event: NewStoreEvent) -> Result<StoreEvent, DbError>;

    /// One store's events, oldest first, after `after_seq`.
    async fn store_events(
        &self,
        id: StoreId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoreEvent>, DbError>;

    /// Every store's events after `after_seq`, oldest first (for live-update resumption).
    /// Events become visible in `seq` order: no event with a smaller `seq` appears after a
    /// reader has seen a larger one.
    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<StoreEvent>, DbError>;

    /// The `seq` of the newest event (0 when there is none).
    async fn latest_event_seq(&self) -> Result<i64, DbError>;

    /// Yields whenever events may have been appended (by this process, or on PostgreSQL by
    /// any process sharing the database). A hint to read [`Repository::events_after`]: it
    /// may fire without new events. On SQLite it listens from the moment it is created; on
    /// PostgreSQL from its first poll, and it yields once as soon as it listens (and after
    /// every reconnect), since events may have been written while nobody listened.
    fn event_wakeups(&self) -> BoxStream<'static, ()>;

    /// Yields whenever a job may have become runnable (queued, queued again after a rerun
    /// request, or handed back), by this process or on PostgreSQL by any process sharing
    /// the database: idle workers lease at once instead of at their next poll. A hint with
    /// the same guarantees as [`Repository::event_wakeups`]; jobs that become runnable by
    /// the clock (a retry's backoff, an expired lease) are found by polling.
    fn job_wakeups(&self) -> BoxStream<'static, ()>;

    // ---- job queue ----

    /// Queues a job for the store, or joins its active job (`coalesced`): a queued job is
    /// relabelled with the newer kind; a leased one is marked to run again on completion
    /// (and also takes the newer kind, which that rerun does; the worker holding it goes
    /// on with the copy it leased). `NotFound` if the store does not exist.
    async fn enqueue(
        &self,
        store: StoreId,
        kind: JobKind,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Enqueued, DbError>;

    /// Leases the oldest runnable job to `holder` until `now + lease_for`: a queued job
    /// whose `run_at` has come, or a leased one whose lease expired (its holder died).
    /// Increments `attempts`. `None` when nothing is runnable. Expired leases are taken
    /// over first (orphaned work is the oldest there is), then queued jobs by `run_at`.
    async fn lease(
        &self,
        holder: &str,
        lease_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>, DbError>;

    /// Extends a live lease. `LeaseLost` if the lease expired and was taken, or is not
    /// `holder`'s.
    async fn heartbeat(
        &self,
        job: JobId,
        holder: &str,
        lease_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<Job, DbError>;

    /// Marks the job done (or queues it again at once if a request arrived meanwhile).
    async fn complete(&self, job: JobId, holder: &str, now: DateTime<Utc>) -> Result<Job, DbError>;

    /// Records a failed attempt: queued again after `policy`'s backoff (with `jitter` in
    /// `[0, 1)`), or `dead` after the last allowed attempt (the lower of the policy's and
    /// the job's `max_attempts`). A job marked to run again is never dead: like
    /// [`complete`](Self::complete), it is queued at once with a fresh attempt budget,
    /// because the request that marked it came after the spent attempts began.
    async fn fail(
        &self,
        job: JobId,
        holder: &str,
        error: &str,
        policy: &RetryPolicy,
        jitter: f64,
        now: DateTime<Utc>,
    ) -> Result<Job, DbError>;

    /// Hands a lease back unfinished (graceful shutdown): queued again at once, and the
    /// attempt does not count.
    async fn release(&self, job: JobId, holder: &str, now: DateTime<Utc>) -> Result<Job, DbError>;

    async fn get_job(&self, job: JobId) -> Result<Job, DbError>;

    /// The store's queued or leased job, if any.
    async fn active_job(&self, store: StoreId) -> Result<Option<Job>, DbError>;

    // ---- revisions ----
    //
    // A store's revisions are numbered 1, 2, ... without gaps; at most one is pending or
    // applying (always the newest) and at most one is deployed. Jobs carry no revision: a
    // worker leasing a store's job carries out the store's in-flight revision if it has
    // one ([`StoreRevisions::in_flight`]), and otherwise re-applies the deployed one.

    /// Records a change as a new `pending` revision and queues a `reconcile` job for the
    /// store (or joins its active job), with a `step` event, in one transaction; or, when
    /// the result equals the deployed revision, records nothing. The decision is taken
    /// after locking the store, so of two concurrent changes one is recorded and the other
    /// refused as in progress. Refused ([`DbError::ChangeRefused`]): `InProgress` while a
    /// revision is pending or applying, or before the first is deployed; `Stale` when
    /// `If-Match`, or the spec the content was rendered from, is not the latest;
    /// `NotChangeable` for a store being deleted; `LeftFailed` for a platform change to a
    /// store left on a failed revision.
    /// [`DbError::ResetRefused`] `ResetInProgress` while an admin password reset is pending.
    async fn record_change(&self, change: RecordChange) -> Result<ChangeOutcome, DbError>;

    /// Records a rollback as a new `pending` revision replaying the target's spec and
    /// manifest (or the caller's rendering when the manifest was pruned), and queues its
    /// job, in one transaction. Refused with [`DbError::RollbackRefused`] as
    /// [`storeplane_domain::decide_rollback`] says, or `NoManifest`; and with
    /// [`DbError::ChangeRefused`] `NotChangeable` for a store being deleted.
    async fn record_rollback(&self, rollback: RecordRollback) -> Result<RollbackRecorded, DbError>;

    /// Records revision 1 of a store that has no revision, with a `step` event; when
    /// `deployed`, it becomes the store's deployed revision and the store's release and
    /// title are set from it. Nothing in the cluster changes. `None` (nothing recorded)
    /// when the store already has a revision, so running the backfill twice, or on two
    /// replicas at once, records one.
    async fn record_initial_revision(
        &self,
        initial: InitialRevision,
    ) -> Result<Option<Revision>, DbError>;

    /// Records the next revision, `applying`, of a store whose first provisioning failed
    /// and was retried (a failed revision is never applied again), with a `step` event.
    /// `None` unless the store has no deployed revision and its newest one failed or was
    /// rolled back, so a repeated call records nothing more. `deployed` is ignored.
    async fn record_provisioning_retry(
        &self,
        retry: InitialRevision,
    ) -> Result<Option<Revision>, DbError>;

    /// Live stores with no revision yet (created before revisions existed), oldest first:
    /// what the backfill at start records revision 1 for.
    async fn stores_without_revisions(&self, limit: u32) -> Result<Vec<Store>, DbError>;

    /// A store's revisions, newest first (empty for a store without any).
    async fn list_revisions(
        &self,
        store: StoreId,
        query: &RevisionQuery,
    ) -> Result<Vec<Revision>, DbError>;

    /// One revision; `NotFound` if the store has no such revision.
    async fn get_revision(
        &self,
        store: StoreId,
        number: RevisionNumber,
    ) -> Result<Revision, DbError>;

    /// A revision's rendered manifest (YAML, Secrets as placeholders); `None` once it was
    /// pruned, `NotFound` if there is no such revision.
    async fn revision_manifest(
        &self,
        store: StoreId,
        number: RevisionNumber,
    ) -> Result<Option<String>, DbError>;

    /// The store's deployed and newest revisions.
    async fn store_revisions(&self, store: StoreId) -> Result<StoreRevisions, DbError>;

    /// Moves a revision to `to` if [`RevisionStatus::can_become`] allows it (compare-and-set),
    /// with a `step` event: `applying` sets `started_at`; `failed` records `failure` (kept
    /// by `rolled_back`); `failed` and `rolled_back` set `finished_at`. Moving to the status
    /// it has changes nothing. `deployed` is [`Repository::mark_revision_deployed`].
    async fn set_revision_status(
        &self,
        store: StoreId,
        number: RevisionNumber,
        to: RevisionStatus,
        failure: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Revision, DbError>;

    /// Marks an applying revision deployed, in one transaction: the previously deployed
    /// one becomes `superseded`, the store's `deployed_revision`, plan, release and title
    /// follow the revision, and a `step` event says so. Marking the deployed revision
    /// again changes nothing.
    async fn mark_revision_deployed(
        &self,
        store: StoreId,
        number: RevisionNumber,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Revision, DbError>;

    /// Records the checkpoint taken before a pending or applying revision is applied, with
    /// a `step` event. `NotFound { what: "revision in flight" }` when the revision does
    /// not exist or is no longer pending or applying.
    async fn record_checkpoint(
        &self,
        store: StoreId,
        number: RevisionNumber,
        checkpoint: &Checkpoint,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Revision, DbError>;

    /// Drops the manifests of the store's revisions older than its newest `keep` (never
    /// the deployed one's or one in flight); rows and digests stay. Returns how many were
    /// dropped.
    async fn prune_manifests(&self, store: StoreId, keep: u32) -> Result<u64, DbError>;

    /// Records when a drift pass last checked the store (no event: a quiet pass writes
    /// none).
    async fn set_last_checked(&self, store: StoreId, at: DateTime<Utc>) -> Result<(), DbError>;

    /// Records the public values the store's setup published (see `Store::outputs`),
    /// replacing any recorded before, with `note` on the timeline, in one transaction.
    async fn set_store_outputs(
        &self,
        store: StoreId,
        outputs: &BTreeMap<String, String>,
        note: NewStoreEvent,
    ) -> Result<Store, DbError>;

    // ---- admin password resets ----

    /// Records a reset request: bumps the store's wanted admin-password generation, queues a
    /// Reconcile job, writes the "admin password reset requested" event. Refused
    /// ([`DbError::ResetRefused`], 409 at the API) when the store is not ready, or a reset
    /// or a revision is in flight. Returns the new generation.
    async fn request_password_reset(
        &self,
        store: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u32, DbError>;

    /// The generation wanted but not yet applied, if any.
    async fn pending_password_reset(&self, store: StoreId) -> Result<Option<u32>, DbError>;

    /// In one transaction: marks `generation` applied, makes the credentials revealable
    /// once again (clears the revealed mark), writes the "admin password reset; the new
    /// credentials can be revealed once" event. Idempotent for an already applied
    /// generation.
    async fn complete_password_reset(
        &self,
        store: StoreId,
        generation: u32,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    // ---- backups ----

    /// Records a manual (or checkpoint) backup request: the row, the store's Reconcile job
    /// and the "requested" event, in one transaction. Refused ([`DbError::BackupRefused`],
    /// 409 at the API) unless the store is ready with no backup, revision or admin password
    /// reset in progress.
    async fn request_backup(&self, request: crate::RequestBackup) -> Result<Backup, DbError>;

    /// Requests the checkpoint backup taken before revision `before` is applied, in that
    /// revision's pass (nothing refuses it); the store's active backup if it has one.
    async fn request_checkpoint_backup(
        &self,
        store: StoreId,
        before: RevisionNumber,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Backup, DbError>;

    /// Requests the store's scheduled backup if `schedule` says it is due at
    /// `request.now`; `None` when it is not, or the store cannot take one now.
    async fn schedule_backup(
        &self,
        schedule: BackupSchedule,
        request: crate::RequestBackup,
    ) -> Result<Option<Backup>, DbError>;

    /// The ready stores whose scheduled backup is due at `now`, the longest overdue first.
    async fn stores_due_for_backup(
        &self,
        schedule: BackupSchedule,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreId>, DbError>;

    async fn get_backup(&self, id: BackupId) -> Result<Backup, DbError>;

    /// The store's backups, newest first, at most `limit`.
    async fn store_backups(&self, store: StoreId, limit: u32) -> Result<Vec<Backup>, DbError>;

    /// The store's pending or running backup, if any.
    async fn active_backup(&self, store: StoreId) -> Result<Option<Backup>, DbError>;

    /// Marks a pending backup running, with a `step` event (idempotent).
    async fn start_backup(
        &self,
        id: BackupId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Backup, DbError>;

    /// Records an active backup's outcome, with a `step` event (idempotent): restic's
    /// figures, or why it failed.
    async fn finish_backup(
        &self,
        id: BackupId,
        outcome: Result<BackupFigures, String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Backup, DbError>;

    /// Records a restore in place of backup `restore.backup` (the store's own, succeeded)
    /// as a pending revision of the deployed spec that restores it (a checkpoint is taken
    /// first, so it can be rolled back), with its job and event. Refused as a change is
    /// (409), and `NotFound`/`BackupRefused` for a backup that cannot be restored here.
    async fn record_restore(&self, restore: RecordRestore) -> Result<Revision, DbError>;

    /// An admin's purge of a deleted store's backups: they expire now (refused,
    /// `BackupRefused::NotDeleted`, for a store that is not deleted), with an event; the
    /// worker then deletes the store's key and the rows. Returns how many expire.
    async fn expire_backups_now(
        &self,
        store: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError>;

    /// The stores with backups past their expiry.
    async fn stores_with_expired_backups(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreId>, DbError>;

    /// Deletes the store's backups past their expiry, with an event (its key is deleted
    /// first by the caller). Returns how many.
    async fn purge_backups(
        &self,
        store: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError>;

    /// For a store being torn down: its backups expire `retention` after `now`, and an
    /// active one fails. Returns how many successful backups it keeps until then.
    async fn expire_backups(
        &self,
        store: StoreId,
        now: DateTime<Utc>,
        retention: chrono::Duration,
        actor: &Actor,
    ) -> Result<u64, DbError>;
}
