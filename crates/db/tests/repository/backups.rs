//! Backups: requested only for a ready store with nothing else in progress, one at a time,
//! each step on the timeline; a change, a rollback or a reset waits for them; the schedule
//! is counted from the newest scheduled request; a deleted store's backups expire.

use std::sync::Arc;

use chrono::Duration;
use storeplane_db::{
    BackupRefused, ChangeCause, ChangeOutcome, DbError, InitialRevision, RecordChange,
    RecordRollback, Repository, RequestBackup,
};
use storeplane_domain::{
    ActiveBackup, Actor, Backup, BackupFigures, BackupId, BackupKind, BackupSchedule, BackupStatus,
    ChangeRequest, JobKind, Plan, RevisionContent, RevisionNumber, RevisionStatus, Store,
    StoreEvent, StoreId, StoreSpec, StoreStatus,
};

use crate::stores::create;
use crate::support::{at, new_store, repository_tests, system, t0, user};

repository_tests!(
    a_manual_backup_of_a_ready_store_is_pending_with_its_revision_job_and_event,
    a_second_backup_while_one_is_active_is_refused,
    a_store_that_is_not_ready_cannot_be_backed_up,
    a_backup_while_a_revision_is_in_flight_is_refused,
    a_backup_while_a_reset_is_pending_is_refused,
    a_backup_of_a_missing_store_is_not_found,
    a_change_a_rollback_and_a_reset_wait_for_the_backup_to_finish,
    a_backup_started_and_finished_records_its_figures_once,
    a_failed_backup_keeps_its_reason_and_the_last_success_stays,
    a_store_is_due_for_its_scheduled_backup_one_interval_after_the_last_request,
    a_scheduled_backup_is_not_requested_while_another_backup_is_active,
    of_concurrent_scheduled_requests_for_one_store_exactly_one_backup_is_requested,
    a_store_without_a_schedule_is_never_due,
    a_store_lists_its_backups_newest_first_up_to_the_limit,
    a_deleted_store_s_backups_expire_after_the_retention_and_an_active_one_fails,
);

const DAILY: BackupSchedule = BackupSchedule::hours(24);

const SNAPSHOT: &str = "4f1c2a9b7d3e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef";

fn alice() -> Actor {
    Actor::User("alice".into())
}

fn hours(n: i64) -> i64 {
    n * 3600
}

fn content(spec: &StoreSpec) -> RevisionContent {
    RevisionContent {
        spec: spec.clone(),
        platform_digest: "platform".into(),
        manifest: format!("kind: ResourceQuota\nplan: {}\n", spec.plan),
        manifest_digest: format!("{:0>64}", spec.plan.to_string().len()),
    }
}

fn figures() -> BackupFigures {
    BackupFigures {
        snapshot: SNAPSHOT.into(),
        size_bytes: 20_761_421,
        added_bytes: 234_567,
        duration_ms: 4210,
    }
}

/// A ready store whose revision 1 is deployed, created at [`t0`].
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
    // The provisioning job is done: the backup's job is a new one.
    let job = repo
        .lease("worker", std::time::Duration::from_secs(30), at(1))
        .await
        .unwrap();
    if let Some(job) = job {
        repo.complete(job.id, "worker", at(1)).await.unwrap();
    }
    repo.get_store(store.id).await.unwrap()
}

fn manual(store: StoreId, reason: &str, now: i64) -> RequestBackup {
    RequestBackup {
        store,
        kind: BackupKind::Manual,
        actor: alice(),
        reason: reason.into(),
        now: at(now),
    }
}

fn scheduled(store: StoreId, now: i64) -> RequestBackup {
    RequestBackup {
        store,
        kind: BackupKind::Scheduled,
        actor: Actor::System("scheduler".into()),
        reason: String::new(),
        now: at(now),
    }
}

/// Requests a manual backup at `now` and finishes it `Ok` at `now + 5`.
async fn back_up(repo: &Arc<dyn Repository>, store: StoreId, now: i64) -> Backup {
    let backup = repo.request_backup(manual(store, "", now)).await.unwrap();
    repo.start_backup(backup.id, &system(), at(now + 1))
        .await
        .unwrap();
    repo.finish_backup(backup.id, Ok(figures()), &system(), at(now + 5))
        .await
        .unwrap()
}

