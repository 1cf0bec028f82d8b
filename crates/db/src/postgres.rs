//! The PostgreSQL backend, for high availability and for running many `storeplane worker`
//! processes against one queue.
//!
//! Two things differ from SQLite, both because many processes write at once:
//!
//! - Leasing locks its candidate row with `FOR UPDATE SKIP LOCKED`, so concurrent workers
//!   each take a different job instead of queueing behind one row lock.
//! - Event inserts take a transaction-scoped advisory lock first (see
//!   `EVENT_ORDER_LOCK`), so that events become visible in `seq` order.

use std::fmt;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use sqlx::postgres::PgListener;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Pool, Postgres, Transaction};

use crate::Backend;
use crate::sql::{SqlBackend, impl_conn, lease_sql};

/// Serializes event-inserting transactions from the insert to the commit.
///
/// `seq` comes from a sequence, and sequence values are handed out at insert time, not at
/// commit: transaction A can take seq 10, transaction B seq 11, and B commit first. A live
/// reader polling `seq > 9` would then see 11, move its cursor to 11, and never see 10
/// when A commits. Holding this lock from just before the insert until commit makes the
/// order of `seq` the order of commits. Every writer of events appends them as its last
/// statements, so the lock is held for little more than the commit itself. The key is an
/// arbitrary constant that only storeplane's event writers use: the ASCII of "STOREVTS",
/// 0x53544f5245565453.
///
/// The same statement queues a notification on [`EVENTS_CHANNEL`], which PostgreSQL
/// delivers to every listening process when (and only if) the transaction commits.
const EVENT_ORDER_LOCK: &str = "SELECT pg_advisory_xact_lock(6004511417960911955), pg_notify('storeplane_events', coalesce(current_schema(), ''))";

/// The channel `LISTEN`ed on for new events.
const EVENTS_CHANNEL: &str = "storeplane_events";

/// Queues a notification on [`JOBS_CHANNEL`] from a transaction that made a job runnable.
const JOBS_NOTIFY: &str = "SELECT pg_notify('storeplane_jobs', coalesce(current_schema(), ''))";

/// The channel idle workers `LISTEN` on for runnable jobs.
const JOBS_CHANNEL: &str = "storeplane_jobs";

/// How long to wait before listening again after the listener connection failed.
const RELISTEN_DELAY: Duration = Duration::from_secs(1);

/// The metadata store on PostgreSQL.
#[derive(Clone)]
pub struct PgRepository {
    pool: Pool<Postgres>,
}

impl PgRepository {
    pub fn new(pool: Pool<Postgres>) -> Self {
        Self { pool }
    }
}

impl fmt::Debug for PgRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgRepository")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl_conn!(
    Postgres,
    PgConnection,
    Some(EVENT_ORDER_LOCK),
    Some(JOBS_NOTIFY)
);

impl SqlBackend for PgRepository {
    type Db = Postgres;
    type Tx<'a> = Transaction<'static, Postgres>;
    type Writer<'a> = PoolConnection<Postgres>;
    type Reader<'a> = PoolConnection<Postgres>;

    const BACKEND: Backend = Backend::Postgres;

    const LEASE: &'static str = lease_sql!("FOR UPDATE SKIP LOCKED");

    const LOCK_OWNER: &'static str = "SELECT id FROM users WHERE id = $1 FOR UPDATE";

    const LOCK_STORE: &'static str = "SELECT id FROM stores WHERE id = $1 FOR UPDATE";

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn commit<'a>(tx: Self::Tx<'a>) -> Result<(), sqlx::Error>
    where
        Self: 'a,
    {
        tx.commit().await
    }

    async fn writer(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        self.pool.acquire().await
    }

    async fn reader(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        self.pool.acquire().await
    }

    fn event_wakeups(&self) -> BoxStream<'static, ()> {
        wakeups(self.pool.clone(), EVENTS_CHANNEL)
    }

    fn job_wakeups(&self) -> BoxStream<'static, ()> {
        wakeups(self.pool.clone(), JOBS_CHANNEL)
    }
}

/// Yields once listening on `channel` (something may have been notified while nobody
/// listened), then once per notification from this repository's schema. Channels are the
/// database's, so notifiers send their schema as the payload and listeners of other
/// schemas (another installation sharing the database) ignore it. The listener holds a
/// connection of its own (outside the pool's limit) and, once listening, reconnects by
/// itself; only a failed first connection is retried here.
fn wakeups(pool: Pool<Postgres>, channel: &'static str) -> BoxStream<'static, ()> {
    stream::unfold(None::<(PgListener, String)>, move |listening| {
        let pool = pool.clone();
        async move {
            let Some((mut listener, schema)) = listening else {
                loop {
                    match listen(&pool, channel).await {
                        Ok(listening) => return Some(((), Some(listening))),
                        Err(error) => {
                            tracing::warn!(%error, channel, "cannot listen for notifications; retrying");
                            tokio::time::sleep(RELISTEN_DELAY).await;
                        }
                    }
                }
            };
            loop {
                match listener.recv().await {
                    // An empty payload: a storeplane from before schemas were sent (a
                    // rolling upgrade); a wake-up too many is harmless.
                    Ok(notification)
                        if notification.payload() == schema || notification.payload().is_empty() =>
                    {
                        return Some(((), Some((listener, schema))));
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, channel, "listener failed; listening again");
                        tokio::time::sleep(RELISTEN_DELAY).await;
                        return Some(((), None));
                    }
                }
            }
        }
    })
    .boxed()
}

/// A listener on `channel`, and the schema whose notifications it wants.
async fn listen(pool: &Pool<Postgres>, channel: &str) -> Result<(PgListener, String), sqlx::Error> {
    let schema: String = sqlx::query_scalar("SELECT coalesce(current_schema(), '')")
        .fetch_one(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok((listener, schema))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_event_order_lock_uses_the_documented_key() {
        let key = i64::from_be_bytes(*b"STOREVTS");
        assert!(EVENT_ORDER_LOCK.contains(&format!("({key})")), "{key}");
    }
}
