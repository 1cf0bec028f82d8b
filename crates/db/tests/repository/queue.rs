//! The job queue: coalescing, lease order, heartbeats, completion, retries, release, and
//! takeover of a crashed worker's job.

use std::sync::Arc;
use std::time::Duration;

use storeplane_db::{CreateStoreOutcome, DbError, Repository};
use storeplane_domain::{Job, JobKind, JobState, RetryPolicy, StoreId};

use crate::support::{at, new_store, repository_tests, user};

repository_tests!(
    enqueueing_for_a_store_with_an_active_job_joins_that_job,
    enqueueing_for_an_unknown_store_is_not_found,
    lease_takes_the_oldest_runnable_job_and_nothing_before_its_time,
    a_heartbeat_extends_a_live_lease_but_not_an_expired_one,
    completing_a_job_asked_for_again_while_it_ran_queues_it_once_more,
    a_failing_job_backs_off_then_is_dead_after_its_last_attempt,
    a_released_job_is_queued_at_once_and_the_attempt_does_not_count,
    a_job_whose_holder_stops_heartbeating_is_taken_over_after_its_lease_expires,
    only_the_holder_can_finish_a_job,
    a_job_asked_for_again_while_its_last_attempt_ran_is_queued_afresh_instead_of_dead,
);

const LEASE: Duration = Duration::from_secs(30);

/// A store whose provisioning job is queued at [`crate::support::t0`]; returns the job.
async fn store_with_job(repo: &Arc<dyn Repository>, name: &str) -> Job {
    let owner = user(repo, "alice").await;
    match repo.create_store(new_store(&owner, name)).await.unwrap() {
        CreateStoreOutcome::Created { job, .. } => job,
        other => panic!("expected a new store, got {other:?}"),
    }
}

async fn enqueueing_for_a_store_with_an_active_job_joins_that_job(repo: Arc<dyn Repository>) {
    let queued = store_with_job(&repo, "busy-shop").await;
    let store = queued.store_id;

    let joined = repo
        .enqueue(store, JobKind::Reconcile, 3, at(1))
        .await
        .unwrap();
    assert!(joined.coalesced);
    assert_eq!(
        (joined.job.id, joined.job.kind, joined.job.rerun),
        (queued.id, JobKind::Reconcile, false)
    );

    let leased = repo.lease("w1", LEASE, at(2)).await.unwrap().unwrap();
    let joined = repo
        .enqueue(store, JobKind::Teardown, 3, at(3))
        .await
        .unwrap();
    assert!(joined.coalesced);
    assert_eq!(
        (joined.job.id, joined.job.state, joined.job.rerun),
        (leased.id, JobState::Leased, true)
    );
    assert_eq!(
        joined.job.lease_holder.as_deref(),
        Some("w1"),
        "the running worker keeps its lease"
    );

    repo.complete(leased.id, "w1", at(4)).await.unwrap();
    let after = repo
        .enqueue(store, JobKind::Reconcile, 3, at(5))
        .await
        .unwrap();
    assert!(after.coalesced, "the rerun is still queued");

    let rerun = repo.lease("w1", LEASE, at(6)).await.unwrap().unwrap();
    repo.complete(rerun.id, "w1", at(7)).await.unwrap();
    let fresh = repo
        .enqueue(store, JobKind::Reconcile, 3, at(8))
        .await
        .unwrap();
    assert!(!fresh.coalesced);
    assert_ne!(fresh.job.id, queued.id, "a finished job is never reused");
    assert_eq!(
        (fresh.job.state, fresh.job.attempts, fresh.job.run_at),
        (JobState::Queued, 0, at(8))
    );
}

async fn enqueueing_for_an_unknown_store_is_not_found(repo: Arc<dyn Repository>) {
    let err = repo
        .enqueue(StoreId::generate(), JobKind::Reconcile, 3, at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::NotFound { what: "store" }),
        "{err:?}"
    );
}

