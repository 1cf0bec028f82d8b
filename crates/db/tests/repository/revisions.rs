//! Store revisions: recording changes and rollbacks atomically with their jobs, status
//! moves, superseding on deploy, pruning manifests, pagination and the backfill.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use storeplane_db::{
    ChangeCause, ChangeOutcome, DbError, InitialRevision, RecordChange, RecordRollback, Repository,
    RevisionQuery,
};
use storeplane_domain::{
    Actor, ChangeRefused, ChangeRequest, Checkpoint, EventKind, InFlightRevision, JobKind, Plan,
    ReleaseName, Revision, RevisionContent, RevisionNumber, RevisionStatus, RollbackRefused, Store,
    StoreId, StoreSpec, StoreStatus, StoreTitle,
};

use crate::stores::create;
use crate::support::{at, new_store, repository_tests, system, user};

repository_tests!(
    a_store_created_with_a_release_and_title_reads_them_back,
    the_backfill_records_revision_1_deployed_once_and_the_store_follows_it,
    a_change_is_recorded_pending_with_its_job_and_event_and_its_manifest_comes_back,
    a_change_that_equals_the_deployed_revision_is_a_no_op_that_records_nothing,
    a_change_while_one_is_in_flight_is_refused_as_in_progress,
    a_stale_if_match_or_a_rendering_of_a_stale_spec_is_refused_and_records_nothing,
    marking_a_revision_deployed_supersedes_the_previous_one_and_moves_the_store,
    a_failed_revision_keeps_its_reason_when_rolled_back_and_illegal_moves_change_nothing,
    manifests_beyond_the_newest_n_are_pruned_while_rows_and_digests_stay,
    revisions_are_listed_newest_first_in_pages_that_follow_the_cursor,
    a_rollback_replays_the_target_spec_and_exactly_its_manifest,
    a_rollback_across_a_data_migration_is_refused_unless_its_checkpoint_is_restored,
    a_rollback_to_a_pruned_revision_records_the_spec_rendered_again,
    a_platform_change_records_a_revision_only_when_the_rendering_differs,
    a_store_being_deleted_cannot_be_changed_or_rolled_back,
    the_last_drift_check_is_recorded_without_an_event,
    of_concurrent_changes_to_one_store_exactly_one_is_recorded_and_the_rest_are_in_progress,
    a_store_reads_its_newest_revision_and_the_one_in_flight_in_lists_and_single_reads,
    a_retried_failed_first_provisioning_gets_the_next_revision_once,
);

fn n(number: u32) -> RevisionNumber {
    RevisionNumber::new(number).unwrap()
}

fn release(name: &str) -> ReleaseName {
    ReleaseName::parse(name).unwrap()
}

fn alice() -> Actor {
    Actor::User("alice".into())
}

/// What the blueprint would render for `spec` (with platform settings `platform`), and
/// stand-in digests that differ whenever the text does.
fn rendered(spec: &StoreSpec, platform: &str) -> RevisionContent {
    let manifest = format!(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: {}\n  labels:\n    plan: {}\n    release: {}\n    ingress: {platform}\n",
        spec.name,
        spec.plan,
        spec.release.as_ref().map_or("default", |r| r.as_str()),
    )
    .repeat(20);
    let mut hasher = DefaultHasher::new();
    manifest.hash(&mut hasher);
    RevisionContent {
        spec: spec.clone(),
        platform_digest: format!("platform-{platform}"),
        manifest_digest: format!("{:064x}", hasher.finish()),
        manifest,
    }
}

/// A ready store on release `a` whose revision 1 is deployed.
async fn ready_store(repo: &Arc<dyn Repository>, name: &str) -> (Store, Revision) {
    let owner = user(repo, "alice").await;
    let store = create(repo, new_store(&owner, name)).await;
    for status in [StoreStatus::Provisioning, StoreStatus::Ready] {
        repo.set_store_status(store.id, status, None, &system(), at(0))
            .await
            .unwrap();
    }
    let mut spec = store.spec.clone();
    spec.release = Some(release("a"));
    let first = repo
        .record_initial_revision(InitialRevision {
            store: store.id,
            content: rendered(&spec, "gateway"),
            actor: Actor::System("upgrade".into()),
            reason: "recorded from the running store".into(),
            deployed: true,
            now: at(1),
        })
        .await
        .unwrap()
        .expect("the store had no revision");
    (repo.get_store(store.id).await.unwrap(), first)
}

