//! Changes that fail: pods that never become ready, an upgrade step that fails, automatic
//! rollback off, a worker killed mid-upgrade, and a failed first provisioning retried.

use std::time::{Duration, Instant};

use chrono::Utc;
use kube_sim::{Faults, SimConfig};
use storeplane_blueprint::PlatformSettings;
use storeplane_domain::{Actor, EventKind, Plan, RevisionStatus, StoreStatus};

use super::harness::{Harness, NEW, plan, to_release, two_releases};

const DEADLINE: u64 = 10;

fn with_deadline(mut settings: PlatformSettings, auto_rollback: bool) -> PlatformSettings {
    settings.revisions.deadline_seconds = DEADLINE;
    settings.revisions.auto_rollback = auto_rollback;
    settings
}

fn never_ready(namespace: &str) -> Faults {
    Faults {
        never_ready_namespaces: [namespace.to_owned()].into(),
        ..Faults::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_whose_pods_never_become_ready_rolls_back_by_itself_within_its_deadline() {
    let harness = Harness::start(with_deadline(PlatformSettings::default(), true)).await;
    let store = harness.ready_store("acme", Plan::Small).await;
    harness.sim.faults().set(never_ready(&store.namespace()));

    let started = Instant::now();
    harness.change(store.id, plan(Plan::Medium)).await;
    // Until the revision fails, the new pods pull in vain; the old revision's images are
    // fine, which the lifted fault stands for once the store goes back.
    let failed = harness
        .wait_revision(
            store.id,
            2,
            RevisionStatus::Failed,
            Duration::from_secs(DEADLINE + 10),
        )
        .await;
    harness.sim.faults().set(Faults::default());
    let rolled_back = harness
        .wait_revision(
            store.id,
            2,
            RevisionStatus::RolledBack,
            Duration::from_secs(DEADLINE + 20),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(DEADLINE + 15),
        "rolled back {:?} after the change",
        started.elapsed()
    );

    let reason = rolled_back.failure.clone().unwrap_or_default();
    assert!(reason.contains("ImagePullBackOff"), "{reason}");
    assert_eq!(failed.failure, rolled_back.failure);
    let store_now = harness.store(store.id).await;
    assert_eq!(store_now.status, StoreStatus::Ready);
    assert_eq!(store_now.deployed_revision.map(|n| n.get()), Some(1));
    assert_eq!(store_now.spec.plan, Plan::Small);
    assert_eq!(
        harness.revision(store.id, 1).await.status,
        RevisionStatus::Deployed
    );
    let summary = harness
        .events_saying(store.id, EventKind::Step, "; rolled back to revision 1")
        .await;
    assert_eq!(summary.len(), 1, "{}", harness.timeline(store.id).await);
    assert_eq!(
        summary[0].message,
        format!("revision 2 failed ({reason}); rolled back to revision 1")
    );
    harness
        .assert_cluster_is(&store_now, &harness.manifest(store.id, 1).await)
        .await;
    let kept = harness
        .events_saying(
            store.id,
            EventKind::ObjectApplied,
            "a volume claim cannot shrink",
        )
        .await;
    assert!(!kept.is_empty(), "{}", harness.timeline(store.id).await);
    // Never retried by itself: a drift pass re-applies revision 1 and records nothing new.
    harness.drift_pass(store.id).await;
    let revisions = harness.repo.store_revisions(store.id).await.unwrap();
    assert_eq!(revisions.latest.map(|r| r.number.get()), Some(2));
    assert_eq!(
        harness.revision(store.id, 2).await.status,
        RevisionStatus::RolledBack
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_upgrade_step_rolls_back_restoring_the_checkpoint_taken_before_it() {
    let harness = Harness::start(with_deadline(two_releases(), true)).await;
    let store = harness.ready_store("acme", Plan::Medium).await;
    harness.sim.faults().set(Faults {
        failing_jobs: ["*/upgrade-r2".to_owned()].into(),
        ..Faults::default()
    });

    harness.change(store.id, to_release(NEW)).await;
    let revision = harness
        .wait_revision(
            store.id,
            2,
            RevisionStatus::RolledBack,
            Duration::from_secs(DEADLINE + 20),
        )
        .await;

    assert!(
        revision.checkpoint.is_some(),
        "the checkpoint was taken first"
    );
    let restore = harness
        .object(&store, "batch/v1", "Job", "restore-r2")
        .await;
    assert_eq!(restore["status"]["succeeded"], 1, "{restore:#}");
    let store_now = harness.store(store.id).await;
    assert_eq!(store_now.status, StoreStatus::Ready);
    assert_eq!(store_now.deployed_revision.map(|n| n.get()), Some(1));
    harness
        .assert_cluster_is(&store_now, &harness.manifest(store.id, 1).await)
        .await;
    assert_eq!(
        harness
            .events_saying(store.id, EventKind::Step, "; rolled back to revision 1")
            .await
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_automatic_rollback_off_the_store_is_left_failed_on_the_revision() {
    let harness = Harness::start(with_deadline(PlatformSettings::default(), false)).await;
    let store = harness.ready_store("acme", Plan::Small).await;
    harness.sim.faults().set(never_ready(&store.namespace()));

    harness.change(store.id, plan(Plan::Medium)).await;
    harness
        .wait_revision(
            store.id,
            2,
            RevisionStatus::Failed,
            Duration::from_secs(DEADLINE + 10),
        )
        .await;
    let failed = harness
        .wait_status(store.id, StoreStatus::Failed, Duration::from_secs(10))
        .await;

    let reason = failed.status_reason.clone().unwrap_or_default();
    assert!(reason.starts_with("revision 2 failed: "), "{reason}");
    assert!(reason.contains("ImagePullBackOff"), "{reason}");
    // Another pass (a retry, say) does not put the store back on revision 1 silently.
    harness.sim.faults().set(Faults::default());
    harness
        .repo
        .retry_store(store.id, &Actor::User("alice".into()), 5, Utc::now())
        .await
        .unwrap();
    harness
        .wait_status(store.id, StoreStatus::Failed, Duration::from_secs(10))
        .await;
    assert_eq!(
        harness.revision(store.id, 2).await.status,
        RevisionStatus::Failed
    );
    let deployment = harness
        .object(&store, "apps/v1", "Deployment", "wordpress")
        .await;
    let medium = harness.manifest(store.id, 2).await;
    let wanted: Vec<serde_json::Value> = serde_saphyr::from_multiple(&medium).unwrap();
    let wanted = wanted.iter().find(|d| d["kind"] == "Deployment").unwrap();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["resources"],
        wanted["spec"]["template"]["spec"]["containers"][0]["resources"],
        "the store is left on revision 2"
    );

    // A change made from there writes every object, not only what differs from revision
    // 1: the store ends exactly on revision 3, with none of revision 2's medium workloads.
    let title = storeplane_domain::ChangeRequest {
        title: Some(storeplane_domain::StoreTitle::parse("Acme Outfitters").unwrap()),
        ..storeplane_domain::ChangeRequest::default()
    };
    harness.change(store.id, title).await;
    harness
        .wait_revision(
            store.id,
            3,
            RevisionStatus::Deployed,
            Duration::from_secs(30),
        )
        .await;
    harness
        .assert_cluster_is(&store, &harness.manifest(store.id, 3).await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_upgrade_leaves_the_next_one_to_finish_it_never_a_mix() {
    for kill_after in [
        "taking a checkpoint",
        "applying revision 2",
        "running the upgrade step",
    ] {
        let mut harness = Harness::start_with(
            with_deadline(two_releases(), true),
            SimConfig {
                ready_delay: Duration::from_millis(300),
                ..SimConfig::default()
            },
        )
        .await;
        let store = harness.ready_store("acme", Plan::Medium).await;
        harness.change(store.id, to_release(NEW)).await;
        let started = Instant::now();
        while harness
            .events_saying(store.id, EventKind::Step, kill_after)
            .await
            .is_empty()
        {
            assert!(started.elapsed() < Duration::from_secs(20), "{kill_after}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        harness.kill_worker().await;
        let settings = harness.settings.clone();
        harness.start_worker(settings);

        let started = Instant::now();
        let last = loop {
            let revision = harness.revision(store.id, 2).await;
            if matches!(
                revision.status,
                RevisionStatus::Deployed | RevisionStatus::RolledBack
            ) {
                break revision;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "{kill_after}: {}",
                harness.timeline(store.id).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let revisions = harness.repo.store_revisions(store.id).await.unwrap();
        let deployed = revisions.deployed.unwrap();
        let expected = if last.status == RevisionStatus::Deployed {
            2
        } else {
            1
        };
        assert_eq!(deployed.number.get(), expected, "{kill_after}");
        let store_now = harness
            .wait_status(store.id, StoreStatus::Ready, Duration::from_secs(10))
            .await;
        harness
            .assert_cluster_is(&store_now, &harness.manifest(store.id, expected).await)
            .await;
        harness.stop_worker().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_failed_first_provisioning_records_the_revision_it_deploys() {
    let mut harness = Harness::start_with(
        PlatformSettings::default(),
        SimConfig {
            faults: never_ready("*"),
            ..SimConfig::default()
        },
    )
    .await;
    harness.stop_worker().await;
    harness.ready_timeout = Duration::from_secs(2);
    harness.start_worker(PlatformSettings::default());
    // A timeout fails for good on the first attempt's end.
    let id = harness
        .create_store(
            storeplane_domain::StoreId::generate(),
            "acme",
            Plan::Small,
            1,
        )
        .await;
    harness
        .wait_status(id, StoreStatus::Failed, Duration::from_secs(40))
        .await;
    assert_eq!(harness.revision(id, 1).await.status, RevisionStatus::Failed);

    harness.sim.faults().set(Faults::default());
    harness
        .repo
        .retry_store(id, &Actor::User("alice".into()), 5, Utc::now())
        .await
        .unwrap();
    harness
        .wait_status(id, StoreStatus::Ready, Duration::from_secs(40))
        .await;

    let revisions = harness.repo.store_revisions(id).await.unwrap();
    let deployed = revisions
        .deployed
        .expect("a deployed revision after the retry");
    assert_eq!(deployed.number.get(), 2);
    assert_eq!(deployed.actor.to_string(), "user:alice");
    assert_eq!(harness.revision(id, 1).await.status, RevisionStatus::Failed);
    let store = harness.store(id).await;
    assert_eq!(store.deployed_revision.map(|n| n.get()), Some(2));
}
