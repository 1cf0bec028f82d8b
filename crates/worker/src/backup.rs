//! Taking a backup the repository has recorded:
//!
//! ```text
//! pending -> running (event) -> the backup step (the engine's dump, then restic) applied
//!   -> wait for its Job -> restic's summary read from the termination message
//!   -> succeeded with its figures, or failed with the reason (event) -> Job removed
//! ```
//!
//! Only on a pass of a ready store with nothing else in flight (the repository refuses a
//! backup otherwise, and refuses changes while one is active), so the dump is of the
//! database the deployed revision runs. The Job is named by the backup's id, so a worker
//! killed anywhere finds the same Job on the next pass and waits on: restic makes a
//! snapshot visible only once it is complete, so a retried pod never leaves half a
//! backup. A failed backup fails only itself: the store stays ready, and the previous
//! backup stays the latest.
//!
//! The repository key lives in the keys namespace, made the first time a backup needs it;
//! neither it nor the object-store credentials reach an event, a log line or the metadata
//! store.

use std::time::Duration;

use chrono::Utc;
use rand::distr::{Alphanumeric, SampleString};
use storeplane_blueprint::{BackupRequest, BackupSecrets, Resource, Step};
use storeplane_domain::{Backup, BackupFigures, Revision, Store, StoreStatus};

use crate::RunError;
use crate::provision::{ProvisionRunner, actor, db_failure, failure};

/// The repository key's length: restic derives the key with scrypt, so 48 random
/// alphanumerics are far beyond guessing.
const KEY_LENGTH: usize = 48;

/// What restic's summary in the termination message holds (see `backup.sh`).
const SUMMARY: &[&str] = &["snapshot_id", "bytes_added", "bytes_processed"];

/// Time a backup Job gets beyond its own deadline before the wait gives up on it: the
/// Job controller fails it at its deadline, which is then read as the reason.
const GRACE: Duration = Duration::from_secs(60);

/// How often a wait on a backup Job looks whether its store is being deleted.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

impl ProvisionRunner {
    /// Takes `store`'s active backup, if it has one; `deployed` is the revision it runs.
    pub(crate) async fn run_backup(
        &self,
        store: &Store,
        deployed: &Revision,
    ) -> Result<(), RunError> {
        let Some(active) = store.backups.active else {
            return Ok(());
        };
        self.take_backup(store, deployed, active.id, None).await
    }

