//! Recording revisions: a change, a rollback, or a store's first revision. Each is one
//! transaction that locks the store, decides on its revisions as they are, inserts the
//! revision, queues the job that carries it out, and writes the event.

use chrono::{DateTime, Utc};
use serde_json::json;
use storeplane_domain::{
    Actor, BackupId, ChangeDecision, ChangeRefused, JobKind, Replay, Revision, RevisionNumber,
    RevisionStatus, RollbackRefused, StoreId, StoreSpec, StoreStatus, decide_change,
    decide_rerender, decide_rollback, describe_spec_change,
};

use super::{event, heads, history, lock_store, stored_manifest};
use crate::repository::{
    ChangeCause, ChangeOutcome, InitialRevision, RecordChange, RecordRestore, RecordRollback,
    RollbackRecorded,
};
use crate::rows::{RevisionRow, millis, number_arg};
use crate::sql::{Conn, SqlBackend, args, revision_columns};
use crate::{DbError, manifest, queue};

const INSERT: &str = concat!(
    "INSERT INTO store_revisions (store_id, number, spec, platform_digest, manifest, \
     manifest_digest, actor, reason, status, failure, created_at, started_at, finished_at, \
     checkpoint, rollback_of, restores, migrates_data, restores_backup) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, NULL, $13, $14, $15, $16) \
     RETURNING ",
    revision_columns!()
);

/// Makes the store's row follow its deployed revision's spec.
pub(super) const FOLLOW_DEPLOYED: &str = "UPDATE stores SET deployed_revision = $2, plan = $3, \
     release = $4, title = $5, updated_at = $6 WHERE id = $1";

/// A revision about to be inserted.
struct NewRevision<'a> {
    store: StoreId,
    number: RevisionNumber,
    spec: &'a StoreSpec,
    platform_digest: &'a str,
    /// Compressed.
    manifest: Vec<u8>,
    manifest_digest: &'a str,
    actor: &'a Actor,
    reason: &'a str,
    status: RevisionStatus,
    rollback_of: Option<RevisionNumber>,
    restores: Option<RevisionNumber>,
    restores_backup: Option<BackupId>,
    migrates_data: bool,
    now: DateTime<Utc>,
}

async fn insert<C: Conn>(conn: &mut C, new: NewRevision<'_>) -> Result<Revision, DbError> {
    let spec = serde_json::to_string(new.spec)
        .map_err(|e| crate::rows::corrupt("store revision", format_args!("spec: {e}")))?;
    let now = millis(new.now);
    let started = (new.status != RevisionStatus::Pending).then_some(now);
    let finished = (new.status == RevisionStatus::Deployed).then_some(now);
    let args = args![
        new.store.to_string(),
        number_arg(new.number),
        spec,
        new.platform_digest,
        Some(new.manifest),
        new.manifest_digest,
        new.actor.to_string(),
        new.reason,
        new.status.as_str(),
        now,
        started,
        finished,
        new.rollback_of.map(number_arg),
        new.restores.map(number_arg),
        new.migrates_data,
        new.restores_backup.map(|id| id.to_string()),
    ];
    let row: Option<RevisionRow> = conn.fetch_optional(INSERT, args).await?;
    row.ok_or_else(|| crate::rows::corrupt("store revision", "the insert returned no row"))?
        .try_into()
}

fn changeable(status: StoreStatus) -> Result<(), ChangeRefused> {
    match status {
        StoreStatus::Deleting | StoreStatus::Deleted => {
            Err(ChangeRefused::NotChangeable { status })
        }
        _ => Ok(()),
    }
}

/// Locks the store (in the caller's transaction) to record a revision: refused while it is
/// being deleted, or an admin password reset or a backup is in progress.
async fn lock_for_revision<B: SqlBackend, C: Conn>(
    conn: &mut C,
    store: StoreId,
) -> Result<(), DbError> {
    let locked = lock_store::<B, _>(conn, store).await?;
    changeable(locked.status)?;
    crate::password_reset::refuse_while_resetting(conn, store).await?;
    crate::backups::refuse_while_backing_up(conn, store).await
}