fn change(store: &Store, plan: Plan, now: i64) -> RecordChange {
    let request = ChangeRequest {
        plan: Some(plan),
        ..ChangeRequest::default()
    };
    let spec = request.apply_to(&store.spec);
    RecordChange {
        store: store.id,
        cause: ChangeCause::Request(request),
        content: content(&spec),
        actor: alice(),
        reason: String::new(),
        max_attempts: 3,
        now: at(now),
    }
}

fn rollback_to_first(store: StoreId, now: i64) -> RecordRollback {
    RecordRollback {
        store,
        target: RevisionNumber::FIRST,
        restore_checkpoint: false,
        rerendered: None,
        actor: alice(),
        reason: "the new plan is too expensive".into(),
        max_attempts: 3,
        now: at(now),
    }
}

/// The backup steps on a store's timeline: (status, message).
fn backup_steps(events: &[StoreEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e.detail.get("step").and_then(|s| s.as_str()) == Some("backup"))
        .map(|e| {
            let status = e.detail["status"].as_str().unwrap_or_default().to_owned();
            (status, e.message.clone())
        })
        .collect()
}

async fn steps(repo: &Arc<dyn Repository>, store: StoreId) -> Vec<(String, String)> {
    backup_steps(&repo.store_events(store, 0, 1000).await.unwrap())
}

fn in_progress(error: &DbError, kind: BackupKind) -> bool {
    matches!(
        error,
        DbError::BackupRefused(BackupRefused::InProgress { kind: k }) if *k == kind
    )
}

async fn a_manual_backup_of_a_ready_store_is_pending_with_its_revision_job_and_event(
    repo: Arc<dyn Repository>,
) {
    let store = ready_store(&repo, "backed").await;
    assert_eq!(store.backups, Default::default());
    assert_eq!(repo.active_backup(store.id).await.unwrap(), None);

    let backup = repo
        .request_backup(manual(store.id, "before the sale", 10))
        .await
        .unwrap();

    assert_eq!(
        (
            backup.store_id,
            backup.kind,
            backup.status,
            backup.revision,
            backup.reason.as_str(),
            backup.actor.clone(),
        ),
        (
            store.id,
            BackupKind::Manual,
            BackupStatus::Pending,
            Some(RevisionNumber::FIRST),
            "before the sale",
            alice(),
        )
    );
    assert_eq!(backup.created_at, at(10));
    assert_eq!(
        (
            &backup.figures,
            &backup.failure,
            backup.started_at,
            backup.finished_at,
            backup.expires_at
        ),
        (&None, &None, None, None, None)
    );
    assert_eq!(repo.get_backup(backup.id).await.unwrap(), backup);
    assert_eq!(
        repo.active_backup(store.id).await.unwrap(),
        Some(backup.clone())
    );
    let job = repo
        .active_job(store.id)
        .await
        .unwrap()
        .expect("a job is queued");
    assert_eq!(job.kind, JobKind::Reconcile);
    assert_eq!(job.run_at, at(10));

    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    let requested: Vec<_> = events
        .iter()
        .filter(|e| e.detail.get("step").and_then(|s| s.as_str()) == Some("backup"))
        .collect();
    assert_eq!(requested.len(), 1, "{events:?}");
    let event = requested[0];
    assert_eq!(event.kind, storeplane_domain::EventKind::Step);
    assert_eq!(event.actor, alice());
    assert_eq!(event.at, at(10));
    assert_eq!(event.detail["status"], "requested");
    assert_eq!(event.detail["kind"], "manual");
    assert_eq!(event.detail["backup"], backup.id.to_string());
    assert_eq!(
        event.message,
        "manual backup requested by user:alice: before the sale"
    );

    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(
        read.backups.active,
        Some(ActiveBackup {
            id: backup.id,
            kind: BackupKind::Manual
        })
    );
    assert_eq!(
        (
            read.backups.last_scheduled_at,
            read.backups.last_succeeded_at
        ),
        (None, None),
        "a manual backup is not a scheduled one, and it has not succeeded yet"
    );
    let listed = repo
        .list_stores(&storeplane_db::StoreQuery {
            limit: 10,
            ..storeplane_db::StoreQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].backups, read.backups, "a list reads it as well");
}

