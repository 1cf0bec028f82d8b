//! Stores: creation, listing, names, quotas, idempotency and atomicity.

use std::sync::Arc;

use storeplane_db::{CreateStoreOutcome, DbError, IdempotencyKey, Repository, StoreQuery};
use storeplane_domain::{EventKind, JobKind, JobState, Store, StoreId, StoreStatus};

use crate::support::{at, new_store, repository_tests, system, t0, user};

repository_tests!(
    a_created_store_is_pending_with_its_created_event_and_a_queued_provisioning_job,
    stores_are_listed_newest_first_in_pages_that_follow_the_cursor,
    stores_can_be_listed_by_status_and_by_owner,
    a_live_store_name_is_taken_until_that_store_is_deleted,
    a_user_cannot_have_more_live_stores_than_the_limit,
    repeating_a_create_with_the_same_idempotency_key_returns_the_first_store,
    reusing_an_idempotency_key_for_another_request_is_a_conflict,
    a_create_that_fails_leaves_no_store_event_or_job_behind,
);

pub(crate) async fn create(
    repo: &Arc<dyn Repository>,
    request: storeplane_db::CreateStore,
) -> Store {
    match repo.create_store(request).await.unwrap() {
        CreateStoreOutcome::Created { store, .. } => store,
        other => panic!("expected a new store, got {other:?}"),
    }
}

fn page(limit: u32) -> StoreQuery {
    StoreQuery {
        limit,
        ..StoreQuery::default()
    }
}

async fn a_created_store_is_pending_with_its_created_event_and_a_queued_provisioning_job(
    repo: Arc<dyn Repository>,
) {
    let alice = user(&repo, "alice").await;
    let request = new_store(&alice, "corner-shop");
    let id = request.id;

    let CreateStoreOutcome::Created { store, job } = repo.create_store(request).await.unwrap()
    else {
        panic!("expected a new store");
    };

    assert_eq!(store.status, StoreStatus::Pending);
    assert_eq!(store.owner, alice.id);
    assert_eq!(store.created_at, t0());
    assert_eq!(repo.get_store(id).await.unwrap(), store);
    assert_eq!(
        (job.kind, job.state, job.attempts, job.max_attempts),
        (JobKind::Provision, JobState::Queued, 0, 3)
    );
    assert_eq!(job.run_at, t0());
    assert_eq!(repo.active_job(id).await.unwrap(), Some(job));
    let events = repo.store_events(id, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Created);
    assert_eq!(
        events[0].actor,
        storeplane_domain::Actor::User("alice".into())
    );
    assert_eq!(events[0].detail["name"], "corner-shop");
}

async fn stores_are_listed_newest_first_in_pages_that_follow_the_cursor(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            create(&repo, new_store(&alice, &format!("shop-{n}")))
                .await
                .id,
        );
    }
    ids.reverse();

    let first = repo.list_stores(&page(2)).await.unwrap();
    let second = repo
        .list_stores(&StoreQuery {
            before: Some(first[1].id),
            ..page(2)
        })
        .await
        .unwrap();
    let third = repo
        .list_stores(&StoreQuery {
            before: Some(second[1].id),
            ..page(2)
        })
        .await
        .unwrap();

    let listed: Vec<StoreId> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ids);
    assert_eq!(third.len(), 1, "the last page holds what is left");
    assert!(
        repo.list_stores(&StoreQuery {
            before: Some(third[0].id),
            ..page(2)
        })
        .await
        .unwrap()
        .is_empty()
    );
}

async fn stores_can_be_listed_by_status_and_by_owner(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let bob = user(&repo, "bob").await;
    let a1 = create(&repo, new_store(&alice, "alice-one")).await;
    let a2 = create(&repo, new_store(&alice, "alice-two")).await;
    let b1 = create(&repo, new_store(&bob, "bob-one")).await;
    repo.set_store_status(a2.id, StoreStatus::Provisioning, None, &system(), at(1))
        .await
        .unwrap();

    let ids = |stores: Vec<Store>| stores.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let alices = repo
        .list_stores(&StoreQuery {
            owner: Some(alice.id),
            ..page(10)
        })
        .await
        .unwrap();
    assert_eq!(ids(alices), [a2.id, a1.id]);
    let pending = repo
        .list_stores(&StoreQuery {
            status: Some(StoreStatus::Pending),
            ..page(10)
        })
        .await
        .unwrap();
    assert_eq!(ids(pending), [b1.id, a1.id]);
    let alices_pending = StoreQuery {
        owner: Some(alice.id),
        status: Some(StoreStatus::Pending),
        ..page(10)
    };
    assert_eq!(
        ids(repo.list_stores(&alices_pending).await.unwrap()),
        [a1.id]
    );
    assert_eq!(
        repo.list_stores(&page(10)).await.unwrap().len(),
        3,
        "no filter lists everyone's"
    );
}