fn with_reason(message: String, reason: &str) -> String {
    if reason.is_empty() {
        message
    } else {
        format!("{message} ({reason})")
    }
}

pub(crate) async fn record_change<B: SqlBackend>(
    backend: &B,
    change: RecordChange,
) -> Result<ChangeOutcome, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_for_revision::<B, _>(conn, change.store).await?;
    let heads = heads(conn, change.store).await?;
    let (Some(deployed), Some(latest)) = (heads.deployed, heads.latest.clone()) else {
        return Err(ChangeRefused::InProgress {
            revision: heads
                .latest
                .filter(Revision::is_in_flight)
                .map(|r| r.number),
        }
        .into());
    };
    let decision = match &change.cause {
        ChangeCause::Request(request) => decide_change(&deployed, &latest, request)?,
        ChangeCause::Platform => {
            decide_rerender(&deployed, &latest, &change.content.manifest_digest)?
        }
    };
    let ChangeDecision::NewRevision {
        spec,
        migrates_data,
    } = decision
    else {
        return Ok(ChangeOutcome::NoOp { deployed });
    };
    // Rendered from another base than the store has now: never record a manifest of
    // another spec.
    if spec != change.content.spec {
        return Err(ChangeRefused::Stale {
            current: latest.number,
        }
        .into());
    }
    let revision = insert(
        conn,
        NewRevision {
            store: change.store,
            number: latest.number.next(),
            spec: &spec,
            platform_digest: &change.content.platform_digest,
            manifest: manifest::compress(&change.content.manifest),
            manifest_digest: &change.content.manifest_digest,
            actor: &change.actor,
            reason: &change.reason,
            status: RevisionStatus::Pending,
            rollback_of: None,
            restores: None,
            restores_backup: None,
            migrates_data,
            now: change.now,
        },
    )
    .await?;
    let job = queue::enqueue_in(
        conn,
        change.store,
        JobKind::Reconcile,
        change.max_attempts,
        change.now,
    )
    .await?
    .job;
    let changes = match change.cause {
        ChangeCause::Request(_) => describe_spec_change(&deployed.spec, &spec),
        ChangeCause::Platform => "the platform settings changed what the store renders".to_owned(),
    };
    let message = with_reason(
        format!("revision {} recorded: {changes}", revision.number),
        &change.reason,
    );
    let detail =
        json!({ "changes": changes, "reason": change.reason, "migrates_data": migrates_data });
    event(conn, &revision, &change.actor, change.now, message, detail).await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(ChangeOutcome::Recorded { revision, job })
}