async fn a_second_backup_while_one_is_active_is_refused(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "busy").await;
    let first = repo.request_backup(manual(store.id, "", 10)).await.unwrap();

    let refused = repo
        .request_backup(manual(store.id, "", 11))
        .await
        .unwrap_err();
    assert!(in_progress(&refused, BackupKind::Manual), "{refused:?}");

    repo.start_backup(first.id, &system(), at(12))
        .await
        .unwrap();
    let refused = repo
        .request_backup(manual(store.id, "", 13))
        .await
        .unwrap_err();
    assert!(
        in_progress(&refused, BackupKind::Manual),
        "a running backup is active too: {refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "a manual backup is in progress; try again once it is done"
    );

    let backups = repo.store_backups(store.id, 10).await.unwrap();
    assert_eq!(
        backups.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    assert_eq!(steps(&repo, store.id).await.len(), 2, "requested, running");

    repo.finish_backup(first.id, Ok(figures()), &system(), at(14))
        .await
        .unwrap();
    let second = repo.request_backup(manual(store.id, "", 15)).await.unwrap();
    assert_eq!(second.status, BackupStatus::Pending);
}

async fn a_store_that_is_not_ready_cannot_be_backed_up(repo: Arc<dyn Repository>) {
    let owner = user(&repo, "alice").await;
    let store = create(&repo, new_store(&owner, "young")).await;

    let refused = repo
        .request_backup(manual(store.id, "", 10))
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::BackupRefused(BackupRefused::NotReady {
                status: StoreStatus::Pending
            })
        ),
        "{refused:?}"
    );
    assert!(repo.store_backups(store.id, 10).await.unwrap().is_empty());
    assert!(steps(&repo, store.id).await.is_empty());

    let leaving = ready_store(&repo, "leaving").await;
    repo.request_deletion(leaving.id, &alice(), at(20))
        .await
        .unwrap();
    let refused = repo
        .request_backup(manual(leaving.id, "", 21))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            DbError::BackupRefused(BackupRefused::NotReady {
                status: StoreStatus::Deleting
            })
        ),
        "{refused:?}"
    );
    assert!(repo.store_backups(leaving.id, 10).await.unwrap().is_empty());
}

async fn a_backup_while_a_revision_is_in_flight_is_refused(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "changing").await;
    let outcome = repo
        .record_change(change(&store, Plan::Medium, 5))
        .await
        .unwrap();
    assert!(matches!(outcome, ChangeOutcome::Recorded { .. }));

    let refused = repo
        .request_backup(manual(store.id, "", 10))
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::BackupRefused(BackupRefused::RevisionInFlight { revision: 2 })
        ),
        "{refused:?}"
    );
    assert!(repo.store_backups(store.id, 10).await.unwrap().is_empty());
    assert_eq!(repo.active_backup(store.id).await.unwrap(), None);
    assert!(steps(&repo, store.id).await.is_empty());
}

async fn a_backup_while_a_reset_is_pending_is_refused(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "resetting").await;
    let generation = repo
        .request_password_reset(store.id, &alice(), at(5))
        .await
        .unwrap();

    let refused = repo
        .request_backup(manual(store.id, "", 10))
        .await
        .unwrap_err();

    assert!(
        matches!(
            refused,
            DbError::BackupRefused(BackupRefused::ResetInProgress)
        ),
        "{refused:?}"
    );
    assert!(repo.store_backups(store.id, 10).await.unwrap().is_empty());

    repo.complete_password_reset(store.id, generation, &system(), at(20))
        .await
        .unwrap();
    repo.request_backup(manual(store.id, "", 21))
        .await
        .expect("a backup once the reset is done");
}

async fn a_backup_of_a_missing_store_is_not_found(repo: Arc<dyn Repository>) {
    let missing = StoreId::generate();
    let refused = repo
        .request_backup(manual(missing, "", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, DbError::NotFound { what: "store" }),
        "{refused:?}"
    );
    let unknown = BackupId::generate();
    assert!(matches!(
        repo.get_backup(unknown).await,
        Err(DbError::NotFound { what: "backup" })
    ));
    assert!(matches!(
        repo.start_backup(unknown, &system(), at(2)).await,
        Err(DbError::NotFound { what: "backup" })
    ));
    assert!(matches!(
        repo.finish_backup(unknown, Ok(figures()), &system(), at(3))
            .await,
        Err(DbError::NotFound { what: "backup" })
    ));
}

