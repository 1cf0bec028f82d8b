//! ResourceQuota through kube-rs: `status.used` follows the pods and claims of a
//! namespace, writes past a quota are refused as a real server refuses them, and
//! workloads whose pods or claims are refused say why.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, ResourceQuota};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

use crate::controllers::statefulset;
use crate::fixtures::{Sim, sim, status_of, wait_for};

/// A ResourceQuota named `store-quota` with `hard`.
pub fn quota(hard: Value) -> ResourceQuota {
    serde_json::from_value(json!({"metadata": {"name": "store-quota"}, "spec": {"hard": hard}}))
        .expect("valid quota")
}

/// A pod of one container `web` with `resources`.
pub fn pod_with(name: &str, resources: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "web", "image": "nginx", "resources": resources}]},
    }))
    .expect("valid pod")
}

/// A claim of `storage`.
pub fn claim(name: &str, storage: &str) -> PersistentVolumeClaim {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": storage}}},
    }))
    .expect("valid claim")
}

fn half_a_core() -> Value {
    json!({"requests": {"cpu": "250m", "memory": "256Mi"},
           "limits": {"cpu": "500m", "memory": "512Mi"}})
}

async fn shop_with_quota(sim: &Sim, hard: Value) -> Api<ResourceQuota> {
    sim.namespace("shop").await;
    let quotas = sim.api::<ResourceQuota>("shop");
    quotas
        .create(&PostParams::default(), &quota(hard))
        .await
        .expect("quota is created");
    quotas
}

fn used(quota: Option<&ResourceQuota>, resource: &str) -> Option<String> {
    let used = quota?.status.as_ref()?.used.as_ref()?;
    Some(used.get(resource)?.0.clone())
}

#[tokio::test]
async fn status_used_follows_the_pods_created_and_deleted() {
    let sim = sim().await;
    let quotas = shop_with_quota(
        &sim,
        json!({"pods": "4", "requests.cpu": "2", "limits.memory": "2Gi"}),
    )
    .await;
    let fresh = wait_for(&quotas, "store-quota", |q: Option<&ResourceQuota>| {
        used(q, "pods").as_deref() == Some("0")
    })
    .await;
    let hard = fresh.status.and_then(|s| s.hard).expect("hard is mirrored");
    assert_eq!(hard["limits.memory"].0, "2Gi");
    let pods = sim.api::<Pod>("shop");
    for name in ["a", "b"] {
        pods.create(&PostParams::default(), &pod_with(name, half_a_core()))
            .await
            .expect("pod fits the quota");
    }

    let counted = wait_for(&quotas, "store-quota", |q: Option<&ResourceQuota>| {
        used(q, "pods").as_deref() == Some("2")
    })
    .await;
    assert_eq!(
        used(Some(&counted), "requests.cpu").as_deref(),
        Some("500m")
    );
    assert_eq!(
        used(Some(&counted), "limits.memory").as_deref(),
        Some("1Gi")
    );

    pods.delete("a", &DeleteParams::default())
        .await
        .expect("deleted");
    let after = wait_for(&quotas, "store-quota", |q: Option<&ResourceQuota>| {
        used(q, "pods").as_deref() == Some("1")
    })
    .await;
    assert_eq!(used(Some(&after), "requests.cpu").as_deref(), Some("250m"));
}

#[tokio::test]
async fn a_pod_past_the_quota_is_forbidden_with_upstreams_message() {
    let sim = sim().await;
    shop_with_quota(&sim, json!({"pods": "4", "limits.cpu": "800m"})).await;
    let pods = sim.api::<Pod>("shop");
    pods.create(&PostParams::default(), &pod_with("a", half_a_core()))
        .await
        .expect("the first pod fits");

    let status = status_of(
        pods.create(&PostParams::default(), &pod_with("b", half_a_core()))
            .await,
    );

    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "pods \"b\" is forbidden: exceeded quota: store-quota, requested: limits.cpu=500m, \
         used: limits.cpu=500m, limited: limits.cpu=800m"
    );
    assert!(pods.get_opt("b").await.expect("get works").is_none());
}

