//! Carrying out a change: a revision `R` newer than the deployed revision `D`.
//!
//! ```text
//! checkpoint (R migrates data: D's database dumps its own data)
//!   -> restore (R restores a checkpoint: with D's spec, what runs now)
//!   -> apply R's manifest exactly, prune, wait until ready
//!   -> upgrade step (R migrates data: with R's spec)
//!   -> R deployed (D superseded), old manifests pruned
//! ```
//!
//! Level-triggered: each step is keyed by R's number and idempotent (a step's Job that
//! completed is found completed; the checkpoint, once recorded on R, is not taken again),
//! so a worker killed anywhere leaves the next pass to carry on from where the store is.
//! The store keeps its status (a ready store stays ready) and the timeline tells each
//! step. R must be deployed by its deadline, `started_at + revisions.deadline_seconds`: a
//! step or readiness that has not succeeded by then, or fails for good, fails R with the
//! reason read from the cluster, and [`crate::remediation`] takes over. Transient errors
//! before the deadline are retried by the job queue.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use storeplane_blueprint::{Resource, Step, StepResources};
use storeplane_db::{ChangeCause, ChangeOutcome, DbError, RecordChange};
use storeplane_domain::{
    Actor, ChangeRefused, Checkpoint, EventKind, Revision, RevisionContent, RevisionStatus, Store,
};

use crate::RunError;
use crate::pass::Report;
use crate::provision::{ProvisionRunner, actor, db_failure, failure};

/// Why a change stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A failure the job queue retries (the deadline has not passed).
    Retry(RunError),
    /// The revision failed, for this reason (read from the cluster where it can be).
    Failed(String),
}

impl From<RunError> for Stop {
    fn from(error: RunError) -> Self {
        if error.permanent {
            Self::Failed(error.message)
        } else {
            Self::Retry(error)
        }
    }
}

