//! Changing a store, rolling it back, and reading its revisions: the status of every
//! outcome, what the store shows meanwhile, pagination, manifests and diffs, tenancy.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};
use storeplane_api::{FakeRenderer, StoreRenderer};
use storeplane_db::InitialRevision;
use storeplane_domain::{
    Actor, Checkpoint, ReleaseName, RevisionNumber, StoreId, StoreName, StoreSpec, StoreStatus,
};

use crate::support::{Reply, TestApp};

fn n(number: u32) -> RevisionNumber {
    RevisionNumber::new(number).unwrap()
}

fn system() -> Actor {
    Actor::System("test".into())
}

/// The renderer the test application runs with.
fn renderer() -> FakeRenderer {
    FakeRenderer::new(&["wp6.8-wc9.8", "wp6.9-wc10.0"])
}

/// Creates a store as `token`'s user and makes it ready with revision 1 deployed.
pub async fn ready_store(app: &TestApp, token: &str, name: &str) -> StoreId {
    let created = app.create_store(token, name).await;
    let id: StoreId = created["id"].as_str().unwrap().parse().unwrap();
    for status in [StoreStatus::Provisioning, StoreStatus::Ready] {
        app.repo
            .set_store_status(id, status, None, &system(), Utc::now())
            .await
            .unwrap();
    }
    let mut spec = StoreSpec::new(
        StoreName::parse(name).unwrap(),
        storeplane_domain::Engine::WooCommerce,
        storeplane_domain::Plan::Small,
    );
    spec.release = Some(ReleaseName::parse("wp6.8-wc9.8").unwrap());
    app.repo
        .record_initial_revision(InitialRevision {
            store: id,
            content: renderer().render(id, &spec).unwrap(),
            actor: system(),
            reason: String::new(),
            deployed: true,
            now: Utc::now(),
        })
        .await
        .unwrap()
        .expect("revision 1 recorded");
    id
}

async fn patch(app: &TestApp, token: &str, id: StoreId, body: Value) -> Reply {
    app.request(Method::PATCH, &format!("/api/v1/stores/{id}"))
        .bearer(token)
        .json(&body)
        .send()
        .await
}

async fn rollback(app: &TestApp, token: &str, id: StoreId, body: Value) -> Reply {
    app.post(&format!("/api/v1/stores/{id}/rollback"))
        .bearer(token)
        .json(&body)
        .send()
        .await
}

/// What a worker does once it carried revision `number` out.
async fn deployed(app: &TestApp, id: StoreId, number: u32) {
    app.repo
        .set_revision_status(
            id,
            n(number),
            storeplane_domain::RevisionStatus::Applying,
            None,
            &system(),
            Utc::now(),
        )
        .await
        .unwrap();
    app.repo
        .mark_revision_deployed(id, n(number), &system(), Utc::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_plan_change_answers_202_with_the_queued_revision_and_the_store_shows_it_in_flight() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;

    let reply = patch(
        &app,
        &alice,
        id,
        json!({"plan": "medium", "reason": "more traffic"}),
    )
    .await;

    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["changed"], true);
    let revision = &reply.body["revision"];
    assert_eq!(revision["number"], 2);
    assert_eq!(revision["status"], "pending");
    assert_eq!(revision["plan"], "medium");
    assert_eq!(revision["changes"], "plan small -> medium");
    assert_eq!(revision["actor"], "user:alice");
    assert_eq!(revision["reason"], "more traffic");
    let store = &reply.body["store"];
    assert_eq!(
        (&store["revision"], &store["latest_revision"]),
        (&json!(1), &json!(2))
    );
    assert_eq!(store["operation"]["kind"], "change");
    assert_eq!(store["operation"]["description"], "updating to revision 2");
    assert_eq!(
        store["plan"], "small",
        "the store runs its deployed plan until then"
    );
    let job = app.repo.active_job(id).await.unwrap();
    assert!(job.is_some(), "a job is queued to apply it");
}

