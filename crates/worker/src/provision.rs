//! The provisioning pipeline, run for each store job:
//!
//! ```text
//! validate -> build (blueprint, no client) -> apply (server-side, ordered) -> prune
//!          -> wait (watch-based readiness) -> status
//! ```
//!
//! and, for a store being deleted, teardown: delete the namespace and wait until it is
//! gone. Every step lands on the store's timeline. The runner reconciles towards the
//! store's current state whatever the job's kind, so a coalesced or repeated job is
//! harmless; every step is idempotent, so a run cut short anywhere converges next time.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;
use storeplane_blueprint::{Blueprint, SecretKind, StoreSecrets};
use storeplane_db::{InitialRevision, Repository};
use storeplane_domain::{
    Actor, EventKind, Job, NewStoreEvent, RevisionContent, RevisionNumber, RevisionStatus, Store,
    StoreSpec, StoreStatus,
};
use storeplane_kube::{Applier, ObjectRef, Outcome, TeardownOutcome};

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

/// Provisions and tears down stores.
pub struct ProvisionRunner {
    repo: Arc<dyn Repository>,
    blueprint: Blueprint,
    applier: Applier,
    timeouts: Timeouts,
    storefront: Option<StorefrontCheck>,
}

impl std::fmt::Debug for ProvisionRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionRunner")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// What a pass applies.
#[derive(Debug)]
enum Target {
    /// A revision being carried out (revision 1 on a first provisioning): marked deployed
    /// once the store is ready.
    Applying(RevisionNumber, StoreSpec),
    /// The deployed revision's spec, re-applied (a drift pass, or a retry).
    Deployed(StoreSpec),
    /// A spec with no revision to follow (see [`ProvisionRunner::target`]).
    Unrecorded(StoreSpec),
}

impl Target {
    fn spec(&self) -> &StoreSpec {
        match self {
            Self::Applying(_, spec) | Self::Deployed(spec) | Self::Unrecorded(spec) => spec,
        }
    }
}

fn actor() -> Actor {
    Actor::System("worker".to_owned())
}

/// A transient failure whose message is `err`'s, or a permanent one if the error says
/// retrying cannot help.
fn failure(err: impl std::fmt::Display, transient: bool) -> RunError {
    if transient {
        RunError::transient(err.to_string())
    } else {
        RunError::permanent(err.to_string())
    }
}

fn db_failure(err: storeplane_db::DbError) -> RunError {
    let transient = err.is_transient();
    failure(err, transient)
}

