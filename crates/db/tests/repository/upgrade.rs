//! Upgrading in place: a metadata database written by an earlier release (kept under
//! `tests/fixtures/`) opens with this release, migrates forward, and keeps its stores,
//! their timelines and what was revealed; its stores then get revision 1 from the backfill.

use std::sync::Arc;

use futures::FutureExt;
use sqlx::{ConnectOptions as _, Connection};
use storeplane_db::{
    ConnectOptions, CreateStoreOutcome, DatabaseUrl, InitialRevision, Repository, RevisionQuery,
    StoreQuery, connect,
};
use storeplane_domain::{
    Actor, EventKind, ReleaseName, RevisionContent, RevisionNumber, RevisionStatus, StoreStatus,
};

use crate::support::{Backend, admin, new_store, postgres_base_url, user};

const SQLITE_0_1_0: &str = include_str!("../fixtures/release-0.1.0/sqlite.sql");
const POSTGRES_0_1_0: &str = include_str!("../fixtures/release-0.1.0/postgres.sql");

/// Loads `dump` into a fresh database of `backend`, connects to it as this release does
/// at start (migrations on), and runs `test` on it.
async fn from_release<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Arc<dyn Repository>) -> Fut,
    Fut: Future<Output = ()>,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("storeplane.db");
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .connect()
                .await
                .expect("create the SQLite file");
            sqlx::raw_sql(SQLITE_0_1_0)
                .execute(&mut conn)
                .await
                .expect("load the 0.1.0 SQLite dump");
            conn.close().await.ok();
            let repo = connect(&DatabaseUrl::Sqlite(path), &ConnectOptions::default())
                .await
                .expect("open and migrate the 0.1.0 database");
            test(repo).await;
        }
        Backend::Postgres => {
            let base = postgres_base_url();
            let schema = format!("storeplane_upgrade_{}", uuid::Uuid::now_v7().simple());
            admin(&base, &format!("CREATE SCHEMA {schema}")).await;
            let options: sqlx::postgres::PgConnectOptions = base.parse().expect("a postgres URL");
            let mut conn = options
                .options([("search_path", schema.as_str())])
                .connect()
                .await
                .expect("connect to PostgreSQL");
            sqlx::raw_sql(POSTGRES_0_1_0)
                .execute(&mut conn)
                .await
                .expect("load the 0.1.0 PostgreSQL dump");
            conn.close().await.ok();
            let separator = if base.contains('?') { '&' } else { '?' };
            let url: DatabaseUrl = format!("{base}{separator}options[search_path]={schema}")
                .parse()
                .expect("a valid test database URL");
            let repo = connect(&url, &ConnectOptions::default())
                .await
                .expect("open and migrate the 0.1.0 database");
            let outcome = std::panic::AssertUnwindSafe(test(repo))
                .catch_unwind()
                .await;
            admin(&base, &format!("DROP SCHEMA {schema} CASCADE")).await;
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

async fn stores_of_0_1_0_keep_their_status_timeline_and_reveal(repo: Arc<dyn Repository>) {
    let all = repo
        .list_stores(&StoreQuery {
            limit: 10,
            ..StoreQuery::default()
        })
        .await
        .unwrap();
    let by_name = |name: &str| {
        all.iter()
            .find(|s| s.spec.name.as_str() == name)
            .unwrap_or_else(|| panic!("store {name} is listed after the upgrade"))
            .clone()
    };
    let (acme, bolt, gone) = (by_name("acme"), by_name("bolt"), by_name("gone"));
    assert_eq!(
        [acme.status, bolt.status, gone.status],
        [StoreStatus::Ready, StoreStatus::Ready, StoreStatus::Deleted]
    );
    assert_eq!(
        (acme.spec.plan.as_str(), bolt.spec.plan.as_str()),
        ("small", "medium")
    );
    // Revealed once in 0.1.0: still revealed, so the upgrade gives no second look.
    assert!(repo.credentials_revealed(acme.id).await.unwrap());
    assert!(!repo.credentials_revealed(bolt.id).await.unwrap());
    for store in [&acme, &bolt, &gone] {
        let events = repo.store_events(store.id, 0, 1000).await.unwrap();
        let first = events.first().expect("a timeline");
        assert_eq!(first.kind, EventKind::Created, "{}", store.spec.name);
        let last_status = events
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::StatusChanged)
            .expect("status changes on the timeline");
        assert!(
            last_status.message.ends_with(store.status.as_str()),
            "{}: {}",
            store.spec.name,
            last_status.message
        );
    }
}

