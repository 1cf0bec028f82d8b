//! The provisioning pipeline, run for each store job:
//!
//! ```text
//! validate -> build (blueprint, no client) -> apply (server-side, ordered) -> prune
//!          -> wait (watch-based readiness) -> status
//! ```
//!
//! and, for a store being deleted, teardown: delete the namespace and wait until it is
//! gone. Every step lands on the store's timeline. The runner reconciles towards the
//! store's revisions as they are, whatever the job's kind, so a coalesced or repeated job
//! is harmless; every step is idempotent, so a run cut short anywhere converges next time:
//!
//! - no deployed revision: the store's first provisioning (revision 1, or the revision
//!   that retries a failed first provisioning), marked deployed once the store is ready;
//! - a newer revision pending or applying: a change, carried out by [`crate::revision`];
//! - a newer revision failed: what its failure calls for ([`crate::remediation`]);
//! - otherwise the deployed revision re-applied, exactly as recorded: a drift pass of a
//!   ready store, which also notices platform-settings changes that alter what it renders.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::json;
use storeplane_blueprint::{Blueprint, RevisionSettings};
use storeplane_db::{InitialRevision, Repository, StoreRevisions};
use storeplane_domain::{
    Actor, EventKind, Job, JobKind, NewStoreEvent, Revision, RevisionContent, RevisionStatus,
    Store, StoreId, StoreStatus,
};
use storeplane_kube::{Applier, NotReady, TeardownOutcome};

use crate::desired::Desired;
use crate::pass::Report;
use crate::storefront::{StorefrontCheck, Verdict};
use crate::{JobRunner, RunError};

/// How long a store may take to become ready, and its namespace to disappear.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub ready: Duration,
    pub teardown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            ready: Duration::from_secs(600),
            teardown: Duration::from_secs(300),
        }
    }
}

/// Provisions, changes and tears down stores.
pub struct ProvisionRunner {
    pub(crate) repo: Arc<dyn Repository>,
    pub(crate) blueprint: Blueprint,
    pub(crate) applier: Applier,
    pub(crate) timeouts: Timeouts,
    pub(crate) revisions: RevisionSettings,
    storefront: Option<StorefrontCheck>,
    /// Stores whose deployed revision no longer builds, already warned about.
    pub(crate) warned: Mutex<HashSet<StoreId>>,
    /// Revisions found to build to exactly their recorded manifest with this runner's
    /// blueprint; see [`crate::desired::Verified`].
    pub(crate) verified: crate::desired::Verified,
    /// The platform's object-store credentials, for backups to an S3 repository.
    pub(crate) backup_credentials: Option<storeplane_blueprint::S3Credentials>,
}

impl std::fmt::Debug for ProvisionRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionRunner")
            .field("timeouts", &self.timeouts)
            .field("revisions", &self.revisions)
            .finish_non_exhaustive()
    }
}

pub(crate) fn actor() -> Actor {
    Actor::System("worker".to_owned())
}

/// A transient failure whose message is `err`'s, or a permanent one if the error says
/// retrying cannot help.
pub(crate) fn failure(err: impl std::fmt::Display, transient: bool) -> RunError {
    if transient {
        RunError::transient(err.to_string())
    } else {
        RunError::permanent(err.to_string())
    }
}

pub(crate) fn db_failure(err: storeplane_db::DbError) -> RunError {
    let transient = err.is_transient();
    failure(err, transient)
}

/// A readiness wait that ended without the store ready, as a run error.
pub(crate) fn not_ready_failure(e: &NotReady) -> RunError {
    failure(format!("{}: {}", e.check.name, e.reason), e.is_transient())
}

impl ProvisionRunner {
    /// A runner with `blueprint`'s settings, including how revisions are carried out
    /// (`revisions:` in the platform settings).
    pub fn new(
        repo: Arc<dyn Repository>,
        blueprint: Blueprint,
        applier: Applier,
        timeouts: Timeouts,
    ) -> Self {
        let revisions = blueprint.settings().revisions;
        Self {
            repo,
            blueprint,
            applier,
            timeouts,
            revisions,
            storefront: None,
            warned: Mutex::new(HashSet::new()),
            verified: crate::desired::Verified::default(),
            backup_credentials: None,
        }
    }

