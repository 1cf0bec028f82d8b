//! Upgrading in place: `storeplane serve` started on a metadata database written by
//! release 0.1.0 (before store revisions existed) records revision 1 of every live store,
//! from its spec and the platform settings in force, without touching the cluster.

use sqlx::{ConnectOptions as _, Connection as _};
use storeplane_blueprint::{Blueprint, PlatformSettings};
use storeplane_db::{ConnectOptions, DatabaseUrl, RevisionQuery, StoreQuery, connect};
use storeplane_domain::{RevisionStatus, StoreSpec, StoreStatus};

use crate::support::{Server, block_on};

const SQLITE_0_1_0: &str = include_str!("../../../db/tests/fixtures/release-0.1.0/sqlite.sql");

#[test]
fn serve_on_a_0_1_0_database_records_revision_1_deployed_of_each_live_store_and_logs_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("storeplane.db");
    block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&database)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(SQLITE_0_1_0)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let data_dir = dir.path().to_str().unwrap();

    // The stores' namespaces do not exist in the fresh simulated cluster: drift checks
    // off, this checks the metadata side only.
    let server = Server::start(&["--data-dir", data_dir, "--drift-interval", "0"]);
    let backfill = server
        .startup_logs
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|log| {
            log["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("backfilled"))
        })
        .unwrap_or_else(|| panic!("no backfill line in {:#?}", server.startup_logs));
    assert_eq!(
        (&backfill["stores"], backfill["message"].as_str()),
        (
            &serde_json::json!(2),
            Some("backfilled revision 1 of 2 stores made before revisions")
        ),
        "{backfill}"
    );
    assert!(server.terminate().success());

    let blueprint = Blueprint::new(PlatformSettings::default()).unwrap();
    block_on(async {
        let repo = connect(
            &DatabaseUrl::Sqlite(database.clone()),
            &ConnectOptions::default(),
        )
        .await
        .unwrap();
        let stores = repo
            .list_stores(&StoreQuery {
                limit: 10,
                ..StoreQuery::default()
            })
            .await
            .unwrap();
        let mut live = Vec::new();
        for store in stores.iter().filter(|s| s.status != StoreStatus::Deleted) {
            let default_release = blueprint
                .release(&StoreSpec {
                    release: None,
                    ..store.spec.clone()
                })
                .unwrap();
            live.push(store.spec.name.to_string());
            assert_eq!(store.status, StoreStatus::Ready, "{}", store.spec.name);
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
            let summary: Vec<_> = revisions
                .iter()
                .map(|r| {
                    (
                        r.number.get(),
                        r.status,
                        r.actor.to_string(),
                        r.spec.release.clone(),
                    )
                })
                .collect();
            assert_eq!(
                summary,
                [(
                    1,
                    RevisionStatus::Deployed,
                    "system:upgrade".to_owned(),
                    Some(default_release.clone())
                )],
                "{}",
                store.spec.name
            );
            assert_eq!(store.deployed_revision.map(|n| n.get()), Some(1));
            assert_eq!(store.spec.release.as_ref(), Some(&default_release));
        }
        live.sort();
        assert_eq!(live, ["acme", "bolt"]);
    });

    // A second start finds nothing left to backfill.
    let server = Server::start(&["--data-dir", data_dir, "--drift-interval", "0"]);
    assert!(
        server
            .startup_logs
            .iter()
            .any(|line| line.contains("backfilled revision 1 of 0 stores")),
        "{:#?}",
        server.startup_logs
    );
}
