//! The harness: one fresh database per test on each backend, fixtures, and the macros that
//! turn each shared test into one test per backend.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures::FutureExt;
use sqlx::Connection;
use storeplane_db::{ConnectOptions, CreateStore, DatabaseUrl, Repository, connect};
use storeplane_domain::{Actor, Engine, Plan, Role, StoreId, StoreName, StoreSpec, User, UserName};

/// Where the PostgreSQL tests run unless `STOREPLANE_TEST_DATABASE_URL` says otherwise.
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database of its own for one test: a SQLite file in a temporary directory, or a fresh
/// PostgreSQL schema. Dropping it (SQLite) or the end of [`run`] (PostgreSQL) removes it.
pub struct TestDb {
    url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A repository with its own pool of `connections` on this test's database.
    pub async fn open(&self, connections: u32) -> Arc<dyn Repository> {
        let options = ConnectOptions {
            max_connections: connections,
            migrate: false,
            ..ConnectOptions::default()
        };
        connect(&self.url, &options)
            .await
            .expect("connect to the test database")
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DatabaseUrl::Postgres(_))
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `test` against a fresh, migrated database of `backend`, and removes it afterwards
/// whether the test passed or panicked.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = DatabaseUrl::Sqlite(dir.path().join("storeplane.db"));
            connect(&url, &ConnectOptions::default())
                .await
                .expect("create the SQLite test database");
            test(TestDb {
                url,
                _dir: Some(dir),
            })
            .await;
        }
        Backend::Postgres => {
            let base = postgres_base_url();
            let schema = format!("storeplane_test_{}", uuid::Uuid::now_v7().simple());
            admin(&base, &format!("CREATE SCHEMA {schema}")).await;
            let separator = if base.contains('?') { '&' } else { '?' };
            let url: DatabaseUrl = format!("{base}{separator}options[search_path]={schema}")
                .parse()
                .expect("a valid test database URL");
            connect(&url, &ConnectOptions::default())
                .await
                .expect("migrate the PostgreSQL test schema");
            let outcome = AssertUnwindSafe(test(TestDb { url, _dir: None }))
                .catch_unwind()
                .await;
            admin(&base, &format!("DROP SCHEMA {schema} CASCADE")).await;
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

/// The PostgreSQL server the tests use.
pub fn postgres_base_url() -> String {
    std::env::var("STOREPLANE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

/// Runs one administrative statement. The PostgreSQL tests are never skipped: without a
/// server they fail here, saying how to provide one.
pub async fn admin(url: &str, statement: &str) {
    let shown: DatabaseUrl = url
        .parse()
        .expect("STOREPLANE_TEST_DATABASE_URL is a valid postgres:// URL");
    let connecting = sqlx::PgConnection::connect(url);
    let mut conn = match tokio::time::timeout(Duration::from_secs(10), connecting).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "PostgreSQL is not reachable at {shown} ({e}); the repository tests need it: \
             start PostgreSQL or point STOREPLANE_TEST_DATABASE_URL at one"
        ),
        Err(_) => {
            panic!("PostgreSQL at {shown} did not answer within 10s; the repository tests need it")
        }
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    conn.close().await.ok();
}

/// Generates, for each named `async fn name(repo: Arc<dyn Repository>)` in the calling
/// module, a test per backend: `sqlite::name` and `postgres::name`.
macro_rules! repository_tests {
    ($($name:ident),+ $(,)?) => {
        $crate::support::database_tests!(@with_repo $($name),+);
    };
}
pub(crate) use repository_tests;

/// Like [`repository_tests`], for tests that need the database itself
/// (`async fn name(db: TestDb)`), to open more connections.
macro_rules! database_tests {
    (@with_repo $($name:ident),+) => {
        $crate::support::database_tests!(@backend sqlite, Sqlite, repo, $($name),+);
        $crate::support::database_tests!(@backend postgres, Postgres, repo, $($name),+);
    };
    (@backend $module:ident, $backend:ident, $how:ident, $($name:ident),+) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::support::run($crate::support::Backend::$backend, |db| async move {
                        $crate::support::database_tests!(@call $how, db, super::$name);
                    })
                    .await;
                }
            )+
        }
    };
    (@call repo, $db:ident, $test:path) => { $test($db.open(4).await).await };
    (@call db, $db:ident, $test:path) => { $test($db).await };
    ($($name:ident),+ $(,)?) => {
        $crate::support::database_tests!(@backend sqlite, Sqlite, db, $($name),+);
        $crate::support::database_tests!(@backend postgres, Postgres, db, $($name),+);
    };
}
pub(crate) use database_tests;

/// A fixed instant, so tests say "10 seconds later" rather than read the clock.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// `seconds` after [`t0`].
pub fn at(seconds: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(seconds)
}

pub async fn user(repo: &Arc<dyn Repository>, name: &str) -> User {
    let name = UserName::parse(name).expect("a valid user name");
    repo.ensure_user(&name, Role::Member, t0())
        .await
        .expect("create the user")
}

/// A request to create a WooCommerce store named `name` for `owner`, at [`t0`].
pub fn new_store(owner: &User, name: &str) -> CreateStore {
    CreateStore {
        id: StoreId::generate(),
        spec: StoreSpec {
            name: StoreName::parse(name).expect("a valid store name"),
            engine: Engine::WooCommerce,
            plan: Plan::Small,
            release: None,
            title: None,
        },
        owner: owner.id,
        actor: Actor::User(owner.name.to_string()),
        live_store_limit: None,
        restore_from: None,
        max_attempts: 3,
        idempotency: None,
        now: t0(),
    }
}

pub fn system() -> Actor {
    Actor::System("worker".to_owned())
}
