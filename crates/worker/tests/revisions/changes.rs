//! Changes that succeed: a bigger plan, a release upgrade, and a rollback to revision 1.

use std::time::Duration;

use storeplane_domain::{
    ChangeRequest, EventKind, Plan, RevisionStatus, RollbackRefused, StoreStatus, StoreTitle,
};

use super::harness::{Harness, NEW, OLD, plan, release, to_release, two_releases};

const WITHIN: Duration = Duration::from_secs(30);

/// The data-bearing and secret objects whose identity must survive every change.
const KEPT: &[(&str, &str)] = &[("v1", "PersistentVolumeClaim"), ("v1", "Secret")];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn small_to_medium_resizes_quota_limits_and_containers_and_keeps_volumes_and_secrets() {
    let harness = Harness::start(two_releases()).await;
    let store = harness.ready_store("acme", Plan::Small).await;
    let kept = harness.uids(&store, KEPT).await;
    let secret = harness
        .object(&store, "v1", "Secret", "wordpress-admin")
        .await;
    let quota_before = harness
        .object(&store, "v1", "ResourceQuota", "store-quota")
        .await;

    let revision = harness.change(store.id, plan(Plan::Medium)).await;
    assert_eq!(revision.number.get(), 2);
    // The store stays ready while the change is carried out.
    let started = std::time::Instant::now();
    loop {
        let now = harness.store(store.id).await;
        assert_eq!(
            now.status,
            StoreStatus::Ready,
            "{}",
            harness.timeline(store.id).await
        );
        if harness.revision(store.id, 2).await.status == RevisionStatus::Deployed {
            break;
        }
        assert!(
            started.elapsed() < WITHIN,
            "{}",
            harness.timeline(store.id).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert_eq!(
        harness.revision(store.id, 1).await.status,
        RevisionStatus::Superseded
    );
    let store = harness.store(store.id).await;
    assert_eq!(store.spec.plan, Plan::Medium);
    assert_eq!(store.deployed_revision.map(|n| n.get()), Some(2));
    harness
        .assert_cluster_is(&store, &harness.manifest(store.id, 2).await)
        .await;
    let quota_after = harness
        .object(&store, "v1", "ResourceQuota", "store-quota")
        .await;
    assert_ne!(
        quota_before["spec"], quota_after["spec"],
        "the quota was resized"
    );
    let small = harness.manifest(store.id, 1).await;
    let medium = harness.manifest(store.id, 2).await;
    for kind in ["LimitRange", "resources:"] {
        assert!(small.contains(kind) && medium.contains(kind));
    }
    assert_ne!(
        resources_of(&small),
        resources_of(&medium),
        "every container's resources change"
    );
    assert_eq!(
        harness.uids(&store, KEPT).await,
        kept,
        "volumes and secrets kept"
    );
    let secret_after = harness
        .object(&store, "v1", "Secret", "wordpress-admin")
        .await;
    assert_eq!(secret["data"], secret_after["data"], "secret values kept");
    // Every object event of the change is grouped under its pass.
    let applied = harness
        .events(store.id)
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::ObjectApplied && e.detail["pass"] == "r2")
        .count();
    assert!(applied >= 5, "{}", harness.timeline(store.id).await);
}

/// Every `resources:` block of a manifest's containers, in order.
fn resources_of(manifest: &str) -> Vec<serde_json::Value> {
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(manifest).unwrap();
    let mut found = Vec::new();
    for document in documents {
        let template = document
            .pointer("/spec/template/spec/containers")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        found.extend(template.into_iter().map(|c| c["resources"].clone()));
    }
    assert!(!found.is_empty());
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_release_upgrade_checkpoints_then_upgrades_and_rolling_back_to_1_needs_the_checkpoint() {
    let harness = Harness::start(two_releases()).await;
    let store = harness.ready_store("acme", Plan::Small).await;
    assert_eq!(store.spec.release, Some(release(OLD)));
    let volumes = harness
        .uids(&store, &[("v1", "PersistentVolumeClaim")])
        .await;

    harness.change(store.id, to_release(NEW)).await;
    let upgraded = harness
        .wait_revision(store.id, 2, RevisionStatus::Deployed, WITHIN)
        .await;

    // The checkpoint was taken (and recorded) before the new images were applied, and the
    // upgrade step ran after them.
    let checkpoint = upgraded
        .checkpoint
        .expect("a checkpoint recorded on revision 2");
    assert_eq!(checkpoint.path, "/checkpoints/r2.sql.gz");
    let events = harness.events(store.id).await;
    let position = |what: &dyn Fn(&storeplane_domain::StoreEvent) -> bool| {
        events
            .iter()
            .position(what)
            .unwrap_or_else(|| panic!("{}", lines(&events)))
    };
    let checkpoint_taken =
        position(&|e| e.message.starts_with("checkpoint taken before revision 2"));
    let web_applied = position(&|e| {
        e.detail["pass"] == "r2"
            && e.message.starts_with("Deployment ")
            && e.message.ends_with(" configured")
    });
    let upgrade_done = position(&|e| e.message == "upgrade step of revision 2 done");
    // The same dump kept off the cluster too, before anything of revision 2 is applied:
    // a backup of kind checkpoint, of the data revision 1 ran.
    let backed_up = position(&|e| {
        e.detail["step"] == "backup"
            && e.detail["kind"] == "checkpoint"
            && e.detail["status"] == "succeeded"
    });
    assert!(
        checkpoint_taken < backed_up && backed_up < web_applied && web_applied < upgrade_done,
        "{}",
        lines(&events)
    );
    let backups = harness.repo.store_backups(store.id, 10).await.unwrap();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        (
            backups[0].kind,
            backups[0].status,
            backups[0].revision.map(|r| r.get()),
            backups[0].reason.as_str()
        ),
        (
            storeplane_domain::BackupKind::Checkpoint,
            storeplane_domain::BackupStatus::Succeeded,
            Some(1),
            "before revision 2"
        )
    );
    for job in ["checkpoint-r2", "upgrade-r2"] {
        let live = harness.object(&store, "batch/v1", "Job", job).await;
        assert_eq!(live["status"]["succeeded"], 1, "{job}: {live:#}");
        assert_eq!(live["spec"]["ttlSecondsAfterFinished"], 86_400, "{job}");
    }
    let web = harness
        .object(&store, "apps/v1", "Deployment", "wordpress")
        .await;
    assert!(
        web.to_string().contains("wordpress:6.9.0-php8.3-apache"),
        "the new release's image"
    );
    let store_now = harness.store(store.id).await;
    assert_eq!(store_now.status, StoreStatus::Ready);
    assert_eq!(store_now.spec.release, Some(release(NEW)));
    let after = harness
        .uids(&store, &[("v1", "PersistentVolumeClaim")])
        .await;
    for (volume, uid) in &volumes {
        assert_eq!(after.get(volume), Some(uid), "{volume} untouched");
    }

    // Two more changes, then back to revision 1. (Not a bigger plan: a volume claim
    // cannot shrink, so a rollback to a smaller plan cannot restore revision 1's sizes.)
    harness
        .change(
            store.id,
            ChangeRequest {
                title: Some(StoreTitle::parse("Acme").unwrap()),
                ..ChangeRequest::default()
            },
        )
        .await;
    harness
        .wait_revision(store.id, 3, RevisionStatus::Deployed, WITHIN)
        .await;
    harness
        .change(
            store.id,
            ChangeRequest {
                title: Some(StoreTitle::parse("Acme Supplies").unwrap()),
                ..ChangeRequest::default()
            },
        )
        .await;
    harness
        .wait_revision(store.id, 4, RevisionStatus::Deployed, WITHIN)
        .await;

    let refused = harness.rollback(store.id, 1, false).await.unwrap_err();
    assert!(
        matches!(
            refused,
            storeplane_db::DbError::RollbackRefused(RollbackRefused::WouldDowngradeData { .. })
        ),
        "{refused}"
    );
    let recorded = harness.rollback(store.id, 1, true).await.unwrap();
    assert_eq!(recorded.revision.number.get(), 5);
    assert_eq!(recorded.revision.restores.map(|n| n.get()), Some(2));
    harness
        .wait_revision(store.id, 5, RevisionStatus::Deployed, WITHIN)
        .await;

    let store_now = harness.store(store.id).await;
    assert_eq!(store_now.status, StoreStatus::Ready);
    assert_eq!(store_now.spec.release, Some(release(OLD)));
    harness
        .assert_cluster_is(&store_now, &harness.manifest(store.id, 1).await)
        .await;
    let restore = harness
        .object(&store, "batch/v1", "Job", "restore-r5")
        .await;
    assert_eq!(restore["status"]["succeeded"], 1, "{restore:#}");
    let after = harness
        .uids(&store, &[("v1", "PersistentVolumeClaim")])
        .await;
    for (volume, uid) in &volumes {
        assert_eq!(
            after.get(volume),
            Some(uid),
            "{volume} untouched by the rollback"
        );
    }
}

fn lines(events: &[storeplane_domain::StoreEvent]) -> String {
    events
        .iter()
        .map(|e| format!("{} {} {}", e.kind, e.message, e.detail))
        .collect::<Vec<_>>()
        .join("\n")
}
