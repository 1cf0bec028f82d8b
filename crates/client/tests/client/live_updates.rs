//! Live updates: the SSE stream parsed into typed updates, resumed after a dropped
//! connection from the last event received.

use futures::StreamExt;
use storeplane_client::{Client, LiveUpdate, LiveUpdates};
use storeplane_domain::{EventKind, StoreStatus};

use crate::fake::{FakeApi, TOKEN};
use crate::fixtures::store;

fn client(fake: &FakeApi) -> Client {
    Client::new(fake.url(), Some(TOKEN.to_owned())).unwrap()
}

async fn next(updates: &mut LiveUpdates) -> LiveUpdate {
    updates
        .next()
        .await
        .expect("the stream goes on")
        .expect("an update")
}

#[tokio::test]
async fn a_timeline_event_carries_its_seq_and_a_store_event_the_new_state() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    let mut updates = client(&fake).subscribe(None).await.unwrap();
    fake.set_status(acme.id, StoreStatus::Deleting, None);

    let LiveUpdate::Timeline(event) = next(&mut updates).await else {
        panic!("not a timeline event")
    };
    assert_eq!((event.seq, event.kind), (1, EventKind::StatusChanged));
    assert_eq!(event.message, "ready -> deleting");
    let LiveUpdate::Store(changed) = next(&mut updates).await else {
        panic!("not a store")
    };
    assert_eq!(
        (changed.id, changed.status),
        (acme.id, StoreStatus::Deleting)
    );
}

#[tokio::test]
async fn the_subscription_asks_for_an_event_stream_with_the_token() {
    let fake = FakeApi::start().await;
    let _updates = client(&fake).subscribe(None).await.unwrap();

    let sent = &fake.requests_to("/api/v1/events")[0];
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert_eq!(sent.header("authorization"), Some("Bearer t0ken-abc"));
    assert_eq!(sent.header("last-event-id"), None);
}

#[tokio::test]
async fn events_with_names_the_client_does_not_know_are_skipped() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    let mut updates = client(&fake).subscribe(None).await.unwrap();
    fake.push_raw("event: ping\ndata: {}\n\n");
    fake.push_raw(": keep-alive\n\n");
    fake.push_event(acme.id, EventKind::Step, "verified the storefront");

    let LiveUpdate::Timeline(event) = next(&mut updates).await else {
        panic!("not a timeline event")
    };
    assert_eq!(event.message, "verified the storefront");
}

#[tokio::test]
async fn a_subscription_may_start_after_a_known_event() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    fake.push_event(acme.id, EventKind::Step, "first");
    fake.push_event(acme.id, EventKind::Step, "second");
    let mut updates = client(&fake).subscribe(Some(1)).await.unwrap();

    assert_eq!(
        fake.requests_to("/api/v1/events")[0].header("last-event-id"),
        Some("1")
    );
    let LiveUpdate::Timeline(event) = next(&mut updates).await else {
        panic!("not a timeline event")
    };
    assert_eq!((event.seq, event.message.as_str()), (2, "second"));
}

#[tokio::test]
async fn a_dropped_connection_resumes_after_the_last_event_received() {
    let fake = FakeApi::start().await;
    let acme = fake.seed(store("acme"));
    let mut updates = client(&fake).subscribe(None).await.unwrap();
    fake.push_event(acme.id, EventKind::Step, "before the drop");
    let LiveUpdate::Timeline(first) = next(&mut updates).await else {
        panic!("not a timeline event")
    };

    fake.hang_up();
    fake.push_event(acme.id, EventKind::Step, "while disconnected");
    let LiveUpdate::Timeline(second) = next(&mut updates).await else {
        panic!("not a timeline event")
    };

    assert_eq!(first.message, "before the drop");
    assert_eq!(second.message, "while disconnected");
    let connections = fake.requests_to("/api/v1/events");
    assert_eq!(connections.len(), 2);
    assert_eq!(connections[1].header("last-event-id"), Some("1"));
}

#[tokio::test]
async fn a_refused_subscription_fails_at_once() {
    let fake = FakeApi::start().await;
    let err = Client::new(fake.url(), None)
        .unwrap()
        .subscribe(None)
        .await
        .unwrap_err();

    assert_eq!(err.code(), Some("unauthenticated"));
}