#[tokio::test]
async fn a_pod_that_states_no_limits_in_a_compute_quota_namespace_is_told_what_to_specify() {
    let sim = sim().await;
    shop_with_quota(&sim, json!({"limits.cpu": "2", "requests.memory": "1Gi"})).await;

    let status = status_of(
        sim.api::<Pod>("shop")
            .create(&PostParams::default(), &pod_with("a", json!({})))
            .await,
    );

    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "pods \"a\" is forbidden: failed quota: store-quota: must specify limits.cpu for: web; \
         requests.memory for: web"
    );
}

#[tokio::test]
async fn claims_past_the_storage_quota_are_forbidden_and_so_is_growing_one_past_it() {
    let sim = sim().await;
    shop_with_quota(
        &sim,
        json!({"persistentvolumeclaims": "2", "requests.storage": "10Gi"}),
    )
    .await;
    let claims = sim.api::<PersistentVolumeClaim>("shop");
    claims
        .create(&PostParams::default(), &claim("data", "8Gi"))
        .await
        .expect("the first claim fits");

    let status = status_of(
        claims
            .create(&PostParams::default(), &claim("more", "4Gi"))
            .await,
    );
    let grown = status_of(
        claims
            .patch(
                "data",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"resources": {"requests": {"storage": "12Gi"}}}})),
            )
            .await,
    );

    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "persistentvolumeclaims \"more\" is forbidden: exceeded quota: store-quota, requested: \
         requests.storage=4Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi"
    );
    assert_eq!(
        grown.message,
        "persistentvolumeclaims \"data\" is forbidden: exceeded quota: store-quota, requested: \
         requests.storage=4Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi"
    );
}

fn replica_failure(deployment: Option<&Deployment>) -> Option<String> {
    let conditions = deployment?.status.as_ref()?.conditions.as_ref()?;
    let failure = conditions.iter().find(|c| c.type_ == "ReplicaFailure")?;
    failure.message.clone()
}

#[tokio::test]
async fn a_deployment_over_the_quota_says_why_and_scales_up_once_the_quota_grows() {
    let sim = sim().await;
    let quotas = shop_with_quota(&sim, json!({"pods": "1"})).await;
    let deployments = sim.api::<Deployment>("shop");
    deployments
        .create(
            &PostParams::default(),
            &crate::fixtures::deployment("web", 2, "nginx"),
        )
        .await
        .expect("the deployment is accepted");

    let failed = wait_for(&deployments, "web", |d: Option<&Deployment>| {
        replica_failure(d).is_some()
    })
    .await;
    let message = replica_failure(Some(&failed)).unwrap_or_default();
    assert!(
        message.starts_with("pods \"web-")
            && message.ends_with(
                "\" is forbidden: exceeded quota: store-quota, requested: pods=1, used: \
                 pods=1, limited: pods=1"
            ),
        "{message}"
    );

    quotas
        .patch(
            "store-quota",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"hard": {"pods": "2"}}})),
        )
        .await
        .expect("quota raised");
    let scaled = wait_for(&deployments, "web", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref()?.ready_replicas) == Some(2)
    })
    .await;
    assert_eq!(replica_failure(Some(&scaled)), None);
}

#[tokio::test]
async fn a_statefulset_whose_claim_is_over_the_quota_leaves_a_failed_create_event() {
    let sim = sim().await;
    shop_with_quota(&sim, json!({"requests.storage": "1Gi"})).await;
    sim.api::<StatefulSet>("shop")
        .create(&PostParams::default(), &statefulset("db", 1))
        .await
        .expect("the statefulset is accepted");

    let events = watcher(sim.api::<Event>("shop"), watcher::Config::default()).applied_objects();
    let failed_create = |e: &Event| e.reason.as_deref() == Some("FailedCreate");
    let mut matching = events
        .try_filter(|e| std::future::ready(failed_create(e)))
        .boxed();
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), matching.try_next())
        .await
        .expect("a FailedCreate event in time")
        .expect("watch works")
        .expect("the watch does not end");

    assert_eq!(
        event.message.as_deref(),
        Some(
            "create Claim data-db-0 for Pod db-0 in StatefulSet db failed error: \
             persistentvolumeclaims \"data-db-0\" is forbidden: exceeded quota: store-quota, \
             requested: requests.storage=2Gi, used: requests.storage=0, limited: \
             requests.storage=1Gi"
        )
    );
    assert!(
        sim.api::<Pod>("shop")
            .get_opt("db-0")
            .await
            .expect("get works")
            .is_none(),
        "no pod without its claim"
    );
}