/// A change of `store` (whose deployed spec is `base`) as the API would record it.
fn change(store: StoreId, base: &StoreSpec, request: ChangeRequest, now: i64) -> RecordChange {
    let spec = request.apply_to(base);
    RecordChange {
        store,
        cause: ChangeCause::Request(request),
        content: rendered(&spec, "gateway"),
        actor: alice(),
        reason: "more traffic".into(),
        max_attempts: 3,
        now: at(now),
    }
}

fn plan(plan: Plan) -> ChangeRequest {
    ChangeRequest {
        plan: Some(plan),
        ..ChangeRequest::default()
    }
}

fn recorded(outcome: ChangeOutcome) -> Revision {
    match outcome {
        ChangeOutcome::Recorded { revision, .. } => revision,
        other => panic!("expected a recorded revision, got {other:?}"),
    }
}

/// Records `request` and carries it out: applying, then deployed.
async fn deploy(
    repo: &Arc<dyn Repository>,
    store: StoreId,
    request: ChangeRequest,
    now: i64,
) -> Revision {
    let base = repo
        .store_revisions(store)
        .await
        .unwrap()
        .deployed
        .unwrap()
        .spec;
    let revision = recorded(
        repo.record_change(change(store, &base, request, now))
            .await
            .unwrap(),
    );
    apply_and_deploy(repo, store, revision.number, now).await
}

async fn apply_and_deploy(
    repo: &Arc<dyn Repository>,
    store: StoreId,
    number: RevisionNumber,
    now: i64,
) -> Revision {
    repo.set_revision_status(
        store,
        number,
        RevisionStatus::Applying,
        None,
        &system(),
        at(now),
    )
    .await
    .unwrap();
    repo.mark_revision_deployed(store, number, &system(), at(now + 1))
        .await
        .unwrap()
}

fn all() -> RevisionQuery {
    RevisionQuery {
        before: None,
        limit: 100,
    }
}

async fn a_store_created_with_a_release_and_title_reads_them_back(repo: Arc<dyn Repository>) {
    let owner = user(&repo, "alice").await;
    let mut request = new_store(&owner, "titled");
    request.spec.release = Some(release("wp6.8-wc9.8"));
    request.spec.title = Some(StoreTitle::parse("Acme Outfitters").unwrap());
    let store = create(&repo, request.clone()).await;
    assert_eq!(store.spec, request.spec);
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(read.spec.release, Some(release("wp6.8-wc9.8")));
    assert_eq!(
        read.spec.title.as_ref().map(|t| t.as_str()),
        Some("Acme Outfitters")
    );
    assert_eq!((read.deployed_revision, read.last_checked_at), (None, None));
}

async fn the_backfill_records_revision_1_deployed_once_and_the_store_follows_it(
    repo: Arc<dyn Repository>,
) {
    let owner = user(&repo, "alice").await;
    let store = create(&repo, new_store(&owner, "old-shop")).await;
    assert_eq!(
        repo.stores_without_revisions(10).await.unwrap(),
        vec![store.clone()]
    );
    let mut spec = store.spec.clone();
    spec.release = Some(release("a"));
    let initial = InitialRevision {
        store: store.id,
        content: rendered(&spec, "gateway"),
        actor: Actor::System("upgrade".into()),
        reason: "recorded from the running store".into(),
        deployed: true,
        now: at(5),
    };
    let first = repo
        .record_initial_revision(initial.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.number, first.status, first.actor.to_string()),
        (
            RevisionNumber::FIRST,
            RevisionStatus::Deployed,
            "system:upgrade".to_owned()
        )
    );
    assert_eq!(first.finished_at, Some(at(5)));
    assert_eq!(
        repo.record_initial_revision(initial).await.unwrap(),
        None,
        "recorded once"
    );
    assert_eq!(
        repo.list_revisions(store.id, &all()).await.unwrap(),
        vec![first]
    );
    let after = repo.get_store(store.id).await.unwrap();
    assert_eq!(after.deployed_revision, Some(RevisionNumber::FIRST));
    assert_eq!(after.spec.release, Some(release("a")));
    assert!(repo.stores_without_revisions(10).await.unwrap().is_empty());
    let events = repo.store_events(store.id, 0, 10).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind, EventKind::Step);
    assert_eq!(last.detail["revision"], 1);
    assert!(
        last.message
            .starts_with("revision 1 recorded from the store as it runs"),
        "{}",
        last.message
    );
}