#[tokio::test]
async fn a_change_to_what_the_store_runs_is_a_200_no_op_that_says_so() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;

    let reply = patch(
        &app,
        &alice,
        id,
        json!({"plan": "small", "release": "wp6.8-wc9.8"}),
    )
    .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["changed"], false);
    assert_eq!(reply.body["revision"]["number"], 1);
    assert_eq!(
        reply.body["message"],
        "nothing to change: the store already runs revision 1 with these settings"
    );
    assert_eq!(reply.body["store"]["latest_revision"], 1);
}

#[tokio::test]
async fn of_two_concurrent_changes_one_is_accepted_and_the_other_refused_as_in_progress() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;

    let (a, b) = tokio::join!(
        patch(&app, &alice, id, json!({"plan": "medium"})),
        patch(&app, &alice, id, json!({"plan": "large"})),
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::ACCEPTED, StatusCode::CONFLICT]);
    let refused = if a.status == StatusCode::CONFLICT {
        &a
    } else {
        &b
    };
    assert_eq!(refused.code(), "operation_in_progress");
}

#[tokio::test]
async fn a_stale_if_match_is_refused_with_412_and_the_current_etag_is_accepted() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    let read = app
        .get(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(read.headers["etag"], "\"1\"");
    assert!(
        patch(&app, &alice, id, json!({"title": "Acme"}))
            .await
            .status
            .is_success()
    );
    deployed(&app, id, 2).await;

    let stale = app
        .request(Method::PATCH, &format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .header("If-Match", "\"1\"")
        .json(&json!({"plan": "large"}))
        .send()
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(stale.code(), "stale_revision");

    let current = app
        .request(Method::PATCH, &format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .header("If-Match", "2")
        .json(&json!({"plan": "large"}))
        .send()
        .await;
    assert_eq!(current.status, StatusCode::ACCEPTED, "{}", current.body);
    assert_eq!(current.body["revision"]["number"], 3);
}

#[tokio::test]
async fn a_malformed_if_match_is_a_400() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    for bad in ["*", "W/\"1\"", "0", "one"] {
        let reply = app
            .request(Method::PATCH, &format!("/api/v1/stores/{id}"))
            .bearer(&alice)
            .header("If-Match", bad)
            .json(&json!({"plan": "large"}))
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.body
        );
        assert_eq!(reply.body["error"]["field"], "If-Match");
    }
}

#[tokio::test]
async fn each_bad_change_gets_a_422_naming_its_field() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    for (body, code, field) in [
        (
            json!({"release": "wp1.0-wc1.0"}),
            "unknown_release",
            Some("release"),
        ),
        (
            json!({"release": "Not A Release"}),
            "unknown_release",
            Some("release"),
        ),
        (json!({"plan": "huge"}), "unknown_plan", Some("plan")),
        (json!({"title": " padded"}), "invalid_title", Some("title")),
        (
            json!({"title": "x", "reason": "r".repeat(501)}),
            "invalid_reason",
            Some("reason"),
        ),
        (json!({}), "empty_change", None),
        (json!({"reason": "only a reason"}), "empty_change", None),
        (json!({"plan": null}), "invalid_body", None),
        (json!({"engine": "medusa"}), "unknown_field", Some("engine")),
    ] {
        let reply = patch(&app, &alice, id, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.code(), code, "{body}");
        assert_eq!(reply.body["error"]["field"].as_str(), field, "{body}");
    }
    let revisions = app
        .get(&format!("/api/v1/stores/{id}/revisions"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(revisions.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_store_still_provisioning_or_being_deleted_cannot_be_changed() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let pending = app.create_store(&alice, "fresh").await;
    let pending: StoreId = pending["id"].as_str().unwrap().parse().unwrap();
    let reply = patch(&app, &alice, pending, json!({"plan": "medium"})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);

    let id = ready_store(&app, &alice, "acme").await;
    app.delete(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    let reply = patch(&app, &alice, id, json!({"plan": "medium"})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.code(), "not_changeable");
}

#[tokio::test]
async fn a_rollback_without_a_revision_goes_back_to_the_one_deployed_before() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    patch(&app, &alice, id, json!({"plan": "medium"})).await;
    deployed(&app, id, 2).await;

    let reply = rollback(&app, &alice, id, json!({"reason": "too expensive"})).await;

    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let revision = &reply.body["revision"];
    assert_eq!(revision["number"], 3);
    assert_eq!(revision["rollback_of"], 1);
    assert_eq!(revision["plan"], "small");
    assert_eq!(
        revision["changes"],
        "rollback to revision 1: plan medium -> small"
    );
    assert_eq!(reply.body["data_loss"], false);
    assert_eq!(reply.body["store"]["operation"]["kind"], "rollback");
    assert_eq!(
        reply.body["store"]["operation"]["description"],
        "rolling back to revision 1 (as revision 3)"
    );
}

#[tokio::test]
async fn a_rollback_to_the_deployed_revision_is_refused_as_already_deployed() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    patch(&app, &alice, id, json!({"plan": "medium"})).await;
    deployed(&app, id, 2).await;

    let reply = rollback(&app, &alice, id, json!({"revision": 2})).await;

    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.code(), "already_deployed");
}

