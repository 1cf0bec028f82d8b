//! Store revisions: reading them, and the statements the recording and status modules
//! share. Every write locks the store's row first ([`SqlBackend::LOCK_STORE`]) so that
//! decisions taken on a store's revisions inside a transaction stay true until it commits.

use serde_json::json;
use storeplane_domain::{
    Actor, EventKind, NewStoreEvent, Revision, RevisionNumber, Store, StoreId,
};

use crate::repository::{RevisionQuery, StoreRevisions};
use crate::rows::{ManifestRow, RevisionRow, StoreRow, convert_all, number_arg};
use crate::sql::{Conn, SqlBackend, args, revision_columns, store_columns};
use crate::{DbError, manifest, stores, timeline};

mod record;
mod status;

pub(crate) use record::{
    record_change, record_initial, record_provisioning_retry, record_restore, record_rollback,
};
pub(crate) use status::{
    mark_deployed, prune_manifests, record_checkpoint, set_last_checked, set_status,
};

const FIND: &str = concat!(
    "SELECT ",
    revision_columns!(),
    " FROM store_revisions WHERE store_id = $1 AND number = $2"
);

const LATEST: &str = concat!(
    "SELECT ",
    revision_columns!(),
    " FROM store_revisions WHERE store_id = $1 ORDER BY number DESC LIMIT 1"
);

const DEPLOYED: &str = concat!(
    "SELECT ",
    revision_columns!(),
    " FROM store_revisions WHERE store_id = $1 AND status = 'deployed'"
);

/// Newest first, older than `$2` when given.
const LIST: &str = concat!(
    "SELECT ",
    revision_columns!(),
    " FROM store_revisions WHERE store_id = $1 AND ($2 IS NULL OR number < $2) \
     ORDER BY number DESC LIMIT $3"
);

const HISTORY: &str = concat!(
    "SELECT ",
    revision_columns!(),
    " FROM store_revisions WHERE store_id = $1 ORDER BY number DESC"
);

const MANIFEST: &str = "SELECT manifest FROM store_revisions WHERE store_id = $1 AND number = $2";

const WITHOUT_REVISIONS: &str = concat!(
    "SELECT ",
    store_columns!(),
    " FROM stores WHERE status <> 'deleted' AND deployed_revision IS NULL \
     AND NOT EXISTS (SELECT 1 FROM store_revisions r WHERE r.store_id = stores.id) \
     ORDER BY id LIMIT $1"
);

pub(crate) async fn find<C: Conn>(
    conn: &mut C,
    store: StoreId,
    number: RevisionNumber,
) -> Result<Option<Revision>, DbError> {
    let row: Option<RevisionRow> = conn
        .fetch_optional(FIND, args![store.to_string(), number_arg(number)])
        .await?;
    row.map(Revision::try_from).transpose()
}

pub(crate) async fn find_existing<C: Conn>(
    conn: &mut C,
    store: StoreId,
    number: RevisionNumber,
) -> Result<Revision, DbError> {
    find(conn, store, number)
        .await?
        .ok_or(DbError::NotFound { what: "revision" })
}

async fn one<C: Conn>(
    conn: &mut C,
    sql: &'static str,
    store: StoreId,
) -> Result<Option<Revision>, DbError> {
    let row: Option<RevisionRow> = conn.fetch_optional(sql, args![store.to_string()]).await?;
    row.map(Revision::try_from).transpose()
}

pub(crate) async fn heads<C: Conn>(
    conn: &mut C,
    store: StoreId,
) -> Result<StoreRevisions, DbError> {
    Ok(StoreRevisions {
        deployed: one(conn, DEPLOYED, store).await?,
        latest: one(conn, LATEST, store).await?,
    })
}

/// Every revision of the store, newest first.
pub(crate) async fn history<C: Conn>(
    conn: &mut C,
    store: StoreId,
) -> Result<Vec<Revision>, DbError> {
    let rows: Vec<RevisionRow> = conn.fetch_all(HISTORY, args![store.to_string()]).await?;
    convert_all(rows)
}

/// The stored (compressed) manifest; `None` once pruned.
pub(crate) async fn stored_manifest<C: Conn>(
    conn: &mut C,
    store: StoreId,
    number: RevisionNumber,
) -> Result<Option<Vec<u8>>, DbError> {
    let row: Option<ManifestRow> = conn
        .fetch_optional(MANIFEST, args![store.to_string(), number_arg(number)])
        .await?;
    Ok(row.ok_or(DbError::NotFound { what: "revision" })?.manifest)
}

/// Locks the store for the rest of the transaction and returns it as it is now.
pub(crate) async fn lock_store<B: SqlBackend, C: Conn>(
    conn: &mut C,
    store: StoreId,
) -> Result<Store, DbError> {
    let locked: Option<crate::rows::IdRow> = conn
        .fetch_optional(B::LOCK_STORE, args![store.to_string()])
        .await?;
    if locked.is_none() {
        return Err(DbError::NotFound { what: "store" });
    }
    stores::find_existing(conn, store).await
}

/// Appends a revision step to the store's timeline (the transaction's last write).
pub(crate) async fn event<C: Conn>(
    conn: &mut C,
    revision: &Revision,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    message: String,
    mut detail: serde_json::Value,
) -> Result<(), DbError> {
    if let Some(fields) = detail.as_object_mut() {
        fields.insert("step".into(), json!("revision"));
        fields.insert("revision".into(), json!(revision.number));
        fields.insert("status".into(), json!(revision.status));
    }
    let event = NewStoreEvent::new(
        revision.store_id,
        now,
        EventKind::Step,
        actor.clone(),
        message,
    )
    .with_detail(detail);
    timeline::insert(conn, &event).await?;
    Ok(())
}

pub(crate) async fn list<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    query: &RevisionQuery,
) -> Result<Vec<Revision>, DbError> {
    let mut conn = backend.reader().await?;
    let args = args![
        store.to_string(),
        query.before.map(number_arg),
        i64::from(query.limit)
    ];
    let rows: Vec<RevisionRow> = conn.fetch_all(LIST, args).await?;
    convert_all(rows)
}

pub(crate) async fn get<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    number: RevisionNumber,
) -> Result<Revision, DbError> {
    find_existing(&mut *backend.reader().await?, store, number).await
}

pub(crate) async fn manifest<B: SqlBackend>(
    backend: &B,
    store: StoreId,
    number: RevisionNumber,
) -> Result<Option<String>, DbError> {
    let stored = stored_manifest(&mut *backend.reader().await?, store, number).await?;
    stored.as_deref().map(manifest::decompress).transpose()
}

pub(crate) async fn store_revisions<B: SqlBackend>(
    backend: &B,
    store: StoreId,
) -> Result<StoreRevisions, DbError> {
    heads(&mut *backend.reader().await?, store).await
}

pub(crate) async fn without_revisions<B: SqlBackend>(
    backend: &B,
    limit: u32,
) -> Result<Vec<Store>, DbError> {
    let mut conn = backend.reader().await?;
    let rows: Vec<StoreRow> = conn
        .fetch_all(WITHOUT_REVISIONS, args![i64::from(limit)])
        .await?;
    convert_all(rows)
}
