//! Creating, listing, reading, deleting and retrying stores, and their timelines.

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use storeplane_api::AdminCredentials;
use storeplane_domain::{Actor, StoreStatus};

use crate::support::{TestApp, store_body};

#[tokio::test]
async fn creating_a_store_answers_202_with_a_pending_store_and_queues_its_job() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    assert_eq!(store["name"], "acme");
    assert_eq!(store["status"], "pending");
    assert_eq!(store["url"], "http://acme.127.0.0.1.nip.io");
    assert_eq!(store["admin_url"], "http://acme.127.0.0.1.nip.io/wp-admin/");
    assert!(store["namespace"].as_str().unwrap().starts_with("store-"));
    let id = store["id"].as_str().unwrap().parse().unwrap();
    let job = app
        .repo
        .active_job(id)
        .await
        .unwrap()
        .expect("a provisioning job is queued");
    assert_eq!(job.kind.as_str(), "provision");
}

#[tokio::test]
async fn each_bad_field_gets_its_own_422_naming_the_field() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    for (body, code, field, words) in [
        (
            json!({"name": "Acme", "engine": "woocommerce", "plan": "small"}),
            "invalid_name",
            "name",
            "must be lowercase",
        ),
        (
            json!({"name": "admin", "engine": "woocommerce", "plan": "small"}),
            "invalid_name",
            "name",
            "is reserved",
        ),
        (
            json!({"name": "acme", "engine": "shopify", "plan": "small"}),
            "unknown_engine",
            "engine",
            "expected one of woocommerce, medusa",
        ),
        (
            json!({"name": "acme", "engine": "woocommerce", "plan": "huge"}),
            "unknown_plan",
            "plan",
            "expected one of small, medium, large",
        ),
        (
            json!({"name": "acme", "engine": "woocommerce", "plan": "small", "size": 1}),
            "unknown_field",
            "size",
            "unknown field",
        ),
        (
            json!({"name": "acme", "engine": "woocommerce"}),
            "missing_field",
            "plan",
            "missing field",
        ),
    ] {
        let reply = app
            .post("/api/v1/stores")
            .bearer(&alice)
            .json(&body)
            .send()
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.code(), code, "{body}");
        assert_eq!(reply.body["error"]["field"], field, "{body}");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(words),
            "{}",
            reply.body
        );
    }
    let list = app.get("/api/v1/stores").bearer(&alice).send().await;
    assert_eq!(list.body["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_medusa_store_is_created_with_its_own_urls_and_an_engine_a_server_does_not_offer_is_refused()
 {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let reply = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .json(&json!({"name": "shop", "engine": "medusa", "plan": "small"}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["engine"], "medusa");
    assert_eq!(reply.body["url"], "http://shop.127.0.0.1.nip.io/store");
    assert_eq!(reply.body["admin_url"], "http://shop.127.0.0.1.nip.io/app");
    assert_eq!(reply.body["outputs"], json!({}));

    let woocommerce_only = TestApp::with(storeplane_api::ApiSettings {
        engines: vec![storeplane_domain::Engine::WooCommerce],
        ..crate::support::settings()
    })
    .await;
    let bob = woocommerce_only.member("bob").await;
    let reply = woocommerce_only
        .post("/api/v1/stores")
        .bearer(&bob)
        .json(&json!({"name": "shop", "engine": "medusa", "plan": "small"}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "engine_unavailable");
    assert_eq!(reply.body["error"]["field"], "engine");
}

#[tokio::test]
async fn malformed_bodies_get_400_415_or_413() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let reply = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .raw("application/json", "{\"name\": ")
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let reply = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .raw("text/plain", "name=acme")
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(100 * 1024));
    let reply = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .raw("application/json", huge)
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let reply = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .raw("application/json", "[1, 2]")
        .send()
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_live_name_cannot_be_taken_twice() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    app.create_store(&alice, "acme").await;
    let reply = app
        .post("/api/v1/stores")
        .bearer(&bob)
        .json(&store_body("acme"))
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "name_taken")
    );
    assert_eq!(reply.body["error"]["field"], "name");
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_return_the_same_store_once() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let send = |body| {
        app.post("/api/v1/stores")
            .bearer(&alice)
            .header("Idempotency-Key", "k-1")
            .json(&body)
            .send()
    };
    let first = send(store_body("acme")).await;
    let again = send(json!({"plan": "small", "engine": "woocommerce", "name": "acme"})).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(first.body["id"], again.body["id"]);
    let other = send(store_body("other")).await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::CONFLICT, "idempotency_conflict")
    );
    let list = app.get("/api/v1/stores").bearer(&alice).send().await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_of_other_than_1_to_255_visible_characters_is_a_400() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let too_long = "k".repeat(256);
    for key in ["two words", "tab\there", too_long.as_str()] {
        let reply = app
            .post("/api/v1/stores")
            .bearer(&alice)
            .header("Idempotency-Key", key)
            .json(&store_body("acme"))
            .send()
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{key:?}"
        );
    }
    let longest = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .header("Idempotency-Key", &"k".repeat(255))
        .json(&store_body("acme"))
        .send()
        .await;
    assert_eq!(longest.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn lists_are_newest_first_paginated_and_filterable() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    for name in ["one-1", "two-2", "three-3"] {
        app.create_store(&alice, name).await;
    }
    let page = app
        .get("/api/v1/stores?limit=2")
        .bearer(&alice)
        .send()
        .await;
    let names: Vec<_> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("three-3"), json!("two-2")]);
    let cursor = page.body["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(&format!("/api/v1/stores?limit=2&cursor={cursor}"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(rest.body["items"][0]["name"], "one-1");
    assert_eq!(rest.body["next_cursor"], json!(null));

    let id = page.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.repo
        .set_store_status(
            id,
            StoreStatus::Failed,
            Some("boom"),
            &Actor::System("test".into()),
            Utc::now(),
        )
        .await
        .unwrap();
    let failed = app
        .get("/api/v1/stores?status=failed")
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(failed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed.body["items"][0]["status_reason"], "boom");
    let named = app
        .get("/api/v1/stores?name=two-2")
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(named.body["items"][0]["name"], "two-2");
}