#[tokio::test]
async fn a_rollback_to_a_revision_the_store_never_had_is_a_404() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;

    let reply = rollback(&app, &alice, id, json!({"revision": 7})).await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(reply.code(), "unknown_revision");
    let zero = rollback(&app, &alice, id, json!({"revision": 0})).await;
    assert_eq!(
        zero.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        zero.body
    );
}

#[tokio::test]
async fn a_rollback_across_an_upgrade_is_refused_until_the_checkpoint_restore_is_asked_for() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    let upgrade = patch(&app, &alice, id, json!({"release": "wp6.9-wc10.0"})).await;
    assert_eq!(upgrade.body["revision"]["migrates_data"], true);
    let checkpoint = Checkpoint {
        job: "checkpoint-2".into(),
        claim: "checkpoints".into(),
        path: "/checkpoints/2.sql".into(),
        taken_at: Utc::now(),
    };
    app.repo
        .record_checkpoint(id, n(2), &checkpoint, &system(), Utc::now())
        .await
        .unwrap();
    deployed(&app, id, 2).await;

    let refused = rollback(&app, &alice, id, json!({"revision": 1})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "would_lose_data");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("revision 2 migrated"), "{message}");
    assert!(message.contains("restore_checkpoint"), "{message}");
    assert!(
        message.contains("every order written since then is lost"),
        "{message}"
    );

    let restored = rollback(
        &app,
        &alice,
        id,
        json!({"revision": 1, "restore_checkpoint": true}),
    )
    .await;
    assert_eq!(restored.status, StatusCode::ACCEPTED, "{}", restored.body);
    assert_eq!(restored.body["data_loss"], true);
    assert_eq!(restored.body["revision"]["restores"], 2);
    assert_eq!(restored.body["revision"]["release"], "wp6.8-wc9.8");
}