async fn a_change_a_rollback_and_a_reset_wait_for_the_backup_to_finish(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "waiting").await;
    // Revision 2 deployed, so there is something to roll back to.
    let ChangeOutcome::Recorded { revision, .. } = repo
        .record_change(change(&store, Plan::Medium, 2))
        .await
        .unwrap()
    else {
        panic!("expected a recorded change");
    };
    repo.set_revision_status(
        store.id,
        revision.number,
        RevisionStatus::Applying,
        None,
        &system(),
        at(3),
    )
    .await
    .unwrap();
    repo.mark_revision_deployed(store.id, revision.number, &system(), at(4))
        .await
        .unwrap();
    let store = repo.get_store(store.id).await.unwrap();
    let backup = repo.request_backup(manual(store.id, "", 10)).await.unwrap();
    assert_eq!(backup.revision, Some(revision.number));

    let refused = repo
        .record_change(change(&store, Plan::Large, 11))
        .await
        .unwrap_err();
    assert!(in_progress(&refused, BackupKind::Manual), "{refused:?}");
    let refused = repo
        .record_rollback(rollback_to_first(store.id, 12))
        .await
        .unwrap_err();
    assert!(in_progress(&refused, BackupKind::Manual), "{refused:?}");
    let refused = repo
        .request_password_reset(store.id, &alice(), at(13))
        .await
        .unwrap_err();
    assert!(in_progress(&refused, BackupKind::Manual), "{refused:?}");

    let revisions = repo.store_revisions(store.id).await.unwrap();
    assert!(revisions.in_flight().is_none(), "nothing was recorded");
    assert_eq!(
        revisions.latest.map(|r| r.number),
        Some(revision.number),
        "no revision was added"
    );
    assert_eq!(repo.pending_password_reset(store.id).await.unwrap(), None);

    // Running still holds them off.
    repo.start_backup(backup.id, &system(), at(14))
        .await
        .unwrap();
    let refused = repo
        .request_password_reset(store.id, &alice(), at(15))
        .await
        .unwrap_err();
    assert!(in_progress(&refused, BackupKind::Manual), "{refused:?}");

    repo.finish_backup(backup.id, Ok(figures()), &system(), at(20))
        .await
        .unwrap();

    let generation = repo
        .request_password_reset(store.id, &alice(), at(21))
        .await
        .expect("a reset once the backup is done");
    repo.complete_password_reset(store.id, generation, &system(), at(22))
        .await
        .unwrap();
    let rolled = repo
        .record_rollback(rollback_to_first(store.id, 23))
        .await
        .expect("a rollback once the backup is done");
    assert_eq!(rolled.revision.rollback_of, Some(RevisionNumber::FIRST));
    repo.set_revision_status(
        store.id,
        rolled.revision.number,
        RevisionStatus::Applying,
        None,
        &system(),
        at(24),
    )
    .await
    .unwrap();
    repo.mark_revision_deployed(store.id, rolled.revision.number, &system(), at(25))
        .await
        .unwrap();
    let store = repo.get_store(store.id).await.unwrap();
    let outcome = repo
        .record_change(change(&store, Plan::Large, 26))
        .await
        .expect("a change once the backup is done");
    assert!(
        matches!(outcome, ChangeOutcome::Recorded { .. }),
        "{outcome:?}"
    );

    // A failed backup does not hold them off either.
    let other = ready_store(&repo, "failing").await;
    let failed = repo.request_backup(manual(other.id, "", 30)).await.unwrap();
    repo.finish_backup(failed.id, Err("restic failed".into()), &system(), at(31))
        .await
        .unwrap();
    let outcome = repo
        .record_change(change(&other, Plan::Large, 32))
        .await
        .expect("a change once the backup failed");
    assert!(
        matches!(outcome, ChangeOutcome::Recorded { .. }),
        "{outcome:?}"
    );
}

