//! The typed client: the requests it sends, and how it reads pages and errors.

use std::time::Duration;

use axum::http::Method;
use serde_json::json;
use storeplane_api::dto::CreateStoreRequest;
use storeplane_client::{Client, ClientError};
use storeplane_domain::StoreStatus;

use crate::fake::{FakeApi, TOKEN};
use crate::fixtures::{store, with_status};

fn client(fake: &FakeApi) -> Client {
    Client::new(fake.url(), Some(TOKEN.to_owned())).unwrap()
}

fn acme() -> CreateStoreRequest {
    CreateStoreRequest {
        name: "acme".into(),
        engine: "woocommerce".into(),
        plan: "medium".into(),
        from_backup: None,
    }
}

#[tokio::test]
async fn create_sends_json_with_the_token_and_the_idempotency_key() {
    let fake = FakeApi::start().await;
    let store = client(&fake)
        .create_store(&acme(), Some("key-1"))
        .await
        .unwrap();

    let sent = &fake.requests_to("/api/v1/stores")[0];
    assert_eq!(sent.line(), "POST /api/v1/stores");
    assert_eq!(sent.header("authorization"), Some("Bearer t0ken-abc"));
    assert_eq!(sent.header("idempotency-key"), Some("key-1"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(
        body,
        json!({"name": "acme", "engine": "woocommerce", "plan": "medium"})
    );
    assert_eq!(
        (store.name.as_str(), store.status),
        ("acme", StoreStatus::Pending)
    );
}

#[tokio::test]
async fn without_a_token_no_authorization_header_is_sent_and_the_error_says_how_to_pass_one() {
    let fake = FakeApi::start().await;
    let err = Client::new(fake.url(), None)
        .unwrap()
        .session()
        .await
        .unwrap_err();

    assert_eq!(fake.requests()[0].header("authorization"), None);
    assert_eq!(err.status(), Some(401));
    assert_eq!(
        err.to_string(),
        "missing or unknown API token (pass --token or set STOREPLANE_TOKEN)"
    );
}

#[tokio::test]
async fn list_sends_its_filters_and_reads_the_next_cursor() {
    let fake = FakeApi::start().await;
    for name in ["one", "two", "three"] {
        fake.seed(store(name));
    }
    let page = client(&fake)
        .list_stores(Some(StoreStatus::Ready), None, Some(2), None)
        .await
        .unwrap();

    assert_eq!(
        fake.requests()[0].line(),
        "GET /api/v1/stores?status=ready&limit=2"
    );
    let names: Vec<_> = page.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["three", "two"]);
    assert_eq!(page.next_cursor.as_deref(), Some("2"));
}

#[tokio::test]
async fn an_api_error_carries_its_status_code_message_and_field() {
    let fake = FakeApi::start().await;
    fake.seed(store("acme"));
    let err = client(&fake).create_store(&acme(), None).await.unwrap_err();

    let ClientError::Api(failure) = &err else {
        panic!("not an API error: {err:?}")
    };
    assert_eq!(failure.status, 409);
    assert_eq!(failure.code, "name_taken");
    assert_eq!(failure.field.as_deref(), Some("name"));
    assert_eq!(err.to_string(), "a store named \"acme\" already exists");
}

#[tokio::test]
async fn a_rate_limited_answer_says_when_to_try_again() {
    let fake = FakeApi::start().await;
    let body = json!({"error": {"code": "rate_limited", "message": "too many creates"}});
    fake.answer_raw(
        Method::POST,
        "/api/v1/stores",
        429,
        vec![
            ("content-type", "application/json".into()),
            ("retry-after", "7".into()),
        ],
        &body.to_string(),
    );
    let err = client(&fake).create_store(&acme(), None).await.unwrap_err();

    assert_eq!(err.code(), Some("rate_limited"));
    assert_eq!(err.to_string(), "too many creates (try again in 7s)");
}

#[tokio::test]
async fn a_proxy_error_page_is_reported_as_not_storeplane() {
    let fake = FakeApi::start().await;
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    fake.answer_raw(
        Method::GET,
        "/api/v1/stores",
        502,
        vec![("content-type", "text/html".into())],
        page,
    );
    let err = client(&fake)
        .list_stores(None, None, None, None)
        .await
        .unwrap_err();

    assert!(
        matches!(err, ClientError::NotStoreplane { status: 502, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("answered HTTP 502 with something that is not storeplane JSON"),
        "{message}"
    );
    assert!(message.contains("502 Bad Gateway"), "{message}");
}

#[tokio::test]
async fn a_success_that_is_not_a_store_is_reported_as_not_storeplane() {
    let fake = FakeApi::start().await;
    let id = fake.seed(store("acme")).id;
    fake.answer(
        Method::GET,
        &format!("/api/v1/stores/{id}"),
        200,
        json!({"hello": "world"}),
    );
    let err = client(&fake).get_store(id).await.unwrap_err();

    assert!(
        err.to_string().contains("unexpected JSON: missing field"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_is_not_there_cannot_be_reached() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = Client::new(&url, None)
        .unwrap()
        .session()
        .await
        .unwrap_err();

    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot reach storeplane at {url}: ")),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_does_not_answer_times_out() {
    let fake = FakeApi::start().await;
    fake.stall(Method::GET, "/api/v1/session");
    let client = client(&fake).with_timeout(Duration::from_millis(200));
    let err = client.session().await.unwrap_err();

    assert!(matches!(err, ClientError::TimedOut { .. }), "{err:?}");
    assert!(err.to_string().contains("did not answer within"), "{err}");
}

#[tokio::test]
async fn errors_never_contain_the_token() {
    let fake = FakeApi::start().await;
    fake.stall(Method::GET, "/api/v1/session");
    let client = Client::new(fake.url(), Some("sup3r-secret".into()))
        .unwrap()
        .with_timeout(Duration::from_millis(100));
    let err = client.session().await.unwrap_err();

    assert!(!format!("{err} {err:?} {client:?}").contains("sup3r-secret"));
}

#[tokio::test]
async fn a_uuid_is_resolved_by_fetching_the_store() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    let found = client(&fake).resolve(&acme.id.to_string()).await.unwrap();

    assert_eq!(found, acme);
    assert_eq!(
        fake.requests()[0].line(),
        format!("GET /api/v1/stores/{}", acme.id)
    );
}

#[tokio::test]
async fn a_name_is_resolved_by_looking_it_up() {
    let fake = FakeApi::start().await;
    fake.seed(store("other"));
    let acme = fake.seed(store("acme"));
    let found = client(&fake).resolve("acme").await.unwrap();

    assert_eq!(found, acme);
    assert_eq!(
        fake.requests()[0].line(),
        "GET /api/v1/stores?name=acme&limit=200"
    );
}

#[tokio::test]
async fn a_name_no_store_has_is_not_found() {
    let fake = FakeApi::start().await;
    fake.seed(store("other"));
    let err = client(&fake).resolve("acme").await.unwrap_err();

    assert!(err.is_not_found());
    assert_eq!(err.to_string(), "no store named \"acme\"");
}

#[tokio::test]
async fn a_name_several_stores_have_is_ambiguous() {
    let fake = FakeApi::start().await;
    let first = fake.seed(store("acme"));
    let second = fake.seed(with_status(store("acme"), StoreStatus::Failed));
    let err = client(&fake).resolve("acme").await.unwrap_err();

    assert!(matches!(err, ClientError::AmbiguousName { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("2 stores are named \"acme\""),
        "{message}"
    );
    assert!(message.contains(&first.id.to_string()) && message.contains(&second.id.to_string()));
}

#[tokio::test]
async fn an_unknown_id_is_the_apis_not_found() {
    let fake = FakeApi::start().await;
    let err = client(&fake)
        .resolve(&uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn credentials_are_revealed_once() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    let client = client(&fake);
    let credentials = client.reveal_credentials(acme.id).await.unwrap();
    let again = client.reveal_credentials(acme.id).await.unwrap_err();

    assert_eq!(credentials.username, "admin");
    assert_eq!(
        fake.requests()[0].line(),
        format!("POST /api/v1/stores/{}/credentials/reveal", acme.id)
    );
    assert_eq!(
        (again.status(), again.code()),
        (Some(410), Some("credentials_revealed"))
    );
}

#[tokio::test]
async fn delete_retry_and_events_use_their_endpoints() {
    let fake = FakeApi::start().await;
    let broken = fake.seed(with_status(store("broken"), StoreStatus::Failed));
    let client = client(&fake);
    let retried = client.retry_store(broken.id).await.unwrap();
    let timeline = client
        .store_events(broken.id, None, Some(10))
        .await
        .unwrap();
    let deleted = client.delete_store(broken.id).await.unwrap();

    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    let id = broken.id;
    assert_eq!(
        lines,
        [
            format!("POST /api/v1/stores/{id}/retry"),
            format!("GET /api/v1/stores/{id}/events?limit=10"),
            format!("DELETE /api/v1/stores/{id}"),
        ]
    );
    assert_eq!(retried.status, StoreStatus::Pending);
    assert_eq!(timeline.items[0].message, "failed -> pending");
    assert_eq!(deleted.status, StoreStatus::Deleting);
}