#[tokio::test]
async fn bad_list_parameters_are_400s_that_say_what_is_wrong() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    for (query, code) in [
        ("cursor=not-a-cursor", "invalid_cursor"),
        ("cursor=42", "invalid_cursor"),
        ("limit=0", "bad_request"),
        ("limit=1000", "bad_request"),
        ("limit=abc", "bad_request"),
        ("status=sleeping", "bad_request"),
        ("colour=red", "bad_request"),
    ] {
        let reply = app
            .get(&format!("/api/v1/stores?{query}"))
            .bearer(&alice)
            .send()
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn a_store_is_read_by_id_and_bad_or_unknown_ids_are_400_and_404() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let reply = app
        .get(&format!("/api/v1/stores/{}", store["id"].as_str().unwrap()))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(reply.body, store);
    let reply = app
        .get("/api/v1/stores/not-a-uuid")
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "invalid_id")
    );
    let reply = app
        .get("/api/v1/stores/01936f3e-8b7a-7c2d-9e4f-0123456789ab")
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn deleting_is_idempotent_and_queues_teardown() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let path = format!("/api/v1/stores/{}", store["id"].as_str().unwrap());
    let first = app.delete(&path).bearer(&alice).send().await;
    assert_eq!(
        (first.status, &first.body["status"]),
        (StatusCode::ACCEPTED, &json!("deleting"))
    );
    let again = app.delete(&path).bearer(&alice).send().await;
    assert_eq!(
        (again.status, &again.body["status"]),
        (StatusCode::ACCEPTED, &json!("deleting"))
    );
    let job = app
        .repo
        .active_job(store["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.kind.as_str(), "teardown");
}

#[tokio::test]
async fn only_a_failed_store_can_be_retried() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let id = store["id"].as_str().unwrap();
    let reply = app
        .post(&format!("/api/v1/stores/{id}/retry"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    app.repo
        .set_store_status(
            id.parse().unwrap(),
            StoreStatus::Failed,
            Some("pods never became ready"),
            &Actor::System("worker".into()),
            Utc::now(),
        )
        .await
        .unwrap();
    let reply = app
        .post(&format!("/api/v1/stores/{id}/retry"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (reply.status, &reply.body["status"]),
        (StatusCode::ACCEPTED, &json!("pending"))
    );
}

#[tokio::test]
async fn the_timeline_lists_what_happened_oldest_first_in_pages() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let id = store["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    let page = app
        .get(&format!("/api/v1/stores/{id}/events?limit=1"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(page.body["items"][0]["kind"], "created");
    assert_eq!(page.body["items"][0]["actor"], "user:alice");
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("/api/v1/stores/{id}/events?cursor={cursor}"))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(next.body["items"][0]["kind"], "status_changed");
    assert_eq!(next.body["items"][0]["detail"]["to"], "deleting");
    let past_the_end = app
        .get(&format!(
            "/api/v1/stores/{id}/events?cursor=999999999999999999"
        ))
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (past_the_end.status, &past_the_end.body["items"]),
        (StatusCode::OK, &json!([])),
        "any cursor of the documented form gets a page"
    );
}

#[tokio::test]
async fn credentials_are_revealed_exactly_once_and_only_once_they_exist() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let id = store["id"].as_str().unwrap();
    let path = format!("/api/v1/stores/{id}/credentials/reveal");
    let early = app.post(&path).bearer(&alice).send().await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "credentials_not_ready")
    );
    app.credentials.insert(
        id.parse().unwrap(),
        AdminCredentials {
            username: "admin".into(),
            password: "s3cret-pw".into(),
        },
    );
    let first = app.post(&path).bearer(&alice).send().await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["password"], "s3cret-pw");
    assert_eq!(
        first.body["admin_url"],
        "http://acme.127.0.0.1.nip.io/wp-admin/"
    );
    let second = app.post(&path).bearer(&alice).send().await;
    assert_eq!(
        (second.status, second.code()),
        (StatusCode::GONE, "credentials_revealed")
    );
    let events = app
        .get(&format!("/api/v1/stores/{id}/events"))
        .bearer(&alice)
        .send()
        .await;
    let text = events.body.to_string();
    assert!(
        text.contains("credentials_revealed"),
        "the reveal is on the timeline: {text}"
    );
    assert!(
        !text.contains("s3cret-pw"),
        "the password never reaches the timeline"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let reply = app.get("/api/v1/nothing-here").bearer(&alice).send().await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let reply = app
        .request(axum::http::Method::PUT, "/api/v1/stores")
        .bearer(&alice)
        .send()
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = TestApp::new().await;
    let reply = app.get("/openapi.json").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/stores",
        "/api/v1/stores/{id}",
        "/api/v1/stores/{id}/retry",
        "/api/v1/stores/{id}/events",
        "/api/v1/stores/{id}/credentials/reveal",
        "/api/v1/events",
        "/api/v1/session",
        "/api/v1/cluster",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    let browsable = app.get("/docs/").send().await;
    assert_eq!(
        browsable.status,
        StatusCode::OK,
        "the bundled API browser works offline"
    );
}