async fn a_change_is_recorded_pending_with_its_job_and_event_and_its_manifest_comes_back(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "growing").await;
    let request = change(store.id, &first.spec, plan(Plan::Medium), 10);
    let manifest = request.content.manifest.clone();
    let ChangeOutcome::Recorded { revision, job } = repo.record_change(request).await.unwrap()
    else {
        panic!("a new revision");
    };
    assert_eq!(
        (
            revision.number,
            revision.status,
            revision.spec.plan,
            revision.migrates_data
        ),
        (n(2), RevisionStatus::Pending, Plan::Medium, false)
    );
    assert_eq!(
        (revision.actor.clone(), revision.reason.as_str()),
        (alice(), "more traffic")
    );
    assert_eq!(job.kind, JobKind::Reconcile);
    assert_eq!(repo.active_job(store.id).await.unwrap(), Some(job));
    assert_eq!(
        repo.revision_manifest(store.id, n(2))
            .await
            .unwrap()
            .as_deref(),
        Some(manifest.as_str())
    );
    let heads = repo.store_revisions(store.id).await.unwrap();
    assert_eq!(heads.in_flight(), Some(&revision));
    assert_eq!(heads.deployed, Some(first));
    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        last.message,
        "revision 2 recorded: plan small -> medium (more traffic)"
    );
    assert_eq!(
        (last.actor.clone(), last.detail["status"].as_str()),
        (alice(), Some("pending"))
    );
    // The store runs revision 1 until revision 2 is deployed.
    let unchanged = repo.get_store(store.id).await.unwrap();
    assert_eq!(
        (unchanged.spec.plan, unchanged.deployed_revision),
        (Plan::Small, Some(RevisionNumber::FIRST))
    );
}

async fn a_change_that_equals_the_deployed_revision_is_a_no_op_that_records_nothing(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "steady").await;
    let events = repo.store_events(store.id, 0, 100).await.unwrap().len();
    let outcome = repo
        .record_change(change(store.id, &first.spec, plan(Plan::Small), 10))
        .await
        .unwrap();
    assert_eq!(outcome, ChangeOutcome::NoOp { deployed: first });
    assert_eq!(
        repo.list_revisions(store.id, &all()).await.unwrap().len(),
        1
    );
    assert_eq!(
        repo.store_events(store.id, 0, 100).await.unwrap().len(),
        events
    );
}

async fn a_change_while_one_is_in_flight_is_refused_as_in_progress(repo: Arc<dyn Repository>) {
    let (store, first) = ready_store(&repo, "busy").await;
    recorded(
        repo.record_change(change(store.id, &first.spec, plan(Plan::Medium), 10))
            .await
            .unwrap(),
    );
    for status in [RevisionStatus::Pending, RevisionStatus::Applying] {
        repo.set_revision_status(store.id, n(2), status, None, &system(), at(11))
            .await
            .unwrap();
        let refused = repo
            .record_change(change(store.id, &first.spec, plan(Plan::Large), 12))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, DbError::ChangeRefused(ChangeRefused::InProgress { revision: Some(r) }) if r == n(2)),
            "{refused:?}"
        );
        let rollback = repo
            .record_rollback(rollback_to(store.id, 1, false, 12))
            .await
            .unwrap_err();
        assert!(
            matches!(
                rollback,
                DbError::RollbackRefused(RollbackRefused::InProgress { .. })
            ),
            "{rollback:?}"
        );
    }
    assert_eq!(
        repo.list_revisions(store.id, &all()).await.unwrap().len(),
        2
    );
}

