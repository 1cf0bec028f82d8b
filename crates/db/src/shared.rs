//! The one [`Repository`] implementation, for any [`SqlBackend`]: each method is a
//! transaction (or a single statement) written once in `stores`, `timeline`, `queue`,
//! `revisions` and `accounts`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use storeplane_domain::{
    Actor, Backup, BackupFigures, BackupId, BackupSchedule, Checkpoint, Job, JobId, JobKind,
    NewStoreEvent, RetryPolicy, Revision, RevisionNumber, RevisionStatus, Role, Store, StoreEvent,
    StoreId, StoreStatus, User, UserId, UserName,
};

use crate::repository::{
    ChangeOutcome, CreateStore, CreateStoreOutcome, Enqueued, InitialRevision, NewApiToken,
    NewSession, RecordChange, RecordRestore, RecordRollback, RevisionQuery, RollbackRecorded,
    Session, StoreQuery, StoreRevisions,
};
use crate::sql::{Conn, SqlBackend, args};
use crate::{
    Backend, DbError, Repository, accounts, backups, password_reset, queue, revisions, sessions,
    stores, timeline,
};

#[async_trait]
impl<B: SqlBackend> Repository for B {
    fn backend(&self) -> Backend {
        B::BACKEND
    }

    async fn ping(&self) -> Result<(), DbError> {
        self.reader().await?.execute("SELECT 1", args![]).await?;
        Ok(())
    }

    async fn ensure_user(
        &self,
        name: &UserName,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<User, DbError> {
        accounts::ensure_user(self, name, role, now).await
    }

    async fn user_by_name(&self, name: &UserName) -> Result<User, DbError> {
        accounts::user_by_name(self, name).await
    }

    async fn create_api_token(&self, token: NewApiToken) -> Result<(), DbError> {
        accounts::create_token(self, token).await
    }

    async fn user_by_token_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DbError> {
        accounts::user_by_token(self, token_hash, now).await
    }

    async fn revoke_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), DbError> {
        accounts::revoke_token(self, token_hash, now).await
    }

    async fn create_login_token(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        sessions::create_login_token(self, token_hash, user, expires_at, now).await
    }

    async fn consume_login_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, DbError> {
        sessions::consume_login_token(self, token_hash, now).await
    }

    async fn create_session(&self, session: NewSession) -> Result<(), DbError> {
        sessions::create_session(self, session).await
    }

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Session, DbError> {
        sessions::session(self, token_hash, now).await
    }

    async fn credentials_revealed(&self, id: StoreId) -> Result<bool, DbError> {
        stores::credentials_revealed(self, id).await
    }

    async fn mark_credentials_revealed(
        &self,
        id: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        stores::mark_credentials_revealed(self, id, actor, now).await
    }

    async fn latest_event_seq(&self) -> Result<i64, DbError> {
        timeline::latest_seq(self).await
    }

