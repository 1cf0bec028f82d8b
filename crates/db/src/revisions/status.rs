//! Where revisions go after they are recorded: applying, deployed (superseding the one
//! before, in the same transaction), failed, rolled back; their checkpoints; pruning old
//! manifests; and the store's last drift check.

use chrono::{DateTime, Utc};
use serde_json::json;
use storeplane_domain::{
    Actor, Checkpoint, IllegalRevisionTransition, Revision, RevisionNumber, RevisionStatus, StoreId,
};

use super::record::FOLLOW_DEPLOYED;
use super::{event, find_existing, lock_store};
use crate::DbError;
use crate::rows::{RevisionRow, millis, number_arg};
use crate::sql::{Conn, SqlBackend, args, revision_columns};

/// Moves a revision from `$7` to `$3` (compare-and-set); `$4` failure (kept when NULL),
/// `$5` started_at and `$6` finished_at (each kept when NULL).
const SET_STATUS: &str = concat!(
    "UPDATE store_revisions SET status = $3, failure = COALESCE($4, failure), \
     started_at = COALESCE(started_at, $5), finished_at = COALESCE($6, finished_at) \
     WHERE store_id = $1 AND number = $2 AND status = $7 RETURNING ",
    revision_columns!()
);

/// The deployed revision other than `$2` becomes superseded.
const SUPERSEDE: &str = concat!(
    "UPDATE store_revisions SET status = 'superseded' \
     WHERE store_id = $1 AND status = 'deployed' AND number <> $2 RETURNING ",
    revision_columns!()
);

const SET_CHECKPOINT: &str = concat!(
    "UPDATE store_revisions SET checkpoint = $3 \
     WHERE store_id = $1 AND number = $2 AND status IN ('pending', 'applying') RETURNING ",
    revision_columns!()
);

/// Drops manifests older than the newest `$2` revisions; numbers have no gaps, so those
/// are the numbers up to the newest minus `$2`.
const PRUNE: &str = "UPDATE store_revisions SET manifest = NULL \
     WHERE store_id = $1 AND manifest IS NOT NULL \
     AND status NOT IN ('deployed', 'pending', 'applying') \
     AND number <= (SELECT MAX(number) FROM store_revisions WHERE store_id = $1) - $2";

const SET_LAST_CHECKED: &str = "UPDATE stores SET last_checked_at = $2 WHERE id = $1";