/// On PostgreSQL the requests run on separate pooled connections, as separate replicas
/// would; on SQLite they share the one writer, as in production.
async fn of_concurrent_changes_to_one_store_exactly_one_is_recorded_and_the_rest_are_in_progress(
    repo: Arc<dyn Repository>,
) {
    for round in 0..5 {
        let (store, first) = ready_store(&repo, &format!("contested-{round}")).await;
        let mut tasks = Vec::new();
        let sizes = [Plan::Medium, Plan::Large, Plan::Medium, Plan::Large];
        for (lane, size) in sizes.into_iter().enumerate() {
            let repo = repo.clone();
            let request = change(store.id, &first.spec, plan(size), 10 + lane as i64);
            tasks.push(tokio::spawn(
                async move { repo.record_change(request).await },
            ));
        }
        let mut recorded_numbers = Vec::new();
        let mut in_progress = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(ChangeOutcome::Recorded { revision, .. }) => {
                    recorded_numbers.push(revision.number)
                }
                Err(DbError::ChangeRefused(ChangeRefused::InProgress { revision: Some(r) })) => {
                    assert_eq!(r, n(2));
                    in_progress += 1;
                }
                other => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(
            (recorded_numbers, in_progress),
            (vec![n(2)], 3),
            "round {round}"
        );
        assert_eq!(
            repo.list_revisions(store.id, &all()).await.unwrap().len(),
            2
        );
    }
}

async fn a_stale_if_match_or_a_rendering_of_a_stale_spec_is_refused_and_records_nothing(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "raced").await;
    deploy(&repo, store.id, plan(Plan::Medium), 10).await;
    let stale = ChangeRequest {
        if_match: Some(RevisionNumber::FIRST),
        ..plan(Plan::Large)
    };
    let current = repo
        .store_revisions(store.id)
        .await
        .unwrap()
        .deployed
        .unwrap()
        .spec;
    let refused = repo
        .record_change(change(store.id, &current, stale, 20))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, DbError::ChangeRefused(ChangeRefused::Stale { current }) if current == n(2)),
        "{refused:?}"
    );
    // Rendered from revision 1's spec (the caller read before revision 2 was deployed):
    // a title change on top of it would silently undo the plan change.
    let title = ChangeRequest {
        title: Some(StoreTitle::parse("Raced").unwrap()),
        ..ChangeRequest::default()
    };
    let refused = repo
        .record_change(change(store.id, &first.spec, title, 21))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, DbError::ChangeRefused(ChangeRefused::Stale { .. })),
        "{refused:?}"
    );
    assert_eq!(
        repo.list_revisions(store.id, &all()).await.unwrap().len(),
        2
    );
    let current_match = ChangeRequest {
        if_match: Some(n(2)),
        ..plan(Plan::Large)
    };
    recorded(
        repo.record_change(change(store.id, &current, current_match, 22))
            .await
            .unwrap(),
    );
}

async fn marking_a_revision_deployed_supersedes_the_previous_one_and_moves_the_store(
    repo: Arc<dyn Repository>,
) {
    let (store, _) = ready_store(&repo, "moving").await;
    let deployed = deploy(&repo, store.id, plan(Plan::Large), 10).await;
    assert_eq!(
        (deployed.status, deployed.started_at, deployed.finished_at),
        (RevisionStatus::Deployed, Some(at(10)), Some(at(11)))
    );
    let first = repo
        .get_revision(store.id, RevisionNumber::FIRST)
        .await
        .unwrap();
    assert_eq!(first.status, RevisionStatus::Superseded);
    let after = repo.get_store(store.id).await.unwrap();
    assert_eq!(
        (after.deployed_revision, after.spec.plan),
        (Some(n(2)), Plan::Large)
    );
    let statuses: Vec<_> = repo
        .list_revisions(store.id, &all())
        .await
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [RevisionStatus::Deployed, RevisionStatus::Superseded]
    );
    let last = repo
        .store_events(store.id, 0, 100)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.message, "revision 2 deployed; revision 1 superseded");
    // Marking it again changes nothing.
    let again = repo
        .mark_revision_deployed(store.id, n(2), &system(), at(30))
        .await
        .unwrap();
    assert_eq!(again, deployed);
}