    fn event_wakeups(&self) -> BoxStream<'static, ()> {
        SqlBackend::event_wakeups(self)
    }

    fn job_wakeups(&self) -> BoxStream<'static, ()> {
        SqlBackend::job_wakeups(self)
    }

    async fn create_store(&self, request: CreateStore) -> Result<CreateStoreOutcome, DbError> {
        stores::create(self, request).await
    }

    async fn get_store(&self, id: StoreId) -> Result<Store, DbError> {
        stores::get(self, id).await
    }

    async fn list_stores(&self, query: &StoreQuery) -> Result<Vec<Store>, DbError> {
        stores::list(self, query).await
    }

    async fn set_store_status(
        &self,
        id: StoreId,
        to: StoreStatus,
        reason: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Store, DbError> {
        stores::set_status(self, id, to, reason, actor, now, None).await
    }

    async fn set_store_status_noting(
        &self,
        id: StoreId,
        to: StoreStatus,
        reason: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
        note: NewStoreEvent,
    ) -> Result<Store, DbError> {
        stores::set_status(self, id, to, reason, actor, now, Some(&note)).await
    }

    async fn request_deletion(
        &self,
        id: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Store, DbError> {
        stores::request_deletion(self, id, actor, now).await
    }

    async fn retry_store(
        &self,
        id: StoreId,
        actor: &Actor,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Store, DbError> {
        stores::retry(self, id, actor, max_attempts, now).await
    }

    async fn append_event(&self, event: NewStoreEvent) -> Result<StoreEvent, DbError> {
        timeline::append(self, event).await
    }

    async fn store_events(
        &self,
        id: StoreId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoreEvent>, DbError> {
        timeline::for_store(self, id, after_seq, limit).await
    }

    async fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<StoreEvent>, DbError> {
        timeline::after(self, after_seq, limit).await
    }

    async fn enqueue(
        &self,
        store: StoreId,
        kind: JobKind,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Enqueued, DbError> {
        queue::enqueue(self, store, kind, max_attempts, now).await
    }

    async fn lease(
        &self,
        holder: &str,
        lease_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>, DbError> {
        queue::lease(self, holder, lease_for, now).await
    }

    async fn heartbeat(
        &self,
        job: JobId,
        holder: &str,
        lease_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<Job, DbError> {
        queue::heartbeat(self, job, holder, lease_for, now).await
    }

    async fn complete(&self, job: JobId, holder: &str, now: DateTime<Utc>) -> Result<Job, DbError> {
        queue::complete(self, job, holder, now).await
    }

    async fn fail(
        &self,
        job: JobId,
        holder: &str,
        error: &str,
        policy: &RetryPolicy,
        jitter: f64,
        now: DateTime<Utc>,
    ) -> Result<Job, DbError> {
        queue::fail(self, job, holder, error, policy, jitter, now).await
    }

    async fn release(&self, job: JobId, holder: &str, now: DateTime<Utc>) -> Result<Job, DbError> {
        queue::release(self, job, holder, now).await
    }

    async fn get_job(&self, job: JobId) -> Result<Job, DbError> {
        queue::get(self, job).await
    }

    async fn active_job(&self, store: StoreId) -> Result<Option<Job>, DbError> {
        queue::active(self, store).await
    }

    async fn record_change(&self, change: RecordChange) -> Result<ChangeOutcome, DbError> {
        revisions::record_change(self, change).await
    }

    async fn record_rollback(&self, rollback: RecordRollback) -> Result<RollbackRecorded, DbError> {
        revisions::record_rollback(self, rollback).await
    }

    async fn record_initial_revision(
        &self,
        initial: InitialRevision,
    ) -> Result<Option<Revision>, DbError> {
        revisions::record_initial(self, initial).await
    }

    async fn record_provisioning_retry(
        &self,
        retry: InitialRevision,
    ) -> Result<Option<Revision>, DbError> {
        revisions::record_provisioning_retry(self, retry).await
    }

    async fn stores_without_revisions(&self, limit: u32) -> Result<Vec<Store>, DbError> {
        revisions::without_revisions(self, limit).await
    }

    async fn list_revisions(
        &self,
        store: StoreId,
        query: &RevisionQuery,
    ) -> Result<Vec<Revision>, DbError> {
        revisions::list(self, store, query).await
    }

    async fn get_revision(
        &self,
        store: StoreId,
        number: RevisionNumber,
    ) -> Result<Revision, DbError> {
        revisions::get(self, store, number).await
    }

    async fn revision_manifest(
        &self,
        store: StoreId,
        number: RevisionNumber,
    ) -> Result<Option<String>, DbError> {
        revisions::manifest(self, store, number).await
    }

    async fn store_revisions(&self, store: StoreId) -> Result<StoreRevisions, DbError> {
        revisions::store_revisions(self, store).await
    }

    async fn set_revision_status(
        &self,
        store: StoreId,
        number: RevisionNumber,
        to: RevisionStatus,
        failure: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Revision, DbError> {
        revisions::set_status(self, store, number, to, failure, actor, now).await
    }

    async fn mark_revision_deployed(
        &self,
        store: StoreId,
        number: RevisionNumber,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Revision, DbError> {
        revisions::mark_deployed(self, store, number, actor, now).await
    }

    async fn record_checkpoint(
        &self,
        store: StoreId,
        number: RevisionNumber,
        checkpoint: &Checkpoint,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Revision, DbError> {
        revisions::record_checkpoint(self, store, number, checkpoint, actor, now).await
    }

    async fn prune_manifests(&self, store: StoreId, keep: u32) -> Result<u64, DbError> {
        revisions::prune_manifests(self, store, keep).await
    }

    async fn set_last_checked(&self, store: StoreId, at: DateTime<Utc>) -> Result<(), DbError> {
        revisions::set_last_checked(self, store, at).await
    }

    async fn set_store_outputs(
        &self,
        store: StoreId,
        outputs: &BTreeMap<String, String>,
        note: NewStoreEvent,
    ) -> Result<Store, DbError> {
        stores::set_outputs(self, store, outputs, &note).await
    }

    async fn request_password_reset(
        &self,
        store: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u32, DbError> {
        password_reset::request(self, store, actor, now).await
    }

    async fn pending_password_reset(&self, store: StoreId) -> Result<Option<u32>, DbError> {
        password_reset::pending(self, store).await
    }

    async fn complete_password_reset(
        &self,
        store: StoreId,
        generation: u32,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        password_reset::complete(self, store, generation, actor, now).await
    }

    async fn request_backup(&self, request: crate::RequestBackup) -> Result<Backup, DbError> {
        backups::request(self, request).await
    }

    async fn request_checkpoint_backup(
        &self,
        store: StoreId,
        before: RevisionNumber,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Backup, DbError> {
        backups::request_checkpoint(self, store, before, actor, now).await
    }

    async fn schedule_backup(
        &self,
        schedule: BackupSchedule,
        request: crate::RequestBackup,
    ) -> Result<Option<Backup>, DbError> {
        backups::schedule(self, schedule, request).await
    }

    async fn stores_due_for_backup(
        &self,
        schedule: BackupSchedule,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreId>, DbError> {
        backups::due(self, schedule, now).await
    }

    async fn get_backup(&self, id: BackupId) -> Result<Backup, DbError> {
        backups::get(self, id).await
    }

    async fn store_backups(&self, store: StoreId, limit: u32) -> Result<Vec<Backup>, DbError> {
        backups::list(self, store, limit).await
    }

    async fn active_backup(&self, store: StoreId) -> Result<Option<Backup>, DbError> {
        backups::active_of(self, store).await
    }

    async fn start_backup(
        &self,
        id: BackupId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Backup, DbError> {
        backups::start(self, id, actor, now).await
    }

    async fn finish_backup(
        &self,
        id: BackupId,
        outcome: Result<BackupFigures, String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Backup, DbError> {
        backups::finish(self, id, outcome, actor, now).await
    }

    async fn record_restore(&self, restore: RecordRestore) -> Result<Revision, DbError> {
        revisions::record_restore(self, restore).await
    }

    async fn expire_backups_now(
        &self,
        store: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        backups::expire_now(self, store, actor, now).await
    }

    async fn stores_with_expired_backups(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoreId>, DbError> {
        backups::expired(self, now).await
    }

    async fn purge_backups(
        &self,
        store: StoreId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        backups::purge(self, store, actor, now).await
    }

    async fn expire_backups(
        &self,
        store: StoreId,
        now: DateTime<Utc>,
        retention: chrono::Duration,
        actor: &Actor,
    ) -> Result<u64, DbError> {
        backups::expire(self, store, now, retention, actor).await
    }
}