async fn lease_takes_the_oldest_runnable_job_and_nothing_before_its_time(
    repo: Arc<dyn Repository>,
) {
    let first = store_with_job(&repo, "first-shop").await;
    let second = store_with_job(&repo, "second-shop").await;
    // A later job that is due earlier goes first.
    let owner = user(&repo, "alice").await;
    let late = storeplane_db::CreateStore {
        now: at(-10),
        ..new_store(&owner, "early-shop")
    };
    let CreateStoreOutcome::Created { job: early, .. } = repo.create_store(late).await.unwrap()
    else {
        panic!()
    };

    let order: Vec<_> = [
        repo.lease("w", LEASE, at(0)).await.unwrap(),
        repo.lease("w", LEASE, at(0)).await.unwrap(),
        repo.lease("w", LEASE, at(0)).await.unwrap(),
    ]
    .into_iter()
    .map(|j| j.unwrap().id)
    .collect();
    assert_eq!(order, [early.id, first.id, second.id]);
    assert_eq!(
        repo.lease("w", LEASE, at(1)).await.unwrap(),
        None,
        "everything is leased"
    );

    // A job backing off is not runnable until its run_at.
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(60),
    };
    let failed = repo
        .fail(first.id, "w", "boom", &policy, 0.0, at(2))
        .await
        .unwrap();
    assert_eq!(failed.run_at, at(7), "half of the 10s delay with no jitter");
    assert_eq!(repo.lease("w", LEASE, at(6)).await.unwrap(), None);
    let retried = repo.lease("w", LEASE, at(7)).await.unwrap().unwrap();
    assert_eq!((retried.id, retried.attempts), (first.id, 2));
    assert_eq!(
        (retried.lease_holder.as_deref(), retried.lease_expires_at),
        (Some("w"), Some(at(37)))
    );
}

async fn a_heartbeat_extends_a_live_lease_but_not_an_expired_one(repo: Arc<dyn Repository>) {
    store_with_job(&repo, "beating-shop").await;
    let job = repo.lease("w1", LEASE, at(0)).await.unwrap().unwrap();

    let extended = repo.heartbeat(job.id, "w1", LEASE, at(20)).await.unwrap();
    assert_eq!(extended.lease_expires_at, Some(at(50)));
    assert_eq!(
        repo.lease("w2", LEASE, at(40)).await.unwrap(),
        None,
        "the extended lease is still live"
    );

    let err = repo
        .heartbeat(job.id, "w1", LEASE, at(51))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::LeaseLost { .. }),
        "an expired lease cannot be revived: {err:?}"
    );
    let err = repo
        .heartbeat(job.id, "w2", LEASE, at(21))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::LeaseLost { .. }), "{err:?}");
}

async fn completing_a_job_asked_for_again_while_it_ran_queues_it_once_more(
    repo: Arc<dyn Repository>,
) {
    let queued = store_with_job(&repo, "rerun-shop").await;
    repo.lease("w1", LEASE, at(0)).await.unwrap().unwrap();
    repo.enqueue(queued.store_id, JobKind::Reconcile, 3, at(1))
        .await
        .unwrap();

    let requeued = repo.complete(queued.id, "w1", at(2)).await.unwrap();
    assert_eq!(
        (
            requeued.state,
            requeued.attempts,
            requeued.run_at,
            requeued.rerun
        ),
        (JobState::Queued, 0, at(2), false)
    );
    assert_eq!(
        (requeued.kind, requeued.lease_holder.as_deref()),
        (JobKind::Reconcile, None)
    );

    let again = repo.lease("w2", LEASE, at(3)).await.unwrap().unwrap();
    let done = repo.complete(again.id, "w2", at(4)).await.unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(repo.active_job(queued.store_id).await.unwrap(), None);
    assert_eq!(repo.lease("w1", LEASE, at(5)).await.unwrap(), None);
}

async fn a_failing_job_backs_off_then_is_dead_after_its_last_attempt(repo: Arc<dyn Repository>) {
    let job = store_with_job(&repo, "flaky-shop").await;
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_secs(4),
        max_delay: Duration::from_secs(60),
    };

    let mut now = 0;
    let mut delays = Vec::new();
    for _ in 0..2 {
        let leased = repo.lease("w", LEASE, at(now)).await.unwrap().unwrap();
        let failed = repo
            .fail(leased.id, "w", "database not ready", &policy, 1.0, at(now))
            .await
            .unwrap();
        assert_eq!(failed.state, JobState::Queued);
        assert_eq!(failed.last_error.as_deref(), Some("database not ready"));
        delays.push((failed.run_at - at(now)).num_seconds());
        now = (failed.run_at - at(0)).num_seconds();
    }
    assert_eq!(
        delays,
        [4, 8],
        "exponential backoff (full jitter keeps the whole delay)"
    );

    let last = repo.lease("w", LEASE, at(now)).await.unwrap().unwrap();
    assert_eq!(last.attempts, 3);
    let dead = repo
        .fail(last.id, "w", "gave up", &policy, 0.5, at(now))
        .await
        .unwrap();
    assert_eq!(
        (dead.state, dead.attempts, dead.lease_holder.as_deref()),
        (JobState::Dead, 3, None)
    );
    assert_eq!(repo.get_job(job.id).await.unwrap(), dead);
    assert_eq!(
        repo.lease("w", LEASE, at(now + 3600)).await.unwrap(),
        None,
        "a dead job is never leased"
    );
}