pub(crate) async fn record_rollback<B: SqlBackend>(
    backend: &B,
    rollback: RecordRollback,
) -> Result<RollbackRecorded, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_for_revision::<B, _>(conn, rollback.store).await?;
    let history = history(conn, rollback.store).await?;
    let decision = decide_rollback(&history, rollback.target, rollback.restore_checkpoint)?;
    let target = history.iter().find(|r| r.number == rollback.target).ok_or(
        RollbackRefused::UnknownRevision {
            revision: rollback.target,
        },
    )?;
    let latest = history.first().map_or(RevisionNumber::FIRST, |r| r.number);

    let stored = match decision.replay {
        Replay::Manifest => stored_manifest(conn, rollback.store, rollback.target).await?,
        Replay::Spec => None,
    };
    let (platform_digest, manifest_bytes, manifest_digest) = match (stored, &rollback.rerendered) {
        (Some(bytes), _) => (
            target.platform_digest.as_str(),
            bytes,
            target.manifest_digest.as_str(),
        ),
        (None, Some(content)) if content.spec == decision.spec => (
            content.platform_digest.as_str(),
            manifest::compress(&content.manifest),
            content.manifest_digest.as_str(),
        ),
        (None, _) => {
            return Err(RollbackRefused::NoManifest {
                revision: rollback.target,
            }
            .into());
        }
    };
    let restores = decision.restore.as_ref().map(|r| r.revision);
    let revision = insert(
        conn,
        NewRevision {
            store: rollback.store,
            number: latest.next(),
            spec: &decision.spec,
            platform_digest,
            manifest: manifest_bytes,
            manifest_digest,
            actor: &rollback.actor,
            reason: &rollback.reason,
            status: RevisionStatus::Pending,
            rollback_of: Some(rollback.target),
            restores,
            restores_backup: None,
            migrates_data: decision.migrates_data,
            now: rollback.now,
        },
    )
    .await?;
    let job = queue::enqueue_in(
        conn,
        rollback.store,
        JobKind::Reconcile,
        rollback.max_attempts,
        rollback.now,
    )
    .await?
    .job;
    let mut message = format!(
        "revision {} recorded: roll back to revision {}",
        revision.number, rollback.target
    );
    if let Some(restore) = &decision.restore {
        message.push_str(&format!(
            "; the checkpoint taken before revision {} is restored first (orders written since are lost)",
            restore.revision
        ));
    }
    if decision.replay == Replay::Spec {
        message.push_str(&format!(
            "; revision {}'s manifest was no longer kept, so its spec was rendered again",
            rollback.target
        ));
    }
    let detail = json!({
        "rollback_of": rollback.target,
        "restores": restores,
        "replay": match decision.replay { Replay::Manifest => "manifest", Replay::Spec => "spec" },
        "reason": rollback.reason,
        "migrates_data": decision.migrates_data,
    });
    let message = with_reason(message, &rollback.reason);
    event(
        conn,
        &revision,
        &rollback.actor,
        rollback.now,
        message,
        detail,
    )
    .await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(RollbackRecorded {
        revision,
        job,
        restore: decision.restore,
    })
}

pub(crate) async fn record_initial<B: SqlBackend>(
    backend: &B,
    initial: InitialRevision,
) -> Result<Option<Revision>, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let store = lock_store::<B, _>(conn, initial.store).await?;
    if heads(conn, initial.store).await?.latest.is_some() {
        return Ok(None);
    }
    let content = &initial.content;
    let status = if initial.deployed {
        RevisionStatus::Deployed
    } else {
        RevisionStatus::Applying
    };
    let revision = insert(
        conn,
        NewRevision {
            store: initial.store,
            number: RevisionNumber::FIRST,
            spec: &content.spec,
            platform_digest: &content.platform_digest,
            manifest: manifest::compress(&content.manifest),
            manifest_digest: &content.manifest_digest,
            actor: &initial.actor,
            reason: &initial.reason,
            status,
            rollback_of: None,
            restores: None,
            restores_backup: None,
            migrates_data: false,
            now: initial.now,
        },
    )
    .await?;
    let message = if initial.deployed {
        conn.execute(
            FOLLOW_DEPLOYED,
            args![
                store.id.to_string(),
                number_arg(revision.number),
                content.spec.plan.as_str(),
                content.spec.release.as_ref().map(|r| r.as_str()),
                content.spec.title.as_ref().map(|t| t.as_str()),
                millis(initial.now),
            ],
        )
        .await?;
        "revision 1 recorded from the store as it runs"
    } else {
        "revision 1 recorded: the store's first provisioning"
    };
    let release = content.spec.release.as_ref().map(|r| r.as_str());
    let detail = json!({ "reason": initial.reason, "release": release });
    let message = with_reason(message.to_owned(), &initial.reason);
    event(
        conn,
        &revision,
        &initial.actor,
        initial.now,
        message,
        detail,
    )
    .await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(Some(revision))
}