async fn a_failed_revision_keeps_its_reason_when_rolled_back_and_illegal_moves_change_nothing(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "broken").await;
    recorded(
        repo.record_change(change(store.id, &first.spec, plan(Plan::Large), 10))
            .await
            .unwrap(),
    );
    let refused = repo
        .mark_revision_deployed(store.id, n(2), &system(), at(11))
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "a pending revision cannot become deployed"
    );
    assert_eq!(
        repo.get_store(store.id).await.unwrap().deployed_revision,
        Some(RevisionNumber::FIRST)
    );

    repo.set_revision_status(
        store.id,
        n(2),
        RevisionStatus::Applying,
        None,
        &system(),
        at(12),
    )
    .await
    .unwrap();
    let why = "ImagePullBackOff: mariadb:99 not found";
    let failed = repo
        .set_revision_status(
            store.id,
            n(2),
            RevisionStatus::Failed,
            Some(why),
            &system(),
            at(20),
        )
        .await
        .unwrap();
    assert_eq!(
        (failed.failure.as_deref(), failed.finished_at),
        (Some(why), Some(at(20)))
    );
    let back = repo
        .set_revision_status(
            store.id,
            n(2),
            RevisionStatus::RolledBack,
            None,
            &system(),
            at(25),
        )
        .await
        .unwrap();
    assert_eq!(
        (back.status, back.failure.as_deref()),
        (RevisionStatus::RolledBack, Some(why))
    );
    let retried = repo
        .set_revision_status(
            store.id,
            n(2),
            RevisionStatus::Applying,
            None,
            &system(),
            at(30),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(retried, DbError::IllegalRevisionTransition(_)),
        "{retried:?}"
    );
    assert_eq!(repo.get_revision(store.id, n(2)).await.unwrap(), back);
    assert_eq!(
        repo.get_revision(store.id, RevisionNumber::FIRST)
            .await
            .unwrap()
            .status,
        RevisionStatus::Deployed,
        "the store stayed on revision 1"
    );
    let messages: Vec<_> = repo
        .store_events(store.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert!(
        messages.contains(&format!("revision 2 failed: {why}")),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"revision 2 rolled back".to_owned()),
        "{messages:?}"
    );
}

async fn manifests_beyond_the_newest_n_are_pruned_while_rows_and_digests_stay(
    repo: Arc<dyn Repository>,
) {
    let (store, _) = ready_store(&repo, "history").await;
    for (i, size) in [
        Plan::Medium,
        Plan::Large,
        Plan::Small,
        Plan::Medium,
        Plan::Large,
    ]
    .into_iter()
    .enumerate()
    {
        deploy(&repo, store.id, plan(size), 10 * (i as i64 + 1)).await;
    }
    let before = repo.list_revisions(store.id, &all()).await.unwrap();
    assert_eq!(before.len(), 6);
    assert_eq!(repo.prune_manifests(store.id, 3).await.unwrap(), 3);
    assert_eq!(
        repo.prune_manifests(store.id, 3).await.unwrap(),
        0,
        "nothing left to prune"
    );
    let after = repo.list_revisions(store.id, &all()).await.unwrap();
    let kept: Vec<_> = after
        .iter()
        .map(|r| (r.number.get(), r.manifest_kept))
        .collect();
    assert_eq!(
        kept,
        [
            (6, true),
            (5, true),
            (4, true),
            (3, false),
            (2, false),
            (1, false)
        ]
    );
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(
            (&old.manifest_digest, old.status, &old.spec),
            (&new.manifest_digest, new.status, &new.spec)
        );
    }
    assert_eq!(repo.revision_manifest(store.id, n(2)).await.unwrap(), None);
    assert!(
        repo.revision_manifest(store.id, n(4))
            .await
            .unwrap()
            .is_some()
    );
    // The deployed revision's manifest is never dropped, however few are kept.
    repo.prune_manifests(store.id, 0).await.unwrap();
    assert!(
        repo.revision_manifest(store.id, n(6))
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        repo.revision_manifest(store.id, n(7)).await,
        Err(DbError::NotFound { what: "revision" })
    ));
}