async fn a_released_job_is_queued_at_once_and_the_attempt_does_not_count(
    repo: Arc<dyn Repository>,
) {
    store_with_job(&repo, "shutdown-shop").await;
    let leased = repo.lease("w1", LEASE, at(0)).await.unwrap().unwrap();
    assert_eq!(leased.attempts, 1);

    let released = repo.release(leased.id, "w1", at(5)).await.unwrap();
    assert_eq!(
        (released.state, released.attempts, released.run_at),
        (JobState::Queued, 0, at(5))
    );
    assert_eq!(
        (released.lease_holder, released.lease_expires_at),
        (None, None)
    );

    let next = repo.lease("w2", LEASE, at(5)).await.unwrap().unwrap();
    assert_eq!((next.id, next.attempts), (leased.id, 1));
}

/// The crash test: the first holder dies mid-job, a second worker takes the job over once
/// the lease runs out, and the dead holder can no longer touch it.
async fn a_job_whose_holder_stops_heartbeating_is_taken_over_after_its_lease_expires(
    repo: Arc<dyn Repository>,
) {
    let queued = store_with_job(&repo, "crashy-shop").await;
    let first = repo.lease("doomed", LEASE, at(0)).await.unwrap().unwrap();
    repo.heartbeat(first.id, "doomed", LEASE, at(10))
        .await
        .unwrap();
    // ... and the holder crashes: no more heartbeats. Its lease runs until at(40).

    assert_eq!(
        repo.lease("rescuer", LEASE, at(40)).await.unwrap(),
        None,
        "the lease is live until it expires"
    );
    let taken = repo.lease("rescuer", LEASE, at(41)).await.unwrap().unwrap();

    assert_eq!(taken.id, queued.id);
    assert_eq!(taken.attempts, 2, "the takeover is the second attempt");
    assert_eq!(
        (taken.lease_holder.as_deref(), taken.lease_expires_at),
        (Some("rescuer"), Some(at(71)))
    );
    let lost = |r: Result<Job, DbError>| matches!(r, Err(DbError::LeaseLost { holder, .. }) if holder == "doomed");
    assert!(lost(
        repo.heartbeat(taken.id, "doomed", LEASE, at(42)).await
    ));
    assert!(lost(repo.complete(taken.id, "doomed", at(42)).await));
    assert_eq!(
        repo.complete(taken.id, "rescuer", at(43))
            .await
            .unwrap()
            .state,
        JobState::Done
    );
}

async fn only_the_holder_can_finish_a_job(repo: Arc<dyn Repository>) {
    let queued = store_with_job(&repo, "guarded-shop").await;
    let policy = RetryPolicy::default();
    let lost = |r: Result<Job, DbError>| matches!(r, Err(DbError::LeaseLost { .. }));

    // Not leased at all yet.
    assert!(lost(repo.complete(queued.id, "w1", at(0)).await));
    let leased = repo.lease("w1", LEASE, at(0)).await.unwrap().unwrap();
    assert!(lost(repo.complete(leased.id, "w2", at(1)).await));
    assert!(lost(
        repo.fail(leased.id, "w2", "no", &policy, 0.0, at(1)).await
    ));
    assert!(lost(repo.release(leased.id, "w2", at(1)).await));
    assert_eq!(
        repo.get_job(leased.id).await.unwrap(),
        leased,
        "nothing changed"
    );

    let missing = storeplane_domain::JobId(i64::MAX);
    assert!(matches!(
        repo.complete(missing, "w1", at(1)).await,
        Err(DbError::NotFound { what: "job" })
    ));
    assert!(matches!(
        repo.get_job(missing).await,
        Err(DbError::NotFound { what: "job" })
    ));
}

async fn a_job_asked_for_again_while_its_last_attempt_ran_is_queued_afresh_instead_of_dead(
    repo: Arc<dyn Repository>,
) {
    let queued = store_with_job(&repo, "deleted-meanwhile").await;
    let policy = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let leased = repo.lease("w1", LEASE, at(0)).await.unwrap().unwrap();
    // The person deletes the store while its provisioning runs.
    repo.enqueue(queued.store_id, JobKind::Teardown, 3, at(1))
        .await
        .unwrap();

    let after = repo
        .fail(leased.id, "w1", "apply failed", &policy, 0.0, at(2))
        .await
        .unwrap();

    assert_eq!(
        (after.state, after.kind, after.attempts, after.run_at),
        (JobState::Queued, JobKind::Teardown, 0, at(2))
    );
    assert_eq!(after.last_error.as_deref(), Some("apply failed"));
}
