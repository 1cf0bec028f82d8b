//! Live updates over server-sent events, through a real listener on port 0.

use std::time::Duration;

use eventsource_stream::{Event, Eventsource};
use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::support::TestApp;

/// A running server for `app`.
async fn listen(app: &TestApp) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(storeplane_api::serve(
        listener,
        app.router.clone(),
        std::future::pending(),
    ));
    base
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn subscribe(
    base: &str,
    token: &str,
    last_event_id: Option<&str>,
) -> impl Stream<Item = Event> + Unpin {
    let mut request = client()
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(token);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    Box::pin(
        response
            .bytes_stream()
            .eventsource()
            .map(|event| event.unwrap()),
    )
}

/// The next event, waiting at most `within`.
async fn next(stream: &mut (impl Stream<Item = Event> + Unpin), within: Duration) -> Option<Event> {
    tokio::time::timeout(within, stream.next())
        .await
        .ok()
        .flatten()
}

fn data(event: &Event) -> Value {
    serde_json::from_str(&event.data).unwrap()
}

#[tokio::test]
async fn a_subscriber_sees_a_new_store_within_a_second() {
    let app = TestApp::new().await;
    let base = listen(&app).await;
    let alice = app.member("alice").await;
    let mut events = subscribe(&base, &alice, None).await;
    let store = app.create_store(&alice, "acme").await;

    let timeline = next(&mut events, Duration::from_secs(1))
        .await
        .expect("an event within a second");
    assert_eq!(timeline.event, "timeline");
    assert_eq!(data(&timeline)["kind"], "created");
    assert_eq!(data(&timeline)["store_id"], store["id"]);
    assert_eq!(timeline.id, data(&timeline)["seq"].to_string());
    let snapshot = next(&mut events, Duration::from_secs(1)).await.unwrap();
    assert_eq!(snapshot.event, "store");
    assert_eq!(data(&snapshot)["name"], "acme");
}

#[tokio::test]
async fn a_subscriber_resumes_after_the_last_event_it_saw() {
    let app = TestApp::new().await;
    let base = listen(&app).await;
    let alice = app.member("alice").await;
    let mut events = subscribe(&base, &alice, None).await;
    app.create_store(&alice, "first").await;
    let seen = next(&mut events, Duration::from_secs(1)).await.unwrap();
    drop(events);

    app.create_store(&alice, "second").await;
    app.create_store(&alice, "third").await;
    let mut resumed = subscribe(&base, &alice, Some(&seen.id)).await;
    let mut names = Vec::new();
    while let Some(event) = next(&mut resumed, Duration::from_secs(1)).await {
        if event.event == "store" {
            names.push(data(&event)["name"].as_str().unwrap().to_owned());
        }
        if names.len() == 2 {
            break;
        }
    }
    assert_eq!(
        names,
        ["second", "third"],
        "missed events arrive, in order, and nothing seen twice"
    );
}

#[tokio::test]
async fn a_subscriber_sees_only_the_stores_it_may_see() {
    let app = TestApp::new().await;
    let base = listen(&app).await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    let mut bobs = subscribe(&base, &bob, None).await;
    app.create_store(&alice, "alices").await;
    app.create_store(&bob, "bobs").await;
    let first = next(&mut bobs, Duration::from_secs(2)).await.unwrap();
    assert_eq!(data(&first)["kind"], "created");
    let store = next(&mut bobs, Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        data(&store)["name"],
        "bobs",
        "alice's store never reached bob"
    );
}

#[tokio::test]
async fn an_object_event_reaches_its_stores_owner_alone_and_without_a_store_update() {
    let app = TestApp::new().await;
    let base = listen(&app).await;
    let alice = app.member("alice").await;
    let bob = app.member("bob").await;
    let mut alices = subscribe(&base, &alice, None).await;
    let mut bobs = subscribe(&base, &bob, None).await;
    let store = app.create_store(&alice, "alices").await;
    let id: storeplane_domain::StoreId = store["id"].as_str().unwrap().parse().unwrap();
    // A worker's event about one object: it changes nothing the store's view shows, so
    // the feed places it by the owner it learnt from the store's `created` event.
    let applied = storeplane_domain::NewStoreEvent::new(
        id,
        chrono::Utc::now(),
        storeplane_domain::EventKind::ObjectApplied,
        storeplane_domain::Actor::System("worker".to_owned()),
        "Namespace store-x created".to_owned(),
    );
    app.repo.append_event(applied).await.unwrap();
    app.create_store(&bob, "bobs").await;

    let mut seen = Vec::new();
    while let Some(event) = next(&mut alices, Duration::from_secs(1)).await {
        seen.push((event.event.clone(), data(&event)));
        if seen.len() == 3 {
            break;
        }
    }
    let kinds: Vec<(&str, &str)> = seen
        .iter()
        .map(|(event, data)| (event.as_str(), data["kind"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        [
            ("timeline", "created"),
            ("store", ""),
            ("timeline", "object_applied")
        ]
    );
    assert_eq!(
        next(&mut alices, Duration::from_millis(500))
            .await
            .map(|e| e.event),
        None,
        "no store update follows an object's event, and bob's store never reached alice"
    );
    while let Some(event) = next(&mut bobs, Duration::from_secs(1)).await {
        let data = data(&event);
        assert_ne!(data["kind"], "object_applied", "alice's event reached bob");
        if data["name"] == "bobs" {
            return;
        }
    }
    panic!("bob never saw his own store");
}

#[tokio::test]
async fn a_malformed_last_event_id_is_a_400() {
    let app = TestApp::new().await;
    let base = listen(&app).await;
    let alice = app.member("alice").await;
    let reply = client()
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&alice)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
}

#[tokio::test]
async fn a_recorded_change_is_followed_by_the_store_showing_it_in_flight() {
    let app = TestApp::new().await;
    let base = listen(&app).await;
    let alice = app.member("alice").await;
    let id = crate::revisions::ready_store(&app, &alice, "acme").await;
    let mut events = subscribe(&base, &alice, None).await;

    let reply = app
        .request(axum::http::Method::PATCH, &format!("/api/v1/stores/{id}"))
        .bearer(&alice)
        .json(&serde_json::json!({"plan": "medium"}))
        .send()
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);

    let mut step = None;
    while let Some(event) = next(&mut events, Duration::from_secs(2)).await {
        match event.event.as_str() {
            "timeline" => step = Some(data(&event)),
            "store" => {
                let store = data(&event);
                assert_eq!(store["operation"]["description"], "updating to revision 2");
                assert_eq!(store["latest_revision"], 2);
                let step = step.expect("the step comes first");
                assert_eq!(step["detail"]["step"], "revision");
                assert_eq!(step["detail"]["revision"], 2);
                return;
            }
            _ => {}
        }
    }
    panic!("no store update followed the revision step");
}
