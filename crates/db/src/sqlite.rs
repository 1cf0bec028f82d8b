//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! SQLite allows one writer at a time. Every write goes through one connection, held behind
//! an async mutex, so writes from all tasks of this process are serialized in-process (no
//! `SQLITE_BUSY` between them) and each statement or transaction sees the effects of every
//! write before it. That single writer is what makes the queue correct here: a lease is one
//! `UPDATE ... RETURNING` that no other write can interleave with. Reads use a separate
//! pool of read-only connections, which WAL mode lets run beside the writer.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use sqlx::pool::PoolConnection;
use sqlx::{Executor, Pool, Sqlite, SqliteConnection};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard, watch};

use crate::Backend;
use crate::sql::{SqlBackend, impl_conn, lease_sql};

/// The metadata store on SQLite.
#[derive(Clone)]
pub struct SqliteRepository {
    writer_pool: Pool<Sqlite>,
    reader_pool: Pool<Sqlite>,
    /// The writer connection, taken out of `writer_pool` on first use and kept. sqlx tests
    /// a pooled connection with a round trip every time it goes back to its pool; for the
    /// one connection every write goes through, that would double the cost of each write.
    writer: Arc<Mutex<Option<Writer>>>,
    /// Reads go through the writer too (an in-memory database, which lives in one
    /// connection).
    read_through_writer: bool,
    /// Bumped after every commit that appended events; live-update readers watch it. One
    /// process owns the file's writes in normal operation, so an in-process signal suffices.
    events: Arc<watch::Sender<()>>,
    /// Bumped after every commit that made a job runnable; idle workers watch it.
    jobs: Arc<watch::Sender<()>>,
}

#[derive(Debug)]
struct Writer {
    conn: PoolConnection<Sqlite>,
    /// A transaction was begun and neither committed nor rolled back (its future was
    /// dropped, or the commit failed): the next user rolls it back first.
    in_transaction: bool,
}

impl SqliteRepository {
    /// A repository writing through `writer`, which must hold exactly one connection, and
    /// reading through `reader` (the same pool for an in-memory database).
    pub fn new(writer: Pool<Sqlite>, reader: Pool<Sqlite>) -> Self {
        let read_through_writer = Arc::ptr_eq(&writer.connect_options(), &reader.connect_options());
        Self {
            writer_pool: writer,
            reader_pool: reader,
            writer: Arc::new(Mutex::new(None)),
            read_through_writer,
            events: Arc::new(watch::Sender::new(())),
            jobs: Arc::new(watch::Sender::new(())),
        }
    }

    /// The writer connection, exclusively, with no transaction open on it.
    async fn hold_writer(&self) -> Result<HeldWriter<'_>, sqlx::Error> {
        let mut slot: MutexGuard<'_, Option<Writer>> = self.writer.lock().await;
        if slot.is_none() {
            let conn = self.writer_pool.acquire().await?;
            *slot = Some(Writer {
                conn,
                in_transaction: false,
            });
        }
        let mut held = MutexGuard::try_map(slot, Option::as_mut)
            .map(HeldWriter)
            .map_err(|_| sqlx::Error::PoolClosed)?;
        if held.0.in_transaction {
            // Fails only when there was nothing to roll back (the BEGIN itself failed);
            // a transaction still open would make the next BEGIN fail loudly.
            if let Err(error) = held.0.conn.execute("ROLLBACK").await {
                tracing::debug!(%error, "nothing to roll back on the SQLite writer");
            }
            held.0.in_transaction = false;
        }
        Ok(held)
    }
}

impl fmt::Debug for SqliteRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteRepository").finish_non_exhaustive()
    }
}

/// Exclusive use of the writer connection.
pub(crate) struct HeldWriter<'a>(MappedMutexGuard<'a, Writer>);

impl Deref for HeldWriter<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.0.conn
    }
}

impl DerefMut for HeldWriter<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.0.conn
    }
}

/// A connection to read from: a pooled reader, or the writer for an in-memory database.
pub(crate) enum ReadConn<'a> {
    Pooled(PoolConnection<Sqlite>),
    Writer(HeldWriter<'a>),
}

impl Deref for ReadConn<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Writer(conn) => conn,
        }
    }
}

impl DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Writer(conn) => conn,
        }
    }
}

// Commits are serialized by the single writer, so events already become visible in `seq`
// order without a lock.
impl_conn!(Sqlite, SqliteConnection, None, None);

impl SqlBackend for SqliteRepository {
    type Db = Sqlite;
    type Tx<'a> = HeldWriter<'a>;
    type Writer<'a> = HeldWriter<'a>;
    type Reader<'a> = ReadConn<'a>;

    const BACKEND: Backend = Backend::Sqlite;

    const LEASE: &'static str = lease_sql!("");

    // The single writer already serializes creates; this only proves the owner exists.
    const LOCK_OWNER: &'static str = "SELECT id FROM users WHERE id = $1";

    // Likewise: the single writer already serializes revision records.
    const LOCK_STORE: &'static str = "SELECT id FROM stores WHERE id = $1";

    async fn begin(&self) -> Result<HeldWriter<'_>, sqlx::Error> {
        let mut held = self.hold_writer().await?;
        // Marked first: if BEGIN succeeds but this future is dropped, the next user of the
        // writer rolls back (a ROLLBACK without a transaction is harmless).
        held.0.in_transaction = true;
        // IMMEDIATE takes the write lock up front: a transaction that reads and then writes
        // cannot fail half-way when another process (a `storeplane migrate`, say) wrote
        // in between.
        held.0.conn.execute("BEGIN IMMEDIATE").await?;
        Ok(held)
    }

    async fn commit<'a>(mut tx: Self::Tx<'a>) -> Result<(), sqlx::Error>
    where
        Self: 'a,
    {
        tx.0.conn.execute("COMMIT").await?;
        tx.0.in_transaction = false;
        Ok(())
    }

    async fn writer(&self) -> Result<HeldWriter<'_>, sqlx::Error> {
        self.hold_writer().await
    }

    async fn reader(&self) -> Result<ReadConn<'_>, sqlx::Error> {
        if self.read_through_writer {
            return self.hold_writer().await.map(ReadConn::Writer);
        }
        self.reader_pool.acquire().await.map(ReadConn::Pooled)
    }

    fn announce_events(&self) {
        self.events.send_replace(());
    }

    fn event_wakeups(&self) -> BoxStream<'static, ()> {
        changes(&self.events)
    }

    fn announce_jobs(&self) {
        self.jobs.send_replace(());
    }

    fn job_wakeups(&self) -> BoxStream<'static, ()> {
        changes(&self.jobs)
    }
}

/// Yields once per change of `signal` after this call (changes in between coalesce).
fn changes(signal: &watch::Sender<()>) -> BoxStream<'static, ()> {
    stream::unfold(signal.subscribe(), |mut rx| async move {
        rx.changed().await.ok().map(|()| ((), rx))
    })
    .boxed()
}
