//! A store whose pods do not fit a quota in its namespace fails with the quota's reason:
//! here a platform team's own ResourceQuota, put on the namespace before storeplane
//! provisions it (as a namespace policy would), allows less memory than the plan's pods.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ResourceQuota};
use kube::api::{Api, PostParams};
use kube_sim::SimConfig;
use storeplane_blueprint::PlatformSettings;
use storeplane_domain::{EventKind, Plan, StoreStatus};

use super::harness::Harness;

/// A quota of `limits_memory` on `namespace`, created ahead of the store.
async fn platform_quota(harness: &Harness, namespace: &str, limits_memory: &str) {
    let client = harness.sim.client().unwrap();
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": namespace}}))
    .unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let quota: ResourceQuota = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "platform-quota"},
        "spec": {"hard": {"limits.memory": limits_memory}},
    }))
    .unwrap();
    Api::<ResourceQuota>::namespaced(client, namespace)
        .create(&PostParams::default(), &quota)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_whose_pods_exceed_a_quota_fails_with_the_quota_named_on_its_timeline() {
    let mut harness = Harness::start_with(PlatformSettings::default(), SimConfig::default()).await;
    harness.stop_worker().await;
    harness.ready_timeout = Duration::from_secs(3);
    harness.start_worker(PlatformSettings::default());
    let id = storeplane_domain::StoreId::generate();
    // The small plan's three pods are limited to 512Mi each.
    platform_quota(&harness, &id.namespace(), "1Gi").await;
    harness.create_store(id, "acme", Plan::Small, 1).await;

    let failed = harness
        .wait_status(id, StoreStatus::Failed, Duration::from_secs(40))
        .await;

    let reason = failed.status_reason.unwrap_or_default();
    assert!(
        reason.contains("FailedCreate: ")
            && reason.contains(
                "is forbidden: exceeded quota: platform-quota, requested: limits.memory=512Mi, \
                 used: limits.memory=1Gi, limited: limits.memory=1Gi"
            ),
        "{reason}"
    );
    let on_timeline = harness
        .events_saying(id, EventKind::Failed, "exceeded quota: platform-quota")
        .await;
    assert_eq!(on_timeline.len(), 1, "{}", harness.timeline(id).await);
}