async fn a_live_store_name_is_taken_until_that_store_is_deleted(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let bob = user(&repo, "bob").await;
    let first = create(&repo, new_store(&alice, "shared-name")).await;

    let err = repo
        .create_store(new_store(&bob, "shared-name"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::NameTaken { name } if name == "shared-name"),
        "{err:?}"
    );

    repo.request_deletion(first.id, &system(), at(1))
        .await
        .unwrap();
    let err = repo
        .create_store(new_store(&bob, "shared-name"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::NameTaken { .. }),
        "a deleting store still holds its name: {err:?}"
    );

    repo.set_store_status(first.id, StoreStatus::Deleted, None, &system(), at(2))
        .await
        .unwrap();
    let second = create(&repo, new_store(&bob, "shared-name")).await;
    assert_eq!(second.spec.name.as_str(), "shared-name");
    assert_eq!(
        repo.get_store(first.id).await.unwrap().status,
        StoreStatus::Deleted,
        "history stays"
    );
}

async fn a_user_cannot_have_more_live_stores_than_the_limit(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let limited = |name: &str| storeplane_db::CreateStore {
        live_store_limit: Some(2),
        ..new_store(&alice, name)
    };
    let first = create(&repo, limited("shop-one")).await;
    create(&repo, limited("shop-two")).await;

    let err = repo.create_store(limited("shop-three")).await.unwrap_err();
    assert!(
        matches!(err, DbError::QuotaExceeded { limit: 2 }),
        "{err:?}"
    );

    // A deleted store no longer counts.
    repo.request_deletion(first.id, &system(), at(1))
        .await
        .unwrap();
    repo.set_store_status(first.id, StoreStatus::Deleted, None, &system(), at(2))
        .await
        .unwrap();
    create(&repo, limited("shop-three")).await;
}

fn keyed(request: storeplane_db::CreateStore, key: &str, hash: &str) -> storeplane_db::CreateStore {
    let idempotency = Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash: hash.to_owned(),
    });
    storeplane_db::CreateStore {
        idempotency,
        ..request
    }
}

async fn repeating_a_create_with_the_same_idempotency_key_returns_the_first_store(
    repo: Arc<dyn Repository>,
) {
    let alice = user(&repo, "alice").await;
    let first = create(
        &repo,
        keyed(new_store(&alice, "once-only"), "key-1", "hash-a"),
    )
    .await;
    repo.set_store_status(first.id, StoreStatus::Provisioning, None, &system(), at(1))
        .await
        .unwrap();

    // A retried request carries a new store id, as the API would generate one.
    let outcome = repo
        .create_store(keyed(new_store(&alice, "once-only"), "key-1", "hash-a"))
        .await
        .unwrap();

    let CreateStoreOutcome::Replayed { store } = outcome else {
        panic!("expected a replay, got {outcome:?}")
    };
    assert_eq!(store.id, first.id);
    assert_eq!(
        store.status,
        StoreStatus::Provisioning,
        "the replay shows the store as it is now"
    );
    assert_eq!(repo.list_stores(&page(10)).await.unwrap().len(), 1);

    // Keys belong to their user: bob's "key-1" is a different key.
    let bob = user(&repo, "bob").await;
    let bobs = repo
        .create_store(keyed(new_store(&bob, "bobs-shop"), "key-1", "hash-a"))
        .await
        .unwrap();
    assert!(matches!(bobs, CreateStoreOutcome::Created { .. }));
}

async fn reusing_an_idempotency_key_for_another_request_is_a_conflict(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    create(
        &repo,
        keyed(new_store(&alice, "first-shop"), "key-1", "hash-a"),
    )
    .await;

    let err = repo
        .create_store(keyed(new_store(&alice, "other-shop"), "key-1", "hash-b"))
        .await
        .unwrap_err();

    assert!(matches!(err, DbError::IdempotencyConflict), "{err:?}");
    assert_eq!(repo.list_stores(&page(10)).await.unwrap().len(), 1);
}

async fn a_create_that_fails_leaves_no_store_event_or_job_behind(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    create(&repo, new_store(&alice, "taken-name")).await;
    let events_before = repo.events_after(0, 100).await.unwrap();

    let duplicate = keyed(new_store(&alice, "taken-name"), "key-1", "hash-a");
    let id = duplicate.id;
    assert!(matches!(
        repo.create_store(duplicate).await,
        Err(DbError::NameTaken { .. })
    ));

    assert!(matches!(
        repo.get_store(id).await,
        Err(DbError::NotFound { what: "store" })
    ));
    assert_eq!(repo.active_job(id).await.unwrap(), None);
    assert_eq!(repo.events_after(0, 100).await.unwrap(), events_before);
    // The key was not consumed either: the same request can be made again with a free name.
    let retried = repo
        .create_store(keyed(new_store(&alice, "free-name"), "key-1", "hash-a"))
        .await
        .unwrap();
    assert!(
        matches!(retried, CreateStoreOutcome::Created { .. }),
        "{retried:?}"
    );
}
