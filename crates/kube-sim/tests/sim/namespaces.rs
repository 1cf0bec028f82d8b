//! Namespace termination, finalizers, and owner-reference cascades.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::conditions;
use serde_json::json;

use crate::fixtures::{config_map, deployment, sim, status_of, wait_for, wait_gone};

fn held_config_map(name: &str) -> ConfigMap {
    let mut cm = config_map(name);
    cm.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cm
}

fn condition<'a>(
    ns: &'a Namespace,
    kind: &str,
) -> Option<&'a k8s_openapi::api::core::v1::NamespaceCondition> {
    ns.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
}

#[tokio::test]
async fn deleting_a_namespace_first_marks_it_terminating() {
    let sim = sim().await;
    let ns = sim.namespace("store-a").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    maps.create(&PostParams::default(), &held_config_map("held"))
        .await
        .expect("created");
    let outcome = sim
        .namespaces()
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("deleting");
    let terminating = outcome.left().expect("the namespace, still there");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
}

#[tokio::test]
async fn deleting_a_namespace_removes_everything_in_it_then_the_namespace() {
    let sim = sim().await;
    let ns = sim.namespace("store-a").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    maps.create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("created");
    let deployments: Api<Deployment> = sim.api(&ns);
    deployments
        .create(&PostParams::default(), &deployment("web", 2, "nginx"))
        .await
        .expect("created");
    sim.namespaces()
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("deleting");
    wait_gone(&sim.namespaces(), &ns).await;
    let pods: Api<Pod> = sim.api(&ns);
    assert!(
        pods.list(&ListParams::default())
            .await
            .expect("listed")
            .items
            .is_empty()
    );
    assert!(
        maps.list(&ListParams::default())
            .await
            .expect("listed")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn a_finalizer_inside_holds_the_namespace_and_its_conditions_say_which() {
    let sim = sim().await;
    let ns = sim.namespace("store-a").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    maps.create(&PostParams::default(), &held_config_map("held"))
        .await
        .expect("created");
    sim.namespaces()
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("deleting");

    let stuck = wait_for(&sim.namespaces(), &ns, |n: Option<&Namespace>| {
        n.and_then(|n| condition(n, "NamespaceFinalizersRemaining"))
            .is_some()
    })
    .await;
    let finalizers = condition(&stuck, "NamespaceFinalizersRemaining").expect("condition");
    assert_eq!(finalizers.status, "True");
    assert!(
        finalizers
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("example.com/hold")
    );
    let held = maps.get("held").await.expect("still there");
    assert!(held.metadata.deletion_timestamp.is_some());

    let release = Patch::Merge(json!({"metadata": {"finalizers": null}}));
    maps.patch("held", &PatchParams::default(), &release)
        .await
        .expect("released");
    wait_gone(&sim.namespaces(), &ns).await;
}

#[tokio::test]
async fn creating_in_a_terminating_namespace_is_forbidden() {
    let sim = sim().await;
    let ns = sim.namespace("store-a").await;
    let maps: Api<ConfigMap> = sim.api(&ns);
    maps.create(&PostParams::default(), &held_config_map("held"))
        .await
        .expect("created");
    sim.namespaces()
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("deleting");
    let status = status_of(
        maps.create(&PostParams::default(), &config_map("late"))
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert!(
        status.message.ends_with("because it is being terminated"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn the_default_namespace_cannot_be_deleted() {
    let sim = sim().await;
    let status = status_of(
        sim.namespaces()
            .delete("default", &DeleteParams::default())
            .await,
    );
    assert_eq!(status.code, 403);
}

#[tokio::test]
async fn deleting_a_deployment_cascades_to_its_replica_sets_and_pods() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 2, "nginx"))
        .await
        .expect("created");
    wait_for(&deployments, "web", conditions::is_deployment_completed()).await;
    deployments
        .delete("web", &DeleteParams::background())
        .await
        .expect("deleted");
    let pods: Api<Pod> = sim.api("default");
    let replica_sets: Api<ReplicaSet> = sim.api("default");
    assert!(
        pods.list(&ListParams::default())
            .await
            .expect("listed")
            .items
            .is_empty()
    );
    assert!(
        replica_sets
            .list(&ListParams::default())
            .await
            .expect("listed")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn orphaning_keeps_the_dependents_without_their_owner_reference() {
    let sim = sim().await;
    let deployments: Api<Deployment> = sim.api("default");
    deployments
        .create(&PostParams::default(), &deployment("web", 1, "nginx"))
        .await
        .expect("created");
    wait_for(&deployments, "web", conditions::is_deployment_completed()).await;
    deployments
        .delete("web", &DeleteParams::orphan())
        .await
        .expect("deleted");
    let replica_sets: Api<ReplicaSet> = sim.api("default");
    let kept = replica_sets
        .list(&ListParams::default())
        .await
        .expect("listed")
        .items;
    assert_eq!(kept.len(), 1);
    assert!(
        kept[0]
            .metadata
            .owner_references
            .as_deref()
            .unwrap_or_default()
            .is_empty()
    );
}