async fn revisions_are_listed_newest_first_in_pages_that_follow_the_cursor(
    repo: Arc<dyn Repository>,
) {
    let (store, _) = ready_store(&repo, "paged").await;
    for (i, size) in [Plan::Medium, Plan::Large, Plan::Small, Plan::Medium]
        .into_iter()
        .enumerate()
    {
        deploy(&repo, store.id, plan(size), 10 * (i as i64 + 1)).await;
    }
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = repo
            .list_revisions(store.id, &RevisionQuery { before, limit: 2 })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.number);
        pages.push(page.iter().map(|r| r.number.get()).collect::<Vec<_>>());
    }
    assert_eq!(pages, [vec![5, 4], vec![3, 2], vec![1]]);
    let (other, _) = ready_store(&repo, "other").await;
    assert_eq!(
        repo.list_revisions(other.id, &all()).await.unwrap().len(),
        1
    );
    assert!(matches!(
        repo.get_revision(store.id, n(9)).await,
        Err(DbError::NotFound { what: "revision" })
    ));
}

fn rollback_to(store: StoreId, target: u32, restore_checkpoint: bool, now: i64) -> RecordRollback {
    RecordRollback {
        store,
        target: n(target),
        restore_checkpoint,
        rerendered: None,
        actor: alice(),
        reason: "the new plan is too expensive".into(),
        max_attempts: 3,
        now: at(now),
    }
}

async fn a_rollback_replays_the_target_spec_and_exactly_its_manifest(repo: Arc<dyn Repository>) {
    let (store, first) = ready_store(&repo, "undo").await;
    for (i, size) in [Plan::Medium, Plan::Large, Plan::Medium]
        .into_iter()
        .enumerate()
    {
        deploy(&repo, store.id, plan(size), 10 * (i as i64 + 1)).await;
    }
    let rolled = repo
        .record_rollback(rollback_to(store.id, 1, false, 50))
        .await
        .unwrap();
    let revision = rolled.revision;
    assert_eq!(
        (
            revision.number,
            revision.rollback_of,
            revision.status,
            revision.restores
        ),
        (
            n(5),
            Some(RevisionNumber::FIRST),
            RevisionStatus::Pending,
            None
        )
    );
    assert_eq!(revision.spec, first.spec);
    assert_eq!(
        (&revision.manifest_digest, &revision.platform_digest),
        (&first.manifest_digest, &first.platform_digest)
    );
    assert_eq!(
        repo.revision_manifest(store.id, n(5)).await.unwrap(),
        repo.revision_manifest(store.id, RevisionNumber::FIRST)
            .await
            .unwrap()
    );
    assert_eq!(repo.active_job(store.id).await.unwrap(), Some(rolled.job));
    let last = repo
        .store_events(store.id, 0, 100)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        last.message,
        "revision 5 recorded: roll back to revision 1 (the new plan is too expensive)"
    );
    apply_and_deploy(&repo, store.id, n(5), 60).await;
    let refused = repo
        .record_rollback(rollback_to(store.id, 5, false, 70))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            DbError::RollbackRefused(RollbackRefused::AlreadyDeployed { .. })
        ),
        "{refused:?}"
    );
    let refused = repo
        .record_rollback(rollback_to(store.id, 42, false, 70))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            DbError::RollbackRefused(RollbackRefused::UnknownRevision { .. })
        ),
        "{refused:?}"
    );
}