async fn a_backup_started_and_finished_records_its_figures_once(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "taken").await;
    let backup = repo.request_backup(manual(store.id, "", 10)).await.unwrap();

    let running = repo
        .start_backup(backup.id, &system(), at(20))
        .await
        .unwrap();
    assert_eq!(
        (running.status, running.started_at),
        (BackupStatus::Running, Some(at(20)))
    );
    let again = repo
        .start_backup(backup.id, &system(), at(21))
        .await
        .unwrap();
    assert_eq!(again, running, "a second start changes nothing");
    assert_eq!(
        repo.get_store(store.id).await.unwrap().backups.active,
        Some(ActiveBackup {
            id: backup.id,
            kind: BackupKind::Manual
        }),
        "a running backup is active"
    );

    let done = repo
        .finish_backup(backup.id, Ok(figures()), &system(), at(30))
        .await
        .unwrap();

    assert_eq!(done.status, BackupStatus::Succeeded);
    assert_eq!(done.figures, Some(figures()));
    assert_eq!(
        (done.started_at, done.finished_at, &done.failure),
        (Some(at(20)), Some(at(30)), &None)
    );
    assert_eq!(repo.get_backup(backup.id).await.unwrap(), done);
    assert_eq!(repo.active_backup(store.id).await.unwrap(), None);
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(read.backups.active, None);
    assert_eq!(read.backups.last_succeeded_at, Some(at(30)));

    let repeated = repo
        .finish_backup(backup.id, Ok(figures()), &system(), at(40))
        .await
        .unwrap();
    assert_eq!(repeated, done, "a second finish changes nothing");
    let late_failure = repo
        .finish_backup(backup.id, Err("too late".into()), &system(), at(41))
        .await
        .unwrap();
    assert_eq!(late_failure, done, "a finished backup stays as it finished");
    let restarted = repo
        .start_backup(backup.id, &system(), at(42))
        .await
        .unwrap();
    assert_eq!(restarted, done, "a finished backup is not started again");

    assert_eq!(
        steps(&repo, store.id).await,
        vec![
            (
                "requested".to_owned(),
                "manual backup requested by user:alice".to_owned()
            ),
            ("running".to_owned(), "taking a manual backup".to_owned()),
            (
                "succeeded".to_owned(),
                format!(
                    "backup {} taken (snapshot 4f1c2a9b): 19.8 MiB, 229 KiB added, in 4.2 s",
                    backup.id.short()
                )
            ),
        ]
    );
    assert_eq!(
        repo.get_store(store.id)
            .await
            .unwrap()
            .backups
            .last_succeeded_at,
        Some(at(30)),
        "the repeated calls did not move the success"
    );
}

async fn a_failed_backup_keeps_its_reason_and_the_last_success_stays(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "flaky").await;
    let succeeded = back_up(&repo, store.id, 10).await;
    assert_eq!(succeeded.finished_at, Some(at(15)));

    let backup = repo.request_backup(manual(store.id, "", 40)).await.unwrap();
    repo.start_backup(backup.id, &system(), at(41))
        .await
        .unwrap();
    let failed = repo
        .finish_backup(
            backup.id,
            Err("restic: repository is already locked".into()),
            &system(),
            at(50),
        )
        .await
        .unwrap();

    assert_eq!(failed.status, BackupStatus::Failed);
    assert_eq!(
        failed.failure.as_deref(),
        Some("restic: repository is already locked")
    );
    assert_eq!((&failed.figures, failed.finished_at), (&None, Some(at(50))));
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(read.backups.active, None);
    assert_eq!(
        read.backups.last_succeeded_at,
        Some(at(15)),
        "the previous success is still the last"
    );
    let last = steps(&repo, store.id).await.pop().unwrap();
    assert_eq!(
        last,
        (
            "failed".to_owned(),
            "manual backup failed: restic: repository is already locked".to_owned()
        )
    );

    let repeated = repo
        .finish_backup(backup.id, Ok(figures()), &system(), at(60))
        .await
        .unwrap();
    assert_eq!(repeated, failed, "a failed backup does not succeed later");
    assert_eq!(steps(&repo, store.id).await.len(), 6);

    // A pending backup can fail before it started (its Job never ran).
    let never = repo.request_backup(manual(store.id, "", 70)).await.unwrap();
    let never = repo
        .finish_backup(never.id, Err("no capacity".into()), &system(), at(71))
        .await
        .unwrap();
    assert_eq!(
        (never.status, never.started_at, never.failure.as_deref()),
        (BackupStatus::Failed, None, Some("no capacity"))
    );
}