async fn move_revision<C: Conn>(
    conn: &mut C,
    current: &Revision,
    to: RevisionStatus,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Revision, DbError> {
    let now_ms = millis(now);
    let started =
        matches!(to, RevisionStatus::Applying | RevisionStatus::Deployed).then_some(now_ms);
    let finished = matches!(
        to,
        RevisionStatus::Deployed | RevisionStatus::Failed | RevisionStatus::RolledBack
    )
    .then_some(now_ms);
    let args = args![
        current.store_id.to_string(),
        number_arg(current.number),
        to.as_str(),
        failure,
        started,
        finished,
        current.status.as_str(),
    ];
    let row: Option<RevisionRow> = conn.fetch_optional(SET_STATUS, args).await?;
    // The store is locked, so the revision cannot have moved since it was read.
    row.ok_or_else(|| crate::rows::corrupt("store revision", "it moved under a store lock"))?
        .try_into()
}

fn message(revision: &Revision, failure: Option<&str>) -> String {
    let n = revision.number;
    match revision.status {
        RevisionStatus::Pending => format!("revision {n} is pending"),
        RevisionStatus::Applying => format!("revision {n} is being applied"),
        RevisionStatus::Deployed => format!("revision {n} deployed"),
        RevisionStatus::Failed => match failure.or(revision.failure.as_deref()) {
            Some(why) => format!("revision {n} failed: {why}"),
            None => format!("revision {n} failed"),
        },
        RevisionStatus::Superseded => format!("revision {n} superseded"),
        RevisionStatus::RolledBack => format!("revision {n} rolled back"),
    }
}

pub(crate) async fn set_status<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    number: RevisionNumber,
    to: RevisionStatus,
    failure: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Revision, DbError> {
    if to == RevisionStatus::Deployed {
        return mark_deployed(backend, store, number, actor, now).await;
    }
    let mut tx = backend.begin().await?;
    lock_store::<B, _>(&mut *tx, store).await?;
    let current = find_existing(&mut *tx, store, number).await?;
    if current.status == to {
        return Ok(current);
    }
    current.status.transition(to)?;
    let moved = move_revision(&mut *tx, &current, to, failure, now).await?;
    let detail = json!({ "from": current.status, "failure": failure });
    event(
        &mut *tx,
        &moved,
        actor,
        now,
        message(&moved, failure),
        detail,
    )
    .await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(moved)
}

pub(crate) async fn mark_deployed<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    number: RevisionNumber,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Revision, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_store::<B, _>(conn, store).await?;
    let current = find_existing(conn, store, number).await?;
    if current.status == RevisionStatus::Deployed {
        return Ok(current);
    }
    if !current.status.can_become(RevisionStatus::Deployed) {
        return Err(IllegalRevisionTransition {
            from: current.status,
            to: RevisionStatus::Deployed,
        }
        .into());
    }
    // Superseded first: the index allowing one deployed revision per store is checked
    // statement by statement.
    let superseded: Option<RevisionRow> = conn
        .fetch_optional(SUPERSEDE, args![store.to_string(), number_arg(number)])
        .await?;
    let superseded = superseded.map(Revision::try_from).transpose()?;
    let deployed = move_revision(conn, &current, RevisionStatus::Deployed, None, now).await?;
    let spec = &deployed.spec;
    conn.execute(
        FOLLOW_DEPLOYED,
        args![
            store.to_string(),
            number_arg(number),
            spec.plan.as_str(),
            spec.release.as_ref().map(|r| r.as_str()),
            spec.title.as_ref().map(|t| t.as_str()),
            millis(now),
        ],
    )
    .await?;
    let mut text = message(&deployed, None);
    if let Some(previous) = &superseded {
        text.push_str(&format!("; revision {} superseded", previous.number));
    }
    let detail = json!({ "from": current.status, "superseded": superseded.map(|r| r.number) });
    event(conn, &deployed, actor, now, text, detail).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(deployed)
}

pub(crate) async fn record_checkpoint<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    number: RevisionNumber,
    checkpoint: &Checkpoint,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Revision, DbError> {
    let stored =
        serde_json::to_string(checkpoint).map_err(|e| crate::rows::corrupt("checkpoint", e))?;
    let mut tx = backend.begin().await?;
    lock_store::<B, _>(&mut *tx, store).await?;
    let row: Option<RevisionRow> = tx
        .fetch_optional(
            SET_CHECKPOINT,
            args![store.to_string(), number_arg(number), stored],
        )
        .await?;
    let revision = Revision::try_from(row.ok_or(DbError::NotFound {
        what: "revision in flight",
    })?)?;
    let text = format!(
        "checkpoint taken before revision {number}: {} on volume {}",
        checkpoint.path, checkpoint.claim
    );
    let detail = json!({ "checkpoint": checkpoint });
    event(&mut *tx, &revision, actor, now, text, detail).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(revision)
}

pub(crate) async fn prune_manifests<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    keep: u32,
) -> Result<u64, DbError> {
    let mut conn = backend.writer().await?;
    Ok(conn
        .execute(PRUNE, args![store.to_string(), i64::from(keep)])
        .await?)
}

pub(crate) async fn set_last_checked<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut conn = backend.writer().await?;
    if conn
        .execute(SET_LAST_CHECKED, args![store.to_string(), millis(at)])
        .await?
        == 0
    {
        return Err(DbError::NotFound { what: "store" });
    }
    Ok(())
}
