//! What a failed revision calls for ([`decide_remediation`]): going back to the deployed
//! revision (restoring the checkpoint taken before the failed one when it may have
//! migrated the data), or, with automatic rollback off, leaving the store failed on it.
//!
//! Level-triggered like the rest: the pass that fails a revision goes on to remediate it,
//! and a pass that finds the store's newest revision failed and newer than the deployed
//! one (a worker died in between, or gave up) does the same. A rolled-back revision is
//! never tried again; a store left failed is never silently put back on the deployed
//! revision: a person changes it or rolls it back.

use chrono::Utc;
use serde_json::json;
use storeplane_domain::{
    EventKind, Remediation, Revision, RevisionStatus, Store, StoreStatus, decide_remediation,
};

use crate::RunError;
use crate::pass::Report;
use crate::provision::{ProvisionRunner, actor, db_failure};
use crate::revision::Stop;

impl From<Stop> for RunError {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Retry(error) => error,
            Stop::Failed(reason) => RunError::transient(reason),
        }
    }
}

impl ProvisionRunner {
    /// Does what `failed` (newer than `deployed`) calls for.
    pub(crate) async fn remediate(
        &self,
        store: Store,
        deployed: Revision,
        failed: Revision,
    ) -> Result<(), RunError> {
        let n = failed.number;
        let reason = failed
            .failure
            .clone()
            .unwrap_or_else(|| "it did not become ready".to_owned());
        // A checkpoint backup the failed revision requested and did not see through (its
        // deadline passed first, or its worker died) goes with it: left active, it would
        // refuse the rollback that follows.
        let active = self
            .repo
            .active_backup(store.id)
            .await
            .map_err(db_failure)?
            .filter(|b| b.kind == storeplane_domain::BackupKind::Checkpoint);
        if let Some(backup) = active {
            self.repo
                .finish_backup(
                    backup.id,
                    Err(format!("revision {n} failed before it was taken")),
                    &actor(),
                    Utc::now(),
                )
                .await
                .map_err(db_failure)?;
        }
        match decide_remediation(&failed, &deployed, self.revisions.auto_rollback) {
            Remediation::LeaveFailed => {
                if store.status != StoreStatus::Failed {
                    let why =
                        format!("revision {n} failed: {reason}; change the store or roll it back");
                    // Pending or provisioning stores fail through their own state machine.
                    self.set_status(&store, StoreStatus::Failed, Some(&why))
                        .await?;
                }
                Ok(())
            }
            Remediation::RollBack { to, restore } => {
                let pass = format!("r{n}-rollback");
                let deadline = Utc::now()
                    + chrono::Duration::from_std(self.timeouts.ready)
                        .unwrap_or(chrono::Duration::MAX);
                if let Some(restore) = restore {
                    self.restore(
                        &store,
                        &deployed,
                        &failed,
                        restore.revision,
                        &restore.checkpoint,
                        deadline,
                        &pass,
                    )
                    .await?;
                }
                self.step_event(
                    &store,
                    format!("going back to revision {to}"),
                    json!({"step": "rollback", "revision": n, "to": to, "pass": pass}),
                )
                .await?;
                let desired = self.desired(store.id, &deployed).await?;
                self.apply_desired(&store, &desired, Report::Change, &pass)
                    .await?;
                self.wait_until(&store, &desired.readiness, deadline)
                    .await?;
                self.event(
                    &store,
                    EventKind::Step,
                    format!("revision {n} failed ({reason}); rolled back to revision {to}"),
                    json!({"step": "rollback", "revision": n, "to": to, "failure": reason, "pass": pass, "done": true}),
                )
                .await?;
                self.repo
                    .set_revision_status(
                        store.id,
                        n,
                        RevisionStatus::RolledBack,
                        None,
                        &actor(),
                        Utc::now(),
                    )
                    .await
                    .map_err(db_failure)?;
                if store.status != StoreStatus::Ready {
                    let store = self.provisioning(store).await?;
                    self.mark_ready(&store, &desired).await?;
                }
                Ok(())
            }
        }
    }
}