async fn a_store_is_due_for_its_scheduled_backup_one_interval_after_the_last_request(
    repo: Arc<dyn Repository>,
) {
    let store = ready_store(&repo, "daily").await;
    let owner = user(&repo, "alice").await;
    // Not ready: never due.
    let pending = create(&repo, new_store(&owner, "pending")).await;
    assert_eq!(store.created_at, t0());

    let early = hours(24) - 1;
    assert!(
        repo.stores_due_for_backup(DAILY, at(early))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        repo.schedule_backup(DAILY, scheduled(store.id, early))
            .await
            .unwrap(),
        None
    );
    assert!(
        repo.store_backups(store.id, 10).await.unwrap().is_empty(),
        "nothing was requested before it was due"
    );
    assert!(steps(&repo, store.id).await.is_empty());

    let due = hours(24);
    assert_eq!(
        repo.stores_due_for_backup(DAILY, at(due)).await.unwrap(),
        vec![store.id]
    );
    let first = repo
        .schedule_backup(DAILY, scheduled(store.id, due))
        .await
        .unwrap()
        .expect("due once 24 h passed since the store was created");
    assert_eq!(
        (first.kind, first.status, first.created_at, first.revision),
        (
            BackupKind::Scheduled,
            BackupStatus::Pending,
            at(due),
            Some(RevisionNumber::FIRST)
        )
    );
    assert_eq!(
        repo.active_job(store.id).await.unwrap().map(|j| j.kind),
        Some(JobKind::Reconcile)
    );
    assert_eq!(
        steps(&repo, store.id).await,
        vec![(
            "requested".to_owned(),
            "scheduled backup requested".to_owned()
        )]
    );
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(read.backups.last_scheduled_at, Some(at(due)));
    assert_eq!(
        read.backups.active,
        Some(ActiveBackup {
            id: first.id,
            kind: BackupKind::Scheduled
        })
    );
    assert!(
        repo.stores_due_for_backup(DAILY, at(due + 1))
            .await
            .unwrap()
            .is_empty(),
        "not due again right after the request"
    );
    repo.finish_backup(first.id, Ok(figures()), &system(), at(due + 60))
        .await
        .unwrap();

    let almost = hours(48) - 1;
    assert!(
        repo.stores_due_for_backup(DAILY, at(almost))
            .await
            .unwrap()
            .is_empty(),
        "not due until 24 h after the last request"
    );
    assert_eq!(
        repo.schedule_backup(DAILY, scheduled(store.id, almost))
            .await
            .unwrap(),
        None
    );
    assert_eq!(repo.store_backups(store.id, 10).await.unwrap().len(), 1);

    let next = hours(48);
    assert_eq!(
        repo.stores_due_for_backup(DAILY, at(next)).await.unwrap(),
        vec![store.id]
    );
    let second = repo
        .schedule_backup(DAILY, scheduled(store.id, next))
        .await
        .unwrap()
        .expect("due again 24 h after the last request");
    assert_eq!(second.created_at, at(next));
    assert_eq!(
        repo.get_store(store.id)
            .await
            .unwrap()
            .backups
            .last_scheduled_at,
        Some(at(next))
    );
    assert_eq!(
        repo.schedule_backup(DAILY, scheduled(pending.id, next))
            .await
            .unwrap(),
        None,
        "a store that is not ready is skipped, not an error"
    );
    assert!(repo.store_backups(pending.id, 10).await.unwrap().is_empty());

    // The longest overdue first: a store created an hour before the first is due before it.
    let mut older = new_store(&owner, "older");
    older.now = at(-hours(1));
    let older = create(&repo, older).await;
    for status in [StoreStatus::Provisioning, StoreStatus::Ready] {
        repo.set_store_status(older.id, status, None, &system(), at(0))
            .await
            .unwrap();
    }
    let later = hours(72);
    assert_eq!(
        repo.stores_due_for_backup(DAILY, at(later)).await.unwrap(),
        vec![older.id, store.id]
    );
}

