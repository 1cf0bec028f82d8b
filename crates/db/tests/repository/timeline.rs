//! The timeline: events in order, per store and across stores.

use std::sync::Arc;

use storeplane_db::{CreateStoreOutcome, DbError, Repository};
use storeplane_domain::{EventKind, NewStoreEvent, StoreId};

use crate::support::{at, new_store, repository_tests, system, user};

repository_tests!(
    events_are_read_in_order_after_a_sequence_number,
    an_event_for_an_unknown_store_is_not_found,
    the_latest_sequence_number_is_that_of_the_newest_event,
);

async fn events_are_read_in_order_after_a_sequence_number(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let mut stores = Vec::new();
    for name in ["shop-a", "shop-b"] {
        let CreateStoreOutcome::Created { store, .. } =
            repo.create_store(new_store(&alice, name)).await.unwrap()
        else {
            panic!("expected a new store");
        };
        stores.push(store.id);
    }
    for step in 1..=3 {
        for store in &stores {
            let event = NewStoreEvent::new(
                *store,
                at(step),
                EventKind::Step,
                system(),
                format!("step {step}"),
            )
            .with_detail(serde_json::json!({ "step": step }));
            let recorded = repo.append_event(event.clone()).await.unwrap();
            assert_eq!(
                (recorded.message, recorded.detail, recorded.at),
                (event.message, event.detail, event.at)
            );
        }
    }

    let all = repo.events_after(0, 100).await.unwrap();
    assert_eq!(all.len(), 8);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "oldest first");
    let resumed = repo.events_after(all[4].seq, 2).await.unwrap();
    assert_eq!(resumed, all[5..7]);

    let one_store = repo.store_events(stores[1], 0, 100).await.unwrap();
    let messages: Vec<_> = one_store.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        ["store shop-b created", "step 1", "step 2", "step 3"]
    );
    let after_first = repo
        .store_events(stores[1], one_store[1].seq, 100)
        .await
        .unwrap();
    assert_eq!(after_first, one_store[2..]);
}

async fn an_event_for_an_unknown_store_is_not_found(repo: Arc<dyn Repository>) {
    let event = NewStoreEvent::new(
        StoreId::generate(),
        at(0),
        EventKind::Step,
        system(),
        "orphan",
    );
    let err = repo.append_event(event).await.unwrap_err();
    assert!(
        matches!(err, DbError::NotFound { what: "store" }),
        "{err:?}"
    );
    assert!(repo.events_after(0, 10).await.unwrap().is_empty());
}

async fn the_latest_sequence_number_is_that_of_the_newest_event(repo: Arc<dyn Repository>) {
    assert_eq!(repo.latest_event_seq().await.unwrap(), 0, "no events yet");
    let alice = user(&repo, "alice").await;
    let store = repo
        .create_store(new_store(&alice, "shop-a"))
        .await
        .unwrap()
        .store()
        .clone();
    let appended = repo
        .append_event(NewStoreEvent::new(
            store.id,
            at(1),
            EventKind::Step,
            system(),
            "applied",
        ))
        .await
        .unwrap();
    assert_eq!(repo.latest_event_seq().await.unwrap(), appended.seq);
}