/// The time left until `deadline`, zero once it passed.
fn left(deadline: DateTime<Utc>) -> Duration {
    (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

impl ProvisionRunner {
    /// Carries out `revision` (pending or applying) on a store whose deployed revision is
    /// `deployed`; see the module header.
    pub(crate) async fn carry_out(
        &self,
        store: Store,
        deployed: Revision,
        revision: Revision,
    ) -> Result<(), RunError> {
        let revision = if revision.status == RevisionStatus::Pending {
            self.repo
                .set_revision_status(
                    store.id,
                    revision.number,
                    RevisionStatus::Applying,
                    None,
                    &actor(),
                    Utc::now(),
                )
                .await
                .map_err(db_failure)?
        } else {
            revision
        };
        let seconds = i64::try_from(self.revisions.deadline_seconds).unwrap_or(i64::MAX);
        let deadline = revision.started_at.unwrap_or_else(Utc::now)
            + chrono::Duration::try_seconds(seconds).unwrap_or(chrono::Duration::MAX);
        let store = self.provisioning(store).await?;
        match self
            .change_steps(&store, &deployed, &revision, deadline)
            .await
        {
            Ok(()) => Ok(()),
            Err(Stop::Retry(error)) if left(deadline) > Duration::ZERO => Err(error),
            Err(Stop::Retry(error)) => self.fail(store, deployed, revision, error.message).await,
            Err(Stop::Failed(reason)) => self.fail(store, deployed, revision, reason).await,
        }
    }

    /// Whether the cluster holds exactly `deployed`'s objects as `revision` begins: the
    /// revision before it is the deployed one, or one that was rolled back (going back
    /// re-applied the deployed revision whole). A store left on a failed revision holds
    /// some of that revision's objects, so a change then applies every object, not only
    /// what differs from the deployed revision.
    async fn runs_deployed(
        &self,
        store: &Store,
        deployed: &Revision,
        revision: &Revision,
    ) -> Result<bool, RunError> {
        let Some(before) = storeplane_domain::RevisionNumber::new(revision.number.get() - 1) else {
            return Ok(false);
        };
        if before == deployed.number {
            return Ok(true);
        }
        let before = self
            .repo
            .get_revision(store.id, before)
            .await
            .map_err(db_failure)?;
        Ok(before.status == RevisionStatus::RolledBack)
    }

    /// Marks `revision` failed with `reason`, then does what that calls for.
    async fn fail(
        &self,
        store: Store,
        deployed: Revision,
        revision: Revision,
        reason: String,
    ) -> Result<(), RunError> {
        if revision.restores_backup.is_some() {
            // A restore cut short (by its deadline, or a worker that died) may have left
            // the store in maintenance; whatever comes next starts from the store serving.
            let desired = self.desired(store.id, &deployed).await?;
            let pass = format!("r{}", revision.number);
            let soon = Utc::now() + chrono::Duration::seconds(60);
            if let Err(stop) = self
                .end_maintenance(&store, &deployed, &desired, soon, &pass, false)
                .await
            {
                let error = match stop {
                    Stop::Retry(error) => error.message,
                    Stop::Failed(reason) => reason,
                };
                tracing::warn!(store.id = %store.id, %error, "could not end the maintenance of a failed restore");
            }
        }
        let failed = self
            .repo
            .set_revision_status(
                store.id,
                revision.number,
                RevisionStatus::Failed,
                Some(&reason),
                &actor(),
                Utc::now(),
            )
            .await
            .map_err(db_failure)?;
        self.remediate(store, deployed, failed).await
    }

    async fn change_steps(
        &self,
        store: &Store,
        deployed: &Revision,
        revision: &Revision,
        deadline: DateTime<Utc>,
    ) -> Result<(), Stop> {
        let n = revision.number;
        let pass = format!("r{n}");
        if left(deadline) == Duration::ZERO {
            return Err(Stop::Failed(self.why_late(store, revision, deadline).await));
        }
        if revision.migrates_data && revision.checkpoint.is_none() {
            self.step_event(
                store,
                format!("taking a checkpoint before revision {n}"),
                json!({"step": "checkpoint", "revision": n, "pass": pass}),
            )
            .await?;
            let step = self
                .blueprint
                .step(
                    store.id,
                    &deployed.spec,
                    Step::Checkpoint { revision: n.get() },
                )
                .map_err(|e| failure(e, false))?;
            self.run_step(store, &step, deadline, &pass).await?;
            let taken = step.checkpoint.ok_or_else(|| {
                Stop::Failed("the engine's checkpoint step names no checkpoint".to_owned())
            })?;
            let checkpoint = Checkpoint {
                job: taken.job,
                claim: taken.claim,
                path: taken.path,
                taken_at: Utc::now(),
            };
            self.repo
                .record_checkpoint(store.id, n, &checkpoint, &actor(), Utc::now())
                .await
                .map_err(db_failure)?;
            // The same dump, kept off the cluster too: a backup of kind `checkpoint`.
            self.repo
                .request_checkpoint_backup(store.id, n, &actor(), Utc::now())
                .await
                .map_err(db_failure)?;
        }
        if revision.migrates_data {
            // The checkpoint backup requested above (or by a pass cut short): a failed one
            // fails only itself, since the checkpoint on the store's volume is taken.
            let active = self
                .repo
                .active_backup(store.id)
                .await
                .map_err(db_failure)?
                .filter(|b| b.kind == storeplane_domain::BackupKind::Checkpoint);
            if let Some(backup) = active {
                self.take_backup(store, deployed, backup.id, Some(left(deadline)))
                    .await?;
            }
        }
        if let Some(backup) = revision.restores_backup {
            self.restore_backup(store, deployed, revision, backup, deadline, &pass)
                .await?;
        }
        if let Some(source) = revision.restores {
            let taken = self
                .repo
                .get_revision(store.id, source)
                .await
                .map_err(db_failure)?
                .checkpoint
                .ok_or_else(|| {
                    Stop::Failed(format!("revision {source} has no checkpoint to restore"))
                })?;
            self.restore(store, deployed, revision, source, &taken, deadline, &pass)
                .await?;
        }
        self.step_event(
            store,
            format!("applying revision {n}"),
            json!({"step": "apply", "revision": n, "pass": pass}),
        )
        .await?;
        let desired = self.desired(store.id, revision).await?;
        if self.runs_deployed(store, deployed, revision).await? {
            let current = self.desired(store.id, deployed).await?;
            self.apply_change(store, &desired, &current, &pass).await?;
        } else {
            self.apply_desired(store, &desired, Report::Change, &pass)
                .await?;
        }
        self.step_event(
            store,
            format!("waiting for revision {n} to become ready"),
            json!({"step": "wait", "revision": n, "pass": pass}),
        )
        .await?;
        self.wait_until(store, &desired.readiness, deadline).await?;
        if revision.migrates_data {
            self.step_event(
                store,
                format!("running the upgrade step of revision {n}"),
                json!({"step": "upgrade", "revision": n, "pass": pass}),
            )
            .await?;
            let step = self
                .blueprint
                .step(
                    store.id,
                    &revision.spec,
                    Step::Upgrade { revision: n.get() },
                )
                .map_err(|e| failure(e, false))?;
            self.run_step(store, &step, deadline, &pass).await?;
            self.step_event(
                store,
                format!("upgrade step of revision {n} done"),
                json!({"step": "upgrade", "revision": n, "pass": pass, "done": true}),
            )
            .await?;
        }
        self.repo
            .mark_revision_deployed(store.id, n, &actor(), Utc::now())
            .await
            .map_err(db_failure)?;
        // Only manifests older than the newest `keep_manifests` go, and `n` is the newest
        // revision (no change is recorded while one is in flight): with `n` or fewer
        // revisions there is nothing to drop, and no write to make.
        if n.get() > self.revisions.keep_manifests
            && let Err(error) = self
                .repo
                .prune_manifests(store.id, self.revisions.keep_manifests)
                .await
        {
            // Kept a little longer: the next deployment prunes them.
            tracing::warn!(store.id = %store.id, %error, "could not drop old manifests");
        }
        self.mark_ready(store, &desired).await?;
        Ok(())
    }

    /// Restores `checkpoint` (taken before revision `source`) for `revision`, with the
    /// spec the store runs now (`deployed`'s).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn restore(
        &self,
        store: &Store,
        deployed: &Revision,
        revision: &Revision,
        source: storeplane_domain::RevisionNumber,
        checkpoint: &Checkpoint,
        deadline: DateTime<Utc>,
        pass: &str,
    ) -> Result<(), Stop> {
        let n = revision.number;
        self.step_event(
            store,
            format!(
                "restoring the checkpoint taken before revision {source} ({}); orders written since are lost",
                checkpoint.path
            ),
            json!({"step": "restore", "revision": n, "restores": source, "pass": pass}),
        )
        .await?;
        let from = storeplane_blueprint::Checkpoint {
            job: checkpoint.job.clone(),
            claim: checkpoint.claim.clone(),
            path: checkpoint.path.clone(),
        };
        let step = self
            .blueprint
            .step(
                store.id,
                &deployed.spec,
                Step::Restore {
                    revision: n.get(),
                    checkpoint: &from,
                },
            )
            .map_err(|e| failure(e, false))?;
        self.run_step(store, &step, deadline, pass).await?;
        self.step_event(
            store,
            format!("checkpoint of revision {source} restored"),
            json!({"step": "restore", "revision": n, "restores": source, "pass": pass, "done": true}),
        )
        .await?;
        Ok(())
    }

    /// Restores `backup` in place for `revision` (a restore), with the spec the store runs
    /// now (`deployed`'s): the snapshot fetched and checked, the engine's loader, the files.
    pub(crate) async fn restore_backup(
        &self,
        store: &Store,
        deployed: &Revision,
        revision: &Revision,
        id: storeplane_domain::BackupId,
        deadline: DateTime<Utc>,
        pass: &str,
    ) -> Result<(), Stop> {
        let n = revision.number;
        let backup = self.repo.get_backup(id).await.map_err(db_failure)?;
        let Some(figures) = backup.figures.as_ref() else {
            return Err(Stop::Failed(format!(
                "backup {id} holds no snapshot to restore"
            )));
        };
        let short = id.short();
        let detail = |status: &str| json!({"step": "restore_backup", "backup": id, "revision": n, "status": status, "pass": pass});
        self.step_event(
            store,
            format!("restoring backup {short} into the store; what was written since it was taken is lost"),
            detail("running"),
        )
        .await?;
        // The repository is the backup's store's, read with its key; the store's own key
        // is the same store's in place, its own for a new store made from the backup.
        let key = self.backup_key(backup.store_id).await?;
        let own = if backup.store_id == store.id {
            key.clone()
        } else {
            self.backup_key(store.id).await?
        };
        let secrets = storeplane_blueprint::BackupSecrets {
            key: own,
            s3: self.backup_credentials.clone(),
        };
        let step = self
            .blueprint
            .step(
                store.id,
                &deployed.spec,
                Step::RestoreBackup(storeplane_blueprint::RestoreRequest {
                    revision: n.get(),
                    snapshot: &figures.snapshot,
                    source: backup.store_id,
                    source_key: &key,
                    secrets: &secrets,
                }),
            )
            .map_err(|e| failure(e, false))?;
        drop((secrets, key));
        let desired = self.desired(store.id, deployed).await?;
        if let Err(stop) = self
            .maintenance(store, deployed, &desired, deadline, pass)
            .await
        {
            // Half in maintenance is worse than either: the store's pods come back.
            let _ = self
                .end_maintenance(store, deployed, &desired, deadline, pass, true)
                .await;
            return Err(stop);
        }
        let restored = self.run_step(store, &step, deadline, pass).await;
        // Done or failed, the repository's key leaves the namespace (the backup's store's
        // key, for a copy: purging that store's backups must leave nothing that reads
        // them), and the shop comes back: restored, or as it was.
        let keys = step
            .secrets
            .iter()
            .filter(|s| {
                s.metadata.name.as_deref() == Some(storeplane_blueprint::RESTORE_KEY_SECRET)
            })
            .map(|s| Resource::from(s.clone()))
            .collect::<Vec<_>>();
        self.applier
            .remove(&keys)
            .await
            .map_err(|e| failure(&e, e.is_transient()))?;
        self.end_maintenance(store, deployed, &desired, deadline, pass, true)
            .await?;
        restored?;
        self.step_event(store, format!("backup {short} restored"), detail("done"))
            .await?;
        Ok(())
    }

    /// For a store made from a backup, once its first revision runs: the backup restored
    /// (the source store's repository, read with its key), the engine's upgrade step for
    /// data of an older release, the source's address rewritten to the store's, and the
    /// admin password set to the store's own, so the copy has new credentials. Every step
    /// is a Job keyed by the revision, so a pass cut short carries on where it was.
    pub(crate) async fn restore_as_new(
        &self,
        store: &Store,
        revision: &Revision,
        backup: storeplane_domain::BackupId,
        pass: &str,
    ) -> Result<(), RunError> {
        let into_run = |stop: Stop| match stop {
            Stop::Retry(error) => error,
            Stop::Failed(reason) => RunError::permanent(reason),
        };
        let timeout =
            chrono::Duration::from_std(self.timeouts.ready).unwrap_or(chrono::Duration::MAX);
        let deadline = Utc::now() + timeout;
        self.restore_backup(store, revision, revision, backup, deadline, pass)
            .await
            .map_err(into_run)?;
        let n = revision.number.get();
        let upgrade = self
            .blueprint
            .step(store.id, &revision.spec, Step::Upgrade { revision: n })
            .map_err(|e| failure(e, false))?;
        self.run_step(store, &upgrade, deadline, pass)
            .await
            .map_err(into_run)?;
        let source = self
            .repo
            .get_backup(backup)
            .await
            .map_err(db_failure)?
            .store_id;
        let source = self.repo.get_store(source).await.map_err(db_failure)?;
        if self
            .blueprint
            .has_rehome(store.id, &revision.spec)
            .map_err(|e| failure(e, false))?
        {
            let rehome = self
                .blueprint
                .step(
                    store.id,
                    &revision.spec,
                    Step::Rehome {
                        revision: n,
                        from: &source.spec,
                    },
                )
                .map_err(|e| failure(e, false))?;
            self.run_step(store, &rehome, deadline, pass)
                .await
                .map_err(into_run)?;
        }
        // Generation 0, which no reset request ever is: the store's first password.
        let reset = self
            .blueprint
            .step(
                store.id,
                &revision.spec,
                Step::ResetAdminPassword { generation: 0 },
            )
            .map_err(|e| failure(e, false))?;
        self.run_step(store, &reset, deadline, pass)
            .await
            .map_err(into_run)?;
        self.step_event(
            store,
            format!(
                "store {} holds the data of backup {} of store {}, at its own address and with its own credentials",
                store.spec.name,
                backup.short(),
                source.spec.name
            ),
            json!({"step": "restore_backup", "backup": backup, "revision": revision.number, "status": "copied", "pass": pass}),
        )
        .await?;
        Ok(())
    }

    /// The store's Deployments as `desired` has them, scaled to `replicas` (`None`: as
    /// desired).
    fn app(desired: &crate::desired::Desired, replicas: Option<i32>) -> Vec<Resource> {
        desired
            .objects
            .iter()
            .filter_map(|object| match object {
                Resource::Deployment(deployment) => {
                    let mut deployment = deployment.clone();
                    if let (Some(replicas), Some(spec)) = (replicas, deployment.spec.as_mut()) {
                        spec.replicas = Some(replicas);
                    }
                    Some(Resource::from(deployment))
                }
                _ => None,
            })
            .collect()
    }

    /// Puts the store in maintenance for a restore: the maintenance page up and serving,
    /// then the store's own pods stopped, so nothing writes to the data being replaced
    /// and visitors get the page rather than errors.
    async fn maintenance(
        &self,
        store: &Store,
        deployed: &Revision,
        desired: &crate::desired::Desired,
        deadline: DateTime<Utc>,
        pass: &str,
    ) -> Result<(), Stop> {
        let (page, ready) = self
            .blueprint
            .maintenance_page(store.id, &deployed.spec)
            .map_err(|e| failure(e, false))?;
        self.apply_objects(store, &[page], Report::Change, pass)
            .await?;
        self.wait_until(store, &[ready], deadline).await?;
        self.apply_objects(store, &Self::app(desired, Some(0)), Report::Change, pass)
            .await?;
        self.step_event(
            store,
            "the store is in maintenance: its pages say it is back in a few minutes".to_owned(),
            json!({"step": "maintenance", "status": "on", "revision": deployed.number, "pass": pass}),
        )
        .await?;
        Ok(())
    }

    /// Ends a restore's maintenance: the store's pods back as `desired` has them and
    /// ready, then the page gone, said on the timeline when `say`. Idempotent, so a pass
    /// that resumes a restore ends it too, and a failed restore's remediation may call it
    /// whether the store was in maintenance or not.
    async fn end_maintenance(
        &self,
        store: &Store,
        deployed: &Revision,
        desired: &crate::desired::Desired,
        deadline: DateTime<Utc>,
        pass: &str,
        say: bool,
    ) -> Result<(), Stop> {
        self.apply_objects(store, &Self::app(desired, None), Report::Change, pass)
            .await?;
        // The page goes even when the store is not ready in time: left up, it would share
        // the web Service with the store's own pods once they are.
        let ready = self.wait_until(store, &desired.readiness, deadline).await;
        let (page, _) = self
            .blueprint
            .maintenance_page(store.id, &deployed.spec)
            .map_err(|e| failure(e, false))?;
        self.applier
            .remove(std::slice::from_ref(&page))
            .await
            .map_err(|e| failure(&e, e.is_transient()))?;
        ready?;
        if !say {
            return Ok(());
        }
        self.step_event(
            store,
            "maintenance over: the store serves its pages again".to_owned(),
            json!({"step": "maintenance", "status": "off", "revision": deployed.number, "pass": pass}),
        )
        .await?;
        Ok(())
    }

    /// Applies an engine step's objects and waits for its Job to complete.
    async fn run_step(
        &self,
        store: &Store,
        step: &StepResources,
        deadline: DateTime<Utc>,
        pass: &str,
    ) -> Result<(), Stop> {
        self.apply_objects(store, &step.ordered(), Report::Change, pass)
            .await?;
        self.wait_until(store, &[step.readiness()], deadline).await
    }

    /// Waits for `checks` until `deadline`: a workload not ready by then, or failed for
    /// good, fails the revision with the reason the cluster gives.
    pub(crate) async fn wait_until(
        &self,
        store: &Store,
        checks: &[storeplane_blueprint::ReadinessCheck],
        deadline: DateTime<Utc>,
    ) -> Result<(), Stop> {
        match self
            .applier
            .wait_ready(&store.namespace(), checks, left(deadline))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.cause == storeplane_kube::NotReadyCause::Watch => {
                Err(Stop::Retry(crate::provision::not_ready_failure(&e)))
            }
            Err(e) => Err(Stop::Failed(e.reason)),
        }
    }

    /// Why a revision found past its deadline at the start of a pass is not deployed, as
    /// the cluster tells it.
    async fn why_late(
        &self,
        store: &Store,
        revision: &Revision,
        deadline: DateTime<Utc>,
    ) -> String {
        let late = format!(
            "not deployed by its deadline ({})",
            deadline.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let Ok(desired) = self.desired(store.id, revision).await else {
            return late;
        };
        match self
            .applier
            .wait_ready(
                &store.namespace(),
                &desired.readiness,
                Duration::from_secs(1),
            )
            .await
        {
            Err(e) => format!("{}; {late}", e.reason),
            Ok(()) => late,
        }
    }

    pub(crate) async fn step_event(
        &self,
        store: &Store,
        message: String,
        detail: serde_json::Value,
    ) -> Result<(), RunError> {
        self.event(store, EventKind::Step, message, detail).await
    }

    /// On a drift pass of a ready store with nothing in flight: when the platform settings
    /// changed what the deployed revision renders, records that as a new revision (actor
    /// `system:platform`) for this pass to carry out. A catalog edit changes nothing here:
    /// the platform digest covers only the store's own release. A store whose release left
    /// the catalog keeps its deployed manifest (see [`ProvisionRunner::desired`]).
    pub(crate) async fn platform_change(
        &self,
        store: &Store,
        deployed: &Revision,
    ) -> Result<Option<Revision>, RunError> {
        let Ok(digest) = self.blueprint.platform_digest(&deployed.spec) else {
            return Ok(None);
        };
        if digest == deployed.platform_digest {
            return Ok(None);
        }
        let Ok(rendered) = self.blueprint.render(store.id, &deployed.spec) else {
            return Ok(None);
        };
        if rendered.manifest.digest == deployed.manifest_digest {
            return Ok(None);
        }
        let recorded = self
            .repo
            .record_change(RecordChange {
                store: store.id,
                cause: ChangeCause::Platform,
                content: RevisionContent {
                    spec: deployed.spec.clone(),
                    platform_digest: rendered.platform_digest,
                    manifest: rendered.manifest.text,
                    manifest_digest: rendered.manifest.digest,
                },
                actor: Actor::System("platform".to_owned()),
                reason: "platform settings changed".to_owned(),
                max_attempts: 5,
                now: Utc::now(),
            })
            .await;
        match recorded {
            Ok(ChangeOutcome::Recorded { revision, .. }) => Ok(Some(revision)),
            Ok(ChangeOutcome::NoOp { .. }) => Ok(None),
            // Someone else's change got there first, or the store was left on a failed
            // revision: the platform change waits for a later pass.
            Err(DbError::ChangeRefused(
                ChangeRefused::InProgress { .. }
                | ChangeRefused::LeftFailed { .. }
                | ChangeRefused::Stale { .. },
            )) => Ok(None),
            // A backup or a reset in progress: the platform change waits for it.
            Err(DbError::BackupRefused(_) | DbError::ResetRefused(_)) => Ok(None),
            Err(e) => Err(db_failure(e)),
        }
    }
}
