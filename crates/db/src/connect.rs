//! Opening the metadata store: pick the backend from the URL, prepare the data directory,
//! connect with bounded waits so an unreachable database fails fast, and migrate.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{DatabaseUrl, DbError, PgRepository, Repository, SqliteRepository};

/// How to open the metadata store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Connections in the pool (PostgreSQL; SQLite's readers).
    pub max_connections: u32,
    /// How long to wait for the database to answer before giving up.
    pub connect_timeout: Duration,
    /// Apply pending migrations after connecting.
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            migrate: true,
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Opens the metadata store at `url`, migrating it first when `options.migrate` is set.
pub async fn connect(
    url: &DatabaseUrl,
    options: &ConnectOptions,
) -> Result<Arc<dyn Repository>, DbError> {
    let connect_error = |source| DbError::Connect {
        url: url.redacted(),
        source,
    };
    match url {
        DatabaseUrl::Postgres(raw) => {
            let connect_options: PgConnectOptions = raw.parse().map_err(connect_error)?;
            let pool = PgPoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.max_connections)
                .acquire_timeout(options.connect_timeout)
                .connect_with(connect_options)
                .await
                .map_err(connect_error)?;
            if options.migrate {
                POSTGRES_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(DbError::Migrate)?;
            }
            Ok(Arc::new(PgRepository::new(pool)))
        }
        DatabaseUrl::Sqlite(path) => {
            prepare_data_dir(path)?;
            let connect_options = sqlite_options().filename(path).create_if_missing(true);
            // SQLite allows one writer at a time; funnelling every write through a single
            // connection serializes them in-process instead of failing with SQLITE_BUSY,
            // while WAL lets the reader pool run beside it.
            let writer = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .acquire_timeout(options.connect_timeout)
                .connect_with(connect_options.clone())
                .await
                .map_err(|source| sqlite_open_error(path, source))?;
            if options.migrate {
                SQLITE_MIGRATIONS
                    .run(&writer)
                    .await
                    .map_err(DbError::Migrate)?;
            }
            let reader = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.max_connections)
                .acquire_timeout(options.connect_timeout)
                .connect_with(connect_options.read_only(true))
                .await
                .map_err(|source| sqlite_open_error(path, source))?;
            Ok(Arc::new(SqliteRepository::new(writer, reader)))
        }
        DatabaseUrl::SqliteMemory => {
            // An in-memory database lives and dies with its one connection, so readers
            // and the writer must share it.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(sqlite_options().in_memory(true))
                .await
                .map_err(connect_error)?;
            SQLITE_MIGRATIONS
                .run(&pool)
                .await
                .map_err(DbError::Migrate)?;
            Ok(Arc::new(SqliteRepository::new(pool.clone(), pool)))
        }
    }
}

/// Applies pending migrations and returns (for `storeplane migrate`).
pub async fn migrate(url: &DatabaseUrl, options: &ConnectOptions) -> Result<(), DbError> {
    connect(
        url,
        &ConnectOptions {
            migrate: true,
            ..options.clone()
        },
    )
    .await
    .map(drop)
}

fn sqlite_options() -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash or
        // power loss can lose the last transactions, the trade every WAL deployment makes.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
}

/// Creates the database file's directory and proves it writable, so a bad data directory
/// is reported as such instead of as an obscure SQLite error.
fn prepare_data_dir(db_path: &Path) -> Result<(), DbError> {
    let dir = match db_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let fail = |source| DbError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    tempfile_in(dir).map_err(fail)
}

fn tempfile_in(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".storeplane-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

fn sqlite_open_error(path: &Path, source: sqlx::Error) -> DbError {
    DbError::Connect {
        url: format!("sqlite://{}", path.display()),
        source,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn an_unreachable_database_fails_fast_naming_the_redacted_url() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let url: DatabaseUrl = "postgres://app:s3cret@127.0.0.1:1/storeplane"
            .parse()
            .unwrap();
        let options = ConnectOptions {
            connect_timeout: Duration::from_secs(2),
            ..ConnectOptions::default()
        };
        let started = Instant::now();

        let err = connect(&url, &options).await.unwrap_err();

        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(matches!(err, DbError::Connect { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("postgres://app:***@127.0.0.1:1/storeplane"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn a_data_directory_that_cannot_be_created_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-directory");
        std::fs::write(&file, b"").unwrap();
        let url = DatabaseUrl::in_data_dir(&file.join("data"));

        let err = connect(&url, &ConnectOptions::default()).await.unwrap_err();

        match &err {
            DbError::DataDir { path, .. } => assert_eq!(path, &file.join("data")),
            other => panic!("expected a data directory error, got {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with(&format!("data directory {}", file.join("data").display())),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_fresh_data_directory_is_created_on_first_start() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::in_data_dir(&dir.path().join("nested").join("data"));

        let repo = connect(&url, &ConnectOptions::default()).await.unwrap();

        repo.ping().await.unwrap();
        assert!(dir.path().join("nested/data/storeplane.db").exists());
    }

    #[tokio::test]
    async fn an_in_memory_database_reads_what_it_wrote() {
        let repo = connect(&DatabaseUrl::SqliteMemory, &ConnectOptions::default())
            .await
            .unwrap();
        let name = storeplane_domain::UserName::parse("mem").unwrap();
        let now = chrono::Utc::now();

        let created = repo
            .ensure_user(&name, storeplane_domain::Role::Member, now)
            .await
            .unwrap();

        assert_eq!(repo.user_by_name(&name).await.unwrap(), created);
    }
}
