//! Admin password resets: requested only for a ready store with nothing in flight, pending
//! until the worker completes them, and completing makes the credentials revealable once
//! again.

use std::sync::Arc;

use storeplane_db::{
    ChangeCause, ChangeOutcome, DbError, InitialRevision, RecordChange, Repository, ResetRefused,
};
use storeplane_domain::{
    Actor, ChangeRequest, JobKind, Plan, RevisionContent, Store, StoreSpec, StoreStatus,
};

use crate::stores::create;
use crate::support::{at, new_store, repository_tests, system, user};

repository_tests!(
    a_reset_of_a_ready_store_is_pending_with_its_job_and_event_until_completed,
    completing_a_reset_makes_the_credentials_revealable_once_again,
    completing_a_reset_twice_records_it_once,
    a_second_reset_while_one_is_pending_is_refused,
    a_store_that_is_not_ready_cannot_have_its_password_reset,
    a_reset_while_a_revision_is_in_flight_is_refused,
    a_reset_of_a_missing_store_is_not_found,
    a_change_while_a_reset_is_pending_is_refused,
);

fn alice() -> Actor {
    Actor::User("alice".into())
}

fn content(spec: &StoreSpec) -> RevisionContent {
    RevisionContent {
        spec: spec.clone(),
        platform_digest: "platform".into(),
        manifest: format!("kind: ResourceQuota\nplan: {}\n", spec.plan),
        manifest_digest: format!("{:0>64}", spec.plan.to_string().len()),
    }
}

/// A ready store whose revision 1 is deployed.
async fn ready_store(repo: &Arc<dyn Repository>, name: &str) -> Store {
    let owner = user(repo, "alice").await;
    let store = create(repo, new_store(&owner, name)).await;
    for status in [StoreStatus::Provisioning, StoreStatus::Ready] {
        repo.set_store_status(store.id, status, None, &system(), at(0))
            .await
            .unwrap();
    }
    repo.record_initial_revision(InitialRevision {
        store: store.id,
        content: content(&store.spec),
        actor: system(),
        reason: "first provisioning".into(),
        deployed: true,
        now: at(1),
    })
    .await
    .unwrap();
    // The provisioning job is done: the reset's job is a new one.
    let job = repo
        .lease("worker", std::time::Duration::from_secs(30), at(1))
        .await
        .unwrap();
    if let Some(job) = job {
        repo.complete(job.id, "worker", at(1)).await.unwrap();
    }
    repo.get_store(store.id).await.unwrap()
}

fn reset_steps(events: &[storeplane_domain::StoreEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e.detail.get("step").and_then(|s| s.as_str()) == Some("password_reset"))
        .map(|e| {
            let status = e.detail["status"].as_str().unwrap_or_default().to_owned();
            (status, e.message.clone())
        })
        .collect()
}

async fn a_reset_of_a_ready_store_is_pending_with_its_job_and_event_until_completed(
    repo: Arc<dyn Repository>,
) {
    let store = ready_store(&repo, "reset").await;
    assert_eq!(repo.pending_password_reset(store.id).await.unwrap(), None);

    let generation = repo
        .request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap();

    assert_eq!(generation, 1);
    assert_eq!(
        repo.pending_password_reset(store.id).await.unwrap(),
        Some(1)
    );
    let job = repo
        .active_job(store.id)
        .await
        .unwrap()
        .expect("a job is queued");
    assert_eq!(job.kind, JobKind::Reconcile);
    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    assert_eq!(
        reset_steps(&events),
        vec![(
            "requested".to_owned(),
            "admin password reset requested by user:alice".to_owned()
        )]
    );

    repo.complete_password_reset(store.id, 1, &system(), at(20))
        .await
        .unwrap();
    assert_eq!(repo.pending_password_reset(store.id).await.unwrap(), None);
    assert_eq!(
        repo.request_password_reset(store.id, &alice(), at(30))
            .await
            .unwrap(),
        2,
        "the next reset is the next generation"
    );
}

