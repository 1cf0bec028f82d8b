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
use storeplane_db::Repository;
use storeplane_domain::{Actor, EventKind, Job, NewStoreEvent, Store, StoreStatus};
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

    async fn provision(&self, store: Store) -> Result<(), RunError> {
        let store = match store.status {
            StoreStatus::Pending | StoreStatus::Failed => {
                self.set_status(&store, StoreStatus::Provisioning, None)
                    .await?
            }
            _ => store,
        };
        let requirements =
            Blueprint::secret_requirements(store.spec.engine).map_err(|e| failure(e, false))?;
        // Fresh values every pass: Secrets are created only if absent, so these reach the
        // cluster once, on the first pass, and never replace what is there.
        let secrets = StoreSecrets::generate(requirements, |requirement| match requirement.kind {
            SecretKind::Random { length } => Alphanumeric.sample_string(&mut rand::rng(), length),
            SecretKind::Login { default } => default.to_owned(),
        });
        let resources = self
            .blueprint
            .build(store.id, &store.spec, &secrets)
            .map_err(|e| failure(e, false))?;
        let objects = resources.ordered();

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
            let (kind, message) = match (store.status, object.outcome) {
                // A ready store re-applied: only what had to be put back is news.
                (StoreStatus::Ready, Outcome::Unchanged) => continue,
                (StoreStatus::Ready, Outcome::Created) => (
                    EventKind::DriftRestored,
                    format!("{} {} was missing; restored", object.kind, object.name),
                ),
                (StoreStatus::Ready, Outcome::Configured) => (
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
                _ => (
                    EventKind::ObjectApplied,
                    format!("{} {} {verb}", object.kind, object.name),
                ),
            };
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
            let detail = json!({"step": "prune", "kind": object.kind, "name": object.name});
            self.event(
                &store,
                EventKind::ObjectApplied,
                format!("{} {} pruned (no longer desired)", object.kind, object.name),
                detail,
            )
            .await?;
        }

        self.event(
            &store,
            EventKind::Step,
            "waiting for the store to become ready".to_owned(),
            json!({"step": "wait"}),
        )
        .await?;
        self.applier
            .wait_ready(&namespace, &resources.readiness, self.timeouts.ready)
            .await
            .map_err(|e| {
                let transient = e.is_transient();
                failure(format!("{}: {}", e.check.name, e.reason), transient)
            })?;
        if store.status != StoreStatus::Ready {
            self.set_status(&store, StoreStatus::Ready, None).await?;
            let urls = resources.urls;
            self.event(
                &store,
                EventKind::Step,
                format!("ready at {}", urls.storefront),
                json!({"step": "ready", "url": urls.storefront, "admin_url": urls.admin}),
            )
            .await?;
            self.verify_storefront(&store, &urls.storefront).await?;
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
        if let Err(e) = self
            .set_status(&store, StoreStatus::Failed, Some(reason))
            .await
        {
            tracing::warn!(store.id = %store.id, error = %e, "could not mark the store failed");
        }
    }
}