async fn a_rollback_across_a_data_migration_is_refused_unless_its_checkpoint_is_restored(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "upgraded").await;
    let upgrade = ChangeRequest {
        release: Some(release("b")),
        ..ChangeRequest::default()
    };
    let revision = recorded(
        repo.record_change(change(store.id, &first.spec, upgrade, 10))
            .await
            .unwrap(),
    );
    assert!(revision.migrates_data);
    let checkpoint = Checkpoint {
        job: "checkpoint-2".into(),
        claim: "checkpoints".into(),
        path: "/checkpoints/2.sql".into(),
        taken_at: at(11),
    };
    let with_checkpoint = repo
        .record_checkpoint(store.id, n(2), &checkpoint, &system(), at(11))
        .await
        .unwrap();
    assert_eq!(with_checkpoint.checkpoint.as_ref(), Some(&checkpoint));
    apply_and_deploy(&repo, store.id, n(2), 12).await;
    assert_eq!(
        repo.get_store(store.id).await.unwrap().spec.release,
        Some(release("b"))
    );
    assert!(matches!(
        repo.record_checkpoint(store.id, n(2), &checkpoint, &system(), at(14))
            .await,
        Err(DbError::NotFound {
            what: "revision in flight"
        })
    ));

    let refused = repo
        .record_rollback(rollback_to(store.id, 1, false, 20))
        .await
        .unwrap_err();
    let DbError::RollbackRefused(RollbackRefused::WouldDowngradeData {
        since,
        checkpoint: named,
        ..
    }) = &refused
    else {
        panic!("refused as a data downgrade: {refused:?}");
    };
    assert_eq!((*since, named.as_ref()), (n(2), Some(&checkpoint)));
    assert_eq!(
        repo.list_revisions(store.id, &all()).await.unwrap().len(),
        2
    );

    let rolled = repo
        .record_rollback(rollback_to(store.id, 1, true, 21))
        .await
        .unwrap();
    assert_eq!(rolled.revision.restores, Some(n(2)));
    assert_eq!(rolled.restore.map(|r| r.checkpoint), Some(checkpoint));
    let last = repo
        .store_events(store.id, 0, 100)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(
        last.message.contains("orders written since are lost"),
        "{}",
        last.message
    );
}

async fn a_rollback_to_a_pruned_revision_records_the_spec_rendered_again(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "forgetful").await;
    deploy(&repo, store.id, plan(Plan::Medium), 10).await;
    deploy(&repo, store.id, plan(Plan::Large), 20).await;
    repo.prune_manifests(store.id, 1).await.unwrap();
    let refused = repo
        .record_rollback(rollback_to(store.id, 1, false, 30))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            DbError::RollbackRefused(RollbackRefused::NoManifest { .. })
        ),
        "{refused:?}"
    );
    let again = rendered(&first.spec, "new-gateway");
    let rolled = repo
        .record_rollback(RecordRollback {
            rerendered: Some(again.clone()),
            ..rollback_to(store.id, 1, false, 31)
        })
        .await
        .unwrap();
    assert_eq!(
        (&rolled.revision.spec, &rolled.revision.manifest_digest),
        (&first.spec, &again.manifest_digest)
    );
    assert_eq!(
        repo.revision_manifest(store.id, rolled.revision.number)
            .await
            .unwrap(),
        Some(again.manifest)
    );
}

async fn a_platform_change_records_a_revision_only_when_the_rendering_differs(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "platformed").await;
    let platform = |ingress: &str, now| RecordChange {
        store: store.id,
        cause: ChangeCause::Platform,
        content: rendered(&first.spec, ingress),
        actor: Actor::System("platform".into()),
        reason: "platform settings changed".into(),
        max_attempts: 3,
        now: at(now),
    };
    assert!(matches!(
        repo.record_change(platform("gateway", 10)).await.unwrap(),
        ChangeOutcome::NoOp { .. }
    ));
    let revision = recorded(repo.record_change(platform("nginx", 11)).await.unwrap());
    assert_eq!(
        (
            revision.spec.clone(),
            revision.actor.to_string(),
            revision.migrates_data
        ),
        (first.spec, "system:platform".to_owned(), false)
    );
    assert_eq!(revision.platform_digest, "platform-nginx");
}

async fn a_store_being_deleted_cannot_be_changed_or_rolled_back(repo: Arc<dyn Repository>) {
    let (store, first) = ready_store(&repo, "leaving").await;
    deploy(&repo, store.id, plan(Plan::Medium), 10).await;
    repo.request_deletion(store.id, &alice(), at(20))
        .await
        .unwrap();
    let refused = repo
        .record_change(change(store.id, &first.spec, plan(Plan::Large), 21))
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "a deleting store cannot be changed");
    let refused = repo
        .record_rollback(rollback_to(store.id, 1, false, 22))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            DbError::ChangeRefused(ChangeRefused::NotChangeable { .. })
        ),
        "{refused:?}"
    );
    let unknown = repo
        .record_change(change(
            StoreId::generate(),
            &first.spec,
            plan(Plan::Large),
            23,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, DbError::NotFound { what: "store" }),
        "{unknown:?}"
    );
}

