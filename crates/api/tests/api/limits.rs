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
