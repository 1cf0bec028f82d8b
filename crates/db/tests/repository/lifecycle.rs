//! The store lifecycle: compare-and-set moves, deletion and retry.

use std::sync::Arc;

use storeplane_db::{DbError, Repository};
use storeplane_domain::{EventKind, JobKind, Store, StoreId, StoreStatus};

use crate::stores::create;
use crate::support::{at, new_store, repository_tests, system, t0, user};

repository_tests!(
    a_store_moves_through_its_lifecycle_recording_each_change,
    an_illegal_transition_is_refused_and_changes_nothing,
    moving_a_store_to_the_status_it_has_records_nothing,
    an_unknown_store_is_not_found,
    deleting_a_store_queues_its_teardown_and_deleting_again_changes_nothing,
    a_failed_store_can_be_retried_with_a_fresh_provisioning_job,
);

async fn a_store_moves_through_its_lifecycle_recording_each_change(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let store = create(&repo, new_store(&alice, "happy-path")).await;

    let moved = repo
        .set_store_status(store.id, StoreStatus::Provisioning, None, &system(), at(1))
        .await
        .unwrap();
    assert_eq!(
        (moved.status, moved.updated_at),
        (StoreStatus::Provisioning, at(1))
    );
    let failed = repo
        .set_store_status(
            store.id,
            StoreStatus::Failed,
            Some("image pull failed"),
            &system(),
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(failed.status_reason.as_deref(), Some("image pull failed"));

    let events = repo.store_events(store.id, 0, 10).await.unwrap();
    let changes: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::StatusChanged)
        .collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[1].detail,
        serde_json::json!({"from": "provisioning", "to": "failed", "reason": "image pull failed"})
    );
    assert_eq!(changes[1].at, at(2));
    assert_eq!(changes[1].actor, system());
}

async fn an_illegal_transition_is_refused_and_changes_nothing(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let store = create(&repo, new_store(&alice, "not-so-fast")).await;

    let err = repo
        .set_store_status(store.id, StoreStatus::Ready, None, &system(), at(1))
        .await
        .unwrap_err();

    match err {
        DbError::IllegalTransition(e) => {
            assert_eq!((e.from, e.to), (StoreStatus::Pending, StoreStatus::Ready))
        }
        other => panic!("expected an illegal transition, got {other:?}"),
    }
    assert_eq!(repo.get_store(store.id).await.unwrap(), store);
    assert_eq!(repo.store_events(store.id, 0, 10).await.unwrap().len(), 1);
}

async fn moving_a_store_to_the_status_it_has_records_nothing(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let store = create(&repo, new_store(&alice, "steady-state")).await;

    let same = repo
        .set_store_status(store.id, StoreStatus::Pending, None, &system(), at(1))
        .await
        .unwrap();

    assert_eq!(same, store);
    assert_eq!(repo.store_events(store.id, 0, 10).await.unwrap().len(), 1);
}

async fn an_unknown_store_is_not_found(repo: Arc<dyn Repository>) {
    let nobody = StoreId::generate();
    let not_found =
        |r: Result<Store, DbError>| matches!(r, Err(DbError::NotFound { what: "store" }));
    assert!(not_found(repo.get_store(nobody).await));
    assert!(not_found(
        repo.set_store_status(nobody, StoreStatus::Failed, None, &system(), t0())
            .await
    ));
    assert!(not_found(
        repo.request_deletion(nobody, &system(), t0()).await
    ));
    assert!(not_found(
        repo.retry_store(nobody, &system(), 3, t0()).await
    ));
}

async fn deleting_a_store_queues_its_teardown_and_deleting_again_changes_nothing(
    repo: Arc<dyn Repository>,
) {
    let alice = user(&repo, "alice").await;
    let store = create(&repo, new_store(&alice, "short-lived")).await;
    let provision = repo.active_job(store.id).await.unwrap().unwrap();

    let deleting = repo
        .request_deletion(store.id, &alice_actor(), at(1))
        .await
        .unwrap();
    assert_eq!(deleting.status, StoreStatus::Deleting);
    let job = repo.active_job(store.id).await.unwrap().unwrap();
    assert_eq!(
        (job.id, job.kind),
        (provision.id, JobKind::Teardown),
        "the queued provisioning job became the teardown"
    );

    let again = repo
        .request_deletion(store.id, &alice_actor(), at(2))
        .await
        .unwrap();
    assert_eq!(again, deleting);
    let events = repo.store_events(store.id, 0, 10).await.unwrap();
    assert_eq!(events.len(), 2, "created and one status change: {events:?}");
    assert_eq!(events[1].detail["to"], "deleting");

    repo.set_store_status(store.id, StoreStatus::Deleted, None, &system(), at(3))
        .await
        .unwrap();
    let gone = repo
        .request_deletion(store.id, &alice_actor(), at(4))
        .await
        .unwrap();
    assert_eq!(gone.status, StoreStatus::Deleted);
}

fn alice_actor() -> storeplane_domain::Actor {
    storeplane_domain::Actor::User("alice".into())
}

async fn a_failed_store_can_be_retried_with_a_fresh_provisioning_job(repo: Arc<dyn Repository>) {
    let alice = user(&repo, "alice").await;
    let store = create(&repo, new_store(&alice, "try-again")).await;
    let job = repo
        .lease("w1", std::time::Duration::from_secs(30), at(1))
        .await
        .unwrap()
        .unwrap();
    let policy = storeplane_domain::RetryPolicy {
        max_attempts: 1,
        ..Default::default()
    };
    repo.fail(job.id, "w1", "boom", &policy, 0.0, at(2))
        .await
        .unwrap();
    repo.set_store_status(
        store.id,
        StoreStatus::Failed,
        Some("boom"),
        &system(),
        at(2),
    )
    .await
    .unwrap();
    assert_eq!(
        repo.active_job(store.id).await.unwrap(),
        None,
        "the job is dead"
    );

    let err = repo
        .retry_store(StoreId::generate(), &alice_actor(), 3, at(3))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotFound { .. }));
    let retried = repo
        .retry_store(store.id, &alice_actor(), 5, at(3))
        .await
        .unwrap();

    assert_eq!(
        (retried.status, retried.status_reason.as_deref()),
        (StoreStatus::Pending, None)
    );
    let fresh = repo.active_job(store.id).await.unwrap().unwrap();
    assert_ne!(fresh.id, job.id);
    assert_eq!(
        (fresh.kind, fresh.attempts, fresh.max_attempts, fresh.run_at),
        (JobKind::Provision, 0, 5, at(3))
    );

    let ready = repo
        .set_store_status(store.id, StoreStatus::Provisioning, None, &system(), at(4))
        .await
        .unwrap();
    let err = repo
        .retry_store(ready.id, &alice_actor(), 3, at(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::IllegalTransition(_)),
        "only a failed store is retried: {err:?}"
    );
}