async fn a_database_of_0_1_0_takes_new_stores_and_reuses_a_deleted_name(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let CreateStoreOutcome::Created { store, job } =
        repo.create_store(new_store(&alice, "gone")).await.unwrap()
    else {
        panic!("a deleted store's name is free again");
    };
    assert_eq!(store.status, StoreStatus::Pending);
    assert_eq!(repo.active_job(store.id).await.unwrap(), Some(job));
}

async fn stores_of_0_1_0_have_no_revision_until_the_backfill_records_revision_1_deployed(
    repo: Arc<dyn Repository>,
) {
    let all = repo
        .list_stores(&StoreQuery {
            limit: 10,
            ..StoreQuery::default()
        })
        .await
        .unwrap();
    for store in &all {
        assert_eq!(
            (
                store.deployed_revision,
                &store.spec.release,
                &store.spec.title
            ),
            (None, &None, &None),
            "{}",
            store.spec.name
        );
        let revisions = repo
            .list_revisions(
                store.id,
                &RevisionQuery {
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert!(revisions.is_empty(), "{}", store.spec.name);
    }
    // The backfill is for live stores only: `gone` was deleted in 0.1.0.
    let mut waiting: Vec<_> = repo
        .stores_without_revisions(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.spec.name.to_string())
        .collect();
    waiting.sort();
    assert_eq!(waiting, ["acme", "bolt"]);

    // What the binary does at start: render each store's spec with the default release and
    // the platform settings in force, and record it as it runs.
    for store in repo.stores_without_revisions(10).await.unwrap() {
        let mut spec = store.spec.clone();
        spec.release = Some(ReleaseName::parse("wp6.8-wc9.8").unwrap());
        let manifest = format!(
            "kind: Namespace\nmetadata:\n  name: {}\n",
            store.namespace()
        );
        let recorded = repo
            .record_initial_revision(InitialRevision {
                store: store.id,
                content: RevisionContent {
                    spec,
                    platform_digest: "0".repeat(64),
                    manifest_digest: "1".repeat(64),
                    manifest,
                },
                actor: Actor::System("upgrade".into()),
                reason: "recorded from the store as it runs, on upgrade".into(),
                deployed: true,
                now: chrono::Utc::now(),
            })
            .await
            .unwrap()
            .expect("revision 1 recorded");
        assert_eq!(
            (recorded.number, recorded.status, recorded.actor.to_string()),
            (
                RevisionNumber::FIRST,
                RevisionStatus::Deployed,
                "system:upgrade".to_owned()
            )
        );
    }
    assert!(repo.stores_without_revisions(10).await.unwrap().is_empty());
    for name in ["acme", "bolt"] {
        let store = all.iter().find(|s| s.spec.name.as_str() == name).unwrap();
        let after = repo.get_store(store.id).await.unwrap();
        assert_eq!(
            after.deployed_revision,
            Some(RevisionNumber::FIRST),
            "{name}"
        );
        assert_eq!(
            (after.status, after.spec.plan),
            (store.status, store.spec.plan),
            "{name} is unchanged"
        );
        assert_eq!(
            after.spec.release.as_ref().map(|r| r.as_str()),
            Some("wp6.8-wc9.8")
        );
        let revisions = repo
            .list_revisions(
                store.id,
                &RevisionQuery {
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        let numbers: Vec<_> = revisions
            .iter()
            .map(|r| (r.number.get(), r.status))
            .collect();
        assert_eq!(numbers, [(1, RevisionStatus::Deployed)], "{name}");
    }
}

macro_rules! upgrade_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::from_release(crate::support::Backend::Sqlite, super::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::from_release(crate::support::Backend::Postgres, super::$name).await;
                }
            )+
        }
    };
}

upgrade_tests!(
    stores_of_0_1_0_keep_their_status_timeline_and_reveal,
    a_database_of_0_1_0_takes_new_stores_and_reuses_a_deleted_name,
    stores_of_0_1_0_have_no_revision_until_the_backfill_records_revision_1_deployed,
);