async fn a_scheduled_backup_is_not_requested_while_another_backup_is_active(
    repo: Arc<dyn Repository>,
) {
    let store = ready_store(&repo, "occupied").await;
    let manual_backup = repo
        .request_backup(manual(store.id, "", hours(24) - 10))
        .await
        .unwrap();
    let events = steps(&repo, store.id).await;

    let due = hours(24);
    assert_eq!(
        repo.schedule_backup(DAILY, scheduled(store.id, due))
            .await
            .unwrap(),
        None,
        "the store cannot take one now"
    );
    assert_eq!(
        repo.store_backups(store.id, 10)
            .await
            .unwrap()
            .iter()
            .map(|b| b.id)
            .collect::<Vec<_>>(),
        vec![manual_backup.id],
        "nothing more was requested"
    );
    assert_eq!(steps(&repo, store.id).await, events);
    assert_eq!(
        repo.get_store(store.id)
            .await
            .unwrap()
            .backups
            .last_scheduled_at,
        None
    );

    repo.finish_backup(manual_backup.id, Ok(figures()), &system(), at(due + 10))
        .await
        .unwrap();
    assert_eq!(
        repo.stores_due_for_backup(DAILY, at(due + 20))
            .await
            .unwrap(),
        vec![store.id],
        "a manual backup does not move the schedule"
    );
    let backup = repo
        .schedule_backup(DAILY, scheduled(store.id, due + 20))
        .await
        .unwrap()
        .expect("the next tick requests it");
    assert_eq!(backup.kind, BackupKind::Scheduled);
}

async fn of_concurrent_scheduled_requests_for_one_store_exactly_one_backup_is_requested(
    repo: Arc<dyn Repository>,
) {
    let mut stores = Vec::new();
    for n in 0..6 {
        stores.push(ready_store(&repo, &format!("raced-{n}")).await.id);
    }
    let due = hours(24);
    let mut tasks = Vec::new();
    for store in &stores {
        // Two replicas' schedulers ticking together.
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        for replica in 0..2 {
            let (repo, barrier, store) = (repo.clone(), barrier.clone(), *store);
            tasks.push(tokio::spawn(async move {
                let mut request = scheduled(store, due);
                request.actor = Actor::System(format!("scheduler-{replica}"));
                barrier.wait().await;
                (store, repo.schedule_backup(DAILY, request).await.unwrap())
            }));
        }
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }

    for store in stores {
        let requested: Vec<&Backup> = outcomes
            .iter()
            .filter(|(s, _)| *s == store)
            .filter_map(|(_, backup)| backup.as_ref())
            .collect();
        assert_eq!(requested.len(), 1, "store {store}: {outcomes:?}");
        let backups = repo.store_backups(store, 10).await.unwrap();
        assert_eq!(
            backups.iter().map(|b| b.id).collect::<Vec<_>>(),
            vec![requested[0].id]
        );
        assert_eq!(steps(&repo, store).await.len(), 1, "one requested event");
        assert_eq!(
            repo.get_store(store)
                .await
                .unwrap()
                .backups
                .last_scheduled_at,
            Some(at(due))
        );
    }
}

async fn a_store_without_a_schedule_is_never_due(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "unscheduled").await;
    let off = BackupSchedule::OFF;
    let zero = BackupSchedule {
        every_seconds: Some(0),
    };
    let much_later = hours(24 * 1000);
    for schedule in [off, zero] {
        assert!(
            repo.stores_due_for_backup(schedule, at(much_later))
                .await
                .unwrap()
                .is_empty(),
            "{schedule:?}"
        );
        assert_eq!(
            repo.schedule_backup(schedule, scheduled(store.id, much_later))
                .await
                .unwrap(),
            None,
            "{schedule:?}"
        );
    }
    assert!(repo.store_backups(store.id, 10).await.unwrap().is_empty());
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(read.backups, Default::default());
    // It can still be backed up by hand.
    repo.request_backup(manual(store.id, "", much_later))
        .await
        .unwrap();
}