#[tokio::test]
async fn revisions_are_listed_newest_first_in_pages() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    for (number, plan) in [(2, "medium"), (3, "large"), (4, "small")] {
        let reply = patch(&app, &alice, id, json!({"plan": plan})).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        deployed(&app, id, number).await;
    }
    let page = |cursor: Option<String>| {
        let app = &app;
        let alice = &alice;
        async move {
            let mut path = format!("/api/v1/stores/{id}/revisions?limit=3");
            if let Some(cursor) = cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let reply = app.get(&path).bearer(alice).send().await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.body
        }
    };

    let first = page(None).await;
    let numbers: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].clone())
        .collect();
    assert_eq!(numbers, [json!(4), json!(3), json!(2)]);
    assert_eq!(first["items"][0]["status"], "deployed");
    assert_eq!(first["items"][1]["status"], "superseded");
    assert_eq!(
        first["items"][2]["changes"], "plan small -> medium",
        "read against revision 1, on the next page"
    );
    assert_eq!(first["next_cursor"], "2");

    let second = page(Some("2".into())).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["number"], 1);
    assert_eq!(second["items"][0]["changes"], "");
    assert_eq!(second["next_cursor"], Value::Null);

    let bad = app
        .get(&format!("/api/v1/stores/{id}/revisions?cursor=abc"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn one_revision_comes_with_its_manifest_and_two_are_diffed() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    patch(&app, &alice, id, json!({"plan": "medium"})).await;

    let one = app
        .get(&format!("/api/v1/stores/{id}/revisions/2"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body["number"], 2);
    assert!(
        one.body["manifest"]
            .as_str()
            .unwrap()
            .contains("plan: medium")
    );

    let diff = app
        .get(&format!("/api/v1/stores/{id}/revisions/1/diff/2"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    assert_eq!(diff.body["identical"], false);
    let text = diff.body["diff"].as_str().unwrap();
    assert!(
        text.starts_with("--- revision 1\n+++ revision 2\n"),
        "{text}"
    );
    assert!(text.contains("\n-plan: small\n+plan: medium\n"), "{text}");

    let same = app
        .get(&format!("/api/v1/stores/{id}/revisions/2/diff/2"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (&same.body["identical"], &same.body["diff"]),
        (&json!(true), &json!(""))
    );

    for (path, status) in [
        ("revisions/9", StatusCode::NOT_FOUND),
        ("revisions/0", StatusCode::BAD_REQUEST),
        ("revisions/x/diff/1", StatusCode::BAD_REQUEST),
        ("revisions/1/diff/9", StatusCode::NOT_FOUND),
    ] {
        let reply = app
            .get(&format!("/api/v1/stores/{id}/{path}"))
            .bearer(&alice)
            .send()
            .await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
    }
}

#[tokio::test]
async fn another_users_store_and_its_revisions_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let mallory = app.member("mallory").await;
    let id = ready_store(&app, &alice, "acme").await;

    let change = patch(&app, &mallory, id, json!({"plan": "large"})).await;
    let back = rollback(&app, &mallory, id, json!({})).await;
    assert_eq!(change.status, StatusCode::NOT_FOUND);
    assert_eq!(back.status, StatusCode::NOT_FOUND);
    for path in ["revisions", "revisions/1", "revisions/1/diff/1"] {
        let reply = app
            .get(&format!("/api/v1/stores/{id}/{path}"))
            .bearer(&mallory)
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let still = app.repo.store_revisions(id).await.unwrap();
    assert_eq!(still.latest.unwrap().number, n(1));
}

#[tokio::test]
async fn the_release_catalog_is_listed_with_the_default_marked_and_stores_say_if_they_run_it() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let releases = app.get("/api/v1/releases").bearer(&alice).send().await;
    assert_eq!(releases.status, StatusCode::OK);
    assert_eq!(releases.body[0]["name"], "wp6.8-wc9.8");
    assert_eq!(releases.body[0]["default"], true);
    assert_eq!(releases.body[1]["default"], false);

    let id = ready_store(&app, &alice, "acme").await;
    patch(
        &app,
        &alice,
        id,
        json!({"release": "wp6.9-wc10.0", "title": "Acme Outfitters"}),
    )
    .await;
    deployed(&app, id, 2).await;
    let list = app.get("/api/v1/stores").bearer(&alice).send().await;
    let store = &list.body["items"][0];
    assert_eq!(store["release"], "wp6.9-wc10.0");
    assert_eq!(store["title"], "Acme Outfitters");
    assert_eq!(store["release_is_default"], false);
    assert_eq!(
        (&store["revision"], &store["latest_revision"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(store["operation"], Value::Null);
}