async fn the_last_drift_check_is_recorded_without_an_event(repo: Arc<dyn Repository>) {
    let (store, _) = ready_store(&repo, "quiet").await;
    let events = repo.store_events(store.id, 0, 100).await.unwrap();
    repo.set_last_checked(store.id, at(300)).await.unwrap();
    let after = repo.get_store(store.id).await.unwrap();
    assert_eq!(after.last_checked_at, Some(at(300)));
    assert_eq!(
        after.updated_at, store.updated_at,
        "a check is not a change"
    );
    assert_eq!(repo.store_events(store.id, 0, 100).await.unwrap(), events);
    assert!(matches!(
        repo.set_last_checked(StoreId::generate(), at(300)).await,
        Err(DbError::NotFound { what: "store" })
    ));
}

async fn a_store_reads_its_newest_revision_and_the_one_in_flight_in_lists_and_single_reads(
    repo: Arc<dyn Repository>,
) {
    let (store, first) = ready_store(&repo, "acme").await;
    assert_eq!(
        (store.latest_revision, store.in_flight),
        (Some(first.number), None)
    );
    deploy(&repo, store.id, plan(Plan::Medium), 10).await;
    let base = repo
        .store_revisions(store.id)
        .await
        .unwrap()
        .deployed
        .unwrap();
    let rollback = repo
        .record_rollback(RecordRollback {
            store: store.id,
            target: first.number,
            restore_checkpoint: false,
            rerendered: None,
            actor: alice(),
            reason: String::new(),
            max_attempts: 3,
            now: at(20),
        })
        .await
        .unwrap();
    let expected = Some(InFlightRevision {
        number: n(3),
        rollback_of: Some(first.number),
        restores_backup: None,
    });
    let read = repo.get_store(store.id).await.unwrap();
    assert_eq!(
        (read.deployed_revision, read.latest_revision, read.in_flight),
        (Some(base.number), Some(n(3)), expected)
    );
    let listed = repo
        .list_stores(&storeplane_db::StoreQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![read]);
    apply_and_deploy(&repo, store.id, rollback.revision.number, 30).await;
    let done = repo.get_store(store.id).await.unwrap();
    assert_eq!((done.latest_revision, done.in_flight), (Some(n(3)), None));
}

async fn a_retried_failed_first_provisioning_gets_the_next_revision_once(
    repo: Arc<dyn Repository>,
) {
    let owner = user(&repo, "alice").await;
    let store = create(&repo, new_store(&owner, "shop")).await;
    let mut spec = store.spec.clone();
    spec.release = Some(release("a"));
    let first = InitialRevision {
        store: store.id,
        content: rendered(&spec, "gateway"),
        actor: alice(),
        reason: "first provisioning".into(),
        deployed: false,
        now: at(1),
    };
    // Nothing to retry while revision 1 is being applied.
    repo.record_initial_revision(first.clone()).await.unwrap();
    assert_eq!(
        repo.record_provisioning_retry(first.clone()).await.unwrap(),
        None
    );
    repo.set_revision_status(
        store.id,
        n(1),
        RevisionStatus::Failed,
        Some("ImagePullBackOff"),
        &system(),
        at(2),
    )
    .await
    .unwrap();

    let retry = InitialRevision {
        reason: "retry of the first provisioning (revision 1 failed)".into(),
        now: at(3),
        ..first
    };
    let second = repo
        .record_provisioning_retry(retry.clone())
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(
        (second.number, second.status, second.spec.clone()),
        (n(2), RevisionStatus::Applying, spec)
    );
    assert_eq!(
        repo.record_provisioning_retry(retry).await.unwrap(),
        None,
        "recorded once"
    );
    let failed = repo.get_revision(store.id, n(1)).await.unwrap();
    assert_eq!(failed.status, RevisionStatus::Failed);
    assert_eq!(failed.failure.as_deref(), Some("ImagePullBackOff"));
    let events = repo.store_events(store.id, 0, 50).await.unwrap();
    assert!(
        events.iter().any(|e| e
            .message
            .starts_with("revision 2 recorded: the first provisioning again")),
        "{events:?}"
    );
    repo.mark_revision_deployed(store.id, n(2), &system(), at(4))
        .await
        .unwrap();
    assert_eq!(
        repo.get_store(store.id).await.unwrap().deployed_revision,
        Some(n(2))
    );
}
