//! Scheduled backups: every tick, each ready store whose scheduled backup is due gets one
//! requested (the repository queues its job, and the worker takes it on that pass); and
//! backups past their expiry are purged.
//!
//! Storeplane's own queue drives the schedule, not a CronJob per store: when a backup is
//! due is computed from the metadata store (one interval after the store's last scheduled
//! backup was requested), so it survives restarts, shows in the API (`next_scheduled_at`),
//! needs no object in the store's namespace nor Kubernetes credentials to change it, and
//! takes the same path as a manual backup, with the same refusals. Every replica may run
//! this: the request re-checks the schedule under the store's lock, so two replicas that
//! tick together request one backup.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use storeplane_db::{Repository, RequestBackup};
use storeplane_domain::{Actor, BackupKind, BackupSchedule};
use tokio::sync::watch;

use crate::ProvisionRunner;

/// Every `tick` (jittered by up to a quarter) until `stop` turns true: requests the
/// scheduled backups that are due (none when `schedule` is off), and purges the backups
/// past their expiry through `runner`.
pub async fn schedule_backups(
    repo: Arc<dyn Repository>,
    runner: Arc<ProvisionRunner>,
    schedule: BackupSchedule,
    tick: Duration,
    mut stop: watch::Receiver<bool>,
) {
    match schedule.describe() {
        Some(every) => tracing::info!(every, "scheduled backups on"),
        None => tracing::info!("scheduled backups are off (backups.schedule: off)"),
    }
    loop {
        let jitter: f64 = rand::random();
        tokio::select! {
            () = tokio::time::sleep(tick.mul_f64(0.75 + jitter / 4.0)) => {}
            _ = stop.changed() => return,
        }
        match request_due(repo.as_ref(), schedule).await {
            Ok(0) => {}
            Ok(requested) => tracing::info!(requested, "scheduled backups requested"),
            Err(error) => {
                tracing::warn!(%error, "could not request scheduled backups; trying again next tick");
            }
        }
        match runner.purge_expired_backups().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired backups purged"),
            Err(error) => {
                tracing::warn!(%error, "could not purge expired backups; trying again next tick");
            }
        }
    }
}

/// Requests every due backup; returns how many were requested.
pub async fn request_due(
    repo: &dyn Repository,
    schedule: BackupSchedule,
) -> Result<usize, storeplane_db::DbError> {
    if schedule.describe().is_none() {
        return Ok(0);
    }
    let mut requested = 0;
    for store in repo.stores_due_for_backup(schedule, Utc::now()).await? {
        let request = RequestBackup {
            store,
            kind: BackupKind::Scheduled,
            actor: Actor::System("scheduler".to_owned()),
            reason: format!("every {}", schedule.describe().unwrap_or_default()),
            now: Utc::now(),
        };
        if repo.schedule_backup(schedule, request).await?.is_some() {
            requested += 1;
        }
    }
    Ok(requested)
}
