//! Admin password resets. A store carries two generations of its admin password: the one
//! wanted (bumped by each request) and the one the worker has applied. A reset is pending
//! while they differ; the worker writes the new password into the store's Secret tagged
//! with the wanted generation, runs the engine's reset step, then completes it here. The
//! password itself never reaches this database, only its generation number.

use chrono::{DateTime, Utc};
use serde_json::json;
use storeplane_domain::{
    Actor, EventKind, JobKind, NewStoreEvent, RetryPolicy, StoreId, StoreStatus,
};

use crate::revisions::{heads, lock_store};
use crate::rows::millis;
use crate::sql::{Conn, SqlBackend, args};
use crate::{DbError, queue, timeline};

/// Why a reset cannot be requested now (409 at the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResetRefused {
    /// Only a ready store has a running WordPress whose password can be reset.
    #[error("the store is {status}, not ready: its admin password can be reset once it is ready")]
    NotReady { status: StoreStatus },
    /// A reset was requested and the worker has not finished it yet (refuses another
    /// reset, and a change or rollback too).
    #[error("an admin password reset is in progress; try again once it is done")]
    ResetInProgress,
    /// A change or rollback is being applied; the reset waits for it to finish.
    #[error("revision {revision} is being applied: reset the admin password once it is deployed")]
    RevisionInFlight { revision: u32 },
}

const GENERATIONS: &str = "SELECT admin_password_generation AS wanted, admin_password_applied AS applied \
     FROM stores WHERE id = $1";

const BUMP: &str =
    "UPDATE stores SET admin_password_generation = $2, updated_at = $3 WHERE id = $1";

/// Marks `$2` applied and the credentials unrevealed, unless it is applied already.
const COMPLETE: &str = "UPDATE stores SET admin_password_applied = $2, \
     credentials_revealed_at = NULL, updated_at = $3 \
     WHERE id = $1 AND admin_password_applied < $2 AND admin_password_generation >= $2";

#[derive(Debug, sqlx::FromRow)]
struct GenerationsRow {
    wanted: i32,
    applied: i32,
}

impl GenerationsRow {
    fn pending(&self) -> Option<u32> {
        (self.wanted > self.applied)
            .then(|| u32::try_from(self.wanted).ok())
            .flatten()
    }
}

async fn generations<C: Conn>(conn: &mut C, store: StoreId) -> Result<GenerationsRow, DbError> {
    let row: Option<GenerationsRow> = conn
        .fetch_optional(GENERATIONS, args![store.to_string()])
        .await?;
    row.ok_or(DbError::NotFound { what: "store" })
}

fn reset_event(
    store: StoreId,
    actor: &Actor,
    now: DateTime<Utc>,
    message: &str,
    generation: u32,
    status: &str,
) -> NewStoreEvent {
    NewStoreEvent::new(
        store,
        now,
        EventKind::Step,
        actor.clone(),
        message.to_owned(),
    )
    .with_detail(json!({
        "step": "password_reset",
        "generation": generation,
        "status": status,
    }))
}

/// Refuses a change or rollback of a store (locked by the caller's transaction) while its
/// admin password is being reset: the reset Job runs against the WordPress the store runs.
pub(crate) async fn refuse_while_resetting<C: Conn>(
    conn: &mut C,
    store: StoreId,
) -> Result<(), DbError> {
    match generations(conn, store).await?.pending() {
        Some(_) => Err(ResetRefused::ResetInProgress.into()),
        None => Ok(()),
    }
}

pub(crate) async fn request<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u32, DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    let locked = lock_store::<B, _>(conn, store).await?;
    if locked.status != StoreStatus::Ready {
        return Err(ResetRefused::NotReady {
            status: locked.status,
        }
        .into());
    }
    let current = generations(conn, store).await?;
    if current.pending().is_some() {
        return Err(ResetRefused::ResetInProgress.into());
    }
    crate::backups::refuse_while_backing_up(conn, store).await?;
    if let Some(revision) = heads(conn, store).await?.in_flight() {
        return Err(ResetRefused::RevisionInFlight {
            revision: revision.number.get(),
        }
        .into());
    }
    let generation = current.wanted.saturating_add(1);
    conn.execute(BUMP, args![store.to_string(), generation, millis(now)])
        .await?;
    let max_attempts = RetryPolicy::default().max_attempts;
    queue::enqueue_in(conn, store, JobKind::Reconcile, max_attempts, now).await?;
    let generation = u32::try_from(generation)
        .map_err(|_| crate::rows::corrupt("store", "admin password generation overflows"))?;
    let event = reset_event(
        store,
        actor,
        now,
        &format!("admin password reset requested by {actor}"),
        generation,
        "requested",
    );
    timeline::insert(conn, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    backend.announce_jobs();
    Ok(generation)
}

pub(crate) async fn pending<B: SqlBackend>(
    backend: &B,
    store: StoreId,
) -> Result<Option<u32>, DbError> {
    Ok(generations(&mut *backend.reader().await?, store)
        .await?
        .pending())
}

pub(crate) async fn complete<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    generation: u32,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut tx = backend.begin().await?;
    let conn = &mut *tx;
    lock_store::<B, _>(conn, store).await?;
    let generation_arg = i32::try_from(generation).unwrap_or(i32::MAX);
    let changed = conn
        .execute(
            COMPLETE,
            args![store.to_string(), generation_arg, millis(now)],
        )
        .await?;
    if changed == 0 {
        // Applied already (a worker that died after completing runs the pass again), or
        // never requested: either way there is nothing left to do.
        return Ok(());
    }
    let event = reset_event(
        store,
        actor,
        now,
        "admin password reset; the new credentials can be revealed once",
        generation,
        "done",
    );
    timeline::insert(conn, &event).await?;
    B::commit(tx).await?;
    backend.announce_events();
    Ok(())
}