/// Records a new `applying` revision for a store whose first provisioning failed and was
/// retried: the failed revision is never applied again (a retry is a new revision), so
/// the retry gets the next number, with the failed one's spec as the caller rendered it.
/// `None` (nothing recorded) unless the store has no deployed revision and its newest one
/// failed or was rolled back: a repeated or concurrent call records it once.
pub(crate) async fn record_provisioning_retry<B: SqlBackend>(
    backend: &B,
    retry: InitialRevision,
) -> Result<Option<Revision>, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_store::<B, _>(conn, retry.store).await?;
    let heads = heads(conn, retry.store).await?;
    let Some(failed) = heads.latest.filter(|latest| {
        heads.deployed.is_none()
            && matches!(
                latest.status,
                RevisionStatus::Failed | RevisionStatus::RolledBack
            )
    }) else {
        return Ok(None);
    };
    let content = &retry.content;
    let revision = insert(
        conn,
        NewRevision {
            store: retry.store,
            number: failed.number.next(),
            spec: &content.spec,
            platform_digest: &content.platform_digest,
            manifest: manifest::compress(&content.manifest),
            manifest_digest: &content.manifest_digest,
            actor: &retry.actor,
            reason: &retry.reason,
            status: RevisionStatus::Applying,
            rollback_of: None,
            restores: None,
            restores_backup: None,
            migrates_data: false,
            now: retry.now,
        },
    )
    .await?;
    let message = with_reason(
        format!(
            "revision {} recorded: the first provisioning again (revision {} failed)",
            revision.number, failed.number
        ),
        &retry.reason,
    );
    let detail = json!({ "reason": retry.reason, "retry_of": failed.number });
    event(conn, &revision, &retry.actor, retry.now, message, detail).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(Some(revision))
}

pub(crate) async fn record_restore<B: SqlBackend>(
    backend: &B,
    restore: RecordRestore,
) -> Result<Revision, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_for_revision::<B, _>(conn, restore.store).await?;
    let heads = heads(conn, restore.store).await?;
    let (Some(deployed), Some(latest)) = (heads.deployed, heads.latest) else {
        return Err(ChangeRefused::InProgress { revision: None }.into());
    };
    if latest.is_in_flight() {
        return Err(ChangeRefused::InProgress {
            revision: Some(latest.number),
        }
        .into());
    }
    let backup = crate::backups::restorable(conn, restore.backup, restore.store).await?;
    // The store is restored as it runs: the deployed revision's spec, rendered again.
    if restore.content.spec != deployed.spec {
        return Err(ChangeRefused::Stale {
            current: latest.number,
        }
        .into());
    }
    let taken = backup.finished_at.unwrap_or(backup.created_at);
    let short = backup.id.short();
    let revision = insert(
        conn,
        NewRevision {
            store: restore.store,
            number: latest.number.next(),
            spec: &deployed.spec,
            platform_digest: &restore.content.platform_digest,
            manifest: manifest::compress(&restore.content.manifest),
            manifest_digest: &restore.content.manifest_digest,
            actor: &restore.actor,
            reason: &restore.reason,
            status: RevisionStatus::Pending,
            rollback_of: None,
            restores: None,
            restores_backup: Some(backup.id),
            // A checkpoint first, so the restore can be rolled back; the engine's upgrade
            // step after, for data of an older release.
            migrates_data: true,
            now: restore.now,
        },
    )
    .await?;
    queue::enqueue_in(
        conn,
        restore.store,
        JobKind::Reconcile,
        restore.max_attempts,
        restore.now,
    )
    .await?;
    let changes = format!(
        "restore backup {short} taken {} (revision {}); what was written since is lost",
        taken.format("%Y-%m-%d %H:%M:%S UTC"),
        backup
            .revision
            .map_or_else(|| "-".to_owned(), |r| r.to_string())
    );
    let message = with_reason(
        format!("revision {} recorded: {changes}", revision.number),
        &restore.reason,
    );
    let detail = json!({
        "changes": changes,
        "reason": restore.reason,
        "migrates_data": true,
        "restores_backup": backup.id,
    });
    event(
        conn,
        &revision,
        &restore.actor,
        restore.now,
        message,
        detail,
    )
    .await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(revision)
}