    /// Backs stores up to an S3 repository with these credentials (the platform's, read
    /// from its environment; see docs/operations.md).
    #[must_use]
    pub fn with_backup_credentials(
        mut self,
        credentials: Option<storeplane_blueprint::S3Credentials>,
    ) -> Self {
        self.backup_credentials = credentials;
        self
    }

    /// Ends each provisioning with a request to the new storefront, recorded on the
    /// timeline (best effort: it never fails the store).
    #[must_use]
    pub fn with_storefront_check(mut self, check: StorefrontCheck) -> Self {
        self.storefront = Some(check);
        self
    }

    /// Carries out a pending admin password reset (see [`crate::reset`]).
    fn password_reset(&self) -> crate::reset::PasswordReset<'_> {
        crate::reset::PasswordReset {
            repo: self.repo.as_ref(),
            blueprint: &self.blueprint,
            applier: &self.applier,
            timeout: self.timeouts.ready,
        }
    }

    async fn verify_storefront(&self, store: &Store, url: &str) -> Result<(), RunError> {
        let Some(check) = &self.storefront else {
            return Ok(());
        };
        let what = probe_subject(url);
        let (message, detail) = match check.check(url).await {
            Verdict::Answered { status, elapsed } => (
                format!(
                    "{what} answered HTTP {status} in {} ms",
                    elapsed.as_millis()
                ),
                json!({"step": "verify", "url": url, "status": status, "ms": elapsed.as_millis() as u64}),
            ),
            Verdict::Unreachable { reason } => (
                format!(
                    "{what} not reachable from storeplane ({reason}); the store is ready in the cluster: check DNS and the front door (the Gateway or the ingress controller)"
                ),
                json!({"step": "verify", "url": url, "error": reason}),
            ),
        };
        self.event(store, EventKind::Step, message, detail).await
    }

    pub(crate) async fn event(
        &self,
        store: &Store,
        kind: EventKind,
        message: String,
        detail: serde_json::Value,
    ) -> Result<(), RunError> {
        let event =
            NewStoreEvent::new(store.id, Utc::now(), kind, actor(), message).with_detail(detail);
        self.repo
            .append_event(event)
            .await
            .map(drop)
            .map_err(db_failure)
    }

    pub(crate) async fn set_status(
        &self,
        store: &Store,
        to: StoreStatus,
        reason: Option<&str>,
    ) -> Result<Store, RunError> {
        self.repo
            .set_store_status(store.id, to, reason, &actor(), Utc::now())
            .await
            .map_err(db_failure)
    }

    /// A store that is not ready (pending, or failed and retried) is provisioning while a
    /// pass works on it; a ready one stays ready whatever the pass does.
    pub(crate) async fn provisioning(&self, store: Store) -> Result<Store, RunError> {
        match store.status {
            StoreStatus::Pending | StoreStatus::Failed => {
                self.set_status(&store, StoreStatus::Provisioning, None)
                    .await
            }
            _ => Ok(store),
        }
    }

    /// Moves a store that is not ready yet to ready, saying where it is.
    pub(crate) async fn mark_ready(
        &self,
        store: &Store,
        desired: &Desired,
    ) -> Result<(), RunError> {
        if store.status == StoreStatus::Ready {
            return Ok(());
        }
        // Before the move to ready, so a ready store shows what its setup published.
        self.record_outputs(store).await?;
        let Some(urls) = &desired.urls else {
            self.set_status(store, StoreStatus::Ready, None).await?;
            return Ok(());
        };
        // The URL goes on the timeline with the move to ready, in one transaction: a
        // process killed between two writes would leave a ready store that never said
        // where it is, and the next pass, finding it ready, would not say it either.
        let ready_at = NewStoreEvent::new(
            store.id,
            Utc::now(),
            EventKind::Step,
            actor(),
            format!("ready at {}", urls.storefront),
        )
        .with_detail(json!({"step": "ready", "url": urls.storefront, "admin_url": urls.admin}));
        self.repo
            .set_store_status_noting(
                store.id,
                StoreStatus::Ready,
                None,
                &actor(),
                Utc::now(),
                ready_at,
            )
            .await
            .map_err(db_failure)?;
        self.verify_storefront(store, &urls.probe).await
    }

    /// Applies `desired`, prunes what it no longer holds, and returns how many objects a
    /// drift pass put back or pruned (only those are recorded on a drift pass).
    pub(crate) async fn apply_desired(
        &self,
        store: &Store,
        desired: &Desired,
        report: Report,
        pass: &str,
    ) -> Result<usize, RunError> {
        let (restored, fresh_namespace) = self
            .apply_objects(store, &desired.objects, report, pass)
            .await?;
        // A namespace this pass created holds nothing but what this pass applied, so there
        // is nothing to prune; skipping its one list per kind saves ten API requests on
        // every store's first provisioning.
        let pruned = if fresh_namespace {
            0
        } else {
            self.prune_store(store, &desired.keep, pass).await?
        };
        Ok(restored + if report == Report::Drift { pruned } else { 0 })
    }

    /// Applies revision `desired` over `current`, the revision the store runs: only what
    /// differs (see [`Desired::changed_from`]), and prunes only when the two hold different
    /// objects. Every finished pass leaves the cluster holding exactly the deployed
    /// revision's objects, so nothing else can be stale; a drift pass repairs the rest.
    pub(crate) async fn apply_change(
        &self,
        store: &Store,
        desired: &Desired,
        current: &Desired,
        pass: &str,
    ) -> Result<(), RunError> {
        let (objects, same_objects) = desired.changed_from(current);
        self.apply_objects(store, &objects, Report::Change, pass)
            .await?;
        if !same_objects {
            self.prune_store(store, &desired.keep, pass).await?;
        }
        Ok(())
    }

    /// What the store's revisions call for; see the module header.
    async fn provision(&self, store: Store) -> Result<(), RunError> {
        let revisions = self
            .repo
            .store_revisions(store.id)
            .await
            .map_err(db_failure)?;
        if let StoreRevisions {
            deployed: Some(deployed),
            latest: Some(latest),
        } = &revisions
        {
            if latest.number > deployed.number {
                match latest.status {
                    RevisionStatus::Pending | RevisionStatus::Applying => {
                        return self
                            .carry_out(store, deployed.clone(), latest.clone())
                            .await;
                    }
                    RevisionStatus::Failed => {
                        return self
                            .remediate(store, deployed.clone(), latest.clone())
                            .await;
                    }
                    // Rolled back (or superseded, which cannot be newer): the deployed
                    // revision is what the store runs.
                    _ => {}
                }
            }
            return self.run_deployed(store, deployed.clone()).await;
        }
        self.first_provisioning(store, revisions).await
    }

    /// Re-applies the deployed revision exactly: a drift pass of a ready store (which
    /// writes no event when nothing changed), or a retry of a store that failed on it.
    async fn run_deployed(&self, store: Store, deployed: Revision) -> Result<(), RunError> {
        let drift = store.status == StoreStatus::Ready;
        if drift && store.backups.active.is_some() {
            // A backup goes first: nothing else may change the store while it is active.
            return self.run_backup(&store, &deployed).await;
        }
        if let Some(active) = store.backups.active.filter(|_| !drift) {
            // Requested while the store was ready; it is not any more, and a backup of a
            // store that is not running would not be one to restore.
            let reason = format!(
                "the store became {} before the backup started",
                store.status
            );
            self.repo
                .finish_backup(active.id, Err(reason), &actor(), Utc::now())
                .await
                .map_err(db_failure)?;
        }
        if drift && let Some(revision) = self.platform_change(&store, &deployed).await? {
            return self.carry_out(store, deployed, revision).await;
        }
        if !drift {
            let store = self.provisioning(store).await?;
            let desired = self.desired(store.id, &deployed).await?;
            let pass = format!("r{}", deployed.number);
            self.apply_desired(&store, &desired, Report::Everything, &pass)
                .await?;
            self.wait_for_store(&store, &desired).await?;
            return self.mark_ready(&store, &desired).await;
        }
        let pass = format!("drift-{}", Utc::now().timestamp_millis());
        let result = async {
            let desired = self.desired(store.id, &deployed).await?;
            let restored = self
                .apply_desired(&store, &desired, Report::Drift, &pass)
                .await?;
            self.applier
                .wait_ready(&store.namespace(), &desired.readiness, self.timeouts.ready)
                .await
                .map_err(|e| not_ready_failure(&e))?;
            Ok::<usize, RunError>(restored)
        }
        .await;
        let outcome = match &result {
            Ok(0) => "clean",
            Ok(_) => "restored",
            Err(_) => "failed",
        };
        metrics::counter!("storeplane_drift_checks_total", "result" => outcome).increment(1);
        if result.is_ok() {
            self.repo
                .set_last_checked(store.id, Utc::now())
                .await
                .map_err(db_failure)?;
            self.record_outputs(&store).await?;
            self.password_reset()
                .run_if_requested(&store, &deployed.spec)
                .await?;
        }
        result.map(drop)
    }

    /// Says that the pass waits, then waits for the store's workloads.
    async fn wait_for_store(&self, store: &Store, desired: &Desired) -> Result<(), RunError> {
        self.event(
            store,
            EventKind::Step,
            "waiting for the store to become ready".to_owned(),
            json!({"step": "wait"}),
        )
        .await?;
        self.applier
            .wait_ready(&store.namespace(), &desired.readiness, self.timeouts.ready)
            .await
            .map_err(|e| not_ready_failure(&e))
    }

    /// A store with no deployed revision: records the revision its first provisioning
    /// carries out (1, or the next one when the first failed and the store was retried),
    /// applies it and marks it deployed once the store is ready. A ready store made before
    /// revisions existed gets revision 1 recorded as deployed (actor `system:upgrade`)
    /// when the backfill at start has not done it yet, and is then re-applied.
    async fn first_provisioning(
        &self,
        store: Store,
        revisions: StoreRevisions,
    ) -> Result<(), RunError> {
        let revision = match revisions.in_flight() {
            Some(in_flight) if in_flight.status == RevisionStatus::Pending => self
                .repo
                .set_revision_status(
                    store.id,
                    in_flight.number,
                    RevisionStatus::Applying,
                    None,
                    &actor(),
                    Utc::now(),
                )
                .await
                .map_err(db_failure)?,
            Some(in_flight) => in_flight.clone(),
            None => match self.record_first(&store, revisions.latest).await? {
                Some(revision) if revision.status == RevisionStatus::Deployed => {
                    return self.run_deployed(store, revision).await;
                }
                Some(revision) => revision,
                // Another process recorded it between the read and the write: read again.
                None => return Box::pin(self.provision(store)).await,
            },
        };
        let store = self.provisioning(store).await?;
        let desired = self.desired(store.id, &revision).await?;
        let pass = format!("r{}", revision.number);
        self.apply_desired(&store, &desired, Report::Everything, &pass)
            .await?;
        self.wait_for_store(&store, &desired).await?;
        if let Some(backup) = store.restore_from {
            self.restore_as_new(&store, &revision, backup, &pass)
                .await?;
        }
        // Before the store is marked ready, so a ready store's spec names its release.
        self.repo
            .mark_revision_deployed(store.id, revision.number, &actor(), Utc::now())
            .await
            .map_err(db_failure)?;
        self.mark_ready(&store, &desired).await
    }

    /// Records the revision a first provisioning carries out: revision 1 from the store's
    /// spec (release resolved), or, after a failed one (`failed`), the next revision with
    /// the failed one's spec, its release pinned. `None` when another process was first.
    async fn record_first(
        &self,
        store: &Store,
        failed: Option<Revision>,
    ) -> Result<Option<Revision>, RunError> {
        let mut spec = match &failed {
            Some(failed) => failed.spec.clone(),
            None => store.spec.clone(),
        };
        spec.release = Some(
            self.blueprint
                .release(&spec)
                .map_err(|e| failure(e, false))?,
        );
        let rendered = self
            .blueprint
            .render(store.id, &spec)
            .map_err(|e| failure(e, false))?;
        let rendered_as = (spec.clone(), rendered.manifest.digest.clone());
        let content = RevisionContent {
            spec,
            platform_digest: rendered.platform_digest,
            manifest: rendered.manifest.text,
            manifest_digest: rendered.manifest.digest,
        };
        let recorded = self.record_first_content(store, failed, content).await?;
        // This process has just built that spec to that manifest: the check `desired`
        // makes of a revision would render the whole store once more to learn the same.
        if let Some(revision) = &recorded
            && (&revision.spec, &revision.manifest_digest) == (&rendered_as.0, &rendered_as.1)
        {
            self.verified.insert(store.id, revision.number);
        }
        Ok(recorded)
    }

    /// Records `content` as [`Self::record_first`] says.
    async fn record_first_content(
        &self,
        store: &Store,
        failed: Option<Revision>,
        content: RevisionContent,
    ) -> Result<Option<Revision>, RunError> {
        if let Some(failed) = failed {
            return self
                .repo
                .record_provisioning_retry(InitialRevision {
                    store: store.id,
                    content,
                    actor: self.creator(store).await,
                    reason: format!(
                        "retry of the first provisioning (revision {} failed)",
                        failed.number
                    ),
                    deployed: false,
                    now: Utc::now(),
                })
                .await
                .map_err(db_failure);
        }
        let upgraded = store.status == StoreStatus::Ready;
        let (who, reason) = if upgraded {
            (
                Actor::System("upgrade".to_owned()),
                "recorded from the store as it runs (made before revisions existed)".to_owned(),
            )
        } else {
            (self.creator(store).await, "first provisioning".to_owned())
        };
        self.repo
            .record_initial_revision(InitialRevision {
                store: store.id,
                content,
                actor: who,
                reason,
                deployed: upgraded,
                now: Utc::now(),
            })
            .await
            .map_err(db_failure)
    }

    /// Who created the store, from its `created` event; `system:worker` if it is not there.
    async fn creator(&self, store: &Store) -> Actor {
        match self.repo.store_events(store.id, 0, 1).await {
            Ok(events) => events
                .into_iter()
                .find(|e| e.kind == EventKind::Created)
                .map_or_else(actor, |e| e.actor),
            Err(_) => actor(),
        }
    }

    /// Keeps a deleted store's backups for the platform's retention period, and says so.
    async fn keep_backups(&self, store: &Store) -> Result<(), RunError> {
        let days = self.blueprint.settings().backups.keep_after_delete_days;
        let kept = self
            .repo
            .expire_backups(
                store.id,
                Utc::now(),
                chrono::Duration::days(i64::from(days)),
                &actor(),
            )
            .await
            .map_err(db_failure)?;
        if kept > 0 {
            self.event(
                store,
                EventKind::Step,
                format!(
                    "{kept} backup{} kept for {days} days, restorable as a new store until then",
                    if kept == 1 { "" } else { "s" }
                ),
                json!({"step": "backup", "status": "kept", "backups": kept, "days": days}),
            )
            .await?;
        }
        Ok(())
    }

    async fn teardown(&self, store: Store) -> Result<(), RunError> {
        let namespace = store.namespace();
        self.event(
            &store,
            EventKind::Teardown,
            format!("deleting namespace {namespace}"),
            json!({"namespace": namespace}),
        )
        .await?;
        match self
            .applier
            .delete_namespace(&namespace, self.timeouts.teardown)
            .await
        {
            Ok(outcome) => {
                let message = match outcome {
                    TeardownOutcome::Deleted => format!("namespace {namespace} is gone"),
                    TeardownOutcome::AlreadyGone => {
                        format!("namespace {namespace} was already gone")
                    }
                };
                self.event(
                    &store,
                    EventKind::Teardown,
                    message,
                    json!({"namespace": namespace}),
                )
                .await?;
                self.keep_backups(&store).await?;
                self.set_status(&store, StoreStatus::Deleted, None).await?;
                Ok(())
            }
            Err(e) => {
                let transient = e.is_transient();
                let error = failure(&e, transient);
                self.event(
                    &store,
                    EventKind::Teardown,
                    error.message.clone(),
                    json!({"namespace": namespace}),
                )
                .await?;
                Err(error)
            }
        }
    }
}

