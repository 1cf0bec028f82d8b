//! Backups through the API: taking one (with or without a body), the store's summary and
//! its warning once backups fall behind the schedule, purging a deleted store's backups,
//! and which backups a new store may be made from.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use storeplane_db::{CreateStore, RequestBackup};
use storeplane_domain::{
    Actor, BackupFigures, BackupId, BackupKind, Plan, Role, StoreId, StoreName, StoreSpec,
    StoreStatus, UserName,
};

use crate::support::{TestApp, store_body};

fn worker() -> Actor {
    Actor::System("worker".into())
}

async fn make_ready(app: &TestApp, id: StoreId) {
    for status in [StoreStatus::Provisioning, StoreStatus::Ready] {
        app.repo
            .set_store_status(id, status, None, &worker(), Utc::now())
            .await
            .unwrap();
    }
}

/// A ready store of `token`'s user.
async fn ready_store(app: &TestApp, token: &str, name: &str) -> StoreId {
    let store = app.create_store(token, name).await;
    let id: StoreId = store["id"].as_str().unwrap().parse().unwrap();
    make_ready(app, id).await;
    id
}

fn backups_path(id: StoreId) -> String {
    format!("/api/v1/stores/{id}/backups")
}

/// Takes backup `id` to succeeded, as the worker does.
async fn succeed(app: &TestApp, id: BackupId) {
    app.repo
        .start_backup(id, &worker(), Utc::now())
        .await
        .unwrap();
    let figures = BackupFigures {
        snapshot: "4f1c2a9b0e8d7c6b".into(),
        size_bytes: 20_761_421,
        added_bytes: 234_567,
        duration_ms: 4210,
    };
    app.repo
        .finish_backup(id, Ok(figures), &worker(), Utc::now())
        .await
        .unwrap();
}