impl ProvisionRunner {
    pub fn new(
        repo: Arc<dyn Repository>,
        blueprint: Blueprint,
        applier: Applier,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            repo,
            blueprint,
            applier,
            timeouts,
            storefront: None,
        }
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
        let (message, detail) = match check.check(url).await {
            Verdict::Answered { status, elapsed } => (
                format!(
                    "storefront answered HTTP {status} in {} ms",
                    elapsed.as_millis()
                ),
                json!({"step": "verify", "url": url, "status": status, "ms": elapsed.as_millis() as u64}),
            ),
            Verdict::Unreachable { reason } => (
                format!(
                    "storefront not reachable from storeplane ({reason}); the store is ready in the cluster: check DNS and the front door (the Gateway or the ingress controller)"
                ),
                json!({"step": "verify", "url": url, "error": reason}),
            ),
        };
        self.event(store, EventKind::Step, message, detail).await
    }

    async fn event(
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

    async fn set_status(
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

    /// The revision this pass carries out, recording revision 1 when the store has none:
    /// `applying` for a store's first provisioning, or `deployed` (actor `system:upgrade`)
    /// for a ready store made before revisions existed whose backfill at start has not
    /// recorded it yet.
    async fn target(&self, store: &Store) -> Result<Target, RunError> {
        let revisions = self
            .repo
            .store_revisions(store.id)
            .await
            .map_err(db_failure)?;
        if let Some(in_flight) = revisions.in_flight() {
            let revision = if in_flight.status == RevisionStatus::Pending {
                self.repo
                    .set_revision_status(
                        store.id,
                        in_flight.number,
                        RevisionStatus::Applying,
                        None,
                        &actor(),
                        Utc::now(),
                    )
                    .await
                    .map_err(db_failure)?
            } else {
                in_flight.clone()
            };
            return Ok(Target::Applying(revision.number, revision.spec));
        }
        if let Some(deployed) = revisions.deployed {
            return Ok(Target::Deployed(deployed.spec));
        }
        if let Some(latest) = revisions.latest {
            // Revision 1 failed and the store was retried: no repository method records a
            // second revision before the first is deployed, so the pass applies the
            // failed revision's spec (its release pinned) without bookkeeping.
            return Ok(Target::Unrecorded(latest.spec));
        }
        let mut spec = store.spec.clone();
        spec.release = Some(
            self.blueprint
                .release(&store.spec)
                .map_err(|e| failure(e, false))?,
        );
        let rendered = self
            .blueprint
            .render(store.id, &spec)
            .map_err(|e| failure(e, false))?;
        let upgraded = store.status == StoreStatus::Ready;
        let (who, reason) = if upgraded {
            (
                Actor::System("upgrade".to_owned()),
                "recorded from the store as it runs (made before revisions existed)".to_owned(),
            )
        } else {
            (self.creator(store).await, "first provisioning".to_owned())
        };
        let recorded = self
            .repo
            .record_initial_revision(InitialRevision {
                store: store.id,
                content: RevisionContent {
                    spec,
                    platform_digest: rendered.platform_digest,
                    manifest: rendered.manifest.text,
                    manifest_digest: rendered.manifest.digest,
                },
                actor: who,
                reason,
                deployed: upgraded,
                now: Utc::now(),
            })
            .await
            .map_err(db_failure)?;
        match recorded {
            Some(revision) if upgraded => Ok(Target::Deployed(revision.spec)),
            Some(revision) => Ok(Target::Applying(revision.number, revision.spec)),
            // Another process recorded it between the read and the write: read again.
            None => Box::pin(self.target(store)).await,
        }
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

    async fn provision(&self, store: Store) -> Result<(), RunError> {
        let target = self.target(&store).await?;
        // A ready store with nothing in flight is a drift pass: it re-applies the deployed
        // revision's spec and, when nothing changed, writes no event at all.
        let drift = store.status == StoreStatus::Ready && !matches!(target, Target::Applying(..));
        if !drift {
            return self.apply(store, &target, false).await.map(drop);
        }
        let result = self.apply(store.clone(), &target, true).await;
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
            self.password_reset()
                .run_if_requested(&store, target.spec())
                .await?;
        }
        result.map(drop)
    }

    /// Applies `target`'s spec, prunes and waits for readiness; returns how many objects a
    /// drift pass put back or pruned. On a drift pass only those are recorded.
    async fn apply(&self, store: Store, target: &Target, drift: bool) -> Result<usize, RunError> {
        let store = match store.status {
            StoreStatus::Pending | StoreStatus::Failed => {
                self.set_status(&store, StoreStatus::Provisioning, None)
                    .await?
            }
            _ => store,
        };
        let spec = target.spec();
        let requirements =
            Blueprint::secret_requirements(spec.engine).map_err(|e| failure(e, false))?;
        // Fresh values every pass: Secrets are created only if absent, so these reach the
        // cluster once, on the first pass, and never replace what is there.
        let secrets = StoreSecrets::generate(requirements, |requirement| match requirement.kind {
            SecretKind::Random { length } => Alphanumeric.sample_string(&mut rand::rng(), length),
            SecretKind::Login { default } => default.to_owned(),
        });
        let resources = self
            .blueprint
            .build(store.id, spec, &secrets)
            .map_err(|e| failure(e, false))?;
        let objects = resources.ordered();
        let mut restored = 0;

        // One object at a time, each recorded as soon as it is applied: a worker that dies
        // midway leaves a timeline that says how far it got.
        let mut fresh_namespace = false;
        for resource in &objects {
            let applied = self
                .applier
                .apply(std::slice::from_ref(resource))
                .await
                .map_err(|e| {
                    let transient = e.is_transient();
                    failure(e, transient)
                })?;
            let Some(object) = applied.first() else {
                continue;
            };
            if object.kind == "Namespace" && object.outcome == Outcome::Created {
                fresh_namespace = true;
            }
            let verb = match object.outcome {
                Outcome::Created => "created",
                Outcome::Configured => "configured",
                Outcome::Unchanged => "unchanged",
                Outcome::Recreated => "re-created",
            };
            let (kind, message) = match (drift, object.outcome) {
                // A ready store re-applied: only what had to be put back is news.
                (true, Outcome::Unchanged) => continue,
                (true, Outcome::Created) => (
                    EventKind::DriftRestored,
                    format!("{} {} was missing; restored", object.kind, object.name),
                ),
                (true, Outcome::Configured) => (
                    EventKind::DriftRestored,
                    format!("{} {} had drifted; restored", object.kind, object.name),
                ),
                // Only Jobs are re-created: the API server keeps their pod template
                // immutable, so a changed one is deleted and created again.
                (_, Outcome::Recreated) => (
                    EventKind::ObjectApplied,
                    format!(
                        "{} {} re-created: its pod template changed",
                        object.kind, object.name
                    ),
                ),
                (false, _) => (
                    EventKind::ObjectApplied,
                    format!("{} {} {verb}", object.kind, object.name),
                ),
            };
            if drift {
                restored += 1;
            }
            let detail = json!({"kind": object.kind, "name": object.name, "outcome": verb});
            self.event(&store, kind, message, detail).await?;
        }
        let keep: Vec<ObjectRef> = objects.iter().map(ObjectRef::from).collect();
        let namespace = store.namespace();
        let selector = storeplane_blueprint::StoreResources::selector(store.id);
        // A namespace this pass created holds nothing but what this pass applied, so there
        // is nothing to prune; skipping its one list per kind saves ten API requests on
        // every store's first provisioning.
        let pruned = if fresh_namespace {
            Vec::new()
        } else {
            self.applier
                .prune(&namespace, &selector, &keep)
                .await
                .map_err(|e| {
                    let transient = e.is_transient();
                    failure(e, transient)
                })?
        };
        for object in pruned {
            if drift {
                restored += 1;
            }
            let detail = json!({"step": "prune", "kind": object.kind, "name": object.name});
            self.event(
                &store,
                EventKind::ObjectApplied,
                format!("{} {} pruned (no longer desired)", object.kind, object.name),
                detail,
            )
            .await?;
        }

        if !drift {
            self.event(
                &store,
                EventKind::Step,
                "waiting for the store to become ready".to_owned(),
                json!({"step": "wait"}),
            )
            .await?;
        }
        self.applier
            .wait_ready(&namespace, &resources.readiness, self.timeouts.ready)
            .await
            .map_err(|e| {
                let transient = e.is_transient();
                failure(format!("{}: {}", e.check.name, e.reason), transient)
            })?;
        if let Target::Applying(number, _) = target {
            // Before the store is marked ready, so a ready store's spec names its release.
            self.repo
                .mark_revision_deployed(store.id, *number, &actor(), Utc::now())
                .await
                .map_err(db_failure)?;
        }
        if store.status != StoreStatus::Ready {
            let urls = resources.urls;
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
            self.verify_storefront(&store, &urls.storefront).await?;
        }
        Ok(restored)
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
        // The revision being carried out failed with the store (its events are the
        // repository's).
        if let Ok(revisions) = self.repo.store_revisions(store.id).await
            && let Some(in_flight) = revisions.in_flight()
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
        if let Err(e) = self
            .set_status(&store, StoreStatus::Failed, Some(reason))
            .await
        {
            tracing::warn!(store.id = %store.id, error = %e, "could not mark the store failed");
        }
    }
}