async fn a_store_lists_its_backups_newest_first_up_to_the_limit(repo: Arc<dyn Repository>) {
    let store = ready_store(&repo, "listed").await;
    let other = ready_store(&repo, "other").await;
    let mut taken = Vec::new();
    for n in 0..4 {
        taken.push(back_up(&repo, store.id, 10 + 10 * n).await.id);
    }
    back_up(&repo, other.id, 15).await;
    let pending = repo
        .request_backup(manual(store.id, "", 100))
        .await
        .unwrap();
    taken.push(pending.id);
    taken.reverse();

    let all = repo.store_backups(store.id, 100).await.unwrap();
    assert_eq!(all.iter().map(|b| b.id).collect::<Vec<_>>(), taken);
    assert!(all.iter().all(|b| b.store_id == store.id));
    let newest = repo.store_backups(store.id, 2).await.unwrap();
    assert_eq!(
        newest.iter().map(|b| b.id).collect::<Vec<_>>(),
        taken[..2].to_vec()
    );
    assert_eq!(newest[0].status, BackupStatus::Pending);
    assert_eq!(newest[1].status, BackupStatus::Succeeded);
    assert_eq!(repo.store_backups(other.id, 100).await.unwrap().len(), 1);
    assert!(
        repo.store_backups(StoreId::generate(), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_deleted_store_s_backups_expire_after_the_retention_and_an_active_one_fails(
    repo: Arc<dyn Repository>,
) {
    let store = ready_store(&repo, "leaving").await;
    let other = ready_store(&repo, "staying").await;
    let first = back_up(&repo, store.id, 10).await;
    let failed = repo.request_backup(manual(store.id, "", 20)).await.unwrap();
    repo.finish_backup(failed.id, Err("restic failed".into()), &system(), at(21))
        .await
        .unwrap();
    let second = back_up(&repo, store.id, 30).await;
    let active = repo.request_backup(manual(store.id, "", 40)).await.unwrap();
    repo.start_backup(active.id, &system(), at(41))
        .await
        .unwrap();
    let kept_elsewhere = back_up(&repo, other.id, 50).await;
    repo.request_deletion(store.id, &alice(), at(100))
        .await
        .unwrap();

    let retention = Duration::days(30);
    let kept = repo
        .expire_backups(store.id, at(110), retention, &system())
        .await
        .unwrap();

    assert_eq!(kept, 2, "the two successful backups are kept");
    let expires = at(110) + retention;
    let backups = repo.store_backups(store.id, 10).await.unwrap();
    assert_eq!(backups.len(), 4);
    assert!(
        backups.iter().all(|b| b.expires_at == Some(expires)),
        "{backups:?}"
    );
    let ended = repo.get_backup(active.id).await.unwrap();
    assert_eq!(ended.status, BackupStatus::Failed);
    assert_eq!(
        ended.failure.as_deref(),
        Some("the store was deleted before it finished")
    );
    assert_eq!(ended.finished_at, Some(at(110)));
    assert_eq!(repo.active_backup(store.id).await.unwrap(), None);
    for (id, status) in [
        (first.id, BackupStatus::Succeeded),
        (failed.id, BackupStatus::Failed),
        (second.id, BackupStatus::Succeeded),
    ] {
        assert_eq!(repo.get_backup(id).await.unwrap().status, status);
    }
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(read.backups.active, None);
    assert_eq!(read.backups.last_succeeded_at, second.finished_at);
    assert_eq!(
        steps(&repo, store.id).await.pop().unwrap(),
        (
            "failed".to_owned(),
            "manual backup failed: the store was deleted before it finished".to_owned()
        )
    );
    assert_eq!(
        repo.get_backup(kept_elsewhere.id).await.unwrap().expires_at,
        None,
        "another store's backups do not expire"
    );

    // Again (a teardown that ran twice): the same count, and the expiry stays.
    let events = repo.store_events(store.id, 0, 1000).await.unwrap().len();
    let again = repo
        .expire_backups(store.id, at(500), retention, &system())
        .await
        .unwrap();
    assert_eq!(again, 2);
    assert!(
        repo.store_backups(store.id, 10)
            .await
            .unwrap()
            .iter()
            .all(|b| b.expires_at == Some(expires))
    );
    assert_eq!(
        repo.store_events(store.id, 0, 1000).await.unwrap().len(),
        events
    );

    // A store being deleted with no backup keeps none.
    let empty = ready_store(&repo, "empty").await;
    repo.request_deletion(empty.id, &alice(), at(120))
        .await
        .unwrap();
    assert_eq!(
        repo.expire_backups(empty.id, at(130), retention, &system())
            .await
            .unwrap(),
        0
    );
}
