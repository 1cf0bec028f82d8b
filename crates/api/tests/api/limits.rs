//! Per-user store quota and per-identity rate limits.

use axum::http::StatusCode;
use storeplane_api::{ApiSettings, RateLimit};

use crate::support::{TestApp, settings, store_body};

#[tokio::test]
async fn the_store_quota_names_the_limit_and_counts_only_live_stores() {
    let app = TestApp::with(ApiSettings {
        store_quota: 2,
        ..settings()
    })
    .await;
    let alice = app.member("alice").await;
    app.create_store(&alice, "one-1").await;
    app.create_store(&alice, "two-2").await;
    let third = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .json(&store_body("three-3"))
        .send()
        .await;
    assert_eq!(
        (third.status, third.code()),
        (StatusCode::CONFLICT, "quota_exceeded")
    );
    assert!(
        third.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 2 live stores"),
        "{}",
        third.body
    );
    let bob = app.member("bob").await;
    app.create_store(&bob, "bobs-shop").await;

    // A store being torn down still counts; once deleted, it frees its place.
    let first = app
        .get("/api/v1/stores?name=one-1")
        .bearer(&alice)
        .send()
        .await;
    let id = first.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .send()
        .await;
    let still = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .json(&store_body("three-3"))
        .send()
        .await;
    assert_eq!(still.code(), "quota_exceeded");
    let worker = storeplane_domain::Actor::System("worker".into());
    app.repo
        .set_store_status(
            id.parse().unwrap(),
            storeplane_domain::StoreStatus::Deleted,
            None,
            &worker,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    app.create_store(&alice, "three-3").await;
}

#[tokio::test]
async fn creates_past_the_burst_are_429_with_retry_after() {
    let app = TestApp::with(ApiSettings {
        rate_limit: RateLimit {
            per_minute: 6,
            burst: 2,
        },
        ..settings()
    })
    .await;
    let alice = app.member("alice").await;
    app.create_store(&alice, "one-1").await;
    app.create_store(&alice, "two-2").await;
    let limited = app
        .post("/api/v1/stores")
        .bearer(&alice)
        .json(&store_body("three-3"))
        .send()
        .await;
    assert_eq!(
        (limited.status, limited.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let bob = app.member("bob").await;
    app.create_store(&bob, "bobs-shop").await;
}
