//! Simulated controllers: Deployments, StatefulSets, Jobs and PVCs make progress as on a
//! real cluster.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::conditions;
use kube_sim::SimConfig;
use serde_json::json;

use crate::fixtures::{deployment, sim, sim_with, wait_for};

fn pod_names(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

pub fn statefulset(name: &str, replicas: i32) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "mariadb:11"}]},
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
            }],
        },
    }))
    .expect("valid statefulset")
}

pub fn job(name: &str) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": "wordpress:cli"}],
        }}},
    }))
    .expect("valid job")
}

#[tokio::test]
async fn a_deployment_becomes_available_with_pods_named_like_the_real_controllers() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 2, "nginx"))
        .await
        .expect("created");
    let done = wait_for(&deployments, "web", conditions::is_deployment_completed()).await;
    let status = done.status.expect("status");
    assert_eq!(
        (
            status.ready_replicas,
            status.available_replicas,
            status.updated_replicas
        ),
        (Some(2), Some(2), Some(2))
    );
    assert_eq!(status.observed_generation, Some(1));
    let available = status
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Available");
    assert_eq!(available.map(|c| c.status).as_deref(), Some("True"));

    let pods: Api<Pod> = sim.api("default");
    let pods = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("listed")
        .items;
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        let hash = &pod.metadata.labels.as_ref().expect("labels")["pod-template-hash"];
        let name = pod.metadata.name.as_deref().expect("named");
        let suffix = name
            .strip_prefix(&format!("web-{hash}-"))
            .expect("deployment-hash-suffix");
        assert_eq!(suffix.len(), 5);
    }
}

#[tokio::test]
async fn scaling_a_deployment_down_removes_pods() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 3, "nginx"))
        .await
        .expect("created");
    wait_for(&deployments, "web", conditions::is_deployment_completed()).await;
    let scale = Patch::Merge(json!({"spec": {"replicas": 1}}));
    deployments
        .patch("web", &PatchParams::default(), &scale)
        .await
        .expect("scaled");
    wait_for(&deployments, "web", |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref()).and_then(|s| s.replicas) == Some(1)
    })
    .await;
    let pods: Api<Pod> = sim.api("default");
    assert_eq!(
        pods.list(&ListParams::default())
            .await
            .expect("listed")
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn pods_become_ready_only_after_the_configured_delay() {
    let sim = sim_with(SimConfig {
        ready_delay: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 1, "nginx"))
        .await
        .expect("created");
    let early = deployments.get("web").await.expect("found");
    assert_ne!(early.status.and_then(|s| s.ready_replicas), Some(1));
    wait_for(&deployments, "web", conditions::is_deployment_completed()).await;
}

#[tokio::test]
async fn a_statefulset_gets_ordinal_pods_and_bound_claims() {
    let sim = sim().await;
    let sets: Api<StatefulSet> = sim.api("default");
    sets.create(&PostParams::default(), &statefulset("db", 2))
        .await
        .expect("created");
    let ready = wait_for(&sets, "db", |s: Option<&StatefulSet>| {
        s.and_then(|s| s.status.as_ref())
            .and_then(|s| s.ready_replicas)
            == Some(2)
    })
    .await;
    assert_eq!(ready.status.and_then(|s| s.available_replicas), Some(2));
    let pods: Api<Pod> = sim.api("default");
    let names = pod_names(
        &pods
            .list(&ListParams::default())
            .await
            .expect("listed")
            .items,
    );
    assert_eq!(names, ["db-0", "db-1"]);
    let claims: Api<PersistentVolumeClaim> = sim.api("default");
    let claim = wait_for(&claims, "data-db-0", |c: Option<&PersistentVolumeClaim>| {
        c.and_then(|c| c.status.as_ref())
            .and_then(|s| s.phase.as_deref())
            == Some("Bound")
    })
    .await;
    let capacity = claim.status.and_then(|s| s.capacity).expect("capacity");
    assert_eq!(capacity["storage"].0, "2Gi");
}

#[tokio::test]
async fn a_job_runs_its_pod_to_completion() {
    let sim = sim().await;
    let jobs: Api<Job> = sim.api("default");
    jobs.create(&PostParams::default(), &job("migrate"))
        .await
        .expect("created");
    let done = wait_for(&jobs, "migrate", conditions::is_job_completed()).await;
    assert_eq!(done.status.and_then(|s| s.succeeded), Some(1));
    let pods: Api<Pod> = sim.api("default");
    let pods = pods
        .list(&ListParams::default().labels("job-name=migrate"))
        .await
        .expect("listed");
    assert_eq!(pods.items.len(), 1);
    let phase = pods.items[0]
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref());
    assert_eq!(phase, Some("Succeeded"));
}