    /// Takes backup `id` of `store`, which runs `deployed`: starts it, runs its Job, and
    /// records its outcome, waiting for the Job up to the backup deadline, or `at_most`
    /// when that is shorter (a checkpoint backup within its revision's deadline). A backup
    /// that fails fails only itself (`Ok`); an error is one the job queue retries.
    pub(crate) async fn take_backup(
        &self,
        store: &Store,
        deployed: &Revision,
        id: storeplane_domain::BackupId,
        at_most: Option<Duration>,
    ) -> Result<(), RunError> {
        let backup = self
            .repo
            .start_backup(id, &actor(), Utc::now())
            .await
            .map_err(db_failure)?;
        let name = format!("backup-{}", backup.id.short());
        let secrets = BackupSecrets {
            key: self.backup_key(store.id).await?,
            s3: self.backup_credentials.clone(),
        };
        let request = BackupRequest {
            name: &name,
            kind: backup.kind,
            revision: backup.revision.map(|r| r.get()),
            secrets: &secrets,
        };
        let step = match self
            .blueprint
            .step(store.id, &deployed.spec, Step::Backup(request))
        {
            Ok(step) => step,
            // The settings cannot back this store up (no credentials for the bucket, say):
            // retrying cannot help, and the store itself is fine.
            Err(error) => return self.finish(&backup, Err(error.to_string())).await,
        };
        drop(secrets);
        match self.applier.apply(&step.ordered()).await {
            Ok(_) => {}
            Err(e) if e.is_transient() => return Err(failure(&e, true)),
            // Refused for good (a quota, a policy): the backup fails, not the store.
            Err(e) => return self.finish(&backup, Err(e.to_string())).await,
        }
        let deadline = Duration::from_secs(self.blueprint.settings().backups.deadline_seconds);
        let wait = at_most.map_or(deadline + GRACE, |at_most| at_most.min(deadline + GRACE));
        let until = tokio::time::Instant::now() + wait;
        let waited = loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let waited = self
                .applier
                .wait_ready(
                    &store.namespace(),
                    &[step.readiness()],
                    left.min(LOOK_AGAIN),
                )
                .await;
            match waited {
                Err(e)
                    if e.cause == storeplane_kube::NotReadyCause::TimedOut && !left.is_zero() =>
                {
                    // Still running: a store being deleted meanwhile does not wait for it.
                    let now = self.repo.get_store(store.id).await.map_err(db_failure)?;
                    if matches!(now.status, StoreStatus::Deleting | StoreStatus::Deleted) {
                        let reason = "the store is being deleted".to_owned();
                        return self.finish(&backup, Err(reason)).await;
                    }
                }
                waited => break waited,
            }
        };
        let outcome = match waited {
            Ok(()) => self.figures(store, &backup, &name).await?,
            Err(e) if e.cause == storeplane_kube::NotReadyCause::Watch => {
                return Err(crate::provision::not_ready_failure(&e));
            }
            Err(e) => Err(format!("Job {name}: {}", e.reason)),
        };
        self.finish(&backup, outcome).await?;
        // Done or failed, the Job has served; its Secret and policies stay for the next.
        let job = Resource::from(step.job.clone());
        if let Err(error) = self.applier.remove(std::slice::from_ref(&job)).await {
            // Its TTL removes it in a day otherwise; a Job of the same name is never
            // needed again.
            tracing::warn!(store.id = %store.id, %error, "could not remove the backup Job");
        }
        Ok(())
    }

    /// Store `id`'s repository key, from its Secret in the keys namespace, made the first
    /// time it is asked for (a fresh random value the cluster keeps only when the Secret
    /// is absent, so two workers that race still agree on one key).
    pub(crate) async fn backup_key(
        &self,
        id: storeplane_domain::StoreId,
    ) -> Result<String, RunError> {
        let fresh = Alphanumeric.sample_string(&mut rand::rng(), KEY_LENGTH);
        let objects =
            storeplane_blueprint::backup_key_objects(self.blueprint.settings(), id, &fresh);
        drop(fresh);
        self.applier
            .apply(&objects)
            .await
            .map_err(|e| failure(&e, e.is_transient()))?;
        let namespace = &self.blueprint.settings().backups.keys_namespace;
        let secret = storeplane_blueprint::backup_key_secret(id);
        match self
            .applier
            .secret_value(namespace, &secret, storeplane_blueprint::BACKUP_KEY)
            .await
        {
            Ok(Some(key)) => Ok(key),
            Ok(None) => Err(failure(
                format!("Secret {namespace}/{secret} is gone just after it was applied"),
                true,
            )),
            Err(e) => Err(failure(&e, e.is_transient())),
        }
    }

    /// Purges the backups past their expiry (a deleted store's, once its retention is over
    /// or an admin asked): each store's key deleted from the keys namespace first, which
    /// makes every snapshot in its repository unreadable, then their rows. Returns how many
    /// backups went.
    pub async fn purge_expired_backups(&self) -> Result<u64, RunError> {
        let now = Utc::now();
        let mut purged = 0;
        let stores = self
            .repo
            .stores_with_expired_backups(now)
            .await
            .map_err(db_failure)?;
        for store in stores {
            // The key's Secret as it was made; only its name and namespace matter here.
            let key =
                storeplane_blueprint::backup_key_objects(self.blueprint.settings(), store, "")
                    .into_iter()
                    .filter(|object| object.kind() == "Secret")
                    .collect::<Vec<_>>();
            self.applier
                .remove(&key)
                .await
                .map_err(|e| failure(&e, e.is_transient()))?;
            purged += self
                .repo
                .purge_backups(store, &actor(), now)
                .await
                .map_err(db_failure)?;
        }
        Ok(purged)
    }

    /// What restic reported of the snapshot, from the restic container's termination
    /// message; why the backup failed when it reported nothing usable.
    async fn figures(
        &self,
        store: &Store,
        backup: &Backup,
        job: &str,
    ) -> Result<Result<BackupFigures, String>, RunError> {
        let values = match self
            .applier
            .termination_values(
                &store.namespace(),
                job,
                storeplane_blueprint::BACKUP_CONTAINER,
                SUMMARY,
            )
            .await
        {
            Ok(Some(values)) => values,
            Ok(None) => {
                return Ok(Err(format!(
                    "Job {job} completed but its restic container left no summary"
                )));
            }
            Err(storeplane_kube::OutputsError::List { source, .. }) => {
                return Err(failure(source, true));
            }
            Err(error) => return Ok(Err(error.to_string())),
        };
        let number = |key: &str| values.get(key).and_then(|v| v.parse::<u64>().ok());
        let (Some(size_bytes), Some(added_bytes)) =
            (number("bytes_processed"), number("bytes_added"))
        else {
            return Ok(Err(format!("Job {job}: restic's summary holds no sizes")));
        };
        let started = backup.started_at.unwrap_or(backup.created_at);
        let duration_ms = u64::try_from((Utc::now() - started).num_milliseconds()).unwrap_or(0);
        Ok(Ok(BackupFigures {
            snapshot: values.get("snapshot_id").cloned().unwrap_or_default(),
            size_bytes,
            added_bytes,
            duration_ms,
        }))
    }

    async fn finish(
        &self,
        backup: &Backup,
        outcome: Result<BackupFigures, String>,
    ) -> Result<(), RunError> {
        if let Err(reason) = &outcome {
            tracing::warn!(store.id = %backup.store_id, backup = %backup.id, %reason, "backup failed");
        }
        self.repo
            .finish_backup(backup.id, outcome, &actor(), Utc::now())
            .await
            .map(drop)
            .map_err(db_failure)
    }
}
