//! One apply pass: a revision's objects (or an engine step's) applied in order, each on
//! the timeline as soon as it is applied, then the store's objects no longer desired
//! pruned. Every object event of a pass carries `detail.pass`, shared by the whole pass,
//! so the dashboard can show a change as one step that opens onto its objects.

use serde_json::json;
use storeplane_blueprint::{Resource, StoreResources};
use storeplane_domain::{EventKind, Store};
use storeplane_kube::{ApplyError, ObjectRef, Outcome};

use crate::RunError;
use crate::provision::{ProvisionRunner, failure};

/// How a pass reports what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// Every object applied is news (a store's first provisioning, or a retry).
    Everything,
    /// A change of a running store (a revision, its steps, a rollback): what it created,
    /// configured or pruned is news, what it found as wanted is not.
    Change,
    /// A drift pass of a ready store: only what had to be put back or pruned is.
    Drift,
}

fn kube_failure(e: impl std::fmt::Display, transient: bool) -> RunError {
    failure(e, transient)
}

impl ProvisionRunner {
    /// Applies `objects` in order; returns how many were put back (drift) and whether the
    /// store's namespace was created by this pass.
    pub(crate) async fn apply_objects(
        &self,
        store: &Store,
        objects: &[Resource],
        report: Report,
        pass: &str,
    ) -> Result<(usize, bool), RunError> {
        let drift = report == Report::Drift;
        let mut restored = 0;
        let mut fresh_namespace = false;
        // One object at a time, each recorded as soon as it is applied: a worker that dies
        // midway leaves a timeline that says how far it got.
        for resource in objects {
            let applied = match self.applier.apply(std::slice::from_ref(resource)).await {
                Ok(applied) => applied,
                // A volume claim can grow but never shrink: going back to a smaller plan
                // keeps the bigger claim (and its data) rather than failing the store.
                Err(ApplyError::Immutable { object, fields })
                    if object.kind == "PersistentVolumeClaim"
                        && fields.contains("spec.resources.requests.storage") =>
                {
                    let message = format!("{object} keeps its size: a volume claim cannot shrink");
                    let detail = json!({"kind": object.kind, "name": object.name, "outcome": "kept", "pass": pass});
                    self.event(store, EventKind::ObjectApplied, message, detail)
                        .await?;
                    continue;
                }
                Err(e) => {
                    let transient = e.is_transient();
                    return Err(kube_failure(e, transient));
                }
            };
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
            if report == Report::Change && object.outcome == Outcome::Unchanged {
                continue;
            }
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
            let detail =
                json!({"kind": object.kind, "name": object.name, "outcome": verb, "pass": pass});
            self.event(store, kind, message, detail).await?;
        }
        Ok((restored, fresh_namespace))
    }

    /// Deletes the store's objects that are not in `keep`; returns how many. Engine steps'
    /// objects (checkpoints) are never pruned: the store's selector leaves them out.
    pub(crate) async fn prune_store(
        &self,
        store: &Store,
        keep: &[ObjectRef],
        pass: &str,
    ) -> Result<usize, RunError> {
        let namespace = store.namespace();
        let selector = StoreResources::selector(store.id);
        let pruned = self
            .applier
            .prune(&namespace, &selector, keep)
            .await
            .map_err(|e| {
                let transient = e.is_transient();
                kube_failure(e, transient)
            })?;
        let count = pruned.len();
        for object in pruned {
            let detail =
                json!({"step": "prune", "kind": object.kind, "name": object.name, "pass": pass});
            self.event(
                store,
                EventKind::ObjectApplied,
                format!("{} {} pruned (no longer desired)", object.kind, object.name),
                detail,
            )
            .await?;
        }
        Ok(count)
    }
}