#[async_trait]
impl JobRunner for ProvisionRunner {
    async fn run(&self, job: &Job) -> Result<(), RunError> {
        let store = self
            .repo
            .get_store(job.store_id)
            .await
            .map_err(db_failure)?;
        let result = match store.status {
            StoreStatus::Deleted => Ok(()),
            StoreStatus::Deleting => self.teardown(store.clone()).await,
            _ => self.provision(store.clone()).await,
        };
        // The last attempt's failure is recorded by `gave_up` instead.
        if let Err(error) = &result
            && !error.permanent
            && job.attempts < job.max_attempts
        {
            let message = format!("attempt {} failed: {error}; retrying", job.attempts);
            let _ = self
                .event(
                    &store,
                    EventKind::Retry,
                    message,
                    json!({"attempt": job.attempts}),
                )
                .await;
        }
        result
    }

    async fn gave_up(&self, job: &Job, error: &RunError) {
        let Ok(store) = self.repo.get_store(job.store_id).await else {
            return;
        };
        let reason = error.message.as_str();
        let _ = self
            .event(
                &store,
                EventKind::Failed,
                format!("gave up after {} attempts: {reason}", job.attempts),
                json!({"attempts": job.attempts}),
            )
            .await;
        let revisions = self.repo.store_revisions(store.id).await.ok();
        let in_flight = revisions.as_ref().and_then(|r| r.in_flight().cloned());
        // A ready store's backup that kept failing fails itself; the store runs on.
        if let Some(active) = store.backups.active
            && in_flight.is_none()
            && store.status == StoreStatus::Ready
        {
            let reason = format!("gave up after {} attempts: {reason}", job.attempts);
            if let Err(e) = self
                .repo
                .finish_backup(active.id, Err(reason), &actor(), Utc::now())
                .await
            {
                tracing::warn!(store.id = %store.id, error = %e, "could not mark the backup failed");
            }
            return;
        }
        let deployed = revisions.and_then(|r| r.deployed);
        // The revision being carried out failed (its events are the repository's).
        if let Some(in_flight) = &in_flight
            && let Err(e) = self
                .repo
                .set_revision_status(
                    store.id,
                    in_flight.number,
                    RevisionStatus::Failed,
                    Some(reason),
                    &actor(),
                    Utc::now(),
                )
                .await
        {
            tracing::warn!(store.id = %store.id, error = %e, "could not mark the revision failed");
        }
        // A change that failed on a store that runs a deployed revision: the next pass
        // does what the failure calls for (going back to the deployed revision, or
        // leaving the store failed on it), so the store keeps its status until then.
        if let (Some(in_flight), Some(deployed)) = (&in_flight, &deployed)
            && in_flight.number > deployed.number
        {
            if let Err(e) = self
                .repo
                .enqueue(store.id, JobKind::Reconcile, job.max_attempts, Utc::now())
                .await
            {
                tracing::warn!(store.id = %store.id, error = %e, "could not queue the remediation of the failed revision");
            }
            return;
        }
        if let Err(e) = self
            .set_status(&store, StoreStatus::Failed, Some(reason))
            .await
        {
            tracing::warn!(store.id = %store.id, error = %e, "could not mark the store failed");
        }
    }
}

/// What a probe of `url` asked, for the timeline: the storefront itself (WooCommerce's
/// `/`), or the path the engine probes (Medusa's `/health`), so that a health check is not
/// called a storefront.
fn probe_subject(url: &str) -> String {
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or("/");
    if path == "/" {
        "storefront".to_owned()
    } else {
        format!("store ({path})")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_probe_of_the_site_root_is_the_storefront_and_any_other_path_is_named() {
        assert_eq!(
            super::probe_subject("http://acme.example.test/"),
            "storefront"
        );
        assert_eq!(
            super::probe_subject("http://acme.example.test"),
            "storefront"
        );
        assert_eq!(
            super::probe_subject("http://shop.example.test/health"),
            "store (/health)"
        );
    }
}
