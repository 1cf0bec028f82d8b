//! The store timeline: append-only events, read per store or across all stores in `seq`
//! order for live-update resumption.

use storeplane_domain::{NewStoreEvent, StoreEvent, StoreId};

use crate::DbError;
use crate::rows::{EventRow, convert_all, millis};
use crate::sql::{Conn, SqlBackend, args};

const INSERT: &str = "INSERT INTO store_events (store_id, at, kind, message, detail, actor) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     RETURNING seq, store_id, at, kind, message, detail, actor";

const FOR_STORE: &str = "SELECT seq, store_id, at, kind, message, detail, actor FROM store_events \
     WHERE store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

const AFTER: &str = "SELECT seq, store_id, at, kind, message, detail, actor FROM store_events \
     WHERE seq > $1 ORDER BY seq LIMIT $2";

/// Appends an event inside the caller's transaction.
///
/// Callers append events as the last writes of a transaction: on PostgreSQL the ordering
/// lock taken here is held until commit, so the less happens after it the better.
pub(crate) async fn insert<C: Conn>(
    conn: &mut C,
    event: &NewStoreEvent,
) -> Result<StoreEvent, DbError> {
    if let Some(lock) = C::EVENT_ORDER_LOCK {
        conn.execute(lock, args![]).await?;
    }
    let row: Option<EventRow> = conn
        .fetch_optional(
            INSERT,
            args![
                event.store_id.to_string(),
                millis(event.at),
                event.kind.as_str(),
                event.message.as_str(),
                event.detail.to_string(),
                event.actor.to_string(),
            ],
        )
        .await?;
    row.ok_or_else(|| crate::rows::corrupt("store event", "the insert returned no row"))?
        .try_into()
}

pub(crate) async fn append<B: SqlBackend>(
    backend: &B,
    event: NewStoreEvent,
) -> Result<StoreEvent, DbError> {
    let not_found = |e| match e {
        DbError::Query(q) if is_foreign_key_violation(&q) => DbError::NotFound { what: "store" },
        other => other,
    };
    let recorded = if <<B::Db as sqlx::Database>::Connection as Conn>::EVENT_ORDER_LOCK.is_some() {
        // A transaction even for one insert: the ordering lock lives until commit.
        let mut tx = backend.begin().await?;
        let recorded = insert(&mut *tx, &event).await.map_err(not_found)?;
        B::commit(tx).await?;
        recorded
    } else {
        // Where commits are serialized anyway, one statement is its own transaction:
        // a BEGIN and a COMMIT more would be two more trips to the database for each of
        // the thousands of events a burst of stores writes.
        insert(&mut *backend.writer().await?, &event)
            .await
            .map_err(not_found)?
    };
    backend.announce_events();
    Ok(recorded)
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation())
}

pub(crate) async fn for_store<B: SqlBackend>(
    backend: &B,
    id: StoreId,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoreEvent>, DbError> {
    let mut conn = backend.reader().await?;
    let rows: Vec<EventRow> = conn
        .fetch_all(
            FOR_STORE,
            args![id.to_string(), after_seq, i64::from(limit)],
        )
        .await?;
    convert_all(rows)
}

pub(crate) async fn after<B: SqlBackend>(
    backend: &B,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoreEvent>, DbError> {
    let mut conn = backend.reader().await?;
    let rows: Vec<EventRow> = conn
        .fetch_all(AFTER, args![after_seq, i64::from(limit)])
        .await?;
    convert_all(rows)
}

const LATEST: &str = "SELECT COALESCE(MAX(seq), 0) AS count FROM store_events";

pub(crate) async fn latest_seq<B: SqlBackend>(backend: &B) -> Result<i64, DbError> {
    let mut conn = backend.reader().await?;
    let row: Option<crate::rows::CountRow> = conn.fetch_optional(LATEST, args![]).await?;
    Ok(row.map_or(0, |r| r.count))
}