async fn completing_a_reset_makes_the_credentials_revealable_once_again(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "reveal").await;
    assert!(
        repo.mark_credentials_revealed(store.id, &alice(), at(5))
            .await
            .unwrap()
    );
    let generation = repo
        .request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap();
    assert!(
        repo.credentials_revealed(store.id).await.unwrap(),
        "the old password stays unrevealable until the new one is set"
    );

    repo.complete_password_reset(store.id, generation, &system(), at(20))
        .await
        .unwrap();

    assert!(!repo.credentials_revealed(store.id).await.unwrap());
    assert!(
        repo.mark_credentials_revealed(store.id, &alice(), at(21))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .mark_credentials_revealed(store.id, &alice(), at(22))
            .await
            .unwrap()
    );
}

async fn completing_a_reset_twice_records_it_once(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "twice").await;
    let generation = repo
        .request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap();
    repo.complete_password_reset(store.id, generation, &system(), at(20))
        .await
        .unwrap();
    repo.mark_credentials_revealed(store.id, &alice(), at(21))
        .await
        .unwrap();

    repo.complete_password_reset(store.id, generation, &system(), at(22))
        .await
        .unwrap();

    assert!(
        repo.credentials_revealed(store.id).await.unwrap(),
        "a repeated completion does not make the credentials revealable again"
    );
    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    let done: Vec<_> = reset_steps(&events)
        .into_iter()
        .filter(|(status, _)| status == "done")
        .collect();
    assert_eq!(
        done,
        vec![(
            "done".to_owned(),
            "admin password reset; the new credentials can be revealed once".to_owned()
        )]
    );
}

async fn a_second_reset_while_one_is_pending_is_refused(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "pending").await;
    repo.request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap();

    let refused = repo
        .request_password_reset(store.id, &alice(), at(11))
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::ResetRefused(ResetRefused::ResetInProgress)
        ),
        "{refused:?}"
    );
    assert_eq!(
        repo.pending_password_reset(store.id).await.unwrap(),
        Some(1)
    );
}

async fn a_store_that_is_not_ready_cannot_have_its_password_reset(repo: Arc<dyn Repository>) {
    let owner = user(&repo, "alice").await;
    let store = create(&repo, new_store(&owner, "young")).await;

    let refused = repo
        .request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::ResetRefused(ResetRefused::NotReady {
                status: StoreStatus::Pending
            })
        ),
        "{refused:?}"
    );
    assert_eq!(repo.pending_password_reset(store.id).await.unwrap(), None);
    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    assert!(reset_steps(&events).is_empty());
}

async fn a_reset_while_a_revision_is_in_flight_is_refused(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "changing").await;
    let request = ChangeRequest {
        plan: Some(Plan::Medium),
        ..ChangeRequest::default()
    };
    let spec = request.apply_to(&store.spec);
    let outcome = repo
        .record_change(RecordChange {
            store: store.id,
            cause: ChangeCause::Request(request),
            content: content(&spec),
            actor: alice(),
            reason: String::new(),
            max_attempts: 3,
            now: at(5),
        })
        .await
        .unwrap();
    assert!(matches!(outcome, ChangeOutcome::Recorded { .. }));

    let refused = repo
        .request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::ResetRefused(ResetRefused::RevisionInFlight { revision: 2 })
        ),
        "{refused:?}"
    );
    assert_eq!(repo.pending_password_reset(store.id).await.unwrap(), None);
}

async fn a_reset_of_a_missing_store_is_not_found(repo: Arc<dyn Repository>) {
    let missing = storeplane_domain::StoreId::generate();
    assert!(matches!(
        repo.request_password_reset(missing, &alice(), at(1)).await,
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        repo.pending_password_reset(missing).await,
        Err(DbError::NotFound { .. })
    ));
}

async fn a_change_while_a_reset_is_pending_is_refused(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "resetting").await;
    repo.request_password_reset(store.id, &alice(), at(10))
        .await
        .unwrap();
    let request = ChangeRequest {
        plan: Some(Plan::Medium),
        ..ChangeRequest::default()
    };
    let spec = request.apply_to(&store.spec);

    let refused = repo
        .record_change(RecordChange {
            store: store.id,
            cause: ChangeCause::Request(request),
            content: content(&spec),
            actor: alice(),
            reason: String::new(),
            max_attempts: 3,
            now: at(11),
        })
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::ResetRefused(ResetRefused::ResetInProgress)
        ),
        "{refused:?}"
    );
    let revisions = repo.store_revisions(store.id).await.unwrap();
    assert!(revisions.in_flight().is_none(), "nothing was recorded");
}