#[tokio::test]
async fn a_list_reflects_the_callers_own_writes_at_once() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let empty = app.get("/api/v1/stores").bearer(&alice).send().await;
    assert_eq!(empty.body["items"], json!([]));
    app.create_store(&alice, "acme").await;
    let listed = app.get("/api/v1/stores").bearer(&alice).send().await;
    assert_eq!(listed.body["items"][0]["status"], "pending");
    let id = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    let listed = app.get("/api/v1/stores").bearer(&alice).send().await;
    assert_eq!(listed.body["items"][0]["status"], "deleting");
}

#[tokio::test]
async fn a_list_reflects_changes_made_elsewhere_within_a_second() {
    let app = TestApp::new().await;
    let alice = app.member("alice").await;
    let store = app.create_store(&alice, "acme").await;
    let id = store["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.get("/api/v1/stores").bearer(&alice).send().await.body["items"][0]["status"],
        "pending"
    );
    // A worker moves the store on, writing to the metadata store directly.
    app.repo
        .set_store_status(
            id,
            StoreStatus::Provisioning,
            None,
            &Actor::System("worker".into()),
            Utc::now(),
        )
        .await
        .unwrap();
    let seen = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        loop {
            let listed = app.get("/api/v1/stores").bearer(&alice).send().await;
            if listed.body["items"][0]["status"] == "provisioning" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        seen.is_ok(),
        "the list caught up with the worker's change within a second"
    );
}