fn backup_id(body: &Value) -> BackupId {
    body["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_backup_is_taken_with_no_body_an_empty_one_or_null_and_one_at_a_time() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;

    let bare = app.post(&backups_path(id)).bearer(&alice).send().await;
    assert_eq!(bare.status, StatusCode::ACCEPTED, "{}", bare.body);
    assert_eq!(
        (
            &bare.body["kind"],
            &bare.body["status"],
            &bare.body["actor"]
        ),
        (&json!("manual"), &json!("pending"), &json!("user:alice"))
    );
    let store = app
        .get(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(store.body["operation"]["kind"], "backup", "{}", store.body);
    let second = app.post(&backups_path(id)).bearer(&alice).send().await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.code(), "backup_in_progress");
    succeed(&app, backup_id(&bare.body)).await;

    let empty = app
        .post(&backups_path(id))
        .bearer(&alice)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(empty.status, StatusCode::ACCEPTED, "{}", empty.body);
    succeed(&app, backup_id(&empty.body)).await;
    let null = app
        .post(&backups_path(id))
        .bearer(&alice)
        .raw("application/json", "null")
        .send()
        .await;
    assert_eq!(null.status, StatusCode::ACCEPTED, "{}", null.body);
    succeed(&app, backup_id(&null.body)).await;

    let listed = app.get(&backups_path(id)).bearer(&alice).send().await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", listed.body);
    assert_eq!(items[0]["id"], null.body["id"], "newest first");
    assert_eq!(items[0]["size_bytes"], 20_761_421);
    assert_eq!(items[0]["added_bytes"], 234_567);
}

#[tokio::test]
async fn a_bad_reason_or_body_is_refused_and_nothing_is_recorded() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    let long = app
        .post(&backups_path(id))
        .bearer(&alice)
        .json(&json!({"reason": "x".repeat(501)}))
        .send()
        .await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(long.code(), "invalid_reason");
    let unknown = app
        .post(&backups_path(id))
        .bearer(&alice)
        .json(&json!({"why": "no"}))
        .send()
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    let list = app
        .post(&backups_path(id))
        .bearer(&alice)
        .raw("application/json", "[]")
        .send()
        .await;
    assert_eq!(
        list.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        list.body
    );
    let text = app
        .post(&backups_path(id))
        .bearer(&alice)
        .raw("text/plain", "now")
        .send()
        .await;
    assert_eq!(
        text.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        text.body
    );
    assert!(app.repo.store_backups(id, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_store_whose_backups_fell_behind_twice_its_schedule_says_so() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let owner = app
        .repo
        .user_by_name(&UserName::parse("alice").unwrap())
        .await
        .unwrap();
    // Made three days ago, never backed up since.
    let created = Utc::now() - Duration::days(3);
    let id = StoreId::generate();
    app.repo
        .create_store(CreateStore {
            id,
            spec: StoreSpec::new(
                StoreName::parse("old").unwrap(),
                storeplane_domain::Engine::WooCommerce,
                Plan::Small,
            ),
            owner: owner.id,
            actor: Actor::User("alice".into()),
            live_store_limit: None,
            max_attempts: 5,
            idempotency: None,
            restore_from: None,
            now: created,
        })
        .await
        .unwrap();
    make_ready(&app, id).await;

    let store = app
        .get(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    let summary = &store.body["backup"];
    assert_eq!(summary["schedule"], "24 h", "{summary}");
    assert_eq!(summary["last_succeeded_at"], Value::Null);
    assert_eq!(summary["keep_after_delete_days"], 30);
    assert_eq!(
        summary["warning"],
        "no successful backup in 3 days, more than twice the schedule (every 24 h)"
    );

    let backup = app
        .repo
        .request_backup(RequestBackup {
            store: id,
            kind: BackupKind::Manual,
            actor: Actor::User("alice".into()),
            reason: String::new(),
            now: Utc::now(),
        })
        .await
        .unwrap();
    succeed(&app, backup.id).await;
    let store = app
        .get(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        store.body["backup"]["warning"],
        Value::Null,
        "{}",
        store.body
    );
    assert!(store.body["backup"]["last_succeeded_at"].is_string());
}

#[tokio::test]
async fn only_an_admin_purges_and_only_a_deleted_stores_backups() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let admin = app.token("root", Role::Admin).await;
    let id = ready_store(&app, &alice, "acme").await;
    let backup = app.post(&backups_path(id)).bearer(&alice).send().await;
    succeed(&app, backup_id(&backup.body)).await;

    let by_member = app.delete(&backups_path(id)).bearer(&alice).send().await;
    assert_eq!(
        by_member.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_member.body
    );
    let live = app.delete(&backups_path(id)).bearer(&admin).send().await;
    assert_eq!(live.status, StatusCode::CONFLICT);
    assert_eq!(live.code(), "not_deleted");

    app.repo
        .request_deletion(id, &worker(), Utc::now())
        .await
        .unwrap();
    app.repo
        .set_store_status(id, StoreStatus::Deleted, None, &worker(), Utc::now())
        .await
        .unwrap();
    let purged = app.delete(&backups_path(id)).bearer(&admin).send().await;
    assert_eq!(purged.status, StatusCode::ACCEPTED, "{}", purged.body);
    let expires = purged.body["items"][0]["expires_at"].as_str().unwrap();
    let expires: chrono::DateTime<Utc> = expires.parse().unwrap();
    assert!(
        expires <= Utc::now(),
        "expired now, for the worker to purge"
    );
}

#[tokio::test]
async fn a_new_store_is_made_only_from_a_backup_of_ones_own_that_succeeded_of_its_engine() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    let id = ready_store(&app, &alice, "acme").await;
    let pending = app.post(&backups_path(id)).bearer(&alice).send().await;
    let create = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.post("/api/v1/stores")
                .bearer(&token)
                .json(&body)
                .send()
                .await
        }
    };
    let from = |name: &str, backup: &Value| {
        let mut body = store_body(name);
        body["from_backup"] = backup["id"].clone();
        body
    };

    let not_done = create(&alice, from("copy", &pending.body)).await;
    assert_eq!(not_done.status, StatusCode::CONFLICT, "{}", not_done.body);
    assert_eq!(not_done.code(), "backup_not_restorable");
    succeed(&app, backup_id(&pending.body)).await;

    let nobody = create(&alice, from("copy", &json!({"id": BackupId::generate()}))).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.code(), "unknown_backup");
    let someone_elses = create(&bob, from("copy", &pending.body)).await;
    assert_eq!(
        someone_elses.status,
        StatusCode::NOT_FOUND,
        "another's backup is unknown"
    );
    let mut medusa = from("copy", &pending.body);
    medusa["engine"] = json!("medusa");
    let other_engine = create(&alice, medusa).await;
    assert_eq!(other_engine.status, StatusCode::CONFLICT);
    assert_eq!(other_engine.code(), "engine_mismatch");

    let copy = create(&alice, from("copy", &pending.body)).await;
    assert_eq!(copy.status, StatusCode::ACCEPTED, "{}", copy.body);
    let copy_id: StoreId = copy.body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.repo.get_store(copy_id).await.unwrap().restore_from,
        Some(backup_id(&pending.body))
    );
    let stores = app.get("/api/v1/stores").bearer(&alice).send().await;
    assert_eq!(
        stores.body["items"].as_array().unwrap().len(),
        2,
        "nothing but the one copy was made: {}",
        stores.body
    );
}

#[tokio::test]
async fn a_restore_names_a_backup_of_another_users_store_as_unknown_and_of_another_store_as_such() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    // With its revision 1 deployed, as a restore needs.
    let acme = crate::revisions::ready_store(&app, &alice, "acme").await;
    let shop = ready_store(&app, &alice, "shop").await;
    let bobs = ready_store(&app, &bob, "bobs").await;
    let mut taken = Vec::new();
    for (token, id) in [(&alice, shop), (&bob, bobs)] {
        let backup = app.post(&backups_path(id)).bearer(token).send().await;
        succeed(&app, backup_id(&backup.body)).await;
        taken.push(backup.body["id"].clone());
    }
    let restore = |backup: &Value| {
        app.post(&format!("/api/v1/stores/{acme}/restore"))
            .bearer(&alice)
            .json(&json!({"backup": backup}))
            .send()
    };
    let own_other_store = restore(&taken[0]).await;
    assert_eq!(own_other_store.status, StatusCode::CONFLICT);
    assert_eq!(own_other_store.code(), "backup_of_another_store");
    let bobs_backup = restore(&taken[1]).await;
    assert_eq!(
        bobs_backup.status,
        StatusCode::NOT_FOUND,
        "another user's backup is not even said to exist: {}",
        bobs_backup.body
    );
    assert_eq!(
        app.repo
            .get_store(acme)
            .await
            .unwrap()
            .latest_revision
            .map(|r| r.get()),
        Some(1),
        "nothing recorded"
    );
}
