//! `POST /stores/{id}/credentials/reset`: a ready store's admin password reset, refused
//! while anything else is in flight, and the credentials revealable once again after it.

use axum::http::StatusCode;
use chrono::Utc;
use storeplane_api::AdminCredentials;
use storeplane_domain::{Actor, StoreId, StoreStatus};

use crate::support::TestApp;

/// A store of `token`'s user that provisioning has made ready, with credentials.
async fn ready_store(app: &TestApp, token: &str, name: &str) -> StoreId {
    let store = app.create_store(token, name).await;
    let id: StoreId = store["id"].as_str().unwrap().parse().unwrap();
    let worker = Actor::System("worker".into());
    for status in [StoreStatus::Provisioning, StoreStatus::Ready] {
        app.repo
            .set_store_status(id, status, None, &worker, Utc::now())
            .await
            .unwrap();
    }
    app.credentials.insert(
        id,
        AdminCredentials {
            username: "admin".into(),
            password: "first-pw-Zq8vN3pL".into(),
        },
    );
    id
}

fn reset_path(id: StoreId) -> String {
    format!("/api/v1/stores/{id}/credentials/reset")
}

fn reveal_path(id: StoreId) -> String {
    format!("/api/v1/stores/{id}/credentials/reveal")
}

#[tokio::test]
async fn after_a_reset_the_new_credentials_are_revealed_exactly_once() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    let first = app.post(&reveal_path(id)).bearer(&alice).send().await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);

    let reset = app.post(&reset_path(id)).bearer(&alice).send().await;

    assert_eq!(reset.status, StatusCode::ACCEPTED, "{}", reset.body);
    assert_eq!(reset.body["store"]["id"], id.to_string());
    assert_eq!(reset.body["store"]["status"], "ready");
    assert_eq!(
        reset.body["store"]["operation"],
        serde_json::json!({"kind": "password_reset", "revision": null, "description": "resetting the admin password"}),
        "the store says a reset is under way until the worker finishes it"
    );
    let early = app.post(&reveal_path(id)).bearer(&alice).send().await;
    assert_eq!(
        early.status,
        StatusCode::GONE,
        "the old credentials stay unrevealable while the reset runs"
    );
    // The worker sets the new password and completes the reset.
    app.credentials.insert(
        id,
        AdminCredentials {
            username: "admin".into(),
            password: "second-pw-Kc2RmT9w".into(),
        },
    );
    app.repo
        .complete_password_reset(id, 1, &Actor::System("worker".into()), Utc::now())
        .await
        .unwrap();
    let revealed = app.post(&reveal_path(id)).bearer(&alice).send().await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.body);
    assert_eq!(revealed.body["password"], "second-pw-Kc2RmT9w");
    let again = app.post(&reveal_path(id)).bearer(&alice).send().await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::GONE, "credentials_revealed")
    );
    let events = app
        .get(&format!("/api/v1/stores/{id}/events"))
        .bearer(&alice)
        .send()
        .await;
    let text = events.body.to_string();
    assert!(
        text.contains("admin password reset requested by user:alice"),
        "{text}"
    );
    assert!(
        text.contains("the new credentials can be revealed once"),
        "{text}"
    );
    for password in ["first-pw-Zq8vN3pL", "second-pw-Kc2RmT9w"] {
        assert!(
            !text.contains(password),
            "a password is on the timeline: {text}"
        );
    }
}

#[tokio::test]
async fn a_reset_while_one_is_running_is_refused_as_in_progress() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let id = ready_store(&app, &alice, "acme").await;
    let first = app.post(&reset_path(id)).bearer(&alice).send().await;
    assert_eq!(first.status, StatusCode::ACCEPTED);

    let second = app.post(&reset_path(id)).bearer(&alice).send().await;

    assert_eq!(
        (second.status, second.code()),
        (StatusCode::CONFLICT, "operation_in_progress")
    );
    let reveal = app.post(&reveal_path(id)).bearer(&alice).send().await;
    assert_eq!(
        (reveal.status, reveal.code()),
        (StatusCode::CONFLICT, "operation_in_progress"),
        "a never-revealed password is not shown while it is being replaced"
    );
}

#[tokio::test]
async fn a_store_that_is_not_ready_cannot_have_its_password_reset() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let id: StoreId = store["id"].as_str().unwrap().parse().unwrap();

    let reply = app.post(&reset_path(id)).bearer(&alice).send().await;

    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "not_ready")
    );
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pending"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn another_users_store_cannot_have_its_password_reset() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    let id = ready_store(&app, &alice, "acme").await;

    let reply = app.post(&reset_path(id)).bearer(&bob).send().await;

    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(app.repo.pending_password_reset(id).await.unwrap(), None);
}

#[tokio::test]
async fn the_reset_is_documented() {
    let app = TestApp::new().await;
    let reply = app.get("/openapi.json").send().await;
    let operation = &reply.body["paths"]["/api/v1/stores/{id}/credentials/reset"]["post"];
    for status in ["202", "404", "409"] {
        assert!(
            operation["responses"].get(status).is_some(),
            "{status} is documented: {operation}"
        );
    }
}
